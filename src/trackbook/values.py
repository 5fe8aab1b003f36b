"""What may be logged: names, keys and values, checked and converted before anything is stored.

Rules (docs/store.md has the full table):
- names of experiments and runs: str, 1 to 128 characters, no control characters;
- keys of params, metrics and series: str, 1 to 256 characters, no control characters;
- param and metric values: str, int, float, bool, or a numpy scalar of those kinds (converted); params may be
  nested dicts, flattened with dots; None, lists, tuples and other objects raise TypeError;
- series values: numbers only (int, float, bool, numpy numbers), stored as float.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Union

Scalar = Union[str, int, float, bool]

NAME_MAX = 128
KEY_MAX = 256
# Ints are kept exact; beyond int64 a value could not be compared or sorted by SQL readers of the file.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_BAD_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}  # control, lone surrogates, line and paragraph separators


def _bad_char(text: str) -> str | None:
    if text.isascii():
        for ch in text:
            if ch < " " or ch == "\x7f":
                return ch
        return None
    for ch in text:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return ch
    return None


def check_name(name: object, what: str = "name", limit: int = NAME_MAX) -> str:
    """Return `name` if it is a valid experiment or run name, else raise TypeError or ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"{what} {name!r} is of type {type(name).__name__}; it must be a str")
    if not name.strip():
        raise ValueError(f"{what} must be non-empty printable text of 1 to {limit} characters, got {name!r}")
    if len(name) > limit:
        raise ValueError(f"{what} {name[:40]!r}... has {len(name)} characters; at most {limit} are allowed")
    bad = _bad_char(name)
    if bad is not None:
        raise ValueError(
            f"{what} {name!r} contains the control character {bad!r} (U+{ord(bad):04X}); "
            "names must be printable text"
        )
    return name


_checked_keys: set[str] = set()


def check_key(key: object) -> str:
    """Return `key` if it may name a param, metric or series, else raise TypeError or ValueError."""
    if type(key) is str and key in _checked_keys:
        return key
    if not isinstance(key, str):
        # Vertex's wording: "{key} is of type {T} must of type str"
        raise TypeError(f"{key!r} is of type {type(key).__name__} must be of type str")
    if not key:
        raise ValueError("keys must be non-empty strings, got ''")
    if len(key) > KEY_MAX:
        raise ValueError(f"key {key[:40]!r}... has {len(key)} characters; at most {KEY_MAX} are allowed")
    bad = _bad_char(key)
    if bad is not None:
        raise ValueError(f"key {key!r} contains the control character {bad!r} (U+{ord(bad):04X})")
    if len(_checked_keys) < 100_000:
        _checked_keys.add(str(key))
    return key


def _numpy_scalar(value: Any) -> Any:
    """Convert numpy scalars and 0-d arrays/tensors to the Python scalar they hold; others unchanged."""
    item = getattr(value, "item", None)
    if item is None or isinstance(value, (str, bytes)):
        return value
    shape = getattr(value, "shape", None)
    if shape is not None and tuple(shape) != ():
        return value
    try:
        return item()
    except Exception:
        return value


def _not_allowed(key: str, value: object, kind: str) -> TypeError:
    """The TypeError for a value of a type that may not be logged as a `kind` value.

    `value` is what the caller passed (before any numpy conversion), so the message names their type.
    """
    allowed = "a number" if kind == "series" else "one of float, int, str or bool (numpy scalars are converted)"
    return TypeError(f"Value for key {key!r} is of type {_type_name(value)} but must be {allowed}")


def _type_name(value: object) -> str:
    """`float`, `list`, ... for builtins; `numpy.datetime64`, `torch.Tensor` for a library's types."""
    t = type(value)
    package = t.__module__.partition(".")[0]
    return t.__name__ if package in ("builtins", "__main__") else f"{package}.{t.__name__}"


def scalar(key: str, value: Any, kind: str = "param") -> Scalar:
    """Convert one param or metric value to str, int, float or bool, or raise TypeError/ValueError."""
    t = type(value)
    if t is float or t is str or t is bool:
        if t is str:
            _check_text(key, value)
        return value
    if t is int:
        return _check_int(key, value)
    given, value = value, _numpy_scalar(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return _check_int(key, int(value))
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return _check_text(key, str(value))
    raise _not_allowed(key, given, kind)


def _check_int(key: str, value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"Value for key {key!r} is an int outside the 64-bit range; log it as a float or a str")
    return value


def _check_text(key: str, value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"Value for key {key!r} is not valid Unicode text ({exc.reason})") from None
    return value


def series_value(key: str, value: Any) -> float:
    """Convert one time-series value to float, or raise TypeError."""
    if type(value) is float:
        return value
    given, value = value, _numpy_scalar(value)
    if isinstance(value, numbers.Real):  # bool and ints included
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"Value for key {key!r} is too large to store as a float") from None
    raise _not_allowed(key, given, "series")


def params(values: object) -> dict[str, Scalar]:
    """Check and convert a params dict: nested dicts are flattened with dots ({'a': {'b': 1}} -> 'a.b')."""
    out: dict[str, Scalar] = {}
    _flatten(_mapping(values, "params"), "", out)
    return out


