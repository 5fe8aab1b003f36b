"""The ML Metadata graph: artifacts, executions, events, contexts, with Vertex's API, on a real store file."""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import trackbook
from trackbook import exceptions
from trackbook.metadata.schema.google.artifact_schema import ClassificationMetrics
from trackbook.metadata.schema.system import artifact_schema, execution_schema

# -- artifacts ------------------------------------------------------------------------------------------------


def test_artifact_create_lookup_and_properties(tb) -> None:
    a = tb.Artifact.create(
        "system.Dataset", resource_id="my-data", uri="gs://bucket/d.csv", display_name="d",
        description="the data", metadata={"rows": np.int64(3), "cols": ["a", "b"], "nested": {"x": np.float32(0.5)}},
    )
    assert a.name == "my-data" and a.schema_title == "system.Dataset" and a.uri == "gs://bucket/d.csv"
    assert a.metadata == {"rows": 3, "cols": ["a", "b"], "nested": {"x": 0.5}}
    assert a.state is tb.Artifact.State.LIVE and a.schema_version == "" and a.description == "the data"
    assert a.size is None and a.content_hash is None  # remote uris are not measured
    for name in ("my-data", a.resource_name, "projects/p/locations/l/metadataStores/default/artifacts/my-data"):
        assert tb.Artifact(name) == a
    assert tb.Artifact.get("missing-one") is None
    with pytest.raises(exceptions.NotFound):
        tb.Artifact("missing-one")
    with pytest.raises(exceptions.AlreadyExists):
        tb.Artifact.create("system.Dataset", resource_id="my-data")
    generated = tb.Artifact.create("system.Model")
    assert len(generated.name) == 36 and generated.name.count("-") == 4  # a UUID, as the service makes
    assert tb.Artifact.get_or_create("my-data", "system.Model") == a  # existing: unchanged
    assert tb.Artifact.get_or_create("new-one", "system.Model").schema_title == "system.Model"
    d = a.to_dict()
    assert d["name"].endswith("#artifacts/my-data") and d["state"] == "LIVE" and d["metadata"]["rows"] == 3
    json.dumps(d)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"resource_id": "My_Data"}, ValueError, "lowercase letters"),
        ({"resource_id": "abc"}, ValueError, "4 to 128"),
        ({"resource_id": 5}, TypeError, "must be a str"),
        ({"metadata": {"x": object()}}, TypeError, r"metadata\['x'\] is of type object"),
        ({"metadata": {"x": [1, float("nan")]}}, ValueError, r"metadata\['x'\]\[1\] is nan"),
        ({"metadata": {1: "x"}}, TypeError, "keys must be str"),
        ({"metadata": "x"}, TypeError, "metadata must be a dict"),
        ({"state": "GONE"}, ValueError, "PENDING or LIVE"),
        ({"display_name": 3}, TypeError, "display_name must be a str"),
    ],
)
def test_bad_artifact_input_raises_before_anything_is_written(tb, store_path, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        tb.Artifact.create("system.Dataset", **kwargs)
    assert sqlite3.connect(store_path).execute("SELECT COUNT(*) FROM artifact").fetchone()[0] == 0


def test_get_with_uri_newest_or_value_error(tb) -> None:
    with pytest.raises(ValueError, match="No artifact with uri gs://x is in the `default` MetadataStore"):
        tb.Artifact.get_with_uri("gs://x")
    tb.Artifact.create("system.Dataset", uri="gs://x", display_name="old")
    newest = tb.Artifact.create("system.Dataset", uri="gs://x", display_name="new")
    tb.Artifact.create("system.Dataset", uri="gs://y")
    assert tb.Artifact.get_with_uri("gs://x") == newest


def test_update_merges_one_level_deep_as_vertex(tb) -> None:
    a = tb.Artifact.create("system.Model", metadata={"a": 1, "d": {"x": 1, "y": 2}, "keep": True})
    a.update(metadata={"a": 2, "d": {"y": 3, "z": 4}, "new": "n"}, description="desc")
    expected = {"a": 2, "d": {"x": 1, "y": 3, "z": 4}, "keep": True, "new": "n"}
    assert a.metadata == expected and tb.Artifact(a.name).metadata == expected
    assert tb.Artifact(a.name).description == "desc"
    a.update(metadata={"d": 5}, state="PENDING")
    assert tb.Artifact(a.name).metadata["d"] == 5 and tb.Artifact(a.name).state is tb.ArtifactState.PENDING
    assert tb.Artifact.list(filter="metadata.d.number_value=5") == [a]  # the filter index follows updates


def test_artifact_delete_refuses_while_events_use_it_unless_forced(tb, store_path) -> None:
    data = tb.Artifact.create("system.Dataset", display_name="data")
    with tb.start_execution(schema_title="system.ContainerExecution", display_name="train") as ex:
        ex.assign_input_artifacts([data])
    with pytest.raises(ValueError) as info:
        data.delete()
    assert "input of execution" in str(info.value) and "(train)" in str(info.value)
    assert "delete(force=True)" in str(info.value)
    assert tb.Artifact(data.name) == data  # nothing happened
    data.delete(force=True)
    assert tb.Artifact.get(data.name) is None and ex.get_input_artifacts() == []
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT COUNT(*) FROM event").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM node_property WHERE kind = 'artifact'").fetchone()[0] == 0
    alone = tb.Artifact.create("system.Dataset")
    alone.delete()
    assert tb.Artifact.get(alone.name) is None


