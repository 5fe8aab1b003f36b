"""What every integration shares: finding or starting the run to log into, and turning a framework's
configuration and logs into values trackbook stores.

The run rule: an explicit `run` wins; else the active run (`start_run`) is used and left open; else a run
is started in the given or current experiment, named after the model and the time like Vertex's autologged
runs (`{model}-{YYYY-MM-DD-HH-MM-SS}-{5 hex}`), made the active run while training, and ended when
training ends (COMPLETE, or FAILED when training raised).

The step rule: a training logs at the framework's own steps, except that a training joining a run which
already has points at those steps continues after them (a second `fit` into the same run does not overwrite
the first one's curve): every step of that training is shifted by the same amount.
"""

from __future__ import annotations

import enum
import math
import numbers
import os
import re
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import values as _values
from ..exceptions import TrackbookWarning
from ..experiment import Experiment
from ..run import ExperimentRun
from ..session import session
from ..states import ExecutionState

TEXT_MAX = 1000  # longer param values (configs, reprs) are cut, so one run row stays readable
_NAME_JUNK = re.compile(r"[^A-Za-z0-9_.-]+")


def run_name_for(model: str) -> str:
    """`{model}-{YYYY-MM-DD-HH-MM-SS}-{5 hex}`: readable, sortable by time, unique."""
    base = _NAME_JUNK.sub("-", model).strip("-.")[:80] or "run"
    return f"{base}-{time.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4().hex[:5]}"


class TrainingRun:
    """The run one integration logs into, resolved when training starts (see the module docstring).

    Keeps the last run once training ended (an evaluation may follow and log into it), and drops it when
    pickled or deep-copied (frameworks copy callbacks, e.g. scikit-learn's `clone` of an XGBoost model).
    """

    def __init__(
        self,
        *,
        run: ExperimentRun | str | None = None,
        experiment: str | Experiment | None = None,
        run_name: str | None = None,
        feature: str,
    ) -> None:
        if run is not None and not isinstance(run, (ExperimentRun, str)):
            raise TypeError(f"run must be an ExperimentRun or a run name, got {type(run).__name__}")
        if experiment is not None and not isinstance(experiment, (Experiment, str)):
            raise TypeError(f"experiment must be an Experiment or its name, got {type(experiment).__name__}")
        if run_name is not None:
            _values.check_name(run_name, "run_name")
        self._given_run = run
        self._experiment = experiment
        self._run_name = run_name
        self._feature = feature
        self.run: ExperimentRun | None = None
        self.owned = False  # whether this object started the run (and so ends it)
        self._last: dict[str, float | int] = {}
        self._warned: set[str] = set()
        self._base = 0  # the last step the run had when this training joined it
        self._shift: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self, model: str) -> ExperimentRun:
        """Resolve the run for a training of `model` (a run this object left open is ended FAILED first)."""
        if self.run is not None and self.owned:
            # The previous training never reached its end (an exception or an interrupt in between).
            self.end(ExecutionState.FAILED)
        self._last = {}
        given = self._given_run
        self._shift = None
        if isinstance(given, ExperimentRun):
            self.run, self.owned = given, False
        elif isinstance(given, str):
            self.run, self.owned = ExperimentRun(given, self._resolve_experiment()), False
        elif session.run is not None and self._experiment is None:
            self.run, self.owned = session.run, False
        else:
            experiment = self._resolve_experiment()
            name = self._run_name or run_name_for(model)
            self.run, self.owned = ExperimentRun.create(name, experiment=experiment), True
            if session.experiment is not None and session.experiment == experiment and session.run is None:
                session.run = self.run  # the user's own log_* calls during training land in it too
        self._base = 0 if self.owned else _last_step(self.run)
        return self.run

    def end(self, state: Any = ExecutionState.COMPLETE) -> None:
        """End the run if this object started it; a run it was given stays open (its owner ends it).

        The run stays known, so what comes after training (an evaluation) can still be logged into it.
        """
        if self.run is not None and self.owned:
            self.owned = False
            self.run.end_run(state=state)

    def _resolve_experiment(self) -> Experiment:
        exp = self._experiment
        if isinstance(exp, Experiment):
            return exp
        if isinstance(exp, str):
            return Experiment.get_or_create(exp)
        from ..tracking import get_current_experiment

        current = get_current_experiment()
        if current is None:
            hint = "" if self._feature.endswith("autolog") else ", or pass experiment='my-experiment' to it"
            raise ValueError(
                f"No experiment set for {self._feature}. Call trackbook.init(experiment='my-experiment') first{hint}."
            )
        return current

    # -- logging --------------------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self.run is not None and params:
            clean = config_params(params)
            if clean:
                self.run.log_params(clean)

    def log_series(self, logs: Mapping[str, Any], step: int | None, prefix: str = "") -> dict[str, float | int]:
        """Log the numeric entries of `logs` as one point per key at `step` (None: the next step)."""
        values = self.numbers(logs, prefix)
        if self.run is not None and values:
            if step is not None:
                if self._shift is None:
                    self._shift = self._base + 1 - step if self._base > 0 and step <= self._base else 0
                step += self._shift
            self.run.log_time_series_metrics(values, step=step)
            self._last.update(values)
        return values

    def log_metrics(self, metrics: Mapping[str, Any], prefix: str = "") -> None:
        values = self.numbers(metrics, prefix)
        if self.run is not None and values:
            self.run.log_metrics(values)

    def log_final(self, extra: Mapping[str, Any] | None = None) -> None:
        """Log the last value of every series (and `extra`) as the run's summary metrics."""
        final = dict(self._last)
        if extra:
            final.update(self.numbers(extra))
        if self.run is not None and final:
            self.run.log_metrics(final)

    def numbers(self, logs: Mapping[str, Any], prefix: str = "") -> dict[str, float | int]:
        """The entries of `logs` that are numbers (numpy and 0-d tensor scalars included) under keys trackbook
        can store; anything else is skipped with one warning per key, never an error in the training loop."""
        out: dict[str, float | int] = {}
        for key, value in logs.items():
            name = f"{prefix}{key}" if isinstance(key, str) else key
            try:
                _values.check_key(name)
            except (TypeError, ValueError) as exc:
                self._skip(key, str(exc))
                continue
            number = as_number(value)
            if number is None:
                self._skip(key, f"its value is a {type(value).__name__}, not a number")
                continue
            out[name] = number
        return out

    def _skip(self, key: Any, why: str) -> None:
        if repr(key) not in self._warned:
            self._warned.add(repr(key))
            warnings.warn(f"trackbook: {self._feature} skips {key!r}: {why}", TrackbookWarning, stacklevel=4)

    # -- copies ---------------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        given = state.get("_given_run")
        if isinstance(given, ExperimentRun):
            state["_given_run"] = None  # a run handle holds threads and connections
        state.update(run=None, owned=False, _last={}, _base=0, _shift=None)
        return state


