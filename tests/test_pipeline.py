"""Local pipelines: components, PipelineJob, and pipeline runs compared beside experiment runs."""

from __future__ import annotations

import sqlite3
import subprocess
import textwrap
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

import trackbook as vertex_ai
from support import PYTHON, python_env
from trackbook import Input, Output, component, exceptions
from trackbook.metadata.schema.system.artifact_schema import Dataset, Metrics, Model

EXPERIMENT_NAME = "xgb-experiment"

# -- a small XGBoost-like pipeline: numpy stand-ins with the seed's parameters -------------------------------


@component
def load_data(train_uri: str, label_uri: str) -> Dataset:
    """The training data as an artifact (its file is sized and hashed)."""
    return Dataset(uri=train_uri, display_name="train-data", metadata={"labels": label_uri})


@component
def train_model(
    data: Input[Dataset],
    max_depth: int,
    learning_rate: float,
    boost_rounds: int,
    model: Output[Model],
    metrics: Output[Metrics],
) -> float:
    x = pd.read_csv(data.uri).to_numpy()
    y = x @ np.array([1.0, -2.0, 0.5])
    w = np.zeros(3)
    for _ in range(boost_rounds):
        w -= learning_rate * 2 * x.T @ (x @ w - y) / len(y) / max_depth
    mse = float(np.mean((x @ w - y) ** 2))
    np.save(model.path, w)
    metrics.log_metric("mse", mse)
    metrics.log_metric("accuracy", 1 / (1 + mse))
    return mse


def xgb_pipeline(train_uri: str, label_uri: str, model_uri: str, max_depth: int = 3, learning_rate: float = 0.1,
                 boost_rounds: int = 10) -> None:
    data = load_data(train_uri, label_uri)
    train_model(data, max_depth, learning_rate, boost_rounds)


@pytest.fixture
def files(tb, tmp_path):
    rng = np.random.default_rng(0)
    train = tmp_path / "train.csv"
    pd.DataFrame(rng.normal(size=(64, 3)), columns=["a", "b", "c"]).to_csv(train, index=False)
    labels = tmp_path / "labels.csv"
    labels.write_text("y\n1\n")
    return {"train": str(train), "labels": str(labels), "root": str(tmp_path / "pipeline-root")}


def test_seed_pipeline_loop_runs_with_a_local_template(tb, files) -> None:
    # --- the seed's loop, verbatim, with a local pipeline function as the template ---
    PIPELINE_TEMPLATE_FILE = xgb_pipeline
    PIPELINE_URI, TRAIN_URI, LABEL_URI, MODEL_URI = files["root"], files["train"], files["labels"], "model"
    runs = [ {"max_depth": 4, "learning_rate": 0.2, "boost_rounds": 10}, {"max_depth": 5, "learning_rate": 0.3, "boost_rounds": 20}, {"max_depth": 3, "learning_rate": 0.1, "boost_rounds": 30}, {"max_depth": 6, "learning_rate": 0.5, "boost_rounds": 40}, {"max_depth": 5, "learning_rate": 0.4, "boost_rounds": 30}, ]  # noqa: E501
    for i, run in enumerate(runs):
        job = vertex_ai.PipelineJob( display_name=f"{EXPERIMENT_NAME}-pipeline-run-{i}", template_path=PIPELINE_TEMPLATE_FILE, pipeline_root=PIPELINE_URI, parameter_values={ "train_uri": TRAIN_URI, "label_uri": LABEL_URI, "model_uri": MODEL_URI, **run, }, )  # noqa: E501
        job.submit(experiment=EXPERIMENT_NAME)
    # --- end of the seed ---
    # an ordinary run beside the pipeline runs
    vertex_ai.init(experiment=EXPERIMENT_NAME)
    with vertex_ai.start_run("manual"):
        vertex_ai.log_params({"max_depth": 2})
        vertex_ai.log_metrics({"accuracy": 0.1})
    df = vertex_ai.get_experiment_df(EXPERIMENT_NAME)
    pipelines = df[df.run_type == "system.PipelineRun"].reset_index(drop=True)
    assert len(pipelines) == 5 and (pipelines.state == "COMPLETE").all()
    assert pipelines.run_name.is_unique and all(n.startswith("xgb-pipeline-") for n in pipelines.run_name)
    assert list(pipelines["param.max_depth"]) == [4, 5, 3, 6, 5]
    assert list(pipelines["param.learning_rate"]) == [0.2, 0.3, 0.1, 0.5, 0.4]
    assert list(pipelines["param.train_uri"]) == [files["train"]] * 5
    assert pipelines["metric.mse"].notna().all()
    assert np.allclose(pipelines["metric.accuracy"], 1 / (1 + pipelines["metric.mse"]))
    manual = df[df.run_name == "manual"].iloc[0]
    assert manual.run_type == "system.ExperimentRun" and manual["param.max_depth"] == 2
    assert manual["metric.accuracy"] == 0.1
    assert list(df.columns[:4]) == ["experiment_name", "run_name", "run_type", "state"]
    # the last job, looked up again
    again = vertex_ai.PipelineJob.get(job.job_id)
    assert again.display_name == f"{EXPERIMENT_NAME}-pipeline-run-4" and again.has_failed is False
    assert again.parameter_values["boost_rounds"] == 30 and again.state is vertex_ai.pipeline.PipelineState(4)
    assert again.get_associated_experiment() == vertex_ai.Experiment(EXPERIMENT_NAME)
    assert [j.job_id for j in vertex_ai.PipelineJob.list()] == list(pipelines.run_name)