def test_vertex_calls_delete_as_an_unbound_method(tb) -> None:
    a = tb.Artifact.create("system.Dataset")
    tb.Artifact.delete(a)
    assert tb.Artifact.get(a.name) is None


# -- local files ---------------------------------------------------------------------------------------------


def test_local_files_record_size_and_hash_so_copies_are_recognised(tb, tmp_path) -> None:
    src = tmp_path / "data.csv"
    src.write_text("a,b\n1,2\n")
    copy_dir = tmp_path / "elsewhere"
    copy_dir.mkdir()
    shutil.copy(src, copy_dir / "renamed.csv")
    a = tb.Artifact.create("system.Dataset", uri=str(src))
    b = tb.Artifact.create("system.Dataset", uri=f"file://{copy_dir / 'renamed.csv'}")
    other = tb.Artifact.create("system.Dataset", uri=str(tmp_path / "missing.csv"))
    assert a.size == 8 and a.content_hash is not None and a.content_hash.startswith("sha256:")
    assert b.content_hash == a.content_hash and other.size is None and other.content_hash is None
    assert a.same_content() == [b] and b.same_content() == [a]
    assert tb.Artifact.list(filter=f'content_hash="{a.content_hash}"') == [a, b]
    # directories hash their files' relative paths and contents
    (tmp_path / "dir1").mkdir()
    (tmp_path / "dir1" / "part-0").write_bytes(b"x" * 10)
    shutil.copytree(tmp_path / "dir1", tmp_path / "dir2")
    d1 = tb.Artifact.create("system.Dataset", uri=str(tmp_path / "dir1"))
    d2 = tb.Artifact.create("system.Dataset", uri=str(tmp_path / "dir2"))
    assert d1.size == 10 and d1.content_hash == d2.content_hash != a.content_hash


def test_output_files_are_measured_when_the_execution_completes(tb, tmp_path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"stale")
    model = tb.Artifact.create("system.Model", uri=str(path))
    stale = model.content_hash
    with tb.start_execution(schema_title="system.ContainerExecution") as ex:
        ex.assign_output_artifacts([model])
        os.utime(path, (model.create_time.timestamp() + 5,) * 2)
        path.write_bytes(b"the trained model")
        os.utime(path, (model.create_time.timestamp() + 5,) * 2)
    fresh = tb.Artifact(model.name)
    assert fresh.size == len(b"the trained model") and fresh.content_hash != stale


# -- executions -----------------------------------------------------------------------------------------------