class Integration:
    """What every integration's callback or logger shares: the `TrainingRun` it logs into, the extra `params=`
    it was given, and `run`. Listed before the framework's base class; subclasses set `_feature`
    (their name in messages) and document the arguments in their own docstring."""

    _feature: ClassVar[str]

    def __init__(
        self,
        *,
        run: Any = None,
        experiment: Any = None,
        run_name: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.tracking = TrainingRun(run=run, experiment=experiment, run_name=run_name, feature=self._feature)
        self.extra_params = extra_params(params)

    @property
    def run(self) -> Any:
        """The run being logged into (None before training starts)."""
        return self.tracking.run


def extra_params(params: object) -> dict[str, Any]:
    """The `params=` a callback was given, checked: a mapping of name to value (None: none)."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of name to value, got {type(params).__name__}")
    return dict(params)


def torch_model_params(model: Any) -> dict[str, Any]:
    """A torch module's class and its total and trainable parameter counts, as `model.*` params."""
    out: dict[str, Any] = {"model.class": type(model).__name__}
    try:
        parameters = list(model.parameters())
        out["model.total_params"] = int(sum(p.numel() for p in parameters))
        out["model.trainable_params"] = int(sum(p.numel() for p in parameters if p.requires_grad))
    except Exception:  # not a torch module after all
        pass
    return out


def _last_step(run: ExperimentRun) -> int:
    """The largest step the run has logged (0 when none)."""
    return max(run._max_step, run._auto_step or 0)


def as_number(value: Any) -> float | int | None:
    """A real number (bool, int, float, numpy scalar, 0-d array or tensor) as an int or a float, else None."""
    if type(value) is float:
        return value
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (str, bytes)):
        shape = getattr(value, "shape", ())
        try:
            if tuple(shape) != () and math.prod(shape) != 1:
                return None
            value = item()
        except Exception:
            return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Integral):
        as_int = int(value)
        return as_int if _values.INT_MIN <= as_int <= _values.INT_MAX else float(as_int)
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except (OverflowError, ValueError):
            return None
    return None


def config_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A framework configuration as storable params: nested mappings flattened with dots, None as "None",
    enums by name, paths, lists and other objects as (cut) text; keys that cannot name a param are dropped."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if not isinstance(key, str) or not key or len(name) > _values.KEY_MAX:
            continue
        try:
            _values.check_key(name)
        except (TypeError, ValueError):
            continue
        if isinstance(value, Mapping):
            out.update(config_params(value, name + "."))
            continue
        out[name] = param_value(value)
    return out


def param_value(value: Any) -> str | int | float | bool:
    """One configuration value as a param: scalars kept, everything else as readable text."""
    if value is None:
        return "None"
    if isinstance(value, enum.Enum):
        inner = value.value
        return inner if isinstance(inner, (str, int, float)) and not isinstance(inner, bool) else value.name
    if not isinstance(value, (list, tuple, set, dict)):
        try:
            scalar = _values.scalar("param", value)
        except (TypeError, ValueError):  # not a scalar, or an int beyond 64 bits: kept as text below
            pass
        else:
            return _cut(scalar) if isinstance(scalar, str) else scalar
    if isinstance(value, os.PathLike):
        return _cut(os.fspath(value))  # type: ignore[arg-type]
    if isinstance(value, type):
        return value.__name__
    if callable(value) and hasattr(value, "__name__"):
        return str(value.__name__)
    return _cut(str(value) if isinstance(value, (list, tuple, set, int)) else repr(value))


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX] + "…"
