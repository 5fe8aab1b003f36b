"""The board's lineage panel, kernel side: a "lineage" request with a run id is answered with that run's
graph (artifacts and executions, INPUT/OUTPUT edges, the contexts of each node), for experiment runs and
pipeline runs, against a real store file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import trackbook
from test_board import HOSTILE, Wire
from trackbook import Input, Output
from trackbook.board import lineage as board_lineage
from trackbook.board.widget import Board
from trackbook.metadata.schema.system.artifact_schema import Dataset, Model


def log_trained_run(name: str, data: Any) -> Any:
    """A run whose execution reads `data` and writes a model."""
    with trackbook.start_run(name) as run:
        trackbook.log_time_series_metrics({"loss": 1.0}, step=0)
        with trackbook.start_execution(schema_title="system.ContainerExecution", display_name=f"train {name}") as ex:
            ex.assign_input_artifacts([data])
            model = trackbook.Artifact.create("system.Model", uri=f"/tmp/{name}.npy", display_name=f"model {name}")
            ex.assign_output_artifacts([model])
    return run


def ask(board: Board, wire: Wire, request: dict[str, Any]) -> dict[str, Any] | None:
    before = len(wire.of("lineage"))
    board._on_message(board, {"type": "lineage", **request}, [])
    replies = wire.of("lineage")
    return replies[-1] if len(replies) > before else None


def by_label(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["label"]: n for n in graph["nodes"]}


def test_a_run_s_lineage_arrives_as_a_graph(tb: Any) -> None:
    trackbook.init(experiment="exp")
    raw = trackbook.Artifact.create("system.Dataset", uri="/tmp/raw.csv", display_name=HOSTILE)
    log_trained_run("r1", raw)
    log_trained_run("r2", raw)
    board = Board("exp", live=False)
    wire = Wire(board)
    ids = {r["name"]: r["id"] for r in board._snapshot["runs"]}
    reply = ask(board, wire, {"id": 5, "run": ids["r1"]})
    assert reply is not None and reply["id"] == 5 and reply["run"] == ids["r1"] and "error" not in reply
    graph = reply["graph"]
    nodes = by_label(graph)
    # r1's graph: its input (the hostile name, as data), its execution and its model; not r2's.
    assert set(nodes) == {HOSTILE, "train r1", "model r1"}
    assert nodes[HOSTILE]["kind"] == "artifact" and nodes[HOSTILE]["schema_title"] == "system.Dataset"
    assert nodes["train r1"]["kind"] == "execution" and nodes["train r1"]["state"] == "COMPLETE"
    assert nodes["model r1"]["uri"] == "/tmp/r1.npy" and nodes["train r1"]["uri"] is None
    assert "exp-r1" in nodes["train r1"]["contexts"] and "exp-r1" in nodes["model r1"]["contexts"]
    edges = {(e["source"], e["target"], e["type"]) for e in graph["edges"]}
    assert edges == {(nodes[HOSTILE]["id"], nodes["train r1"]["id"], "INPUT"),
                     (nodes["train r1"]["id"], nodes["model r1"]["id"], "OUTPUT")}
    assert graph["total"] == 3 and graph["origin"] == "contexts/exp-r1"
    # Upstream only: what the run's nodes came from (the model is the run's own output, so it stays).
    up = ask(board, wire, {"id": 6, "run": ids["r2"], "direction": "upstream"})
    assert up is not None and set(by_label(up["graph"])) == {HOSTILE, "train r2", "model r2"}
    assert up["direction"] == "upstream"
    # A run without artifacts or executions answers with an empty graph.
    trackbook.start_run("plain")
    trackbook.end_run()
    board.refresh()
    plain_id = next(r["id"] for r in board._feed.rows.values() if r["name"] == "plain")
    plain = ask(board, wire, {"id": 7, "run": plain_id})
    assert plain is not None and plain["graph"]["nodes"] == [] and plain["graph"]["total"] == 0
    board.close()


def test_bad_lineage_requests_are_ignored_or_answered_with_an_error(tb: Any) -> None:
    trackbook.init(experiment="exp")
    raw = trackbook.Artifact.create("system.Dataset", uri="/tmp/raw.csv", display_name="raw")
    log_trained_run("r1", raw)
    board = Board("exp", live=False)
    wire = Wire(board)
    run_id = board._snapshot["runs"][0]["id"]
    assert ask(board, wire, {"id": 1, "run": "r1"}) is None
    assert ask(board, wire, {"id": 1, "run": True}) is None
    assert ask(board, wire, {"id": 1, "run": run_id, "direction": "sideways"}) is None
    gone = ask(board, wire, {"id": 2, "run": 987_654})
    assert gone is not None and gone["error"] == "this run is not on the board any more" and "graph" not in gone
    with pytest.raises(ValueError, match="direction must be one of upstream, downstream, both"):
        board_lineage.run_graph(board._store, run_id, "sideways")
    board.close()


def test_a_large_graph_is_cut_to_the_nodes_nearest_the_run(tb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    trackbook.init(experiment="exp")
    raw = trackbook.Artifact.create("system.Dataset", uri="/tmp/raw.csv", display_name="raw")
    log_trained_run("r1", raw)
    monkeypatch.setattr(board_lineage, "MAX_NODES", 2)
    board = Board("exp", live=False)
    graph = board_lineage.run_graph(board._store, board._snapshot["runs"][0]["id"])
    assert graph["total"] == 3 and len(graph["nodes"]) == 2
    kept = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in graph["edges"])
    board.close()


@trackbook.component
def load_rows(uri: str) -> Dataset:
    return Dataset(uri=uri, display_name="rows")


@trackbook.component
def fit_rows(data: Input[Dataset], model: Output[Model]) -> None:
    Path(model.path).write_text(Path(data.uri).read_text())


def rows_pipeline(uri: str) -> None:
    fit_rows(load_rows(uri))


def test_a_pipeline_run_s_lineage(tb: Any, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    job = trackbook.PipelineJob("rows", template=rows_pipeline, pipeline_root=str(tmp_path / "root"),
                                parameter_values={"uri": str(data)})
    job.submit(experiment="pipes")
    board = Board("pipes", live=False)
    wire = Wire(board)
    (row,) = board._snapshot["runs"]
    reply = ask(board, wire, {"id": 1, "run": row["id"]})
    assert reply is not None and "error" not in reply
    graph = reply["graph"]
    kinds = {n["kind"] for n in graph["nodes"]}
    labels = {n["label"] for n in graph["nodes"]}
    assert kinds == {"artifact", "execution"} and "rows" in labels
    assert {e["type"] for e in graph["edges"]} == {"INPUT", "OUTPUT"}
    assert all(row["name"] in n["contexts"] for n in graph["nodes"] if n["kind"] == "execution")
    board.close()


def test_a_store_that_cannot_be_read_answers_with_an_error(tb: Any, store_path: Path) -> None:
    import sqlite3

    trackbook.init(experiment="exp")
    raw = trackbook.Artifact.create("system.Dataset", uri="/tmp/raw.csv", display_name="raw")
    log_trained_run("r1", raw)
    board = Board("exp", live=False)
    wire = Wire(board)
    conn = sqlite3.connect(store_path)
    conn.execute("DROP TABLE event")  # a damaged file (another tool, a bad copy)
    conn.close()
    reply = ask(board, wire, {"id": 3, "run": board._snapshot["runs"][0]["id"]})
    assert reply is not None and reply["error"].startswith("could not read the lineage graph:")
    assert "event" in reply["error"] and "graph" not in reply
    board.close()