def test_execution_context_manager_and_artifacts(tb) -> None:
    data, extra = tb.Artifact.create("system.Dataset"), tb.Artifact.create("system.Dataset")
    ex = tb.Execution.create("system.ContainerExecution", resource_id="train-1", state="NEW", metadata={"lr": 0.1})
    assert ex.state is tb.Execution.State.NEW
    with ex as running:
        assert running is ex and tb.Execution("train-1").state is tb.ExecutionState.RUNNING
        ex.assign_input_artifacts([data, extra])
        ex.assign_input_artifacts([data])  # a repeat is skipped, as in Vertex
        model = tb.Artifact.create("system.Model")
        ex.assign_output_artifacts([model.resource_name])  # resource names work too
    assert tb.Execution("train-1").state is tb.ExecutionState.COMPLETE
    assert ex.get_input_artifacts() == [data, extra] and ex.get_output_artifacts() == [model]
    ex.update(metadata={"loss": 0.3}, description="d")
    assert tb.Execution("train-1").metadata == {"lr": 0.1, "loss": 0.3}
    with pytest.raises(ValueError, match="force=True"):
        ex.delete()
    ex.delete(force=True)
    assert tb.Execution.get("train-1") is None and tb.Artifact.get(data.name) == data


def test_failed_execution_keeps_its_inputs(tb) -> None:
    data = tb.Artifact.create("system.Dataset")
    with pytest.raises(ZeroDivisionError), tb.start_execution(schema_title="system.ContainerExecution") as ex:
        ex.assign_input_artifacts([data])
        1 / 0  # noqa: B018
    assert tb.Execution(ex.name).state is tb.ExecutionState.FAILED
    assert ex.get_input_artifacts() == [data]


def test_events_to_missing_artifacts_raise_not_found_and_record_nothing(tb, store_path) -> None:
    data = tb.Artifact.create("system.Dataset")
    gone = tb.Artifact.create("system.Dataset")
    gone.delete()
    ex = tb.Execution.create("system.ContainerExecution")
    with pytest.raises(exceptions.NotFound, match="no event was recorded"):
        ex.assign_input_artifacts([data, gone])
    with pytest.raises(exceptions.NotFound):
        ex.assign_input_artifacts(["not-an-artifact"])
    with pytest.raises(TypeError, match=r"artifacts\[1\] is of type int"):
        ex.assign_input_artifacts([data, 3])
    assert sqlite3.connect(store_path).execute("SELECT COUNT(*) FROM event").fetchone()[0] == 0


def test_start_execution_errors_are_vertex_s(tb) -> None:
    with pytest.raises(ValueError, match=r"^resource_id is required when resume=True$"):
        tb.start_execution(resume=True)
    with pytest.raises(ValueError, match=r"^schema_title must be provided when starting a new Execution$"):
        tb.start_execution(display_name="x")
    with pytest.raises(exceptions.NotFound):
        tb.start_execution(resource_id="no-such-execution", resume=True)


def test_start_execution_in_a_run_associates_and_attributes(tb) -> None:
    tb.init(experiment="exp")
    run = tb.start_run("r1")
    data = tb.Artifact.create("system.Dataset", display_name="data")
    with tb.start_execution(schema_title="system.ContainerExecution", display_name="train",
                            resource_id="train-run-1") as ex:
        ex.assign_input_artifacts([data])
        model = artifact_schema.Model(uri="gs://b/m", display_name="model")  # not created yet: created on assign
        ex.assign_output_artifacts([model])
    tb.end_run()
    assert run.get_executions() == [ex]
    assert {a.display_name for a in run.get_artifacts()} == {"data", "model"}
    assert isinstance(model, tb.Artifact) and model.name and tb.Artifact(model.name).uri == "gs://b/m"
    # resume continues it, still associated
    tb.start_run("r2")
    again = tb.start_execution(resource_id="train-run-1", resume=True)
    assert again == ex and again.state is tb.ExecutionState.RUNNING
    assert tb.get_active_run().get_executions() == [ex]
    tb.end_run()


def test_associate_execution_binds_later_assignments_to_the_run(tb) -> None:
    tb.init(experiment="exp")
    run = tb.start_run("r")
    ex = tb.Execution.create("system.ContainerExecution")
    run.associate_execution(ex)
    ex.assign_output_artifacts([tb.Artifact.create("system.Model", display_name="m")])
    assert run.get_executions() == [ex] and [a.display_name for a in run.get_artifacts()] == ["m"]


