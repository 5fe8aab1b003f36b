"""`trackbook.autolog(disable=False)`: record every `fit` of scikit-learn, XGBoost and Keras with no other code.

Vertex's `aiplatform.autolog` semantics: an experiment must be set; each training logs into the active run,
or into a run of its own named after the model and the time (`LogisticRegression-2026-01-04-16-09-20-86a88`)
that ends when `fit` returns (COMPLETE) or raises (FAILED; CANCELLED when interrupted). What is recorded:

- scikit-learn (every estimator's `fit`): `get_params(deep=True)` as params; training metrics under MLflow's
  names (see `integrations.sklearn`); a later `estimator.score(X, y)` as the metric `eval_score`;
- XGBoost (`xgb.train` and the scikit-learn API's `fit`): the params given (and those XGBoost resolved),
  each round's evaluation metrics (`evals=` / `eval_set=`) as series, final values and early stopping's best
  iteration as metrics, and for the scikit-learn API the training metrics too;
- Keras (`Model.fit`): the fit arguments (batch_size, epochs, validation_split, ...) with everything the
  Keras callback records, including validation values when validation data is given.

Only the outermost `fit` is recorded (a grid search is one run, not one per candidate). Frameworks imported
after `autolog()` are patched when they are imported. `autolog(disable=True)` restores the original methods.
A failure to record never breaks training: it becomes a TrackbookWarning.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from ..exceptions import TrackbookWarning
from ..run import state_after
from ..states import ExecutionState
from .runs import TrainingRun

__all__ = ["autolog", "is_enabled"]

FEATURE = "trackbook.autolog"
_MISSING = object()

_enabled = False
_patches: list[tuple[Any, str, Any]] = []  # (owner, attribute, original value or _MISSING), in patch order
_patched: set[str] = set()  # frameworks patched so far
_local = threading.local()  # depth: fits in progress on this thread; xgb: the tracking an XGBoost fit hands train
_trained: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # estimator -> the run of its fit
_hook: _PostImportHook | None = None


def autolog(disable: bool = False) -> None:
    """Enable automatic logging of scikit-learn, XGBoost and Keras training, or with `disable=True` undo it.

    Raises ValueError when enabling with no experiment set, and when disabling while not enabled.
    """
    global _enabled, _hook
    if not isinstance(disable, bool):
        raise TypeError(f"disable must be a bool, got {type(disable).__name__}")
    if disable:
        if not _enabled:
            raise ValueError("Autologging is not enabled. Enable autologging by calling aiplatform.autolog().")
        _enabled = False
        if _hook is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(_hook)
            _hook = None
        _restore()
        return
    from ..tracking import get_current_experiment

    if get_current_experiment() is None:
        raise ValueError(
            "No experiment set. Make sure to call aiplatform.init(experiment='my-experiment') "
            "before calling aiplatform.autolog()."
        )
    if _enabled:
        return
    _enabled = True
    waiting = []
    for name in _FRAMEWORKS:
        module = sys.modules.get(name)
        if module is not None and not _initializing(module):
            _patch_framework(name)
        else:
            waiting.append(name)
    if waiting:
        _hook = _PostImportHook(waiting)
        sys.meta_path.insert(0, _hook)


def is_enabled() -> bool:
    """Whether autologging is on."""
    return _enabled


# -- the run of one training -------------------------------------------------------------------------------


def _depth() -> int:
    return getattr(_local, "depth", 0)


@contextlib.contextmanager
def _nested() -> Iterator[None]:
    _local.depth = _depth() + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _begin(model: str, params: dict[str, Any]) -> TrainingRun | None:
    """Start (or join the active) run for a training; None, with a warning, if that is impossible."""
    tracking = TrainingRun(feature=FEATURE)
    try:
        tracking.start(model)
        tracking.log_params(params)
    except Exception as exc:
        _warn(f"could not start a run for {model} ({exc}); this training is not recorded")
        return None
    return tracking


def _finish(tracking: TrainingRun, state: ExecutionState) -> None:
    try:
        tracking.end(state)
    except Exception as exc:
        _warn(f"could not end the run ({exc})")


def _safely(what: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception as exc:
        _warn(f"could not record {what} ({exc})")
        return None


def _warn(message: str) -> None:
    warnings.warn(f"trackbook.autolog: {message}", TrackbookWarning, stacklevel=4)


def _arguments(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {}


def _with_argument(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str, value: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(args, kwargs) of a method call (self excluded) with the argument `name` set to `value`."""
    names = [n for n in inspect.signature(fn).parameters if n != "self"]
    index = names.index(name)
    if len(args) > index:
        return (*args[:index], value, *args[index + 1 :]), kwargs
    return args, {**kwargs, name: value}