def test_get_pipeline_df_lists_the_runs_of_one_pipeline(tb, files) -> None:
    for depth in (4, 5):
        vertex_ai.PipelineJob(display_name=f"run-{depth}", template_path=xgb_pipeline, pipeline_root=files["root"],
                              parameter_values={"train_uri": files["train"], "label_uri": files["labels"],
                                                "model_uri": "model", "max_depth": depth}).submit(experiment="pdf")
    df = vertex_ai.get_pipeline_df("xgb-pipeline")
    assert list(df.columns[:2]) == ["pipeline_name", "run_name"] and len(df) == 2
    assert list(df["param.max_depth"]) == [4, 5] and df["metric.mse"].notna().all()
    assert (df.pipeline_name == "xgb-pipeline").all() and all(n.startswith("xgb-pipeline-") for n in df.run_name)
    assert vertex_ai.get_pipeline_df("another-pipeline").empty
    with pytest.raises(TypeError, match="pipeline must be a str"):
        vertex_ai.get_pipeline_df(None)  # type: ignore[arg-type]


def test_a_job_records_the_vertex_graph(tb, files) -> None:
    job = vertex_ai.PipelineJob(
        "one", template=xgb_pipeline, job_id="my-job", pipeline_root=files["root"],
        parameter_values={"train_uri": files["train"], "label_uri": files["labels"], "model_uri": "m"},
    )
    assert job.state is vertex_ai.pipeline.PipelineState.PIPELINE_STATE_UNSPECIFIED
    job.run()
    assert job.done() and job.state.name == "PIPELINE_STATE_SUCCEEDED"
    context = vertex_ai.Context("my-job")
    assert context.schema_title == "system.PipelineRun" and context.state == "COMPLETE"
    run_exec, load, train = job.get_executions()
    assert run_exec.schema_title == "system.Run" and run_exec.state is vertex_ai.ExecutionState.COMPLETE
    assert run_exec.metadata == {"input:train_uri": files["train"], "input:label_uri": files["labels"],
                                 "input:model_uri": "m", "input:max_depth": 3, "input:learning_rate": 0.1,
                                 "input:boost_rounds": 10}
    assert (load.display_name, train.display_name) == ("load-data", "train-model")
    assert load.metadata == {"input:train_uri": files["train"], "input:label_uri": files["labels"]}
    assert train.metadata["input:max_depth"] == 3 and "output:Output" in train.metadata
    (data,) = load.get_output_artifacts()
    assert train.get_input_artifacts() == [data] and data.size and data.content_hash
    model, metrics = train.get_output_artifacts()
    assert model.schema_title == "system.Model" and metrics.schema_title == "system.Metrics"
    assert Path(model.uri) == Path(files["root"]) / "my-job" / "train-model" / "model"
    assert Path(model.uri + ".npy").exists() or Path(model.uri).exists()
    assert set(metrics.metadata) == {"mse", "accuracy"}
    assert set(context.get_artifacts()) == {data, model, metrics}  # all attributed to the pipeline run
    events = {(e.type, e.path) for e in context.query_lineage_subgraph().events}
    assert {("INPUT", "data"), ("OUTPUT", "model"), ("OUTPUT", "metrics"), ("OUTPUT", "Output")} <= events
    # the lineage of the job and of its model
    assert {"train-data", "model", "metrics"} <= set(vertex_ai.lineage(job).nodes.display_name)
    producers = vertex_ai.lineage(model, "upstream", max_hops=1).executions
    assert list(producers.display_name) == ["train-model"]


