"""Lineage query speed on graphs of 10,000 nodes.

    python bench/lineage.py [--nodes 10000] [--repeat 7] [--markdown]

Two graphs are built in a temporary store through the Store's own methods:
- `chain`: ingest -> data -> step -> data -> ... (5,000 executions and 5,000 artifacts, 10,000 hops deep);
- `pipelines`: one raw dataset feeding ~1,400 pipeline-like runs (prepare -> features -> train -> model and
  metrics -> evaluate -> report), about 10,000 nodes, wide rather than deep.

Each query is `trackbook.lineage(...)` followed by building its `nodes` and `edges` DataFrames (what a caller
or the board needs), median of `--repeat` runs. The baseline, measured on the same store in the same run, is
the same graph and frames built the straightforward way: a breadth-first search issuing one indexed query
per node for its neighbours and one for its row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import trackbook
from trackbook.lineage import LineageGraph, _hops
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


def naive_lineage(st: Store, artifact: trackbook.Artifact, direction: str) -> int:
    """The baseline: the same LineageGraph and frames, built breadth-first with one query per node for its
    neighbours and one for its row (signed ids: artifacts +id, executions -id)."""
    start = artifact._row.id
    code = "up" if direction == "upstream" else "down"
    from_artifact, from_execution = ("OUTPUT", "INPUT") if code == "up" else ("INPUT", "OUTPUT")
    conn = st.conn
    seen = {start}
    frontier = [start]
    events = []
    while frontier:
        nxt = []
        for node in frontier:
            if node > 0:
                rows = conn.execute("SELECT execution_id, artifact_id, type, path FROM event"
                                    " WHERE artifact_id = ? AND type = ?", (node, from_artifact)).fetchall()
                reached = [-r[0] for r in rows]
            else:
                rows = conn.execute("SELECT execution_id, artifact_id, type, path FROM event"
                                    " WHERE execution_id = ? AND type = ?", (-node, from_execution)).fetchall()
                reached = [r[1] for r in rows]
            events += rows
            for m in reached:
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        frontier = nxt
    details = {}
    for node in seen:
        if node > 0:
            details[node] = conn.execute("SELECT id, name, display_name, schema_title, state, uri, size,"
                                         " content_hash, create_time, metadata FROM artifact WHERE id = ?",
                                         (node,)).fetchone()
        else:
            details[node] = conn.execute("SELECT -id, name, display_name, schema_title, state, NULL, NULL, NULL,"
                                         " create_time, metadata FROM execution WHERE id = ?", (-node,)).fetchone()
    hops = _hops([start], events, code)
    sides = {n: ("start", 0) if h == 0 else (direction, h) for n, h in hops.items()}
    graph = LineageGraph(st, "baseline", direction, None, details, sides, events)
    graph.nodes  # noqa: B018
    graph.edges  # noqa: B018
    return len(graph)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median wall ms, median CPU ms of this process, result). CPU time leaves out waiting for a core, which
    matters on a shared machine; on an idle one the two agree."""
    fn()  # warm the page cache and the statement cache
    walls, cpus = [], []
    out = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, out


def query(node: Any, direction: str, max_hops: int | None = None, frames: bool = True) -> Callable[[], int]:
    def run() -> int:
        graph = trackbook.lineage(node, direction, max_hops)
        if frames:
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
                    ("upstream of the last artifact (whole chain)", last, "upstream", None, True),
                    ("downstream of the first artifact (whole chain)", first, "downstream", None, True),
                    ("upstream of the last artifact, max_hops=2", last, "upstream", 2, False),
                ]
            else:
                raw, model = trackbook.Artifact(names["raw"]), trackbook.Artifact(names["model"])
                cases = [
                    ("downstream of the raw dataset (whole graph)", raw, "downstream", None, True),
                    ("both ways from one model", model, "both", None, False),
                ]
            for label, node, direction, max_hops, baseline in cases:
                ms, cpu, size = timed(query(node, direction, max_hops), args.repeat)
                walk_cpu = timed(query(node, direction, max_hops, frames=False), args.repeat)[1]
                base_ms = base_cpu = None
                if baseline:
                    base_ms, base_cpu, base_size = timed(
                        lambda s=st, n=node, d=direction: naive_lineage(s, n, d), args.repeat
                    )
                    assert base_size == size, (base_size, size)
                rows.append((shape, n_nodes, label, size, ms, cpu, walk_cpu, base_ms, base_cpu, built))
            st.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if args.markdown:
        print(f"Load average during the run: {load:.1f} on {os.cpu_count()} cores.\n")
        print("| graph | query | nodes returned | lineage() + frames, wall (CPU) | lineage() alone (CPU) "
              "| one query per node, wall (CPU) | speed-up (CPU) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for shape, n_nodes, label, size, ms, cpu, walk_cpu, base_ms, base_cpu, _ in rows:
            base = f"{base_ms:.0f} ms ({base_cpu:.0f} ms)" if base_ms is not None else "-"
            ratio = f"{base_cpu / cpu:.1f}x" if base_cpu is not None else "-"
            print(f"| {shape} ({n_nodes:,} nodes) | {label} | {size:,} | {ms:.0f} ms ({cpu:.0f} ms) "
                  f"| {walk_cpu:.0f} ms | {base} | {ratio} |")
    else:
        print(f"load average {load:.1f} on {os.cpu_count()} cores")
        for shape, n_nodes, label, size, ms, cpu, walk_cpu, base_ms, base_cpu, built in rows:
            base = ""
            if base_ms is not None:
                base = f"; one query per node {base_ms:.1f} ms, CPU {base_cpu:.1f} ms ({base_cpu / cpu:.1f}x)"
            print(f"{shape} ({n_nodes:,} nodes, built in {built:.1f} s): {label}: {size:,} nodes in {ms:.1f} ms, "
                  f"CPU {cpu:.1f} ms (lineage() alone {walk_cpu:.1f} ms){base}")


if __name__ == "__main__":
    main()
