"""Hugging Face transformers: `Trainer(..., callbacks=[trackbook.integrations.huggingface.Callback()])`.

Records the training configuration as params (the main `TrainingArguments`, plus every argument that
differs from its default, and the model's class, size and scalar config fields as `model.*`), every
`Trainer.log` entry (training loss, learning rate, grad norm, `eval_*` values) as series at the global step,
and at the end the last value of each series plus the Trainer's summary (train_runtime, train_loss, ...) as
metrics. A `trainer.evaluate()` after training adds its `eval_*` values to the same run.

Pass `report_to="none"` in TrainingArguments unless you also want the Trainer's other integrations.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..states import ExecutionState
from .frameworks import require
from .runs import Integration, torch_model_params

transformers = require("transformers", "transformers", "trackbook.integrations.huggingface")

__all__ = ["Callback"]

# Logged always: what anyone comparing two fine-tuning runs looks at first.
MAIN_ARGUMENTS = (
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "weight_decay",
    "warmup_steps",
    "warmup_ratio",
    "lr_scheduler_type",
    "optim",
    "max_grad_norm",
    "seed",
)
# The Trainer's closing log entry: a summary of the whole training, not a point of a curve.
SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss")


class Callback(Integration, transformers.TrainerCallback):  # type: ignore[misc]
    """Log a transformers Trainer run into trackbook (see the module docstring).

    Args:
        run: the ExperimentRun (or its name) to log into; default: the active run, else a new run.
        experiment: the experiment of a new run (default: the current one).
        run_name: the name of a new run (default: `args.run_name`, else `{model class}-{time}-{id}`).
        params: extra params to record with the run.
    """

    _feature = "trackbook.integrations.huggingface.Callback"
    _training = False  # between on_train_begin and on_train_end

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._training = True
        if self.tracking._run_name is None and getattr(args, "run_name", None):
            self.tracking._run_name = args.run_name
        self.tracking.start(type(model).__name__ if model is not None else "transformers")
        self.tracking.log_params({**training_params(args), **model_params(model), **self.extra_params})

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs or self.tracking.run is None or not self._training:
            return  # after training, on_evaluate records an evaluation as the run's final metrics
        if any(key in logs for key in SUMMARY_KEYS[:3]):
            self.tracking.log_metrics(logs)
            return
        self.tracking.log_series(logs, step=int(state.global_step))

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if state.is_world_process_zero and not self._training and metrics and self.tracking.run is not None:
            self.tracking.log_metrics(metrics)  # an evaluation after training: its values are the final ones

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._training = False
        self.tracking.log_final()
        self.tracking.end(ExecutionState.COMPLETE)


def training_params(args: Any) -> dict[str, Any]:
    """The main TrainingArguments, and every other one that differs from its default (tokens never)."""
    values = args.to_dict() if hasattr(args, "to_dict") else dict(vars(args))
    defaults: dict[str, Any] = {}
    if dataclasses.is_dataclass(args):
        for f in dataclasses.fields(args):
            if f.default is not dataclasses.MISSING:
                defaults[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                try:
                    defaults[f.name] = f.default_factory()
                except Exception:
                    pass
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key.endswith("_token"):  # hub credentials: never stored
            continue
        default = defaults.get(key, dataclasses.MISSING)
        default = getattr(default, "value", default)  # enums compare by value, as to_dict gives them
        if key in MAIN_ARGUMENTS or default is dataclasses.MISSING or not _same(value, default):
            out[key] = value
    return out


def model_params(model: Any) -> dict[str, Any]:
    """The model's class, size and the scalar fields of its config, as `model.*`."""
    if model is None:
        return {}
    out = torch_model_params(model)
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        for key, value in config.to_dict().items():
            if isinstance(value, (bool, int, float, str)) and not key.startswith("_"):
                out[f"model.{key}"] = value
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False
