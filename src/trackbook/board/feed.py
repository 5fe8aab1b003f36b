"""The kernel side of a board's data: what the browser holds, and what changed in the store since.

`Feed` follows the runs of some experiments in a store. `scan()` compares the store with what was sent and
returns a `Delta`: run rows that are new or changed, runs that went away, new series keys and the new tail
points of every series the browser holds. `load()` reads series the browser should hold but does not yet
(a newly selected run, a newly charted metric), summarised per pixel column of the chart by the store
(summary.py) so a spike never vanishes, several at once on reader threads. `snapshot()` is everything at
once (first display and resync). The follower calls these under the board's lock, tests call them directly.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..reduce import reduction_indices
from ..store import Store
from .encode import Part, RunRow, table_row
from .summary import chart_points

AUTO_SELECT = 10  # runs drawn when the board opens: the newest ones
AUTO_CHARTS = 12  # charts shown when no metrics were named: the first series keys by name
DEFAULT_PX = 800  # chart width (CSS px) assumed until the browser reports its own
MIN_PX, MAX_PX = 100, 4000
GROWTH = 8  # a held series is reduced again once it has this many points per pixel
LIVENESS_EVERY = 1.0  # seconds between checks that RUNNING runs' processes are alive, when nothing changed
RUNS_EVERY = 1.0  # seconds after which run rows are compared again even when their digest did not change
READERS = 2  # series read at once, each on its own thread and connection (SQLite scans without the GIL)


@dataclass
class Held:
    """One series as the browser holds it: reduced points plus raw tail points appended since."""

    steps: np.ndarray  # int64
    wall: np.ndarray  # int64 ms
    values: np.ndarray  # float64, NaN kept
    full: bool  # every stored point is here

    @property
    def last(self) -> int:
        return int(self.steps[-1]) if len(self.steps) else -1

    def part(self, run: int, key: str, mode: str = "set") -> Part:
        return Part(run, key, mode, self.steps, self.wall, self.values, self.full)


@dataclass
class Delta:
    """What one scan found: rows to upsert, runs removed, new keys, series parts and series dropped."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    charts: list[str] | None = None  # the charted metrics, when they changed
    parts: list[Part] = field(default_factory=list)
    drop: list[tuple[int, str]] = field(default_factory=list)
    selection_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.rows or self.removed or self.keys or self.charts is not None or self.parts or self.drop)


def _same_point(held: Held, head: tuple[Any, ...]) -> bool:
    """Whether the last point held is `head` (step, wall ms, value; None or NaN for NaN)."""
    if not len(held.steps):
        return False
    value = held.values[-1]
    other = np.nan if head[2] is None else head[2]
    same_value = value == other or (value != value and other != other)
    return bool(held.steps[-1] == head[0] and held.wall[-1] == head[1] and same_value)


def reduce_series(steps: np.ndarray, wall: np.ndarray, values: np.ndarray, px: int) -> Held:
    """M4-reduce a series to `px` buckets when it has more than 4 points a bucket, else keep it whole."""
    if len(steps) <= 4 * px:
        return Held(steps, wall, values, True)
    idx = reduction_indices(steps, values, px)
    return Held(steps[idx], wall[idx], values[idx], False)


class _ReductionCache:
    """Reduced series shared by every board of this process, so showing a board again costs no re-read.

    An entry is valid while its series has not grown (same last step and value); bounded by points held.
    Reader threads use it at once, hence the lock.
    """

    def __init__(self, max_points: int = 600_000) -> None:
        self.max_points = max_points
        self.points = 0
        self.entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Held]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], head: tuple[Any, ...]) -> Held | None:
        with self.lock:
            hit = self.entries.get(key)
            if hit is None or hit[0] != head:
                return None
            self.entries.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[Any, ...], head: tuple[Any, ...], held: Held) -> None:
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.points -= len(old[1].steps)
            self.entries[key] = (head, held)
            self.points += len(held.steps)
            while self.points > self.max_points and len(self.entries) > 1:
                _, (_, gone) = self.entries.popitem(last=False)
                self.points -= len(gone.steps)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.points = 0


