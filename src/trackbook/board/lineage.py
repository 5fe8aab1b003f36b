"""The lineage panel's data: the ML Metadata graph around one run of the board, as JSON for the browser.

`run_graph` walks `trackbook.lineage()` from a run (or pipeline run) context and returns its `to_dict()`
form, each node with the contexts it belongs to, cut to the MAX_NODES nodes nearest the run. Everything in it
is text or numbers from the store; the browser shows it as text.
"""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..lineage import DIRECTIONS, lineage
from ..store import RUN_TYPES, Store

MAX_NODES = 300  # nodes drawn at most: the nearest to the run, by hops


def run_graph(store: Store, run_id: int, direction: str = "both") -> dict[str, Any]:
    """The lineage graph of run `run_id` as {origin, direction, max_hops, nodes, edges, total}: `total` counts
    every node reached, `nodes` holds the MAX_NODES nearest (each with `contexts`, the names of the contexts
    it belongs to), `edges` the events between them. LookupError when the run is gone."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    row = store.context_by_id(run_id)
    if row is None or row.schema_title not in RUN_TYPES:
        raise LookupError(f"run {run_id} is no longer in the store")
    graph = lineage(Context._from_row(store, row), direction)
    data = graph.to_dict()
    nodes = data["nodes"]  # sorted by hops from the run
    total = len(nodes)
    nodes = nodes[:MAX_NODES]
    kept = {n["id"] for n in nodes}
    data["edges"] = [e for e in data["edges"] if e["source"] in kept and e["target"] in kept]
    member: dict[str, list[str]] = {}
    if nodes:
        links = graph.contexts
        for node, context in zip(links["node"].tolist(), links["context"].tolist()):
            if node in kept:
                member.setdefault(node, []).append(str(context))
    for n in nodes:
        n["contexts"] = member.get(n["id"], [])
    data["nodes"] = nodes
    data["total"] = total
    return data

