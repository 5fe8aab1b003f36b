"""What may be logged: every accepted type round-trips; bad input raises before anything is stored."""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackbook as tb_api
from trackbook import values


@pytest.fixture
def run(tb):
    tb_api.init(experiment="e")
    return tb_api.start_run("r")


ROUND_TRIP = {
    "int": 3,
    "big_int": 2**62,
    "neg": -7,
    "float": 0.1,
    "bool_t": True,
    "bool_f": False,
    "str": "hello",
    "unicode": "学習率 🚀",
    "empty_str": "",
    "html": "<img src=x onerror=alert(1)>",
    "sql": "'); DROP TABLE context; --",
    "inf": math.inf,
    "ninf": -math.inf,
    "tiny": 5e-324,
}


def test_params_and_metrics_round_trip_every_type(run) -> None:
    run.log_params(ROUND_TRIP)
    run.log_metrics(ROUND_TRIP)
    for got in (run.get_params(), run.get_metrics()):
        assert got == ROUND_TRIP
        for key, value in ROUND_TRIP.items():
            assert type(got[key]) is type(value), key


def test_nan_is_stored_faithfully(run) -> None:
    run.log_params({"p": math.nan})
    run.log_metrics({"m": math.nan})
    run.log_time_series_metrics({"s": math.nan})
    run.log_time_series_metrics({"s": math.inf})
    assert math.isnan(run.get_params()["p"]) and math.isnan(run.get_metrics()["m"])
    ts = run.get_time_series_data_frame()
    assert math.isnan(ts.s.iloc[0]) and ts.s.iloc[1] == math.inf


def test_numpy_scalars_are_converted(run) -> None:
    run.log_params({"f32": np.float32(0.5), "i64": np.int64(4), "b": np.bool_(True), "s": np.str_("x"),
                    "zero_d": np.array(2.5)})
    got = run.get_params()
    assert got == {"f32": 0.5, "i64": 4, "b": True, "s": "x", "zero_d": 2.5}
    assert type(got["i64"]) is int and type(got["b"]) is bool and type(got["f32"]) is float
    run.log_time_series_metrics({"a": np.float32(1.5), "b": np.int64(2), "c": True})
    ts = run.get_time_series_data_frame()
    assert ts[["a", "b", "c"]].iloc[0].tolist() == [1.5, 2.0, 1.0]


def test_nested_params_are_flattened_with_dots(run) -> None:
    run.log_params({"optimizer": {"name": "adam", "betas": {"b1": 0.9}}, "lr": 1e-3})
    assert run.get_params() == {"optimizer.name": "adam", "optimizer.betas.b1": 0.9, "lr": 1e-3}


@pytest.mark.parametrize("bad, match", [
    ({"a": None}, r"Value for key 'a' is of type NoneType but must be one of float, int, str or bool"),
    ({"a": [1, 2]}, r"Value for key 'a' is of type list"),
    ({"a": (1,)}, r"Value for key 'a' is of type tuple"),
    ({"a": object()}, r"Value for key 'a' is of type object"),
    ({1: 2.0}, r"1 is of type int must be of type str"),
])
def test_unsupported_values_raise_type_error_naming_key_and_type(run, bad, match) -> None:
    for call in (run.log_params, run.log_metrics):
        with pytest.raises(TypeError, match=match):
            call(bad)


def test_dict_in_metrics_and_strings_in_series_raise(run) -> None:
    with pytest.raises(TypeError, match="Value for key 'm' is of type dict"):
        run.log_metrics({"m": {"a": 1}})
    with pytest.raises(TypeError, match=r"Value for key 's' is of type str but must be a number$"):
        run.log_time_series_metrics({"s": "high"})
    with pytest.raises(TypeError, match="params must be a dict"):
        run.log_params([("a", 1)])


def test_a_rejected_call_stores_nothing(run) -> None:
    run.log_params({"keep": 1})
    with pytest.raises(TypeError):
        run.log_params({"fine": 2, "bad": None})
    with pytest.raises(TypeError):
        run.log_time_series_metrics({"ok": 1.0, "bad": "x"})
    assert run.get_params() == {"keep": 1}
    assert run.get_time_series_data_frame().empty


@pytest.mark.parametrize("key, match", [
    ("", "non-empty"),
    ("a\nb", "control character"),
    ("x" * 257, "at most 256"),
])
def test_bad_keys_raise_value_error(run, key, match) -> None:
    with pytest.raises(ValueError, match=match):
        run.log_params({key: 1})


def test_ints_beyond_64_bits_and_bad_text_raise_value_error(run) -> None:
    with pytest.raises(ValueError, match="64-bit"):
        run.log_params({"huge": 2**64})
    with pytest.raises(ValueError, match="not valid Unicode"):
        run.log_params({"s": "\ud800"})
    with pytest.raises(ValueError, match="too large"):
        run.log_time_series_metrics({"s": 10**400})


@pytest.mark.parametrize("name, error, match", [
    ("", ValueError, "non-empty"),
    ("x" * 129, ValueError, "at most 128"),
    ("tab\there", ValueError, "control character"),
    (3, TypeError, "must be a str"),
])
def test_experiment_and_run_names(tb, name, error, match) -> None:
    with pytest.raises(error, match=match):
        tb_api.init(experiment=name)
    tb_api.init(experiment="Any printable text: 日本語, UPPER_case & spaces")
    with pytest.raises(error, match=match):
        tb_api.start_run(name)
    assert tb_api.start_run("x" * 128).name == "x" * 128


def test_steps_must_be_non_negative_ints(run) -> None:
    with pytest.raises(TypeError, match="step must be an int"):
        run.log_time_series_metrics({"a": 1.0}, step=1.5)
    with pytest.raises(ValueError, match="between 0 and"):
        run.log_time_series_metrics({"a": 1.0}, step=-1)
    run.log_time_series_metrics({"a": 1.0}, step=np.int64(3))
    assert run.get_time_series_data_frame().step.tolist() == [3]


def test_encode_keeps_json_valid_for_plain_sqlite() -> None:
    text = values.encode({"n": math.nan, "i": math.inf, "j": -math.inf, "s": "NaN"})
    assert text == '{"n":null,"i":1e999,"j":-1e999,"s":"NaN"}'
    back = values.decode(text)
    assert math.isnan(back["n"]) and back["i"] == math.inf and back["j"] == -math.inf and back["s"] == "NaN"


def test_the_run_table_reads_non_finite_values_faithfully(tb) -> None:
    tb.init(experiment="e")
    with tb.start_run("a") as run:
        run.log_params({"p": math.inf, "q": 1})
        run.log_metrics({"m": math.nan})
    with tb.start_run("b") as run:
        run.log_params({"p": 2.5, "q": -math.inf})
    df = tb.get_experiment_df()
    assert df["param.p"].tolist() == [math.inf, 2.5] and df["param.q"].tolist() == [1, -math.inf]
    assert math.isnan(df["metric.m"].iloc[0])


def test_type_errors_name_the_type_the_caller_passed(run) -> None:
    # numpy.datetime64 converts to a datetime.date internally; the message must not say "date".
    when = np.datetime64("2020-01-01")
    with pytest.raises(TypeError, match=r"^Value for key 's' is of type numpy\.datetime64 but must be a number$"):
        run.log_time_series_metrics({"s": when})
    for call in (run.log_params, run.log_metrics):
        with pytest.raises(TypeError, match=r"^Value for key 'd' is of type numpy\.datetime64 but must be one of "
                                            r"float, int, str or bool"):
            call({"d": when})
