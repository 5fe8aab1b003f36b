"""trackbook: experiment tracking where the work happens.

A drop-in for the experiment part of the Vertex AI SDK (`import trackbook as vertex_ai`), storing
everything in one local SQLite file, with a live board inside the notebook.
"""

from __future__ import annotations

from . import exceptions, gapic, metadata
from .artifact import Artifact
from .board import board
from .charts import chart
from .context import Context
from .exceptions import AlreadyExists, NotFound, StoreError, TrackbookWarning
from .execution import Execution, start_execution
from .experiment import Experiment
from .lineage import lineage
from .pipeline import Input, Output, PipelineJob, component, get_pipeline_df, log
from .report import report
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


def autolog(disable: bool = False) -> None:
    """Record every scikit-learn, XGBoost and Keras `fit` as a run (Vertex's `aiplatform.autolog`);
    `disable=True` restores the frameworks' own methods. See docs/integrations.md."""
    from .integrations.autologging import autolog as _autolog

    _autolog(disable=disable)


def __getattr__(name: str) -> object:
    # `trackbook.integrations` and `trackbook.importers` load on first use: importing trackbook loads no framework.
    if name in ("integrations", "importers"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "Board":  # the board's widget class loads anywidget, so only on first use
        from .board.widget import Board

        return Board
    if name in _NOT_LOCAL:
        raise AttributeError(f"trackbook has no {name}: {_NOT_LOCAL[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MODELS = ("Vertex saves the model to Cloud Storage and registers it; trackbook stores no model files. Save the "
           "model yourself and record it with trackbook.Artifact.create('system.Model', uri=PATH) (or "
           "metadata.schema.system.artifact_schema.Model) as an output of start_execution(...), so lineage shows it")
_NOT_LOCAL = {  # Vertex AI SDK names a ported script may reach for, and what to do instead
    "log_model": _MODELS,
    "save_model": _MODELS,
    "get_experiment_model": _MODELS,
    "ExperimentModel": _MODELS,
    "CustomJob": "cloud training jobs have no local equivalent; run the training in this process",
    "Model": "Vertex's model registry has no local equivalent; record models as system.Model artifacts",
    "Endpoint": "endpoints serve models in the cloud; trackbook only tracks experiments",
}


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext trackbook`: register the %track and %%track magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "AlreadyExists",
    "Artifact",
    "ArtifactState",
    "Board",
    "Context",
    "Execution",
    "ExecutionState",
    "Experiment",
    "ExperimentRun",
    "Input",
    "NotFound",
    "Output",
    "PipelineJob",
    "Store",
    "StoreError",
    "Tensorboard",
    "TrackbookWarning",
    "autolog",
    "board",
    "chart",
    "component",
    "end_run",
    "exceptions",
    "flush",
    "gapic",
    "get_active_run",
    "get_current_experiment",
    "get_experiment_df",
    "get_pipeline_df",
    "history",
    "init",
    "lineage",
    "log",
    "log_classification_metrics",
    "log_metrics",
    "log_params",
    "log_time_series_metrics",
    "metadata",
    "report",
    "start_execution",
    "start_run",
]
