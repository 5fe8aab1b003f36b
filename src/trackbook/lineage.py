"""`trackbook.lineage(node)`: the part of the ML Metadata graph upstream and/or downstream of a node.

    trackbook.lineage(model, "upstream").executions        # what produced this model (and what produced that)
    trackbook.lineage(dataset, "downstream").runs          # which runs used this dataset
    trackbook.lineage(run)                                 # a run's graph with its inputs' origins and outputs' uses

Upstream follows events backwards (an artifact to the executions that output it, an execution to its inputs);
downstream follows them forwards. "both" is the union of the two walks, not a walk that turns around, so the
lineage of a model does not wander into every other model made from the same dataset. A hop is one event.

The result is a `LineageGraph` with `nodes` and `edges` DataFrames and `to_dict()`, the JSON-able form the
board draws. The walk is one recursive SQL query per direction.
"""

from __future__ import annotations

import functools
import gc
import json
import threading
from collections.abc import Callable, Iterable
from functools import cached_property
from operator import itemgetter
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from .artifact import Artifact
from .context import Context, context_row_of
from .execution import Execution
from .resource import timestamp
from .states import ExecutionState
from .store import EXPERIMENT_RUN, PIPELINE_RUN, Store, live_state

__all__ = ["DIRECTIONS", "LineageGraph", "lineage"]

DIRECTIONS = ("upstream", "downstream", "both")
_START = ("start", 0)
_EDGE_COLUMNS = ["source", "target", "type", "path", "artifact", "execution"]
_PREFIXES = np.array(["executions/", "artifacts/"], dtype=object)  # indexed by "is an artifact"
_scan_json = json.JSONDecoder().scan_once  # the C scanner json.loads runs, without its per-call checks
_F = TypeVar("_F", bound=Callable[..., Any])


def _collector_paused(fn: _F) -> _F:
    """Run `fn` with the cyclic garbage collector paused. A whole-graph answer is ~10^5 new tuples, strings and
    arrays without cycles; the collector's passes over them, and the full pass over every object of the process
    they set off, cost about a third of the query. Paused, the next pass sees the survivors once."""

    @functools.wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        # Paused already (by an enclosing call, or by the caller), or off the main thread (the board's
        # follower): the switch is process-wide, so only the caller's own thread flips it.
        if not gc.isenabled() or threading.current_thread() is not threading.main_thread():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return cast(_F, paused)