# -- scikit-learn ------------------------------------------------------------------------------------------


def _patch_sklearn() -> None:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import all_estimators

    # Walk each estimator's bases too: GridSearchCV's fit lives on BaseSearchCV, which is not listed.
    owners: dict[type, None] = {}
    for _, cls in all_estimators():
        for base in cls.__mro__:
            if issubclass(base, BaseEstimator) and base is not BaseEstimator:
                owners[base] = None
    for cls in owners:
        if inspect.isfunction(cls.__dict__.get("fit")):
            _patch(cls, "fit", _sklearn_fit(cls.__dict__["fit"]))
    for cls in [ClassifierMixin, RegressorMixin, *owners]:
        # Only plain methods: `available_if` descriptors (Pipeline.score) decide per instance whether they exist.
        if inspect.isfunction(cls.__dict__.get("score")):
            _patch(cls, "score", _sklearn_score(cls.__dict__["score"]))


def _sklearn_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _enabled or _depth() > 0:
            return original(self, *args, **kwargs)
        from .sklearn import estimator_params, search_results, training_metrics

        with _nested():
            tracking = _begin(type(self).__name__, _safely("params", lambda: estimator_params(self)) or {})
            if tracking is None:
                return original(self, *args, **kwargs)
            try:
                result = original(self, *args, **kwargs)
            except BaseException as exc:
                _finish(tracking, state_after(exc))
                raise
            given = _arguments(original, (self, *args), kwargs)
            X, y = given.get("X"), given.get("y")
            weight = given.get("sample_weight")
            metrics = _safely("training metrics", lambda: training_metrics(self, X, y, weight))
            if metrics:
                _safely("training metrics", lambda: tracking.log_metrics(metrics))
            best = _safely("the search's best candidate", lambda: search_results(self))
            if best:
                _safely("the search's best candidate", lambda: _log_search(tracking, *best))
            _remember(self, tracking)
            _finish(tracking, ExecutionState.COMPLETE)
            return result

    return fit


def _log_search(tracking: TrainingRun, params: dict[str, Any], metrics: dict[str, float]) -> None:
    tracking.log_params(params)
    tracking.log_metrics(metrics)


def _sklearn_score(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if _enabled and _depth() == 0:
            run = _trained_run(self)
            if run is not None:
                _safely("eval_score", lambda: run.log_metrics({"eval_score": result}))
        return result

    return score


def _remember(estimator: Any, tracking: TrainingRun) -> None:
    with contextlib.suppress(TypeError):  # an unhashable or non-weakrefable estimator is not remembered
        _trained[estimator] = tracking.run


def _trained_run(estimator: Any) -> Any:
    try:
        return _trained.get(estimator)
    except TypeError:
        return None


# -- XGBoost -----------------------------------------------------------------------------------------------


def _patch_xgboost() -> None:
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    original = xgboost.training.train
    wrapped = _xgb_train(original)
    for module in (xgboost.training, xgboost, xgboost.sklearn):
        if getattr(module, "train", None) is original:
            _patch(module, "train", wrapped)
    for cls in vars(xgboost.sklearn).values():
        if isinstance(cls, type) and issubclass(cls, xgboost.sklearn.XGBModel) and inspect.isfunction(
            cls.__dict__.get("fit")
        ):
            _patch(cls, "fit", _xgb_fit(cls.__dict__["fit"]))


def _xgb_callback(tracking: TrainingRun) -> Any:
    from .xgboost import Callback, booster_params, training_summary

    class AutologCallback(Callback):  # type: ignore[misc, valid-type]
        """Logs rounds into a run the autolog wrapper started, and leaves ending it to the wrapper."""

        def before_training(self, model: Any) -> Any:
            resolved = _safely("XGBoost params", lambda: booster_params(model)) or {}
            known = self.tracking.run.get_params() if self.tracking.run is not None else {}
            self.tracking.log_params({k: v for k, v in resolved.items() if k not in known})
            return model

        def after_training(self, model: Any) -> Any:
            self.tracking.log_final(training_summary(model))
            return model

    callback = AutologCallback()
    callback.tracking = tracking
    return callback


def _xgb_train(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def train(params: Any, dtrain: Any, *args: Any, **kwargs: Any) -> Any:
        if not _enabled:
            return original(params, dtrain, *args, **kwargs)
        handed = getattr(_local, "xgb", None)
        if handed is not None:  # inside an autologged XGBModel.fit: log its rounds into that fit's run
            _local.xgb = None
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _xgb_callback(handed)]
            return original(params, dtrain, *args, **kwargs)
        if _depth() > 0:
            return original(params, dtrain, *args, **kwargs)
        given = dict(params) if isinstance(params, dict) else {}
        rounds = args[0] if args else kwargs.get("num_boost_round", 10)
        with _nested():
            tracking = _begin("xgboost", {**given, "num_boost_round": rounds})
            if tracking is None:
                return original(params, dtrain, *args, **kwargs)
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _xgb_callback(tracking)]
            try:
                booster = original(params, dtrain, *args, **kwargs)
            except BaseException as exc:
                _finish(tracking, state_after(exc))
                raise
            _finish(tracking, ExecutionState.COMPLETE)
            return booster

    return train


