"""`system.*` artifact schemas: Artifact, Dataset, Model, Metrics."""

from __future__ import annotations

from typing import Any

from ....states import ArtifactState
from ..base_artifact import BaseArtifactSchema

__all__ = ["Artifact", "Dataset", "Metrics", "Model"]


class Artifact(BaseArtifactSchema):
    """A generic artifact (`system.Artifact`)."""

    schema_title = "system.Artifact"


class Dataset(BaseArtifactSchema):
    """A dataset (`system.Dataset`): `Dataset(uri="data/train.csv", display_name="train").create()`."""

    schema_title = "system.Dataset"


class Model(BaseArtifactSchema):
    """A model (`system.Model`)."""

    schema_title = "system.Model"


class Metrics(BaseArtifactSchema):
    """Scalar metrics (`system.Metrics`); a pipeline run shows them as metric.* columns.

    Unlike Vertex, a metric of 0.0 is kept (Vertex drops falsy values).
    """

    schema_title = "system.Metrics"

    def __init__(
        self,
        *,
        accuracy: float | None = None,
        precision: float | None = None,
        recall: float | None = None,
        f1score: float | None = None,
        mean_absolute_error: float | None = None,
        mean_squared_error: float | None = None,
        artifact_id: str | None = None,
        uri: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        state: Any = ArtifactState.LIVE,
    ) -> None:
        extended = dict(metadata or {})
        named = {
            "accuracy": accuracy, "precision": precision, "recall": recall, "f1score": f1score,
            "mean_absolute_error": mean_absolute_error, "mean_squared_error": mean_squared_error,
        }
        extended.update({k: v for k, v in named.items() if v is not None})
        super().__init__(
            artifact_id=artifact_id, uri=uri, display_name=display_name, schema_version=schema_version,
            description=description, metadata=extended, state=state,
        )
