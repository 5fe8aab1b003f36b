"""XGBoost: `xgb.train(params, dtrain, evals=[...], callbacks=[trackbook.integrations.xgboost.Callback()])`,
or `XGBClassifier(callbacks=[Callback()])` with `fit(..., eval_set=[...])`.

Records the booster's training configuration as params (objective, booster, tree method and the tree
parameters as XGBoost resolved them, plus `params=` you pass), each round's evaluation metrics as series
named like XGBoost prints them (`train-rmse`, `validation_0-logloss`) at step = round (0, 1, ... as XGBoost
numbers them), and at the end the last values, `num_boosted_rounds` and early stopping's
`best_iteration`/`best_score` as metrics. In `xgb.cv` the mean and standard deviation of each metric become
`{name}-mean` and `{name}-std`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..states import ExecutionState
from .frameworks import require
from .runs import Integration

xgb = require("xgboost", "xgboost", "trackbook.integrations.xgboost")

__all__ = ["Callback"]

# Aliases XGBoost reports next to their canonical names; logging both would only duplicate columns.
_ALIASES = {"learning_rate", "reg_alpha", "reg_lambda", "min_split_loss"}


class Callback(Integration, xgb.callback.TrainingCallback):  # type: ignore[misc]
    """Log an XGBoost training into trackbook (see the module docstring).

    Args:
        run: the ExperimentRun (or its name) to log into; default: the active run, else a new run.
        experiment: the experiment of a new run (default: the current one).
        run_name: the name of a new run (default: `{booster}-{time}-{id}`).
        params: extra params to record with the run (e.g. the params dict given to `xgb.train`).
    """

    _feature = "trackbook.integrations.xgboost.Callback"

    def before_training(self, model: Any) -> Any:
        self.tracking.start("xgboost")
        self.tracking.log_params({**booster_params(model), **self.extra_params})
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Mapping[str, Mapping[str, Any]]) -> bool:
        point: dict[str, Any] = {}
        for data, metrics in evals_log.items():
            for metric, history in metrics.items():
                if not history:
                    continue
                last = history[-1]
                if isinstance(last, tuple):  # xgb.cv: (mean, std)
                    point[f"{data}-{metric}-mean"], point[f"{data}-{metric}-std"] = last[0], last[1]
                else:
                    point[f"{data}-{metric}"] = last
        if point:
            self.tracking.log_series(point, step=int(epoch))
        return False  # never asks XGBoost to stop

    def after_training(self, model: Any) -> Any:
        self.tracking.log_final(training_summary(model))
        self.tracking.end(ExecutionState.COMPLETE)
        return model


def training_summary(model: Any) -> dict[str, Any]:
    """`num_boosted_rounds` and, after early stopping, `best_iteration` and `best_score` of a trained model."""
    extra: dict[str, Any] = {}
    try:
        extra["num_boosted_rounds"] = model.num_boosted_rounds()
    except Exception:  # xgb.cv passes its own container
        pass
    attributes = _attributes(model)
    for key, kind in (("best_iteration", int), ("best_score", float)):
        if key in attributes:
            try:
                extra[key] = kind(attributes[key])
            except ValueError:
                pass
    return extra


def booster_params(model: Any) -> dict[str, Any]:
    """The configuration XGBoost resolved for a Booster: objective, booster, tree method and tree params."""
    try:
        config = json.loads(model.save_config())["learner"]
    except Exception:  # xgb.cv's container, or an XGBoost without save_config
        return {}
    out: dict[str, Any] = {}
    train = config.get("learner_train_param", {})
    out["booster"] = train.get("booster")
    out["objective"] = train.get("objective") or config.get("objective", {}).get("name")
    booster = config.get("gradient_booster", {})
    out["tree_method"] = booster.get("gbtree_train_param", {}).get("tree_method")
    model_param = config.get("learner_model_param", {})
    out["num_feature"] = model_param.get("num_feature")
    if model_param.get("num_class") not in (None, "0"):
        out["num_class"] = model_param.get("num_class")
    out["eval_metric"] = ",".join(m.get("name", "") for m in config.get("metrics", [])) or None
    out["seed"] = config.get("generic_param", {}).get("seed")
    tree = booster.get("tree_train_param") or booster.get("gbtree", {}).get("gradient_booster", {}).get(
        "tree_train_param", {}
    )
    for key, value in tree.items():
        if key not in _ALIASES:
            out[key] = value
    return {k: _number(v) for k, v in out.items() if v is not None}


def _attributes(model: Any) -> dict[str, str]:
    try:
        return dict(model.attributes())
    except Exception:
        return {}


def _number(text: Any) -> Any:
    """XGBoost's config holds numbers as text, floats in float32 ("0.300000012"): give them back as numbers."""
    if not isinstance(text, str):
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    import numpy as np

    return float(str(np.float32(value))) if value == value and abs(value) < 3e38 else value
