"""Experiment: a named group of runs, with Vertex's names and semantics."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from . import frames
from . import values as _values
from .exceptions import NotFound
from .resource import split_name
from .session import resolve
from .store import Context, Store


def _no_experiment(method: str) -> str:
    # Vertex's wording, so code that matches on it keeps working.
    return (
        "No experiment set. Make sure to call aiplatform.init(experiment='my-experiment') "
        f"before trying to {method}. "
    )


class Experiment:
    """An experiment in a store. `Experiment(name)` looks it up and raises NotFound when it is missing; the
    name may also be a resource name (`resource_name`, or Vertex's `projects/.../contexts/<name>`)."""

    def __init__(
        self,
        experiment_name: str,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> None:
        if not isinstance(experiment_name, str):
            raise TypeError(
                "experiment_name must be a str (an experiment name or resource name), got "
                f"{type(experiment_name).__name__} {experiment_name!r}"
            )
        st, writer = resolve(store)
        row = st.experiment(experiment_name)
        if row is None:
            # A resource name: `<store path>#contexts/<name>` (resource_name) or Vertex's `projects/.../contexts/<name>`
            rid, where = split_name(experiment_name, "contexts", store)
            if rid != experiment_name:
                st, writer = resolve(where)
                row = st.experiment(rid)
        if row is None:
            raise NotFound(f"404 Experiment {experiment_name!r} not found in {st.path}")
        self._bind(st, writer, row)

    def _bind(self, st: Store, writer: Any, row: Context) -> None:
        self._store = st
        self._writer = writer
        self._id = row.id
        self._name = row.name

    @classmethod
    def _from_row(cls, st: Store, writer: Any, row: Context) -> Experiment:
        self = cls.__new__(cls)
        self._bind(st, writer, row)
        return self

    @classmethod
    def create(
        cls,
        experiment_name: str,
        *,
        description: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Experiment:
        """Create an experiment; AlreadyExists when one of that name exists."""
        _values.check_name(experiment_name, "experiment name")
        _check_description(description)
        st, writer = resolve(store)
        row = st.create_experiment(experiment_name, description, json.dumps({"experiment_deleted": False}))
        return cls._from_row(st, writer, row)

    @classmethod
    def get(
        cls,
        experiment_name: str,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Experiment | None:
        """The experiment, or None when it does not exist."""
        try:
            return cls(experiment_name, store=store)
        except NotFound:
            return None

    @classmethod
    def get_or_create(
        cls,
        experiment_name: str,
        *,
        description: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Experiment:
        """The experiment, created when missing; a different `description` replaces the stored one."""
        from .exceptions import AlreadyExists

        existing = cls.get(experiment_name, store=store)
        if existing is None:
            try:
                return cls.create(experiment_name, description=description, store=store)
            except AlreadyExists:  # another process created it meanwhile
                existing = cls(experiment_name, store=store)
        if description is not None and description != existing.description:
            _check_description(description)
            existing._store.update_context_fields(existing._id, description=description)
        return existing

    @classmethod
    def list(
        cls,
        *,
        filter: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> list[Experiment]:
        """Every experiment in the store, oldest first; `filter` is a Vertex filter (display_name="e*",
        create_time>"2024-01-01T00:00:00Z", ...) ANDed with schema_title="system.Experiment", as in Vertex."""
        st, writer = resolve(store)
        if filter is None:
            return [cls._from_row(st, writer, row) for row in st.experiments()]
        from . import filters

        where = filters.And((filters.Cmp("schema_title", "=", "system.Experiment"), filters.resolve(filter, "context")))
        return [cls._from_row(st, writer, row) for row in st.list_nodes("context", where) if row.experiment_id == 0]

    # -- properties ---------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def resource_name(self) -> str:
        return f"{self._store.path}#contexts/{self._name}"

    @property
    def description(self) -> str | None:
        row = self._store.context_by_id(self._id)
        return row.description if row else None

    @property
    def dashboard_url(self) -> str | None:
        """None: there is no console; `trackbook.board(name)` shows the experiment in the notebook."""
        return None

    @property
    def backing_tensorboard_resource_name(self) -> str | None:
        return self._metadata().get("backing_tensorboard_resource")

    def _metadata(self) -> dict[str, Any]:
        row = self._store.context_by_id(self._id)
        if row is None:
            raise NotFound(f"404 Experiment {self._name!r} was deleted")
        return dict(json.loads(row.metadata or "{}"))

    def get_backing_tensorboard_resource(self) -> Any:
        from .tensorboard import Tensorboard

        name = self.backing_tensorboard_resource_name
        return Tensorboard(name) if name else None

    def assign_backing_tensorboard(self, tensorboard: Any) -> None:
        """Record a Tensorboard handle with the experiment (series are stored locally either way)."""
        from .tensorboard import resource_name_of

        name = resource_name_of(tensorboard)
        current = self.backing_tensorboard_resource_name
        if current and current != name:
            raise ValueError(
                f"Experiment {self._name} already associated to tensorboard resource {current}"
            )
        self._store.update_context_fields(self._id, metadata={"backing_tensorboard_resource": name})

    def __repr__(self) -> str:
        return f"<trackbook.Experiment {self._name!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and (self._store.path, self._id) == (other._store.path, other._id)

    def __hash__(self) -> int:
        return hash((self._store.path, self._id))

    # -- data -----------------------------------------------------------------------------------------------

    def get_data_frame(self, *, include_time_series: bool = True) -> pd.DataFrame:
        """One row per run: experiment_name, run_name, run_type, state, param.*, metric.*, time_series_metric.*"""
        self._writer.flush()
        return frames.experiment_frame(self._store, [(self._id, self._name)], include_time_series)

    def delete(self, *, delete_backing_tensorboard_runs: bool = False) -> None:
        """Delete the experiment with all of its runs, their params, metrics and series."""
        self._writer.flush()
        runs = [r.id for r in self._store.runs([self._id])]
        for run_id in runs:
            self._writer.owned.discard(run_id)
        self._store.delete_contexts([*runs, self._id])
        from .session import session

        if session.experiment is not None and session.experiment == self:
            session.experiment = None
            session.run = None


def _check_description(description: object) -> None:
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