def test_typed_execution_schemas(tb) -> None:
    tb.init(experiment="exp")
    with tb.start_run("r"):
        started = execution_schema.ContainerExecution(display_name="step").start_execution()
        assert started.schema_title == "system.ContainerExecution"
    assert tb.ExperimentRun("r", "exp").get_executions() == [started]
    made = execution_schema.Run(execution_id="the-run", metadata={"input:lr": 0.1}).create()
    assert tb.Execution("the-run").metadata == {"input:lr": 0.1} and made.state is tb.ExecutionState.RUNNING
    with pytest.raises(RuntimeError, match="created already"):
        made.create()
    assert len(tb.Execution.list(filter='schema_title="system.Run"')) == 1
    with pytest.raises(TypeError, match="schema_version"):
        execution_schema.Run(schema_version=1)  # refused when described, not when stored


def test_get_or_create_list_and_deletion_alike_for_every_kind(tb) -> None:
    tb.init(experiment="exp")
    for cls, title in ((tb.Artifact, "system.Model"), (tb.Execution, "system.Run"), (tb.Context, "system.Pipeline")):
        made = cls.get_or_create("one-" + cls.__name__.lower(), title, display_name="first")
        again = cls.get_or_create("one-" + cls.__name__.lower(), title, display_name="second")
        assert again == made and again.display_name == "first"  # an existing one is returned unchanged
        assert made in cls.list(filter='display_name="first"')
        with pytest.raises(ValueError, match="resource_id"):
            cls.get_or_create("Bad Id", title)
        with pytest.raises(TypeError, match="description"):
            cls.create(title, description=3)
        made.delete()
        with pytest.raises(tb.NotFound, match=f"404 {cls.__name__} 'one-{cls.__name__.lower()}' was deleted"):
            made.sync_resource()


def test_typed_artifact_schemas(tb) -> None:
    m = artifact_schema.Metrics(accuracy=0.0, recall=0.5, metadata={"extra": 1}, display_name="m")
    assert m.metadata == {"extra": 1, "accuracy": 0.0, "recall": 0.5}  # 0.0 is kept (Vertex drops falsy values)
    assert m.create() is m and tb.Artifact(m.name).schema_title == "system.Metrics"
    with pytest.raises(RuntimeError, match="created already"):
        m.create()
    d = artifact_schema.Dataset(artifact_id="ds-one", uri="gs://d").create()
    assert tb.Artifact("ds-one").uri == "gs://d" and d.schema_version == "0.0.1"
    with pytest.raises(TypeError):
        artifact_schema.Metrics(acuracy=0.9)  # a typo is an error, not a silent metadata key


# -- contexts -------------------------------------------------------------------------------------------------


def test_runs_and_experiments_are_contexts_of_the_graph(tb) -> None:
    tb.init(experiment="exp")
    tb.start_run("run-1")
    tb.end_run()
    run_ctx = tb.Context("exp-run-1")
    assert run_ctx.schema_title == "system.ExperimentRun" and run_ctx.display_name == "run-1"
    assert run_ctx.state == "COMPLETE"
    exp_ctx = tb.Context("exp")
    assert run_ctx.parent_contexts == [exp_ctx.resource_name]
    assert exp_ctx.get_child_contexts() == [run_ctx]
    assert tb.Context.get("exp-run-2") is None


