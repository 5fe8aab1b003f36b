"""scikit-learn estimators: their params and training metrics, as `trackbook.autolog()` records them.

`estimator_params(est)` is `get_params(deep=True)` as storable params; `training_metrics(est, X, y)` scores
a fitted estimator on its training data under MLflow's names, so runs brought over from MLflow's autolog
(`trackbook import mlflow`) line up with new ones: classifiers get training_accuracy_score,
training_precision_score, training_recall_score, training_f1_score (weighted), training_log_loss and
training_roc_auc (when it has predict_proba); regressors training_mean_squared_error,
training_root_mean_squared_error, training_mean_absolute_error and training_r2_score; every estimator with a
`score` method training_score.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from .frameworks import require
from .runs import config_params

sklearn = require("sklearn", "scikit-learn", "trackbook.integrations.sklearn")

__all__ = ["estimator_params", "search_results", "training_metrics"]


def estimator_params(estimator: Any, *, drop_none: bool = False) -> dict[str, Any]:
    """`get_params(deep=True)` as params (nested estimators as their repr, `drop_none` skips unset values)."""
    try:
        params = dict(estimator.get_params(deep=True))
    except Exception:
        return {}
    if drop_none:
        params = {k: v for k, v in params.items() if v is not None}
    return config_params(params)


def training_metrics(estimator: Any, X: Any, y: Any = None, sample_weight: Any = None) -> dict[str, float]:
    """Scores of a fitted estimator on (X, y); a metric that cannot be computed is left out, never raised."""
    from sklearn import metrics as m
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}
    if X is None:
        return out
    kw = {"sample_weight": sample_weight} if sample_weight is not None else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined precision for an absent class etc. must not reach the user
        if y is not None and hasattr(estimator, "score"):
            _put(out, "training_score", lambda: estimator.score(X, y, **kw))
        if y is None or not hasattr(estimator, "predict"):
            return out
        if is_classifier(estimator):
            try:
                predicted = estimator.predict(X)
            except Exception:
                return out
            _put(out, "training_accuracy_score", lambda: m.accuracy_score(y, predicted, **kw))
            for name, fn in (
                ("training_precision_score", m.precision_score),
                ("training_recall_score", m.recall_score),
                ("training_f1_score", m.f1_score),
            ):
                _put(out, name, lambda fn=fn: fn(y, predicted, average="weighted", **kw))
            if hasattr(estimator, "predict_proba"):
                try:
                    proba = estimator.predict_proba(X)
                except Exception:
                    proba = None
                if proba is not None:
                    labels = getattr(estimator, "classes_", None)
                    _put(out, "training_log_loss", lambda: m.log_loss(y, proba, labels=labels, **kw))
                    if proba.shape[1] == 2:
                        _put(out, "training_roc_auc", lambda: m.roc_auc_score(y, proba[:, 1], **kw))
                    else:
                        _put(
                            out,
                            "training_roc_auc",
                            lambda: m.roc_auc_score(y, proba, multi_class="ovr", labels=labels, **kw),
                        )
        elif is_regressor(estimator):
            try:
                predicted = estimator.predict(X)
            except Exception:
                return out
            _put(out, "training_mean_squared_error", lambda: m.mean_squared_error(y, predicted, **kw))
            if "training_mean_squared_error" in out:
                out["training_root_mean_squared_error"] = math.sqrt(out["training_mean_squared_error"])
            _put(out, "training_mean_absolute_error", lambda: m.mean_absolute_error(y, predicted, **kw))
            _put(out, "training_r2_score", lambda: m.r2_score(y, predicted, **kw))
    return out


def search_results(estimator: Any) -> tuple[dict[str, Any], dict[str, float]] | None:
    """For a fitted hyperparameter search: its best candidate as `best_*` params and `best_cv_score`."""
    best = getattr(estimator, "best_params_", None)
    if not isinstance(best, dict):
        return None
    metrics: dict[str, float] = {}
    score = getattr(estimator, "best_score_", None)
    if score is not None:
        _put(metrics, "best_cv_score", lambda: score)
    return config_params({f"best_{k}": v for k, v in best.items()}), metrics


def _put(out: dict[str, float], name: str, compute: Any) -> None:
    try:
        value = float(compute())
    except Exception:  # a metric that does not apply (e.g. multi-output) is simply not recorded
        return
    out[name] = value