def test_failing_step_fails_the_job_and_keeps_its_inputs(tb, files) -> None:
    @component
    def explode(data: Dataset) -> None:
        raise RuntimeError("out of memory")

    def bad(train_uri: str) -> None:
        explode(load_data(train_uri, "l"))

    job = vertex_ai.PipelineJob("bad", template=bad, parameter_values={"train_uri": files["train"]})
    with pytest.warns(vertex_ai.TrackbookWarning, match="out of memory"):
        job.submit(experiment="e")
    assert job.has_failed and isinstance(job.error, RuntimeError)
    run_exec, load, step = job.get_executions()
    assert run_exec.state is step.state is vertex_ai.ExecutionState.FAILED
    assert load.state is vertex_ai.ExecutionState.COMPLETE
    assert [a.display_name for a in step.get_input_artifacts()] == ["train-data"]
    assert vertex_ai.get_experiment_df("e").state.tolist() == ["FAILED"]
    with pytest.raises(RuntimeError, match="Job failed with:\nRuntimeError: out of memory") as info:
        vertex_ai.PipelineJob("bad", template=bad, parameter_values={"train_uri": files["train"]}).run()
    assert isinstance(info.value.__cause__, RuntimeError)


def test_an_interrupted_job_is_cancelled_not_complete(tb, files) -> None:
    @component
    def interrupted(data: Dataset) -> None:
        raise KeyboardInterrupt

    def pipeline(train_uri: str) -> None:
        interrupted(load_data(train_uri, "l"))

    job = vertex_ai.PipelineJob("stop", template=pipeline, parameter_values={"train_uri": files["train"]})
    with pytest.raises(KeyboardInterrupt):
        job.submit(experiment="e")
    assert job.state.name == "PIPELINE_STATE_CANCELLED"
    assert vertex_ai.get_experiment_df("e").state.tolist() == ["CANCELLED"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"parameter_values": {"train_uri": "t", "label_uri": "l", "model_uri": "m", "depth": 3}}, ValueError,
         "'depth', which the pipeline 'xgb-pipeline' does not take"),
        ({"parameter_values": {"train_uri": "t"}}, ValueError, "needs parameter_values for label_uri, model_uri"),
        ({"parameter_values": {"train_uri": object(), "label_uri": "l", "model_uri": "m"}}, TypeError,
         r"parameter_values\['train_uri'\] is of type object"),
        ({"job_id": "Bad_ID"}, ValueError, "job_id 'Bad_ID' is not valid"),
        ({"template": "pipeline.json"}, ValueError, "compiled pipeline"),
        ({"pipeline_root": "gs://bucket/root"}, ValueError, "remote"),
        ({"labels": {"a": 1}}, TypeError, "labels must be a dict of str to str"),
    ],
)
def test_bad_job_input_raises_before_anything_is_written(tb, store_path, kwargs, error, message) -> None:
    args = {"parameter_values": {"train_uri": "t", "label_uri": "l", "model_uri": "m"}, "template": xgb_pipeline}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        vertex_ai.PipelineJob("x", **args)
    assert sqlite3.connect(store_path).execute("SELECT COUNT(*) FROM context").fetchone()[0] == 0


def test_job_ids_are_unique_and_jobs_run_once(tb, files) -> None:
    def noop(x: int = 1) -> None:
        pass

    first, second = vertex_ai.PipelineJob("a", template=noop), vertex_ai.PipelineJob("b", template=noop)
    first.submit()
    second.submit()
    assert first.job_id != second.job_id and second.job_id.startswith(first.job_id.rsplit("-", 1)[0])
    with pytest.raises(RuntimeError, match="has run already"):
        first.submit()
    vertex_ai.PipelineJob("c", template=noop, job_id="fixed-id").submit()
    with pytest.raises(exceptions.AlreadyExists):
        vertex_ai.PipelineJob("d", template=noop, job_id="fixed-id").submit()
    with pytest.raises(exceptions.NotFound):
        vertex_ai.PipelineJob.get("no-such-job")