@_collector_paused
def lineage(
    node: Any,
    direction: str = "both",
    max_hops: int | None = None,
    *,
    same_content: bool = True,
) -> LineageGraph:
    """The lineage subgraph of an Artifact, Execution, Context, ExperimentRun, PipelineJob or Experiment.

    `direction` is "upstream" (what it came from), "downstream" (what came from it) or "both"; `max_hops`
    limits the walk (0: just the node; None: all the way). For a run (or any context) the walk starts from its
    executions and artifacts, and downstream leaves out what the run only consumed. With `same_content`, an
    artifact's copies (the same content hash under another uri) are starting points too.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if max_hops is not None:
        if isinstance(max_hops, bool) or not isinstance(max_hops, int):
            raise TypeError(f"max_hops must be an int or None, got {type(max_hops).__name__}")
        if max_hops < 0:
            raise ValueError(f"max_hops must be >= 0 (0 returns only the starting nodes), got {max_hops}")
    st, up_start, down_start, origin = _starts(node, same_content)
    sides: dict[int, tuple[str, int]] = {}
    rows: dict[int, tuple[Any, ...]] = {}
    events: list[tuple[int, int, str, str | None]] = []
    for code, side, start in (("up", "upstream", up_start), ("down", "downstream", down_start)):
        if direction not in (side, "both") or not start:
            continue
        reached, followed = st.lineage_walk(start, code, max_hops)
        dist = _hops(start, followed, code)
        if not rows:  # the first (often the only) walk: nothing to merge with
            rows, events = reached, followed
            sides = {n: (side, hops) if hops else _START for n, hops in dist.items()}
            continue
        rows.update(reached)
        events = list(dict.fromkeys([*events, *followed]))  # an event both walks followed is one edge
        for n, hops in dist.items():
            current = sides.get(n)
            if current is None or (current[0] != "start" and hops < current[1]):
                sides[n] = _START if hops == 0 else (side, hops)
    if not rows:  # max_hops walks nothing when no direction applies; still show the starting nodes
        rows, _ = st.lineage_walk([*up_start, *down_start], "up", 0)
        sides = dict.fromkeys(rows, ("start", 0))
    return LineageGraph(st, origin, direction, max_hops, rows, sides, events)


def _starts(node: Any, same_content: bool) -> tuple[Store, list[int], list[int], str]:
    """(store, upstream start nodes, downstream start nodes, a label of what was asked)."""
    from .experiment import Experiment
    from .run import ExperimentRun

    if isinstance(node, Artifact):
        st = node._saved_store()
        ids = [node._row.id]
        if same_content and node.content_hash:
            ids += [a.id for a in st.artifacts_with_hash(node.content_hash) if a.id != node._row.id]
        return st, ids, ids, f"artifacts/{node.name}"
    if isinstance(node, Execution):
        st = node._saved_store()
        return st, [-node._row.id], [-node._row.id], f"executions/{node.name}"
    if isinstance(node, (Context, ExperimentRun, Experiment)) or hasattr(node, "_context_row"):
        st = node._saved_store() if isinstance(node, Context) else _store_of(node)
        row = context_row_of(st, node)
        contexts = st.descendant_contexts([row.id])
        exec_ids, art_ids = st.context_nodes(contexts)
        events = st.execution_events(exec_ids)
        made = {e.artifact_id for e in events if e.type == "OUTPUT"}
        consumed_only = {e.artifact_id for e in events if e.type == "INPUT"} - made
        up = [-e for e in exec_ids] + art_ids
        down = [-e for e in exec_ids] + [a for a in art_ids if a not in consumed_only]
        return st, up, down, f"contexts/{st.context_resource_id(row)}"
    raise TypeError(
        "lineage() takes an Artifact, Execution, Context, ExperimentRun, PipelineJob or Experiment, "
        f"got {type(node).__name__}"
    )


def _store_of(obj: Any) -> Store:
    st = getattr(obj, "_store", None)
    if st is None:
        raise RuntimeError(f"{type(obj).__name__} has no store yet (a PipelineJob must be run or submitted first)")
    return st  # type: ignore[no-any-return]


def _hops(start: Iterable[int], events: list[tuple[int, int, str, str | None]], direction: str) -> dict[int, int]:
    """Hop distance of each node from the nearest start node, following events the way the walk went."""
    forward = "INPUT" if direction == "down" else "OUTPUT"  # the event type that leads from artifact to execution
    out_edges: dict[int, list[int]] = {}
    get = out_edges.get
    for execution_id, artifact_id, etype, _ in events:
        source, target = (artifact_id, -execution_id) if etype == forward else (-execution_id, artifact_id)
        followers = get(source)
        if followers is None:
            out_edges[source] = [target]
        else:
            followers.append(target)
    dist = dict.fromkeys(start, 0)
    queue = list(dist)
    for n in queue:  # breadth-first: the queue grows while it is read, so a node's first distance is its least
        hops = dist[n] + 1
        for m in get(n, ()):
            if m not in dist:
                dist[m] = hops
                queue.append(m)
    return dist


def _metadata(text: str | None) -> Any:
    """A node's metadata text parsed: the JSON scanner straight away (json.loads' own overhead is most of the cost
    of a small object, and a graph has thousands), json.loads for what it does not read whole (whitespace, errors)."""
    if text is None or text == "{}":  # most nodes carry "{}"
        return {}
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, TypeError):
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class LineageGraph:
    """A lineage subgraph: `nodes` and `edges` DataFrames, `artifacts` / `executions` / `runs` views, and
    `to_dict()` for drawing. Edges point the way data flows: artifact -> execution for an INPUT, execution ->
    artifact for an OUTPUT. Node ids are `artifacts/<resource id>` and `executions/<resource id>`."""

    def __init__(
        self,
        store: Store,
        origin: str,
        direction: str,
        max_hops: int | None,
        rows: dict[int, tuple[Any, ...]],
        sides: dict[int, tuple[str, int]],
        events: list[tuple[int, int, str, str | None]],
    ) -> None:
        self.store = store
        self.origin = origin
        self.direction = direction
        self.max_hops = max_hops
        # signed id -> (signed id, name, display_name, schema_title, state, uri, size, content_hash, create_time,
        # metadata), as Store.lineage_walk returns them
        self._rows = rows
        self._sides = sides
        self._events = events

    def __repr__(self) -> str:
        arts = sum(1 for n in self._rows if n > 0)
        return (
            f"<LineageGraph {self.direction} of {self.origin}: {arts} artifact(s), {len(self._rows) - arts} "
            f"execution(s), {len(self._events)} edge(s)>"
        )

    def __len__(self) -> int:
        return len(self._rows)

    def _key(self, node: int) -> str:
        return f"{'artifacts' if node > 0 else 'executions'}/{self._rows[node][1]}"

    # -- frames -------------------------------------------------------------------------------------------

    @cached_property
    @_collector_paused
    def nodes(self) -> pd.DataFrame:
        """One row per node: id, kind, resource_id, display_name, schema_title, state, uri, size, content_hash,
        create_time (UTC), side (start / upstream / downstream), hops from the start, metadata (a dict).
        Sorted by hops."""
        rows, sides = self._rows, self._sides
        if not rows:
            return _EMPTY_NODES.copy()
        side_of, hop_of = zip(*[sides.get(n, _START) for n in rows])
        hops = np.array(hop_of, dtype=np.int64)
        # stable: each walk's breadth-first order within a hop; the columns are cut from the rows in one pass
        order = np.argsort(hops, kind="stable")
        picked = order.tolist()
        columns = list(zip(*_pick(list(rows.values()), picked)))
        is_artifact = (np.array(columns[0], dtype=np.int64) > 0).astype(np.intp)
        names = np.array(columns[1], dtype=object)
        return pd.DataFrame({
            "id": _text(_PREFIXES[is_artifact] + names),  # object arrays add element by element, in C
            "kind": _KINDS.take(is_artifact),
            "resource_id": _text(names),
            # these may be missing: left to pandas' inference, as ever (all missing: an object column)
            "display_name": columns[2],
            "schema_title": _text(columns[3]),
            "state": _text(columns[4]),
            "uri": columns[5],
            "size": _sizes(columns[6]),
            "content_hash": columns[7],
            "create_time": pd.to_datetime(np.array(columns[8], dtype=float), unit="s", utc=True),
            "side": _text(_pick(side_of, picked)),
            "hops": hops[order],
            "metadata": [{} if text == "{}" else _metadata(text) for text in columns[9]],
        })

    @cached_property
    @_collector_paused
    def edges(self) -> pd.DataFrame:
        """One row per event: source, target (node ids, the way data flows), type (INPUT / OUTPUT), path, and
        the artifact and execution resource ids."""
        rows = self._rows
        events = self._events
        if not events:
            return pd.DataFrame({c: [] for c in _EDGE_COLUMNS}, columns=_EDGE_COLUMNS)
        execution_ids, artifact_ids, types, paths = zip(*events)
        arts = np.array([rows[a][1] for a in artifact_ids], dtype=object)
        execs = np.array([rows[-e][1] for e in execution_ids], dtype=object)
        inputs = np.array(types, dtype=object) == "INPUT"
        art_ids = "artifacts/" + arts  # object arrays: one str concatenation per element, in C
        exec_ids = "executions/" + execs
        return pd.DataFrame({
            "source": _text(np.where(inputs, art_ids, exec_ids)),
            "target": _text(np.where(inputs, exec_ids, art_ids)),
            "type": _text(types),
            "path": paths,
            "artifact": _text(arts),
            "execution": _text(execs),
        }, columns=_EDGE_COLUMNS)

    @property
    def artifacts(self) -> pd.DataFrame:
        """The artifact rows of `nodes`."""
        return self.nodes[self.nodes.kind == "artifact"].reset_index(drop=True)

    @property
    def executions(self) -> pd.DataFrame:
        """The execution rows of `nodes`."""
        return self.nodes[self.nodes.kind == "execution"].reset_index(drop=True)

    @cached_property
    def contexts(self) -> pd.DataFrame:
        """Which contexts the nodes belong to: node, context (resource id), schema_title, display_name."""
        links = self.store.node_contexts([n for n in self._rows if n > 0], [-n for n in self._rows if n < 0])
        rows = self.store.contexts_by_ids({c for _, c in links})
        records = [
            (self._key(n), self.store.context_resource_id(rows[c]), rows[c].schema_title, rows[c].display_name)
            for n, c in links if c in rows and n in self._rows
        ]
        return pd.DataFrame.from_records(records, columns=["node", "context", "schema_title", "display_name"])

    @cached_property
    def runs(self) -> pd.DataFrame:
        """The experiment runs and pipeline runs whose executions are in the graph: experiment_name, run_name,
        run_type, state, and executions (how many of the graph's executions are theirs)."""
        links = self.store.node_contexts([], [-n for n in self._rows if n < 0])
        counts: dict[int, int] = {}
        for _, c in links:
            counts[c] = counts.get(c, 0) + 1
        rows = self.store.contexts_by_ids(counts)
        runs = [r for r in rows.values() if r.schema_title in (EXPERIMENT_RUN, PIPELINE_RUN)]
        experiments = self.store.contexts_by_ids({r.experiment_id for r in runs if r.experiment_id})
        records = [
            (
                experiments[r.experiment_id].name if r.experiment_id in experiments else "",
                r.name,
                r.schema_title,
                live_state(r.state, r.host, r.pid, r.heartbeat) or ExecutionState.STATE_UNSPECIFIED.name,
                counts[r.id],
            )
            for r in sorted(runs, key=lambda r: (r.create_time, r.id))
        ]
        return pd.DataFrame.from_records(
            records, columns=["experiment_name", "run_name", "run_type", "state", "executions"]
        )

    # -- objects and drawing ----------------------------------------------------------------------------------

    def get_artifacts(self) -> list[Artifact]:
        """The artifacts of the graph as Artifact objects."""
        found = self.store.artifacts_by_ids(n for n in self._rows if n > 0)
        return [Artifact._from_row(self.store, a) for a in found.values()]

    def get_executions(self) -> list[Execution]:
        """The executions of the graph as Execution objects."""
        found = self.store.executions_by_ids(-n for n in self._rows if n < 0)
        return [Execution._from_row(self.store, e) for e in found.values()]

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain JSON-able data for the board: {origin, direction, max_hops, nodes, edges}, with
        None where the frames hold NaN (JSON has none).

        Each node has id, kind, label (display name or resource id), schema_title, state, uri, side, hops and
        create_time (RFC-3339); each edge has source, target, type and path. Text is data, never markup.
        """
        nodes = []
        for row in self.nodes.itertuples(index=False):
            when = timestamp(row.create_time.timestamp()) if pd.notna(row.create_time) else None
            nodes.append({
                "id": row.id,
                "kind": row.kind,
                "label": _label(row),
                "resource_id": row.resource_id,
                "schema_title": row.schema_title,
                "state": _opt(row.state),
                "uri": _opt(row.uri),
                "side": row.side,
                "hops": int(row.hops),
                "create_time": when.isoformat().replace("+00:00", "Z") if when else None,
            })
        edges = [
            {"source": e.source, "target": e.target, "type": e.type, "path": _opt(e.path)}
            for e in self.edges.itertuples(index=False)
        ]
        return {
            "origin": self.origin,
            "direction": self.direction,
            "max_hops": self.max_hops,
            "nodes": nodes,
            "edges": edges,
        }

    def to_dot(self) -> str:
        """The graph in Graphviz DOT (artifacts as boxes, executions as ellipses), for `dot -Tsvg`."""

        def esc(text: str) -> str:
            return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

        lines = ["digraph lineage {", "  rankdir=LR;"]
        for row in self.nodes.itertuples(index=False):
            shape = "box" if row.kind == "artifact" else "ellipse"
            label = f"{esc(_label(row))}\\n{esc(row.schema_title)}"
            lines.append(f'  "{esc(row.id)}" [shape={shape}, label="{label}"];')
        for e in self.edges.itertuples(index=False):
            lines.append(f'  "{esc(e.source)}" -> "{esc(e.target)}" [label="{e.type}"];')
        lines.append("}")
        return "\n".join(lines)


def _opt(value: Any) -> str | None:
    """A text cell of the frames as str, or None where it is missing (the frames hold NaN or None there)."""
    return value if isinstance(value, str) else None


def _label(row: Any) -> str:
    """A node's display name, or its resource id when it has none (the frame holds NaN or None there)."""
    name = row.display_name
    return name if isinstance(name, str) and name else str(row.resource_id)


def _pick(items: list[Any], order: list[int]) -> list[Any]:
    """items[i] for each i of order, in one C call (itemgetter of one index returns the item, not a tuple)."""
    if len(order) < 2:
        return [items[i] for i in order]
    return list(itemgetter(*order)(items))


# The dtype pandas infers for text: "str" in pandas 3, object before. Columns that are always text are built in it
# directly, which skips the inference pass (half the cost of a text column); the frames are the same.
_TEXT_DTYPE = pd.DataFrame({"text": ["text"]}).dtypes["text"]
_TEXT_IS_OBJECT = isinstance(_TEXT_DTYPE, np.dtype) and _TEXT_DTYPE.kind == "O"


def _text(values: Any) -> Any:
    """Text values (never missing) as the column pandas would infer for them."""
    if _TEXT_IS_OBJECT:
        return np.asarray(values, dtype=object)
    return pd.array(np.asarray(values, dtype=object), dtype=_TEXT_DTYPE)


_KINDS = _text(["execution", "artifact"])  # indexed by "is an artifact"


def _sizes(values: tuple[Any, ...]) -> Any:
    """The size column (nullable Int64); a graph without any size, the usual case, skips the per-value cast."""
    if values.count(None) == len(values):
        return pd.arrays.IntegerArray(np.zeros(len(values), np.int64), np.ones(len(values), bool))
    return pd.array(list(values), dtype="Int64")


def _empty_nodes() -> pd.DataFrame:
    columns: dict[str, Any] = {c: [] for c in _NODE_COLUMNS}
    columns["size"] = pd.array([], dtype="Int64")
    columns["create_time"] = pd.to_datetime(np.array([], dtype=float), unit="s", utc=True)
    columns["hops"] = np.array([], dtype=np.int64)
    return pd.DataFrame(columns)


_NODE_COLUMNS = ["id", "kind", "resource_id", "display_name", "schema_title", "state", "uri", "size", "content_hash",
                 "create_time", "side", "hops", "metadata"]
_EMPTY_NODES = _empty_nodes()
