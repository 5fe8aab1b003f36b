"""`google.*` artifact schemas: ClassificationMetrics, RegressionMetrics, ForecastingMetrics."""

from __future__ import annotations

from typing import Any

from ....states import ArtifactState
from ..base_artifact import BaseArtifactSchema

__all__ = ["ClassificationMetrics", "ForecastingMetrics", "RegressionMetrics"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


class _MetricsSchema(BaseArtifactSchema):
    """Metrics whose keyword arguments are stored in metadata under Vertex's camelCase keys."""

    def __init__(self, values: dict[str, Any], *, artifact_id: str | None = None, uri: str | None = None,
                 display_name: str | None = None, schema_version: str | None = None, description: str | None = None,
                 metadata: dict[str, Any] | None = None, state: Any = ArtifactState.LIVE) -> None:
        extended = dict(metadata or {})
        extended.update({_camel(k): v for k, v in values.items() if v is not None})
        super().__init__(
            artifact_id=artifact_id, uri=uri, display_name=display_name, schema_version=schema_version,
            description=description, metadata=extended, state=state,
        )


class ClassificationMetrics(_MetricsSchema):
    """`google.ClassificationMetrics`: what `log_classification_metrics` records. `confusion_matrix` is
    `{"annotationSpecs": [{"displayName": label}], "rows": [[...]]}`, `confidence_metrics` a list of
    `{"confidenceThreshold", "falsePositiveRate", "recall"}` dicts."""

    schema_title = "google.ClassificationMetrics"

    def __init__(self, *, aggregation_type: str | None = None, aggregation_threshold: float | None = None,
                 recall: float | None = None, precision: float | None = None, f1_score: float | None = None,
                 accuracy: float | None = None, au_prc: float | None = None, au_roc: float | None = None,
                 log_loss: float | None = None, confusion_matrix: dict[str, Any] | None = None,
                 confidence_metrics: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(dict(
            aggregation_type=aggregation_type, aggregation_threshold=aggregation_threshold, recall=recall,
            precision=precision, f1_score=f1_score, accuracy=accuracy, au_prc=au_prc, au_roc=au_roc,
            log_loss=log_loss, confusion_matrix=confusion_matrix, confidence_metrics=confidence_metrics,
        ), **kwargs)


class RegressionMetrics(_MetricsSchema):
    """`google.RegressionMetrics`."""

    schema_title = "google.RegressionMetrics"

    def __init__(self, *, root_mean_squared_error: float | None = None, mean_absolute_error: float | None = None,
                 mean_absolute_percentage_error: float | None = None, r_squared: float | None = None,
                 root_mean_squared_log_error: float | None = None, **kwargs: Any) -> None:
        super().__init__(dict(
            root_mean_squared_error=root_mean_squared_error, mean_absolute_error=mean_absolute_error,
            mean_absolute_percentage_error=mean_absolute_percentage_error, r_squared=r_squared,
            root_mean_squared_log_error=root_mean_squared_log_error,
        ), **kwargs)


class ForecastingMetrics(_MetricsSchema):
    """`google.ForecastingMetrics`."""

    schema_title = "google.ForecastingMetrics"

    def __init__(self, *, root_mean_squared_error: float | None = None, mean_absolute_error: float | None = None,
                 mean_absolute_percentage_error: float | None = None, r_squared: float | None = None,
                 root_mean_squared_log_error: float | None = None, weighted_absolute_percentage_error: float | None
                 = None, root_mean_squared_percentage_error: float | None = None,
                 symmetric_mean_absolute_percentage_error: float | None = None, **kwargs: Any) -> None:
        super().__init__(dict(
            root_mean_squared_error=root_mean_squared_error, mean_absolute_error=mean_absolute_error,
            mean_absolute_percentage_error=mean_absolute_percentage_error, r_squared=r_squared,
            root_mean_squared_log_error=root_mean_squared_log_error,
            weighted_absolute_percentage_error=weighted_absolute_percentage_error,
            root_mean_squared_percentage_error=root_mean_squared_percentage_error,
            symmetric_mean_absolute_percentage_error=symmetric_mean_absolute_percentage_error,
        ), **kwargs)