def test_context_create_members_and_subgraph(tb, store_path) -> None:
    ctx = tb.Context.create("system.Pipeline", resource_id="my-pipeline", display_name="p", metadata={"v": 1})
    with pytest.raises(exceptions.AlreadyExists):
        tb.Context.create("system.Pipeline", resource_id="my-pipeline")
    data = tb.Artifact.create("system.Dataset", display_name="data")
    unrelated = tb.Artifact.create("system.Dataset", display_name="unrelated")
    ex = tb.Execution.create("system.ContainerExecution", state="COMPLETE")
    ex.assign_input_artifacts([data])
    ex.assign_output_artifacts([model := tb.Artifact.create("system.Model", display_name="model")])
    with pytest.raises(exceptions.NotFound, match="nothing was added"):
        ctx.add_artifacts_and_executions(artifact_resource_names=[data.resource_name, "missing-artifact"])
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT COUNT(*) FROM attribution").fetchone()[0] == 0
    ctx.add_artifacts_and_executions(execution_resource_names=[ex.resource_name],
                                     artifact_resource_names=[unrelated.name])
    assert ctx.get_executions() == [ex] and ctx.get_artifacts() == [unrelated]
    sub = ctx.query_lineage_subgraph()
    assert set(sub.artifacts) == {data, model, unrelated} and sub.executions == [ex]
    assert sorted((e.type, e.artifact.rsplit("/", 1)[1]) for e in sub.events) == sorted(
        [("INPUT", data.name), ("OUTPUT", model.name)]
    )
    ctx.update(metadata={"w": 2}, description="d")
    assert tb.Context("my-pipeline").metadata == {"v": 1, "w": 2}
    assert tb.Context.list(filter="metadata.w.number_value=2") == [ctx]


def test_add_context_children_rejects_cycles_and_too_many_parents(tb, store_path) -> None:
    a, b, c = (tb.Context.create("system.Pipeline", resource_id=f"ctx-{x}") for x in "abc")
    a.add_context_children([b])
    b.add_context_children([c])
    with pytest.raises(ValueError, match="cycle"):
        c.add_context_children([a])
    with pytest.raises(ValueError, match="cycle"):
        a.add_context_children([a])
    parents = [tb.Context.create("system.Pipeline", resource_id=f"parent-{i}") for i in range(10)]
    child = tb.Context.create("system.Pipeline", resource_id="the-child")
    for p in parents:
        p.add_context_children([child])
    with pytest.raises(ValueError, match="at most 10"):
        a.add_context_children(["the-child"])
    assert sorted(tb.Context("the-child").parent_contexts) == sorted(p.resource_name for p in parents)


def test_deleting_a_run_removes_its_links_and_its_id_is_never_reused(tb, store_path) -> None:
    tb.init(experiment="exp")
    run = tb.start_run("doomed")
    with tb.start_execution(schema_title="system.ContainerExecution") as ex:
        ex.assign_input_artifacts([tb.Artifact.create("system.Dataset")])
    tb.end_run()
    doomed_id = run._id
    run.delete()
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT COUNT(*) FROM association").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM attribution").fetchone()[0] == 0
    fresh = tb.start_run("fresh")
    tb.end_run()
    assert fresh._id != doomed_id  # ids are AUTOINCREMENT: a late write for the deleted run cannot land here
    assert fresh.get_executions() == [] and fresh.get_artifacts() == []


def test_classification_metrics_return_the_artifact_and_read_back_unchanged(tb) -> None:
    tb.init(experiment="exp")
    tb.start_run("r")
    cm = tb.log_classification_metrics(labels=["a", "b"], matrix=[[1, 2], [3, 4]], display_name="cm")
    assert isinstance(cm, ClassificationMetrics) and isinstance(cm, tb.Artifact)
    assert cm.schema_title == "google.ClassificationMetrics" and cm.display_name == "cm"
    assert cm.metadata["confusionMatrix"]["rows"] == [[1, 2], [3, 4]]
    (entry,) = tb.get_active_run().get_classification_metrics()
    assert entry == {"id": cm.name, "display_name": "cm", "labels": ["a", "b"], "matrix": [[1, 2], [3, 4]],
                     "fpr": None, "tpr": None, "threshold": None}
    assert tb.get_active_run().get_artifacts() == [cm]


# -- lineage queries ------------------------------------------------------------------------------------------


