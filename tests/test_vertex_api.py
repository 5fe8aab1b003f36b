"""Vertex AI SDK semantics: names, errors and behaviour that code written for aiplatform relies on."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import trackbook as vertex_ai
from trackbook import exceptions


def test_start_run_needs_an_experiment(tb) -> None:
    with pytest.raises(ValueError, match=r"^No experiment set for this run\. Make sure to call aiplatform\.init"):
        vertex_ai.start_run("r")


@pytest.mark.parametrize("call", [
    lambda: vertex_ai.log_params({"a": 1}),
    lambda: vertex_ai.log_metrics({"a": 1}),
    lambda: vertex_ai.log_time_series_metrics({"a": 1.0}),
    lambda: vertex_ai.end_run(),
])
def test_log_calls_without_experiment_or_run_raise_vertex_errors(tb, call) -> None:
    with pytest.raises(ValueError, match=r"^No experiment set\. Make sure to call aiplatform\.init\(experiment="):
        call()
    vertex_ai.init(experiment="e")
    with pytest.raises(ValueError, match=r"^No run set\. Make sure to call aiplatform\.start_run\('my-run'\)"):
        call()


def test_start_run_existing_raises_already_exists_and_resume_missing_raises_not_found(tb) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("r")
    vertex_ai.end_run()
    with pytest.raises(exceptions.AlreadyExists, match="already exists"):
        vertex_ai.start_run("r")
    with pytest.raises(exceptions.NotFound):
        vertex_ai.start_run("missing", resume=True)
    assert issubclass(exceptions.NotFound, Exception) and vertex_ai.NotFound is exceptions.NotFound


def test_resume_continues_steps_and_state(tb) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("r")
    for v in (1.0, 2.0, 3.0):
        vertex_ai.log_time_series_metrics({"loss": v})
    vertex_ai.end_run(vertex_ai.gapic.Execution.State.FAILED)
    assert vertex_ai.ExperimentRun("r", "e").get_state() == "FAILED"
    run = vertex_ai.start_run("r", resume=True)
    assert run.get_state() == "RUNNING"
    vertex_ai.log_time_series_metrics({"loss": 4.0})
    vertex_ai.end_run()
    ts = run.get_time_series_data_frame()
    assert list(ts.step) == [1, 2, 3, 4] and list(ts.loss) == [1.0, 2.0, 3.0, 4.0]
    assert run.get_state() == "COMPLETE" and run.state is vertex_ai.ExecutionState.COMPLETE


def test_start_run_ends_the_active_run_complete(tb) -> None:
    vertex_ai.init(experiment="e")
    first = vertex_ai.start_run("a")
    vertex_ai.start_run("b")
    assert first.get_state() == "COMPLETE"
    assert vertex_ai.get_active_run().name == "b"


def test_init_experiment_drops_the_active_run_without_ending_it(tb) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("a")
    vertex_ai.init(experiment="other")
    assert vertex_ai.get_active_run() is None
    assert run.get_state() == "RUNNING"  # Vertex leaves it running; this process still owns it
    with pytest.raises(ValueError, match="No run set"):
        vertex_ai.log_params({"x": 1})


def test_init_ignores_cloud_arguments_and_checks_description(tb) -> None:
    vertex_ai.init(project="p", location="us-central1", staging_bucket="gs://b", credentials=object(),
                   encryption_spec_key_name="k", network="n", service_account="s", api_endpoint="x",
                   api_key="k", api_transport="rest", request_metadata=[("a", "b")])
    with pytest.raises(ValueError, match="Experiment needs to be set in `init`"):
        vertex_ai.init(experiment_description="d")
    vertex_ai.init(experiment="e", experiment_description="first")
    assert vertex_ai.Experiment("e").description == "first"
    vertex_ai.init(experiment="e", experiment_description="second")
    assert vertex_ai.Experiment("e").description == "second"


def test_auto_steps_start_at_one_and_explicit_steps_follow_vertex_rules(tb) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("r")
    vertex_ai.log_time_series_metrics({"a": 1.0})
    vertex_ai.log_time_series_metrics({"a": 2.0})
    vertex_ai.log_time_series_metrics({"a": 10.0}, step=10)
    vertex_ai.log_time_series_metrics({"a": 3.0})  # the remembered auto step goes on: 3
    wall = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    vertex_ai.log_time_series_metrics({"b": 7.0}, step=2, wall_time=wall)
    vertex_ai.end_run()
    ts = run.get_time_series_data_frame()
    assert list(ts.step) == [1, 2, 3, 10]
    assert ts.set_index("step").a.to_dict() == {1: 1.0, 2: 2.0, 3: 3.0, 10: 10.0}
    b = vertex_ai.history(metrics="b")
    assert b.wall_time.iloc[0] == pd.Timestamp(wall)


def test_first_auto_step_after_explicit_steps_continues_after_them(tb) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("r")
    vertex_ai.log_time_series_metrics({"a": 1.0}, step=5)
    vertex_ai.log_time_series_metrics({"a": 2.0})
    vertex_ai.end_run()
    assert list(run.get_time_series_data_frame().step) == [5, 6]


def test_relogging_a_step_overwrites(tb) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("r")
    vertex_ai.log_time_series_metrics({"a": 1.0}, step=1)
    vertex_ai.log_time_series_metrics({"a": 9.0}, step=1)
    vertex_ai.flush()
    vertex_ai.log_time_series_metrics({"a": 8.0}, step=1)
    vertex_ai.end_run()
    ts = run.get_time_series_data_frame()
    assert list(ts.a) == [8.0]
    assert vertex_ai.get_experiment_df()["time_series_metric.a"].tolist() == [8.0]


def test_experiment_df_layout_and_order(tb) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("run-1")
    vertex_ai.log_params({"sdk-param-test-1": 0.1, "sdk-param-test-2": 0.2})
    vertex_ai.log_metrics({"sdk-metric-test-1": 0.8, "sdk-metric-test-2": 100})
    for i in range(5):
        vertex_ai.log_time_series_metrics({"accuracy": float(i)})
    vertex_ai.start_run("run-2")
    vertex_ai.log_params({"sdk-param-test-1": 0.2, "sdk-param-test-2": 0.4})
    vertex_ai.log_metrics({"sdk-metric-test-1": 1.6, "sdk-metric-test-2": 200})
    vertex_ai.end_run()
    df = vertex_ai.get_experiment_df()
    assert list(df.columns) == [
        "experiment_name", "run_name", "run_type", "state",
        "param.sdk-param-test-1", "param.sdk-param-test-2",
        "metric.sdk-metric-test-1", "metric.sdk-metric-test-2",
        "time_series_metric.accuracy",
    ]
    assert isinstance(df.index, pd.RangeIndex)
    assert df["time_series_metric.accuracy"].iloc[0] == 4.0
    assert pd.isna(df["time_series_metric.accuracy"].iloc[1])
    assert df["metric.sdk-metric-test-2"].tolist() == [100, 200]
    no_ts = vertex_ai.get_experiment_df("e", include_time_series=False)
    assert not any(c.startswith("time_series_metric.") for c in no_ts.columns)


def test_experiment_df_of_empty_and_missing_experiments(tb) -> None:
    vertex_ai.init(experiment="empty")
    df = vertex_ai.get_experiment_df()
    assert df.empty and list(df.columns) == []
    with pytest.raises(exceptions.NotFound):
        vertex_ai.get_experiment_df("missing")


def test_experiment_class(tb) -> None:
    exp = vertex_ai.Experiment.create("a", description="desc")
    with pytest.raises(exceptions.AlreadyExists):
        vertex_ai.Experiment.create("a")
    assert vertex_ai.Experiment("a") == exp and vertex_ai.Experiment("a").description == "desc"
    assert vertex_ai.Experiment.get("nope") is None
    with pytest.raises(exceptions.NotFound):
        vertex_ai.Experiment("nope")
    b = vertex_ai.Experiment.get_or_create("b", description="x")
    assert vertex_ai.Experiment.get_or_create("b") == b
    assert [e.name for e in vertex_ai.Experiment.list()] == ["a", "b"]
    vertex_ai.ExperimentRun.create("r", experiment="a").end_run()
    assert len(exp.get_data_frame()) == 1
    exp.delete()
    assert vertex_ai.Experiment.get("a") is None
    assert [e.name for e in vertex_ai.Experiment.list()] == ["b"]


def test_experiment_run_class_and_context_manager(tb) -> None:
    vertex_ai.init(experiment="e")
    with vertex_ai.ExperimentRun.create("ok", experiment="e") as run:
        run.log_params({"lr": 0.1, "nested": {"depth": 3, "name": "x"}})
        run.log_metrics({"acc": 0.9, "note": "fine"})
        run.log_time_series_metrics({"loss": 0.5})
    assert run.get_state() == "COMPLETE"
    assert run.get_params() == {"lr": 0.1, "nested.depth": 3, "nested.name": "x"}
    assert run.get_metrics() == {"acc": 0.9, "note": "fine"}
    with pytest.raises(RuntimeError), vertex_ai.ExperimentRun.create("bad", experiment="e") as bad:
        bad.log_metrics({"acc": 0.1})
        raise RuntimeError("boom")
    assert bad.get_state() == "FAILED" and bad.get_metrics() == {"acc": 0.1}
    assert vertex_ai.ExperimentRun.get("nope", experiment="e") is None
    assert [r.name for r in vertex_ai.ExperimentRun.list(experiment="e")] == ["ok", "bad"]
    assert run.resource_id == "e-ok" and run.name == "ok"
    run.update_state(vertex_ai.gapic.Execution.State.CANCELLED)
    assert run.get_state() == "CANCELLED"
    bad.delete()
    assert vertex_ai.ExperimentRun.get("bad", experiment="e") is None
    with pytest.raises(exceptions.NotFound):
        vertex_ai.ExperimentRun("bad", "e")


def test_classification_metrics_round_trip_and_checks(tb) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("r")
    vertex_ai.log_classification_metrics(
        labels=["cat", "dog"], matrix=[[9, 1], [2, 8]], fpr=[0.0, 0.1, 1.0], tpr=[0.0, 0.8, 1.0],
        threshold=[1.0, 0.5, 0.0], display_name="cm",
    )
    with pytest.raises(ValueError, match="labels and matrix must be set together"):
        vertex_ai.log_classification_metrics(labels=["a"])
    with pytest.raises(ValueError, match="fpr, tpr, and thresholds must be set together"):
        vertex_ai.log_classification_metrics(fpr=[0.1])
    with pytest.raises(ValueError, match="Length of labels and matrix"):
        vertex_ai.log_classification_metrics(labels=["a", "b"], matrix=[[1, 2]])
    (cm,) = vertex_ai.get_active_run().get_classification_metrics()
    assert cm["display_name"] == "cm" and cm["labels"] == ["cat", "dog"] and cm["matrix"] == [[9, 1], [2, 8]]
    assert cm["fpr"] == [0.0, 0.1, 1.0] and cm["tpr"] == [0.0, 0.8, 1.0] and cm["threshold"] == [1.0, 0.5, 0.0]


def test_tensorboard_is_a_free_local_handle(tb) -> None:
    board = vertex_ai.Tensorboard.create(display_name="tb")
    vertex_ai.init(experiment="e", experiment_tensorboard=board)
    assert vertex_ai.Experiment("e").backing_tensorboard_resource_name == board.resource_name
    run = vertex_ai.start_run("r", tensorboard=board)
    vertex_ai.log_time_series_metrics({"x": 1.0})
    vertex_ai.end_run()
    assert list(run.get_time_series_data_frame().x) == [1.0]


def test_state_enum_has_vertex_numbers() -> None:
    state = vertex_ai.gapic.Execution.State
    assert (state.NEW, state.RUNNING, state.COMPLETE, state.FAILED, state.CACHED, state.CANCELLED) == (1, 2, 3, 4, 5, 6)
    assert vertex_ai.Execution.State is state
    with pytest.raises(ValueError, match="not a run state"):
        state.parse("DONE")


def test_history_is_one_long_frame(tb) -> None:
    vertex_ai.init(experiment="e1")
    for name in ("a", "b"):
        vertex_ai.start_run(name)
        for step in range(1, 4):
            vertex_ai.log_time_series_metrics({"loss": 1.0 / step, "acc": step / 10})
    vertex_ai.init(experiment="e2")
    vertex_ai.start_run("c")
    vertex_ai.log_time_series_metrics({"loss": float("nan")})
    vertex_ai.end_run()
    h = vertex_ai.history(["e1", "e2"])
    assert list(h.columns) == ["experiment_name", "run_name", "metric", "step", "wall_time", "value"]
    assert len(h) == 2 * 3 * 2 + 1
    assert h[h.run_name == "c"].value.isna().all()
    loss_b = h[(h.run_name == "b") & (h.metric == "loss")]
    assert loss_b.step.tolist() == [1, 2, 3] and loss_b.value.tolist() == [1.0, 0.5, 1 / 3]
    assert set(vertex_ai.history(runs=["c"]).run_name) == {"c"}  # current experiment: e2
    assert set(vertex_ai.history("e1", metrics=["acc"]).metric) == {"acc"}
    with pytest.raises(exceptions.NotFound, match="experiments: 'e1', 'e2'"):
        vertex_ai.history("nope")


def test_init_with_a_bad_store_changes_nothing(tb, tmp_path) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("r")
    with pytest.raises(vertex_ai.StoreError, match="is a directory"):
        vertex_ai.init(store=tmp_path)
    assert vertex_ai.get_active_run() == run and vertex_ai.get_current_experiment().name == "e"
    vertex_ai.log_metrics({"still": 1})
    vertex_ai.end_run()
    assert run.get_metrics() == {"still": 1}