def _xgb_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _enabled or _depth() > 0:
            return original(self, *args, **kwargs)
        from .sklearn import estimator_params, training_metrics

        with _nested():
            params = _safely("params", lambda: estimator_params(self, drop_none=True)) or {}
            tracking = _begin(type(self).__name__, params)
            if tracking is None:
                return original(self, *args, **kwargs)
            _local.xgb = tracking
            try:
                result = original(self, *args, **kwargs)
            except BaseException as exc:
                _finish(tracking, state_after(exc))
                raise
            finally:
                _local.xgb = None
            given = _arguments(original, (self, *args), kwargs)
            X, y = given.get("X"), given.get("y")
            metrics = _safely("training metrics", lambda: training_metrics(self, X, y, given.get("sample_weight")))
            if metrics:
                _safely("training metrics", lambda: tracking.log_metrics(metrics))
            _remember(self, tracking)
            _finish(tracking, ExecutionState.COMPLETE)
            return result

    return fit


# -- Keras -------------------------------------------------------------------------------------------------

_KERAS_FIT_ARGUMENTS = (
    "batch_size",
    "epochs",
    "validation_split",
    "shuffle",
    "initial_epoch",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
    "validation_freq",
)


def _patch_keras() -> None:
    import keras

    _patch(keras.Model, "fit", _keras_fit(keras.Model.fit))


def _keras_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _enabled or _depth() > 0:
            return original(self, *args, **kwargs)
        from .keras import Callback

        given = _arguments(original, (self, *args), kwargs)
        callbacks = list(given.get("callbacks") or [])
        if any(isinstance(c, Callback) for c in callbacks):
            return original(self, *args, **kwargs)  # the user logs this fit with the callback already
        defaults = {}
        with contextlib.suppress(TypeError, ValueError):
            defaults = {
                k: p.default for k, p in inspect.signature(original).parameters.items() if p.default is not p.empty
            }
        fit_params = {k: given.get(k, defaults.get(k)) for k in _KERAS_FIT_ARGUMENTS}
        fit_params = {k: v for k, v in fit_params.items() if v is not None}
        if given.get("validation_data") is not None:
            fit_params["validation_data"] = "given"
        with _nested():
            tracking = _begin(getattr(self, "name", None) or type(self).__name__, fit_params)
            if tracking is None:
                return original(self, *args, **kwargs)
            args, kwargs = _with_argument(original, args, kwargs, "callbacks", [*callbacks, Callback(run=tracking.run)])
            try:
                history = original(self, *args, **kwargs)
            except BaseException as exc:
                _finish(tracking, state_after(exc))
                raise
            _finish(tracking, ExecutionState.COMPLETE)
            return history

    return fit


# -- patching ------------------------------------------------------------------------------------------------

_FRAMEWORKS: dict[str, Callable[[], None]] = {
    "sklearn": _patch_sklearn,
    "xgboost": _patch_xgboost,
    "keras": _patch_keras,
}


def _patch_framework(name: str) -> None:
    if name in _patched or not _enabled:
        return
    _patched.add(name)
    try:
        _FRAMEWORKS[name]()
    except Exception as exc:  # a framework version we cannot patch must not break its import
        _warn(f"could not patch {name} ({exc}); its trainings are not recorded")


def _patch(owner: Any, name: str, replacement: Any) -> None:
    _patches.append((owner, name, owner.__dict__.get(name, _MISSING)))
    setattr(owner, name, replacement)


def _restore() -> None:
    while _patches:
        owner, name, original = _patches.pop()
        if original is _MISSING:
            with contextlib.suppress(AttributeError):
                delattr(owner, name)
        else:
            setattr(owner, name, original)
    _patched.clear()


def _initializing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Patches a framework right after it is first imported (autolog may come before `import sklearn`)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = set(names)
        self._busy: set[str] = set()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self.names or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader, fullname)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if _hook is not None:
            _hook.names.discard(self._name)
        _patch_framework(self._name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