@pytest.fixture
def graph(tb, tmp_path):
    """raw -> ingest -> clean -> train (run r1) -> model -> evaluate -> report; clean -> train (run r2) -> model2."""
    tb.init(experiment="exp")
    raw_path = tmp_path / "raw.csv"
    raw_path.write_text("x\n1\n2\n")
    raw = tb.Artifact.create("system.Dataset", uri=str(raw_path), display_name="raw")
    with tb.start_execution(schema_title="system.ContainerExecution", display_name="ingest") as ingest:
        ingest.assign_input_artifacts([raw])
        clean = tb.Artifact.create("system.Dataset", display_name="clean")
        ingest.assign_output_artifacts([clean])
    nodes = {"raw": raw, "ingest": ingest, "clean": clean}
    for run_name, model_name in (("r1", "model"), ("r2", "model2")):
        with tb.start_run(run_name), tb.start_execution(
            schema_title="system.ContainerExecution", display_name=f"train-{run_name}"
        ) as train:
            train.assign_input_artifacts([clean])
            nodes[model_name] = tb.Artifact.create("system.Model", display_name=model_name)
            train.assign_output_artifacts([nodes[model_name]])
            nodes[f"train-{run_name}"] = train
    with tb.start_execution(schema_title="system.ContainerExecution", display_name="evaluate") as evaluate:
        evaluate.assign_input_artifacts([nodes["model"]])
        nodes["report"] = tb.Artifact.create("system.Artifact", display_name="report")
        evaluate.assign_output_artifacts([nodes["report"]])
    nodes["evaluate"] = evaluate
    return nodes


def labels(g) -> set[str]:
    return set(g.nodes.display_name)


def test_what_produced_this_model(tb, graph) -> None:
    g = tb.lineage(graph["model"], "upstream")
    assert labels(g) == {"model", "train-r1", "clean", "ingest", "raw"}
    direct = tb.lineage(graph["model"], "upstream", max_hops=1)
    assert list(direct.executions.display_name) == ["train-r1"]
    hops = dict(zip(g.nodes.display_name, g.nodes.hops))
    assert hops == {"model": 0, "train-r1": 1, "clean": 2, "ingest": 3, "raw": 4}
    assert set(g.nodes.side) == {"start", "upstream"}
    assert set(zip(g.edges.source.str.split("/").str[0], g.edges.type)) == {
        ("executions", "OUTPUT"), ("artifacts", "INPUT"),
    }


def test_lineage_of_an_execution(tb, graph) -> None:
    g = tb.lineage(graph["train-r1"])
    assert labels(g) == {"train-r1", "clean", "ingest", "raw", "model", "evaluate", "report"}
    assert dict(zip(g.nodes.display_name, g.nodes.hops)) == {
        "train-r1": 0, "clean": 1, "model": 1, "ingest": 2, "evaluate": 2, "raw": 3, "report": 3,
    }
    assert labels(tb.lineage(graph["train-r1"], "downstream", max_hops=1)) == {"train-r1", "model"}
    assert labels(tb.lineage(graph["ingest"], "upstream")) == {"ingest", "raw"}


def test_which_runs_used_this_dataset(tb, graph) -> None:
    runs = tb.lineage(graph["clean"], "downstream").runs
    assert list(runs.run_name) == ["r1", "r2"] and set(runs.run_type) == {"system.ExperimentRun"}
    assert list(runs.state) == ["COMPLETE", "COMPLETE"]
    assert list(tb.lineage(graph["raw"], "downstream", max_hops=1).runs.run_name) == []  # ingest ran outside runs
    assert labels(tb.lineage(graph["raw"], "downstream")) == {
        "raw", "ingest", "clean", "train-r1", "train-r2", "model", "model2", "evaluate", "report",
    }


def test_both_ways_do_not_wander_into_siblings(tb, graph) -> None:
    g = tb.lineage(graph["model"])
    assert labels(g) == {"model", "train-r1", "clean", "ingest", "raw", "evaluate", "report"}  # not r2's model2
    assert tb.lineage(graph["model"], max_hops=0).nodes.display_name.tolist() == ["model"]


def test_lineage_of_a_run_leaves_out_what_it_only_consumed(tb, graph) -> None:
    g = tb.lineage(tb.ExperimentRun("r1", "exp"))
    assert labels(g) == {"clean", "train-r1", "model", "ingest", "raw", "evaluate", "report"}
    assert g.origin == "contexts/exp-r1"
    assert set(g.nodes[g.nodes.side == "start"].display_name) == {"clean", "train-r1", "model"}
    whole = tb.lineage(tb.Experiment("exp"), "downstream")
    assert {"model", "model2", "report"} <= labels(whole)