def test_outputs_as_named_tuples_dicts_and_returned_artifacts(tb, tmp_path) -> None:
    class Split(NamedTuple):
        train: Dataset
        rows: int

    @component
    def split(n: int) -> Split:
        return Split(Dataset(uri=str(tmp_path / "t.csv"), display_name="train"), n // 2)

    @component
    def summarize(train: Dataset, rows: int) -> dict:
        return {"report": Metrics(accuracy=0.9, display_name="report"), "note": f"{rows} rows"}

    def flow(n: int = 10) -> dict:
        parts = split(n)
        assert isinstance(parts, Split) and isinstance(parts.train, vertex_ai.Artifact) and parts.rows == 5
        return summarize(parts.train, parts.rows)

    job = vertex_ai.PipelineJob("flow", template=flow)
    job.run(experiment="e")  # unlike Vertex, run() may file the job under an experiment too
    _, split_exec, summary_exec = job.get_executions()
    assert split_exec.metadata == {"input:n": 10, "output:rows": 5}
    assert summary_exec.metadata == {"input:rows": 5, "output:note": "5 rows"}
    assert [a.display_name for a in summary_exec.get_output_artifacts()] == ["report"]
    row = vertex_ai.get_experiment_df("e").iloc[0]
    assert row["metric.accuracy"] == 0.9 and row["param.n"] == 10


def test_a_component_outside_a_pipeline_records_an_execution_of_the_run(tb) -> None:
    @component(name="prep")
    def prepare(values: list, scale: float = 2.0, table: object = None) -> list:
        return [v * scale for v in values]

    vertex_ai.init(experiment="e")
    with vertex_ai.start_run("r") as run:
        assert prepare([1, 2], table=pd.DataFrame({"a": [1]})) == [2.0, 4.0]
    (ex,) = run.get_executions()
    assert ex.display_name == "prep" and ex.state is vertex_ai.ExecutionState.COMPLETE
    assert ex.metadata == {"input:values": [1, 2], "input:scale": 2.0,
                           "input:table": "<pandas.DataFrame>", "output:Output": [2.0, 4.0]}
    with pytest.raises(TypeError, match="prep: missing argument"):
        prepare()
    with pytest.raises(TypeError, match="'model' is an Output"):
        train_model(None, 1, 0.1, 1, model=None)


def test_logging_a_job_to_a_run(tb, files) -> None:
    job = vertex_ai.PipelineJob(
        "logged", template=xgb_pipeline,
        parameter_values={"train_uri": files["train"], "label_uri": files["labels"], "model_uri": "m"},
    )
    vertex_ai.init(experiment="e")
    with pytest.raises(ValueError, match="No run set"):
        vertex_ai.log(pipeline_job=job)
    job.run()
    with vertex_ai.start_run("parent") as run:
        vertex_ai.log(pipeline_job=job)
    (logged,) = run.get_logged_pipeline_jobs()
    assert logged.job_id == job.job_id and logged.parameter_values["max_depth"] == 3
    assert vertex_ai.Context(job.job_id).parent_contexts == [vertex_ai.Context("e-parent").resource_name]
    assert {"train-model", "model"} <= set(vertex_ai.lineage(run).nodes.display_name)
    assert list(vertex_ai.get_experiment_df("e").run_name) == ["parent"]  # a child of the run, not its own row


def test_a_job_whose_process_dies_reads_crashed(tb, store_path, tmp_path) -> None:
    script = textwrap.dedent(f"""
        import os
        import trackbook as vertex_ai
        vertex_ai.init(store={str(store_path)!r})

        @vertex_ai.component
        def die() -> None:
            os._exit(3)

        def flow() -> None:
            die()

        vertex_ai.PipelineJob("doomed", template=flow, job_id="doomed-job").submit(experiment="e")
    """)
    done = subprocess.run([PYTHON, "-c", script], env=python_env(), capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr.decode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert vertex_ai.get_experiment_df("e").state.tolist() == ["CRASHED"]
    assert vertex_ai.PipelineJob.get("doomed-job").has_failed


def test_deleting_a_job_removes_its_row_but_not_its_graph(tb, files) -> None:
    def noop() -> None:
        load_data(files["train"], "l")

    job = vertex_ai.PipelineJob("x", template=noop)
    job.submit(experiment="e")
    artifacts = vertex_ai.Artifact.list()
    job.delete()
    assert vertex_ai.get_experiment_df("e").empty
    assert vertex_ai.Artifact.list() == artifacts


def test_jobs_from_several_processes_share_one_store(tb, store_path) -> None:
    script = textwrap.dedent("""
        import sys
        import trackbook as vertex_ai
        from trackbook.metadata.schema.system.artifact_schema import Dataset, Metrics

        vertex_ai.init(store=sys.argv[1])

        @vertex_ai.component
        def make(n: int) -> Dataset:
            return Dataset(display_name=f"data-{n}", metadata={"n": n})

        @vertex_ai.component
        def score(data: Dataset, n: int) -> Metrics:
            return Metrics(accuracy=n / 10, display_name=f"metrics-{n}")

        def flow(n: int) -> None:
            score(make(n), n)

        for n in (int(sys.argv[2]), int(sys.argv[2]) + 1):
            vertex_ai.PipelineJob("p", template=flow, parameter_values={"n": n}).submit(experiment="shared")
    """)
    procs = [subprocess.Popen([PYTHON, "-c", script, str(store_path), str(10 * i)], env=python_env(),
                              stderr=subprocess.PIPE) for i in range(3)]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    df = vertex_ai.get_experiment_df("shared")
    assert sorted(df["param.n"]) == [0, 1, 10, 11, 20, 21] and (df.state == "COMPLETE").all()
    assert np.allclose(df["metric.accuracy"], df["param.n"] / 10)
    assert df.run_name.is_unique
    for job_id, n in zip(df.run_name, df["param.n"]):
        g = vertex_ai.lineage(vertex_ai.PipelineJob.get(job_id))
        assert set(g.nodes.display_name) == {f"data-{n}", f"metrics-{n}", "make", "score", job_id}
        assert len(g.edges) == 3  # make -> data -> score -> metrics
