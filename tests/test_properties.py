"""Property-based: whatever is logged either reads back exactly (after the documented conversions) or is
refused with TypeError/ValueError, and a refused call changes nothing already stored."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackbook
from support import reset_session

# -- what the documentation promises -------------------------------------------------------------------------

BAD_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def key_ok(key: Any) -> bool:
    return (
        isinstance(key, str)
        and 0 < len(key) <= 256
        and not any(unicodedata.category(c) in BAD_CATEGORIES for c in key)
    )


def name_ok(name: Any) -> bool:
    return (
        isinstance(name, str)
        and name.strip() != ""
        and len(name) <= 128
        and not any(unicodedata.category(c) in BAD_CATEGORIES for c in name)
    )


def convert(value: Any) -> Any:
    """The documented conversion of an accepted scalar, or raise LookupError when it is not accepted."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise LookupError("int outside 64 bits")
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LookupError("not valid unicode") from None
        return value
    raise LookupError(type(value).__name__)


def flatten_params(params: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if not key_ok(key) or not key_ok(prefix + key):
            raise LookupError("bad key")
        if isinstance(value, Mapping):
            out.update(flatten_params(value, prefix + key + "."))
        else:
            out[prefix + key] = convert(value)
    return out


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if type(x) is not type(y) or x != y:
            return False
    return True


# -- strategies ----------------------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.just(""),
    st.text(min_size=250, max_size=300),
    st.sampled_from(["a\nb", "tab\t", "\x00", "\ud800", "nul\x00byte", "<b>x</b>", "'; DROP TABLE context; --"]),
)
keys = st.one_of(texts, st.integers(), st.none(), st.tuples(st.integers()))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.int64, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    st.builds(np.bool_, st.booleans()),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers()),
    st.builds(object),
)
values = st.recursive(scalars, lambda inner: st.dictionaries(texts, inner, max_size=3), max_leaves=6)
param_dicts = st.dictionaries(keys, values, max_size=4)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def run(tmp_path):
    reset_session()
    trackbook.init(store=tmp_path / "prop.db", experiment="props")
    run = trackbook.start_run("r")
    yield run
    reset_session()


@SETTINGS
@given(params=param_dicts)
def test_log_params_round_trips_or_refuses_without_change(run, params) -> None:
    before = run.get_params()
    try:
        expected = flatten_params(params)
    except LookupError:
        expected = None
    try:
        run.log_params(params)
    except (TypeError, ValueError):
        assert expected is None, f"refused valid params {params!r}"
        assert same(run.get_params(), before), "a refused call changed what was stored"
        return
    assert expected is not None, f"accepted invalid params {params!r}"
    assert same(run.get_params(), {**before, **expected})


@SETTINGS
@given(metrics=st.dictionaries(keys, scalars, max_size=4))
def test_log_metrics_round_trips_or_refuses_without_change(run, metrics) -> None:
    before = run.get_metrics()
    try:
        expected = {}
        for k, v in metrics.items():
            if not key_ok(k):
                raise LookupError("bad key")
            expected[k] = convert(v)
    except LookupError:
        expected = None
    try:
        run.log_metrics(metrics)
    except (TypeError, ValueError):
        assert expected is None, f"refused valid metrics {metrics!r}"
        assert same(run.get_metrics(), before)
        return
    assert expected is not None, f"accepted invalid metrics {metrics!r}"
    assert same(run.get_metrics(), {**before, **expected})


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.booleans(),
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.int64, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
)


@SETTINGS
@given(series=st.dictionaries(keys, st.one_of(numbers, scalars), min_size=1, max_size=3))
def test_series_points_round_trip_as_floats_or_refuse(run, series) -> None:
    before = trackbook.history(metrics=None)
    try:
        expected = {}
        for k, v in series.items():
            if not key_ok(k):
                raise LookupError("bad key")
            v = v.item() if isinstance(v, np.generic) else v
            if not isinstance(v, (bool, int, float)):
                raise LookupError("not a number")
            expected[k] = float(v)
    except LookupError:
        expected = None
    step = len(before) + 1
    try:
        run.log_time_series_metrics(series, step=step)
    except (TypeError, ValueError):
        assert expected is None, f"refused valid series {series!r}"
        assert len(trackbook.history()) == len(before)
        return
    assert expected is not None, f"accepted invalid series {series!r}"
    after = trackbook.history()
    got = after[after.step == step]
    assert len(after) == len(before) + len(expected)
    for key, value in expected.items():
        (stored,) = got[got.metric == key].value.tolist()
        assert stored == value or (math.isnan(stored) and math.isnan(value))


@SETTINGS
@given(name=st.one_of(texts, st.integers(), st.none()))
def test_run_and_experiment_names(run, name) -> None:
    runs_before = [r.name for r in trackbook.ExperimentRun.list()]
    try:
        created = trackbook.ExperimentRun.create(name, experiment="props")
    except (TypeError, ValueError, trackbook.AlreadyExists) as exc:
        if isinstance(exc, trackbook.AlreadyExists):
            assert name in runs_before
        else:
            assert not name_ok(name), f"refused valid name {name!r}"
        assert [r.name for r in trackbook.ExperimentRun.list()] == runs_before
        return
    assert name_ok(name), f"accepted invalid name {name!r}"
    assert trackbook.ExperimentRun(name, "props") == created and created.name == name
    created.end_run()
