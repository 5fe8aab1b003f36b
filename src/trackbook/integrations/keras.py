"""Keras 3: `model.fit(..., callbacks=[trackbook.integrations.keras.Callback()])`.

Records the training configuration as params (epochs, steps per epoch, the optimizer's config, the loss,
the model's name and size), each epoch's logs as series at step = epoch number as Keras prints it (1, 2, ...;
validation values as `val_*`), the last epoch's values as metrics, and, when the same callback is passed to
`model.evaluate` after training, the evaluation as `eval_*` metrics of the same run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from ..states import ExecutionState
from .frameworks import require
from .runs import Integration


def _import_keras() -> Any:
    try:
        return require("keras", "keras>=3", "trackbook.integrations.keras")
    except ImportError as exc:
        if "could not import" in str(exc):
            backend = os.environ.get("KERAS_BACKEND", "tensorflow")
            raise ImportError(
                f"{exc}. Keras 3 runs on the backend named by KERAS_BACKEND (now {backend!r}); install that "
                "backend, or choose an installed one, e.g. KERAS_BACKEND=torch, before importing keras."
            ) from exc
        raise


keras = _import_keras()
if int(keras.__version__.split(".")[0]) < 3:
    raise ImportError(f"trackbook.integrations.keras needs Keras 3, found {keras.__version__}: pip install 'keras>=3'")

__all__ = ["Callback"]


class Callback(Integration, keras.callbacks.Callback):  # type: ignore[misc]
    """Log a Keras training into trackbook (see the module docstring).

    Args:
        run: the ExperimentRun (or its name) to log into; default: the active run, else a new run.
        experiment: the experiment of a new run (default: the current one).
        run_name: the name of a new run (default: `{model name}-{time}-{id}`).
        params: extra params to record with the run (e.g. your hyperparameters).
        log_every_n_steps: also log batch values as `batch/*` series every N optimizer steps (default: off).
    """

    _feature = "trackbook.integrations.keras.Callback"

    def __init__(
        self,
        *,
        run: Any = None,
        experiment: Any = None,
        run_name: str | None = None,
        params: Mapping[str, Any] | None = None,
        log_every_n_steps: int | None = None,
    ) -> None:
        if log_every_n_steps is not None and (
            isinstance(log_every_n_steps, bool) or not isinstance(log_every_n_steps, int) or log_every_n_steps < 1
        ):
            raise ValueError(f"log_every_n_steps must be a positive int or None, got {log_every_n_steps!r}")
        super().__init__(run=run, experiment=experiment, run_name=run_name, params=params)
        self.log_every_n_steps = log_every_n_steps
        self._in_fit = False
        self._global_step = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = True
        self._global_step = 0
        model = self.model
        self.tracking.start(getattr(model, "name", None) or type(model).__name__)
        self.tracking.log_params({**training_params(model, self.params), **self.extra_params})

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._global_step += 1
        n = self.log_every_n_steps
        if n and logs and self._global_step % n == 0:
            self.tracking.log_series(logs, step=self._global_step, prefix="batch/")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs:
            self.tracking.log_series(logs, step=epoch + 1)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = False
        self.tracking.log_final({k: v for k, v in (logs or {}).items() if not k.startswith("batch/")})
        self.tracking.end(ExecutionState.COMPLETE)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._in_fit or not logs:
            return  # validation inside fit arrives with the epoch's logs as val_*
        if self.tracking.run is None:
            from ..session import session

            if session.run is None:
                return
            self.tracking.run = session.run
        self.tracking.log_metrics(logs, prefix="eval_")


def _float32(value: Any) -> Any:
    """A float32 setting (0.009999999776482582) as the number it was set to (0.01)."""
    if type(value) is float:
        import numpy as np

        single = np.float32(value)
        if float(single) == value:
            return float(str(single))
    return value


def training_params(model: Any, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The configuration of a Keras training: fit's epochs and steps, optimizer, loss and model size."""
    out: dict[str, Any] = {}
    for key in ("epochs", "steps"):
        if params and params.get(key) is not None:
            out["steps_per_epoch" if key == "steps" else key] = params[key]
    out["model.name"] = getattr(model, "name", type(model).__name__)
    out["model.class"] = type(model).__name__
    try:
        out["model.total_params"] = int(model.count_params())
        out["model.trainable_params"] = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    except Exception:  # an unbuilt model has no weights yet
        pass
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        try:
            config = dict(optimizer.get_config())
        except Exception:
            config = {"name": type(optimizer).__name__}
        out["optimizer"] = config.pop("name", type(optimizer).__name__)
        out.update({f"optimizer.{k}": _float32(v) for k, v in config.items() if v is not None})  # None: unused
    loss = getattr(model, "loss", None)
    if loss is not None:
        out["loss"] = loss
    return out