def test_lineage_follows_copies_of_the_same_data(tb, graph, tmp_path) -> None:
    copy = tmp_path / "copy-of-raw.csv"
    shutil.copy(graph["raw"].uri, copy)
    again = tb.Artifact.create("system.Dataset", uri=str(copy), display_name="raw again")
    g = tb.lineage(again, "downstream")
    assert {"raw again", "raw", "ingest", "model"} <= labels(g)
    assert labels(tb.lineage(again, "downstream", same_content=False)) == {"raw again"}


def test_nodes_without_a_display_name_are_labelled_by_their_id(tb) -> None:
    data = tb.Artifact.create("system.Dataset", resource_id="named-data", display_name="data")
    with tb.start_execution(schema_title="system.ContainerExecution", resource_id="unnamed-step") as step:
        step.assign_input_artifacts([data])
        step.assign_output_artifacts([tb.Artifact.create("system.Dataset", resource_id="unnamed-data")])
    g = tb.lineage(data, "downstream")  # named and unnamed nodes in one frame column
    assert {n["label"] for n in g.to_dict()["nodes"]} == {"data", "unnamed-data", "unnamed-step"}
    json.dumps(g.to_dict(), allow_nan=False)
    dot = g.to_dot()
    assert 'label="unnamed-data\\nsystem.Dataset"' in dot and 'label="unnamed-step\\nsystem.ContainerExecution"' in dot


def test_lineage_graph_is_drawable_data(tb, graph) -> None:
    g = tb.lineage(graph["model"])
    drawn = g.to_dict()
    json.dumps(drawn, allow_nan=False)
    ids = {n["id"] for n in drawn["nodes"]}
    assert len(ids) == len(g) == 7 and all(e["source"] in ids and e["target"] in ids for e in drawn["edges"])
    assert {n["kind"] for n in drawn["nodes"]} == {"artifact", "execution"}
    assert {e["type"] for e in drawn["edges"]} == {"INPUT", "OUTPUT"}
    assert drawn["origin"] == f"artifacts/{graph['model'].name}" and drawn["direction"] == "both"
    assert "digraph lineage" in g.to_dot() and repr(g).startswith("<LineageGraph both of artifacts/")
    ctx = g.contexts
    assert set(ctx[ctx.node == f"executions/{graph['train-r1'].name}"].context) == {"exp-r1"}
    assert {a.display_name for a in g.get_artifacts()} == {"raw", "clean", "model", "report"}


def test_lineage_terminates_on_cycles(tb) -> None:
    table = tb.Artifact.create("system.Dataset", display_name="table")
    ex = tb.Execution.create("system.ContainerExecution", display_name="update in place")
    ex.assign_input_artifacts([table])
    ex.assign_output_artifacts([table])
    for direction in ("upstream", "downstream", "both"):
        g = tb.lineage(table, direction)
        assert labels(g) == {"table", "update in place"} and len(g.edges) == 2
    assert len(tb.lineage(table, "upstream", max_hops=5)) == 2


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("sideways",), ValueError, "upstream, downstream, both"),
        (("upstream", -1), ValueError, ">= 0"),
        (("upstream", 1.5), TypeError, "max_hops must be an int"),
        (("upstream", True), TypeError, "max_hops must be an int"),
    ],
)
def test_lineage_argument_errors(tb, graph, args, error, message) -> None:
    with pytest.raises(error, match=message):
        tb.lineage(graph["model"], *args)


def test_lineage_of_something_else_is_a_type_error(tb) -> None:
    with pytest.raises(TypeError, match="lineage\\(\\) takes an Artifact"):
        tb.lineage("model")


def test_deep_chains_are_walked_in_one_query(tb) -> None:
    # 400 hops: a per-node walk would issue 400 queries; the recursive query does not care.
    st = trackbook.session.resolve(None)[0]
    prev = st.create_artifact("d-0", "system.Dataset")
    for i in range(1, 201):
        ex = st.create_execution(f"s-{i}", "system.ContainerExecution")
        st.add_events(ex.id, [prev.id], "INPUT")
        prev = st.create_artifact(f"d-{i}", "system.Dataset")
        st.add_events(ex.id, [prev.id], "OUTPUT")
    g = tb.lineage(tb.Artifact("d-200"), "upstream")
    assert len(g) == 401 and g.nodes.hops.max() == 400 and len(g.edges) == 400
    assert math.isclose(len(tb.lineage(tb.Artifact("d-0"), "downstream", max_hops=10)), 11)


