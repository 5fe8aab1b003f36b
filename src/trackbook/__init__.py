"""trackbook: experiment tracking where the work happens.

A drop-in for the experiment part of the Vertex AI SDK (`import trackbook as vertex_ai`), storing
everything in one local SQLite file, with a live board inside the notebook.
"""

from __future__ import annotations

from . import exceptions, gapic
from .charts import chart
from .exceptions import AlreadyExists, NotFound, StoreError, TrackbookWarning
from .execution import Execution
from .experiment import Experiment
from .run import ExperimentRun
from .states import ArtifactState, ExecutionState
from .store import Store
from .tensorboard import Tensorboard
from .tracking import (
    end_run,
    flush,
    get_active_run,
    get_current_experiment,
    get_experiment_df,
    history,
    init,
    log_classification_metrics,
    log_metrics,
    log_params,
    log_time_series_metrics,
    start_run,
)

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext trackbook`: register the %track and %%track magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "AlreadyExists",
    "ArtifactState",
    "Execution",
    "ExecutionState",
    "Experiment",
    "ExperimentRun",
    "NotFound",
    "Store",
    "StoreError",
    "Tensorboard",
    "TrackbookWarning",
    "chart",
    "end_run",
    "exceptions",
    "flush",
    "gapic",
    "get_active_run",
    "get_current_experiment",
    "get_experiment_df",
    "history",
    "init",
    "log_classification_metrics",
    "log_metrics",
    "log_params",
    "log_time_series_metrics",
    "start_run",
]