def _flatten(values: Mapping[Any, Any], prefix: str, out: dict[str, Scalar]) -> None:
    for key, value in values.items():
        check_key(key)
        full = check_key(prefix + key) if prefix else key
        if isinstance(value, Mapping):
            _flatten(value, full + ".", out)
        else:
            out[full] = scalar(full, value, "param")


def metrics(values: object) -> dict[str, Scalar]:
    """Check and convert a summary-metrics dict (flat; strings are allowed as in Vertex)."""
    out: dict[str, Scalar] = {}
    for key, value in _mapping(values, "metrics").items():
        check_key(key)
        if isinstance(value, Mapping):
            raise _not_allowed(key, value, "metric")
        out[key] = scalar(key, value, "metric")
    return out


def series(values: object) -> dict[str, float]:
    """Check and convert a time-series dict. The common case (str keys, float values) is a fast path."""
    if type(values) is dict:
        checked = _checked_keys
        for key, value in values.items():
            if type(value) is not float or key not in checked:
                break
        else:
            return values.copy()
    out: dict[str, float] = {}
    for key, value in _mapping(values, "metrics").items():
        out[check_key(key)] = series_value(key, value)
    return out


def _mapping(values: object, what: str) -> Mapping[Any, Any]:
    if isinstance(values, Mapping):
        return values
    raise TypeError(f"{what} must be a dict of key to value, got {type(values).__name__}")


def step(value: object) -> int:
    """Check an explicit time-series step: an int >= 0."""
    value = _numpy_scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"step must be an int, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value <= INT_MAX:
        raise ValueError(f"step must be between 0 and {INT_MAX}, got {value}")
    return value


def wall_time_ms(value: object) -> int:
    """Convert a wall time (protobuf Timestamp, datetime, pandas/numpy time, or epoch seconds) to epoch ms.

    TypeError for another type; ValueError for NaN, infinity, NaT or a time beyond the 64-bit ms range.
    """
    if hasattr(value, "seconds") and hasattr(value, "nanos"):  # google.protobuf Timestamp
        ms = int(value.seconds) * 1000 + int(value.nanos) // 1_000_000  # type: ignore[attr-defined]
    elif isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.astimezone()  # naive means local time, as datetime.timestamp() assumes
        ms = round(value.timestamp() * 1000)
    elif type(value).__name__ == "datetime64":
        if value != value:  # NaT
            raise ValueError("wall_time is NaT (not a time)")
        ms = int(value.astype("datetime64[ms]").astype("int64"))  # type: ignore[attr-defined]
    else:
        value = _numpy_scalar(value)
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(
                f"wall_time must be a protobuf Timestamp, a datetime or epoch seconds, got {type(value).__name__}"
            )
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError(f"wall_time must be a finite number of epoch seconds, got {seconds}")
        ms = round(seconds * 1000) if abs(seconds) < 9e15 else INT_MAX + 1
    if not INT_MIN <= ms <= INT_MAX:
        raise ValueError(f"wall_time {value!r} is too far from 1970 to store (64-bit milliseconds)")
    return ms


# JSON for params and metrics. NaN is written as null and +-inf as +-1e999, so the text stays valid JSON
# that plain sqlite3 (json_extract) can read; None is never a stored value, so null means NaN.


def encode(values: Mapping[str, Scalar]) -> str:
    """Serialise a flat dict of scalars to JSON text (non-finite floats as null / +-1e999)."""
    try:
        return json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        pass
    parts = []
    for key, value in values.items():
        if type(value) is float and not math.isfinite(value):
            token = "null" if value != value else ("1e999" if value > 0 else "-1e999")
        else:
            token = json.dumps(value, ensure_ascii=False)
        parts.append(json.dumps(key, ensure_ascii=False) + ":" + token)
    return "{" + ",".join(parts) + "}"


def decode(text: str | None) -> dict[str, Scalar]:
    """Parse JSON text written by `encode` (null -> NaN)."""
    if not text:
        return {}
    out: dict[str, Scalar] = json.loads(text)
    if "null" in text:
        for key, value in out.items():
            if value is None:
                out[key] = math.nan
    return out


try:  # 3x faster than json for the run table; optional, since json reads the same text
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but a platform may lack its wheel
    _fast_loads = json.loads


def decode_many(texts: Sequence[str | None]) -> list[dict[str, Scalar]]:
    """`decode` for many texts at once: one json.loads of a joined array (the run table's hot path; one call
    per run was two thirds of get_experiment_df's time on 10,000 runs)."""
    joined = "[" + ",".join(t or "{}" for t in texts) + "]"
    out: list[dict[str, Scalar]]
    try:
        out = _fast_loads(joined)
    except ValueError:  # orjson refuses 1e999 (our +-inf) and a few other legal texts: the exact parser takes them
        out = json.loads(joined)
    if "null" in joined:
        for values in out:
            for key, value in values.items():
                if value is None:
                    values[key] = math.nan
    return out