def test_v2_store_with_lineage_rows_migrates(tmp_path: Path) -> None:
    from trackbook.store import MIGRATIONS, Store
    from trackbook.store.schema import APPLICATION_ID

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:2]:
        for statement in migration:
            conn.execute(statement)
    conn.execute("INSERT INTO schema_migration VALUES (1, 0, 'h', 1), (2, 0, 'h', 1)")
    conn.execute(
        "INSERT INTO artifact (name, schema_title, metadata, state, create_time, update_time)"
        " VALUES ('old-artifact', 'google.ClassificationMetrics', '{\"confusionMatrix\": {}}', 'LIVE', 1, 1)"
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    st = Store(path)
    assert st.schema_version() >= 3
    assert st.artifact_by_name("old-artifact").schema_title == "google.ClassificationMetrics"
    assert [a.name for a in st.list_nodes("artifact")] == ["old-artifact"]


def test_a_lookup_never_creates_a_store(tb, tmp_path) -> None:
    assert tb.Artifact.get("weird#name") is None  # '#' inside an id is not a store path
    assert tb.Execution.get(f"{tmp_path}/nowhere.db#executions/x") is None
    with pytest.raises(tb.NotFound, match="there is no store"):
        tb.PipelineJob.get(f"{tmp_path}/nowhere.db#pipelineJobs/job")
    assert {p.name for p in tmp_path.iterdir()} <= {"trackbook.db", "trackbook.db-shm", "trackbook.db-wal"}


def test_lineage_leaves_the_garbage_collector_as_it_found_it(tb, graph) -> None:
    # the walk and the frames pause the collector (their tuples have no cycles); it must come back on, errors too
    g = tb.lineage(graph["model"])
    assert len(g.nodes) == 7 and len(g.edges) == 6 and gc.isenabled()
    with pytest.raises(TypeError, match="lineage\\(\\) takes an Artifact"):
        tb.lineage("model")
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that paused it keeps it paused
        assert len(tb.lineage(graph["model"], "upstream").nodes) == 5 and not gc.isenabled()
    finally:
        gc.enable()


def test_a_cycle_is_reported_with_the_contexts_resource_ids(tb) -> None:
    a, b, c = (tb.Context.create("system.Pipeline", resource_id=f"ctx-{x}") for x in "abc")
    a.add_context_children([b])
    b.add_context_children([c])
    with pytest.raises(ValueError, match=r"^adding context 'ctx-a' as a child of 'ctx-c' would make a cycle "
                                         r"\('ctx-c' is already below 'ctx-a'\); nothing was added$"):
        c.add_context_children([a])
    with pytest.raises(ValueError, match=r"^adding context 'ctx-a' as a child of itself would make a cycle; "
                                         r"nothing was added$"):
        a.add_context_children([a])
    # A run is named by its resource id, <experiment>-<run>, as Context() finds it.
    tb.init(experiment="exp")
    run = tb.start_run("r1")
    tb.Context("exp-r1").add_context_children([a])
    with pytest.raises(ValueError, match=r"^adding context 'exp-r1' as a child of 'ctx-c' would make a cycle "
                                         r"\('ctx-c' is already below 'exp-r1'\)"):
        c.add_context_children([run])
    assert tb.Context("ctx-c").get_child_contexts() == []


def test_an_eleventh_parent_is_refused_naming_the_context(tb) -> None:
    child = tb.Context.create("system.Pipeline", resource_id="child-ctx")
    parents = [tb.Context.create("system.Pipeline", resource_id=f"parent-{i}") for i in range(11)]
    for parent in parents[:10]:
        parent.add_context_children([child])
    with pytest.raises(ValueError, match=r"^context 'child-ctx' already has 10 parents; at most 10 are allowed; "
                                         r"nothing was added$"):
        parents[10].add_context_children([child])
