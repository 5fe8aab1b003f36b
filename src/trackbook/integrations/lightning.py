"""PyTorch Lightning: `Trainer(logger=trackbook.integrations.lightning.Logger())`.

Records the hyperparameters (`save_hyperparameters()`, the datamodule's) and the training configuration
(model class and size, max_epochs, precision, gradient accumulation and clipping, the optimizer and its
learning rate) as params, every `self.log(...)` value as a series at Lightning's global step, and at the end
the last value of each series as metrics; `finalize` ends a run the logger started with Lightning's outcome
(COMPLETE; FAILED when training raised, CANCELLED when it was interrupted).

One logger is one run, as with Lightning's own loggers: `trainer.test(...)` after `trainer.fit(...)` adds the
test values to the same run. `version` is the run's short id, so checkpoints land in
`<default_root_dir>/<experiment>/<id>/checkpoints`.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Mapping
from typing import Any

from ..run import state_after
from ..states import ExecutionState
from .frameworks import require
from .runs import Integration, torch_model_params


def _import_lightning() -> tuple[Any, Any]:
    try:
        pl = require("lightning.pytorch", "lightning", "trackbook.integrations.lightning")
    except ImportError:
        try:  # the standalone package of the same framework
            pl = require("pytorch_lightning", "lightning", "trackbook.integrations.lightning")
        except ImportError:
            raise ImportError(
                "trackbook.integrations.lightning needs PyTorch Lightning, which is not installed: "
                "pip install lightning (or pip install 'trackbook[integrations]')"
            ) from None
    return pl.loggers.Logger, pl.utilities.rank_zero_only


_LightningLogger, rank_zero_only = _import_lightning()

__all__ = ["Logger"]


class Logger(Integration, _LightningLogger):  # type: ignore[misc]
    """A Lightning logger that writes to trackbook (see the module docstring).

    Args:
        run: the ExperimentRun (or its name) to log into; default: the active run, else a new run.
        experiment: the experiment of a new run (default: the current one).
        run_name: the name of a new run (default: `{LightningModule class}-{time}-{id}`).
        params: extra params to record with the run.
    """

    _feature = "trackbook.integrations.lightning.Logger"

    def __init__(
        self,
        *,
        run: Any = None,
        experiment: Any = None,
        run_name: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(run=run, experiment=experiment, run_name=run_name, params=params)
        self._short_id = uuid.uuid4().hex[:5]
        self._run_name = run_name
        self._pending: dict[str, Any] = dict(self.extra_params)  # logged when the run starts
        self._started = False

    # -- what Lightning asks of a logger ----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The experiment's name (Lightning uses it in checkpoint paths)."""
        run = self.tracking.run
        if run is not None:
            return str(run.experiment_name)
        exp = self.tracking._experiment
        if exp is not None:
            return exp if isinstance(exp, str) else str(exp.name)
        from ..session import session

        return session.experiment.name if session.experiment is not None else "trackbook"

    @property
    def version(self) -> str:
        """The run name given to the logger, else the short id that a new run's name ends with."""
        return self._run_name or self._short_id

    @rank_zero_only  # type: ignore[misc]
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(params, argparse.Namespace):
            params = vars(params)
        params = dict(params or {})
        if self._started:
            self.tracking.log_params(params)
        else:
            self._pending.update(params)  # the run is named after the model, which log_graph brings next

    @rank_zero_only  # type: ignore[misc]
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        self._start(type(model).__name__)
        self.tracking.log_params(training_params(model))

    @rank_zero_only  # type: ignore[misc]
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        self._start("lightning")
        self.tracking.log_series(metrics, step=None if step is None else int(step))

    @rank_zero_only  # type: ignore[misc]
    def finalize(self, status: str) -> None:
        if not self._started:
            return
        if status == "finished":  # a SLURM requeue: the run goes on elsewhere; make what we have durable
            from ..session import flush

            flush()
            return
        self.tracking.log_final()
        # Lightning says "failed" for an error and for Ctrl-C alike, from inside its `except` clause, so the
        # exception it is handling tells them apart.
        raised = sys.exc_info()[1]
        if status == "success":
            state = ExecutionState.COMPLETE
        else:
            state = state_after(raised) if raised is not None else ExecutionState.FAILED
        self.tracking.end(state)
        from ..session import flush

        flush()

    # -- helpers --------------------------------------------------------------------------------------------

    def _start(self, model_name: str) -> None:
        if self._started:
            return
        self._started = True
        tracking = self.tracking
        if tracking._run_name is None:
            from .runs import run_name_for

            planned = run_name_for(model_name)
            tracking._run_name = planned[: -len(self._short_id)] + self._short_id
        tracking.start(model_name)
        if self._pending:
            tracking.log_params(self._pending)
            self._pending = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_started"] = False
        return state


def training_params(model: Any) -> dict[str, Any]:
    """The model's class and size and, once attached, its trainer's loop and optimizer settings."""
    out = torch_model_params(model)
    try:
        trainer = model.trainer
    except Exception:  # not attached to a Trainer
        return out
    for attr in ("max_epochs", "max_steps", "accumulate_grad_batches", "gradient_clip_val", "precision"):
        value = getattr(trainer, attr, None)
        if value is not None and value != -1:
            out[f"trainer.{attr}"] = value
    optimizers = getattr(trainer, "optimizers", None) or []
    if optimizers:
        opt = optimizers[0]
        out["optimizer"] = type(opt).__name__
        groups = getattr(opt, "param_groups", None) or [{}]
        for key in ("lr", "momentum", "weight_decay", "betas", "eps"):
            if key in groups[0]:
                out[f"optimizer.{key}"] = groups[0][key]
    return out