_reductions = _ReductionCache()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _readers() -> ThreadPoolExecutor:
    """The reader threads shared by every board of this process (started on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(READERS, thread_name_prefix="trackbook-board-reader")
        return _pool


class Feed:
    """A board's view of a store: followed experiments and runs, the selection, charted metrics, held series."""

    def __init__(
        self,
        store: Store,
        experiments: Sequence[str] | None = None,
        runs: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        *,
        px: int = DEFAULT_PX,
    ) -> None:
        self.store = store
        self.wanted = None if experiments is None else list(experiments)
        self.only = None if runs is None else set(runs)
        self.metrics: list[str] | None = None if metrics is None else list(metrics)
        self.px = px
        self.follow_new = True
        self.experiments: dict[int, str] = {}
        self.versions: dict[int, tuple[Any, ...]] = {}  # id -> (name, create_time, update_time, state, host, pid, beat)
        self.raw: dict[int, RunRow] = {}
        self.rows: dict[int, dict[str, Any]] = {}  # the encoded rows as the browser has them
        self.heads: dict[int, dict[int, tuple[int, int, float | None]]] = {}  # run -> key id -> (step, wall, value)
        self.key_names: dict[int, str] = {}
        self.key_ids: dict[str, int] = {}
        self.keys: list[str] = []  # series keys of the followed runs, sorted at first scan, then as they appear
        self.held: dict[tuple[int, int], Held] = {}
        self.pending: list[tuple[int, int]] = []  # series to send whole, first first
        self.selected: list[int] = []
        self._known_at_start: set[int] | None = None
        self._charts: list[str] = []
        self.seen_version: tuple[int, int] | None = None
        self.cursor: int | None = None  # the change number of the last series head read (None: none read yet)
        self._digest: list[tuple[Any, ...]] | None = None  # of the followed runs' rows when last compared
        self._runs_at = 0.0
        self._liveness_at = 0.0

    # -- names -----------------------------------------------------------------------------------------

    def key_id(self, name: str) -> int | None:
        return self.key_ids.get(name)

    def labels(self, run_ids: Iterable[int]) -> list[str]:
        """Run names, qualified as "experiment/name" where another followed run has the same name."""
        counts: dict[str, int] = {}
        for r in self.rows.values():
            counts[r["name"]] = counts.get(r["name"], 0) + 1
        out = []
        for rid in run_ids:
            row = self.rows.get(rid)
            if row is not None:
                out.append(f"{row['exp']}/{row['name']}" if counts[row["name"]] > 1 else row["name"])
        return out

    def resolve(self, names: Iterable[str]) -> list[int]:
        """Run ids for run names ("name" or "experiment/name"); ValueError naming the unknown ones."""
        by_name: dict[str, list[int]] = {}
        for rid, row in self.rows.items():
            by_name.setdefault(row["name"], []).append(rid)
            by_name.setdefault(f"{row['exp']}/{row['name']}", []).append(rid)
        out: list[int] = []
        unknown: list[str] = []
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"selected run names must be str, got {type(name).__name__} {name!r}")
            ids = by_name.get(name)
            if ids is None:
                unknown.append(name)
            else:
                out += [i for i in sorted(ids) if i not in out]
        if unknown:
            shown = ", ".join(repr(r["name"]) for r in list(self.rows.values())[:8]) or "none yet"
            more = ", ..." if len(self.rows) > 8 else ""
            raise ValueError(f"no run called {', '.join(map(repr, unknown))} on this board (runs: {shown}{more})")
        return out

    # -- the charted metrics and the series the browser should hold ------------------------------------

    def charts(self) -> list[str]:
        """The metrics drawn, one chart each: the ones named, else the first AUTO_CHARTS series keys."""
        return list(self.metrics) if self.metrics is not None else self.keys[:AUTO_CHARTS]

    def wanted_series(self) -> list[tuple[int, int]]:
        """(run id, key id) of every series to draw: selected runs x charted metrics, where it exists."""
        ids = [self.key_id(k) for k in self.charts()]
        out = []
        # Newest selected runs first, so the runs being watched arrive first while the rest loads.
        for rid in sorted(self.selected, key=lambda r: -self.rows[r]["start"] if r in self.rows else 0):
            heads = self.heads.get(rid, {})
            out += [(rid, kid) for kid in ids if kid is not None and kid in heads]
        return out

    def sync_wanted(self, delta: Delta) -> None:
        """Queue series newly wanted; drop held series no longer wanted (recorded in `delta.drop`)."""
        wanted = self.wanted_series()
        want = set(wanted)
        for pair in list(self.held):
            if pair not in want:
                del self.held[pair]
                delta.drop.append((pair[0], self.key_names[pair[1]]))
        queued = set(self.pending)
        self.pending = [p for p in self.pending if p in want]
        self.pending += [p for p in wanted if p not in self.held and p not in queued]

    def set_selection(self, run_ids: Iterable[int]) -> None:
        self.selected = [r for r in dict.fromkeys(run_ids) if r in self.rows]

    def set_metrics(self, metrics: Sequence[str] | None) -> None:
        self.metrics = None if metrics is None else list(dict.fromkeys(metrics))

    # -- reading the store -----------------------------------------------------------------------------

    def scan(self, *, force: bool = False) -> Delta:
        """Compare the store with what the browser holds. Cheap when nothing was committed since last time."""
        delta = Delta()
        store = self.store
        version = store.data_version()
        changed = force or version != self.seen_version
        self.seen_version = version
        if changed:
            runs_changed, touched, fresh = self._scan_runs(delta, force)
            touched |= self._scan_series(delta, fresh, runs_changed)
            for rid in sorted(touched):
                if rid in self.raw:
                    self._emit_row(rid, delta)
            self._check_liveness(delta)
        elif time.monotonic() - self._liveness_at > LIVENESS_EVERY:
            self._check_liveness(delta)
        charts = self.charts()
        if charts != self._charts:
            self._charts = charts
            delta.charts = charts
        self.sync_wanted(delta)
        return delta

    def _scan_runs(self, delta: Delta, force: bool = False) -> tuple[bool, set[int], list[int]]:
        """Follow new, changed and removed runs; returns whether any followed run changed, the ids whose rows
        must be sent again, and the ids followed from now on (whose series heads have not been read).

        The runs are compared row by row only when their digest changed (or RUNS_EVERY seconds passed): a
        commit of points alone costs one aggregate query, whatever the number of runs.
        """
        store = self.store
        self.experiments = dict(store.experiment_names(self.wanted))
        digest = store.run_digest(list(self.experiments))
        now = time.monotonic()
        if digest == self._digest and not force and now - self._runs_at < RUNS_EVERY:
            return False, set(), []
        self._digest, self._runs_at = digest, now
        versions = {}
        for vid, name, created, updated, state, host, pid, beat in store.run_versions(list(self.experiments)):
            if self.only is None or name in self.only:
                versions[vid] = (name, created, updated, state, host, pid, beat)
        gone = [rid for rid in self.versions if rid not in versions]
        reread = []
        for rid, v in versions.items():
            old = self.versions.get(rid)
            if old is not None and old[:2] != v[:2]:  # the id was reused by a new run
                gone.append(rid)
                reread.append(rid)
            elif old is None or old[2:4] != v[2:4]:
                reread.append(rid)
            elif old[4:] != v[4:]:  # heartbeat only: liveness may change
                self.raw[rid].host, self.raw[rid].pid, self.raw[rid].heartbeat = v[4:]
        for rid in gone:
            self._forget(rid, delta)
            if rid not in versions:
                delta.removed.append(rid)
        newly_followed = [rid for rid in versions if rid not in self.versions or rid in gone]
        self.versions = versions
        new_ids = [rid for rid in reread if rid not in self.rows]
        for values in store.run_rows(reread):
            row = RunRow(*values)
            self.raw[row.id] = row
        if self._known_at_start is None:
            self._known_at_start = set(versions)
            if not self.selected:
                newest = sorted(versions, key=lambda r: (versions[r][1], r))[-AUTO_SELECT:]
                self.selected = sorted(newest)
        elif self.follow_new:
            fresh = [r for r in new_ids if r not in self._known_at_start and r not in self.selected]
            if fresh:
                self.selected += fresh
                delta.selection_changed = True
        return True, set(reread), newly_followed

    def _scan_series(self, delta: Delta, fresh: list[int], runs_changed: bool) -> set[int]:
        """Read the series heads that moved since the last scan, and every head of runs followed from now on:
        new keys, rows whose last values moved, tails of held series. Returns the runs whose heads moved.

        Every head is read again on the first scan, and after a commit that changed neither a head nor a
        followed run (lineage, runs not followed, or points from an older trackbook, which numbers no head).
        """
        store = self.store
        rows: list[tuple[Any, ...]] = []
        if self.cursor is None:
            self.cursor = store.series_cursor()  # before the heads: one written meanwhile is read again next time
        else:
            rows = store.series_heads_since(self.cursor)
            if rows:
                self.cursor = int(rows[-1][5])
        if not rows and not runs_changed:
            rows = store.series_heads(list(self.versions))
        elif fresh:
            rows += store.series_heads(fresh)
        moved: list[tuple[int, int]] = []
        for run_id, kid, step, wall, value, *_ in rows:
            if run_id not in self.versions:
                continue  # not followed: a run of another experiment, or one the next run scan brings
            head = (step, wall, value)
            heads = self.heads.setdefault(run_id, {})
            if heads.get(kid) != head:
                heads[kid] = head
                moved.append((run_id, kid))
        new_kids = {kid for _, kid in moved if kid not in self.key_names}
        if new_kids:
            self.key_names = self.store.key_names()
            self.key_ids = {v: k for k, v in self.key_names.items()}
            known = set(self.keys)
            names = sorted({self.key_names[k] for k in new_kids} - known)
            if not self.keys:  # the first scan: keys by name
                self.keys = names
            else:
                self.keys += names
            delta.keys = names
        # Tails of the series the browser holds.
        for rid, kid in moved:
            held = self.held.get((rid, kid))
            if held is None:
                continue
            head = self.heads[rid][kid]
            if head[0] > held.last or (head[0] == held.last and not _same_point(held, head)):
                # From the last step sent, inclusive: a point logged again there (an overwrite) replaces it.
                steps, wall, values = self.store.series_points(rid, kid, start=held.last)
                if len(steps):
                    self._append(rid, kid, held, steps, wall, values, delta)
            elif head[0] < held.last:  # the series was rewritten shorter: send it again whole
                del self.held[(rid, kid)]
                delta.drop.append((rid, self.key_names[kid]))
        return {rid for rid, _ in moved}

    def _append(self, rid: int, kid: int, held: Held, steps: np.ndarray, wall: np.ndarray, values: np.ndarray,
                delta: Delta) -> None:
        key = self.key_names[kid]
        keep = len(held.steps)
        if len(held.steps) and steps[0] == held.last:
            if _same_point(held, (int(steps[0]), int(wall[0]), float(values[0]))):
                steps, wall, values = steps[1:], wall[1:], values[1:]  # unchanged: not sent again
            else:
                keep -= 1  # overwritten: the part's first point replaces the last one held
            if not len(steps):
                return
        delta.parts.append(Part(rid, key, "append", steps, wall, values, held.full))
        merged = Held(np.concatenate([held.steps[:keep], steps]), np.concatenate([held.wall[:keep], wall]),
                      np.concatenate([held.values[:keep], values]), held.full)
        if len(merged.steps) > GROWTH * self.px:
            merged = reduce_series(merged.steps, merged.wall, merged.values, self.px)
            merged.full = False
        self.held[(rid, kid)] = merged

    def _check_liveness(self, delta: Delta) -> None:
        """Re-emit RUNNING rows whose process is now known dead (CRASHED): no commit announces that."""
        self._liveness_at = time.monotonic()
        emitted = {r["id"] for r in delta.rows}
        for rid, row in list(self.rows.items()):
            if row["state"] == "RUNNING" and rid not in emitted:
                raw = self.raw.get(rid)
                if raw is not None and raw.live_state != "RUNNING":
                    self._emit_row(rid, delta)

    def _emit_row(self, rid: int, delta: Delta) -> None:
        raw = self.raw[rid]
        names = self.key_names
        heads = self.heads.get(rid, {})
        last = {names[k]: (h[0], h[2]) for k, h in heads.items() if k in names}
        last_wall = max((h[1] for h in heads.values()), default=None)
        row = table_row(raw, self.experiments.get(raw.experiment_id, ""), last,
                        None if last_wall is None else last_wall / 1000.0)
        self.rows[rid] = row
        delta.rows.append(row)

    def _forget(self, rid: int, delta: Delta) -> None:
        self.rows.pop(rid, None)
        self.raw.pop(rid, None)
        self.heads.pop(rid, None)
        if rid in self.selected:
            self.selected.remove(rid)
            delta.selection_changed = True
        for pair in [p for p in self.held if p[0] == rid]:
            del self.held[pair]
            delta.drop.append((rid, self.key_names[pair[1]]))
        self.pending = [p for p in self.pending if p[0] != rid]

    def load(self, budget: float = 0.25, max_points: int = 400_000) -> list[Part]:
        """Read queued series, whole or summarised to the chart's width, for at most `budget` seconds (at
        least one round: `READERS` series read at once)."""
        parts: list[Part] = []
        start = time.perf_counter()
        points = 0
        while self.pending:
            batch = self.pending[:READERS]
            del self.pending[:READERS]
            if len(batch) == 1:
                helds = [self._read(*batch[0])]
            else:
                helds = list(_readers().map(lambda pair: self._read(*pair), batch))
            for (rid, kid), held in zip(batch, helds):
                self.held[(rid, kid)] = held
                parts.append(held.part(rid, self.key_names[kid]))
                points += len(held.steps)
            if time.perf_counter() - start > budget or points > max_points:
                break
        return parts

    def _read(self, rid: int, kid: int) -> Held:
        """One series as the chart draws it (cached per process while the series has not changed)."""
        head = self.heads.get(rid, {}).get(kid)
        cache_key = (str(self.store.path), rid, kid, self.px, self.raw[rid].create_time)
        hit = _reductions.get(cache_key, head or ())
        if hit is not None:
            return hit
        steps, wall, values, full = chart_points(self.store, rid, kid, self.px)
        held = Held(steps, wall, values, full)
        if len(steps):
            # The head read before may be older than the points read now: key the cache on what was read.
            v = float(values[-1])
            _reductions.put(cache_key, (int(steps[-1]), int(wall[-1]), None if v != v else v), held)
        return held

    def detail(self, key: str, ranges: Sequence[tuple[int, float, float]], px: int) -> list[Part]:
        """The points of (run, lo, hi) step ranges of `key` at full detail, or summarised to `px` buckets when
        a range holds more than 4 points a pixel (a zoom)."""
        kid = self.key_id(key)
        if kid is None:
            return []
        px = max(MIN_PX, min(MAX_PX, int(px)))
        parts = []
        for rid, lo, hi in ranges:
            if rid not in self.rows:
                continue
            start = int(np.floor(lo)) if np.isfinite(lo) else None
            stop = int(np.ceil(hi)) if np.isfinite(hi) else None
            steps, wall, values, full = chart_points(self.store, rid, kid, px, start=start, stop=stop)
            parts.append(Part(rid, key, "range", steps, wall, values, full))
        return parts

    def snapshot(self) -> tuple[dict[str, Any], list[Part]]:
        """Everything the browser needs, as (JSON header without series, parts of every held series).

        The store's path is not in it: the header goes into saved notebooks and shared pages, where a local
        path is neither useful nor anyone else's business (`repr(board)` names the store)."""
        header = {
            "experiments": sorted(self.experiments.values()),
            "wanted": self.wanted,
            "runs": list(self.rows.values()),
            "keys": list(self.keys),
            "charts": self.charts(),
            "loading": len(self.pending),
        }
        parts = [held.part(rid, self.key_names[kid]) for (rid, kid), held in self.held.items()]
        return header, parts
