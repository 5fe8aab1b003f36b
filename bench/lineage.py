"""Lineage query speed on graphs of 10,000 nodes.

    python bench/lineage.py [--nodes 10000] [--repeat 7] [--markdown]

Two graphs are built in a temporary store through the Store's own methods:
- `chain`: ingest -> data -> step -> data -> ... (5,000 executions and 5,000 artifacts, 10,000 hops deep);
- `pipelines`: one raw dataset feeding ~1,400 pipeline-like runs (prepare -> features -> train -> model and
  metrics -> evaluate -> report), about 10,000 nodes, wide rather than deep.

Each query is `trackbook.lineage(...)` followed by building its `nodes` and `edges` DataFrames (what a caller
or the board needs), median of `--repeat` runs. The baseline, measured on the same store in the same run, is
the walk it replaces: a breadth-first search issuing one indexed query per node.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import trackbook
from trackbook.store import Store


def build_chain(st: Store, nodes: int) -> dict[str, Any]:
    """data_0 -> step_1 -> data_1 -> ... : nodes/2 executions and nodes/2 artifacts."""
    n = nodes // 2
    first = prev = st.create_artifact("data-0", "system.Dataset", display_name="data 0")
    for i in range(1, n + 1):
        execution = st.create_execution(f"step-{i}", "system.ContainerExecution", display_name=f"step {i}",
                                         state="COMPLETE")
        st.add_events(execution.id, [prev.id], "INPUT")
        if i == n:
            break
        out = st.create_artifact(f"data-{i}", "system.Dataset", display_name=f"data {i}")
        st.add_events(execution.id, [out.id], "OUTPUT")
        prev = out
    return {"first": first.name, "last": prev.name}


def build_pipelines(st: Store, nodes: int) -> dict[str, Any]:
    """One raw dataset used by nodes/7 runs of prepare -> features -> train -> model, metrics -> evaluate -> report."""
    raw = st.create_artifact("raw-data", "system.Dataset", display_name="raw")
    runs = (nodes - 1) // 7
    model = None
    for r in range(runs):
        prep = st.create_execution(f"prep-{r}", "system.ContainerExecution", display_name="prepare", state="COMPLETE")
        st.add_events(prep.id, [raw.id], "INPUT")
        feats = st.create_artifact(f"features-{r}", "system.Dataset", display_name="features")
        st.add_events(prep.id, [feats.id], "OUTPUT")
        train = st.create_execution(f"train-{r}", "system.ContainerExecution", display_name="train",
                                    state="COMPLETE", metadata=json.dumps({"lr": 0.001 * (r + 1)}))
        st.add_events(train.id, [feats.id], "INPUT")
        model = st.create_artifact(f"model-{r}", "system.Model", display_name="model")
        metrics = st.create_artifact(f"metrics-{r}", "system.Metrics", display_name="metrics",
                                     metadata=json.dumps({"accuracy": r / runs}))
        st.add_events(train.id, [model.id, metrics.id], "OUTPUT")
        evaluate = st.create_execution(f"eval-{r}", "system.ContainerExecution", display_name="evaluate",
                                       state="COMPLETE")
        st.add_events(evaluate.id, [model.id], "INPUT")
        report = st.create_artifact(f"report-{r}", "system.Artifact", display_name="report")
        st.add_events(evaluate.id, [report.id], "OUTPUT")
    assert model is not None
    return {"raw": raw.name, "model": model.name}


def naive_walk(st: Store, start: int, direction: str) -> int:
    """The baseline: breadth-first, one query per node (signed ids: artifacts +id, executions -id)."""
    from_artifact, from_execution = ("OUTPUT", "INPUT") if direction == "up" else ("INPUT", "OUTPUT")
    seen = {start}
    frontier = [start]
    conn = st.conn
    while frontier:
        nxt = []
        for node in frontier:
            if node > 0:
                rows = conn.execute("SELECT -execution_id FROM event WHERE artifact_id = ? AND type = ?",
                                    (node, from_artifact)).fetchall()
            else:
                rows = conn.execute("SELECT artifact_id FROM event WHERE execution_id = ? AND type = ?",
                                    (-node, from_execution)).fetchall()
            for (m,) in rows:
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        frontier = nxt
    return len(seen)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm the page cache and the statement cache
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, out


def query(node: Any, direction: str, max_hops: int | None = None) -> Callable[[], int]:
    def run() -> int:
        graph = trackbook.lineage(node, direction, max_hops)
        graph.nodes  # noqa: B018 - building the frames is part of the cost
        graph.edges  # noqa: B018
        return len(graph)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape, build in (("chain", build_chain), ("pipelines", build_pipelines)):
            st = Store(Path(tmp) / f"{shape}.db")
            t0 = time.perf_counter()
            names = build(st, args.nodes)
            built = time.perf_counter() - t0
            total = st.conn.execute("SELECT (SELECT COUNT(*) FROM artifact) + (SELECT COUNT(*) FROM execution)")
            n_nodes = total.fetchone()[0]
            trackbook.init(store=st)
            if shape == "chain":
                last, first = trackbook.Artifact(names["last"]), trackbook.Artifact(names["first"])
                cases = [
                    ("upstream of the last artifact (whole chain)", query(last, "upstream"), last, "up"),
                    ("downstream of the first artifact (whole chain)", query(first, "downstream"), first, "down"),
                    ("upstream of the last artifact, max_hops=2", query(last, "upstream", 2), None, None),
                ]
            else:
                raw, model = trackbook.Artifact(names["raw"]), trackbook.Artifact(names["model"])
                cases = [
                    ("downstream of the raw dataset (whole graph)", query(raw, "downstream"), raw, "down"),
                    ("both ways from one model", query(model, "both"), None, None),
                ]
            for label, fn, baseline_node, direction in cases:
                ms, size = timed(fn, args.repeat)
                base_ms = None
                if baseline_node is not None:
                    base_ms, base_size = timed(
                        lambda s=st, n=baseline_node, d=direction: naive_walk(s, n._row.id, d), args.repeat
                    )
                    assert base_size == size, (base_size, size)
                rows.append((shape, n_nodes, label, size, ms, base_ms, built))
            st.close()
    if args.markdown:
        print("| graph | nodes in store | query | nodes returned | lineage() + frames | one query per node "
              "| speed-up |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for shape, n_nodes, label, size, ms, base_ms, _ in rows:
            base = f"{base_ms:.1f} ms" if base_ms is not None else "-"
            ratio = f"{base_ms / ms:.1f}x" if base_ms is not None else "-"
            print(f"| {shape} | {n_nodes:,} | {label} | {size:,} | {ms:.1f} ms | {base} | {ratio} |")
    else:
        for shape, n_nodes, label, size, ms, base_ms, built in rows:
            base = f"; one query per node {base_ms:.1f} ms ({base_ms / ms:.1f}x)" if base_ms is not None else ""
            print(f"{shape} ({n_nodes:,} nodes, built in {built:.1f} s): {label}: {size:,} nodes in {ms:.1f} ms{base}")


if __name__ == "__main__":
    main()
