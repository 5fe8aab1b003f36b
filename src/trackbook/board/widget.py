"""The `Board` widget: a live run table and overlaid curves in the notebook, with no server.

Python owns the data and the browser owns interaction. Traits hold view options and the snapshot the board
opened with (saved with the notebook); custom messages carry what changed since, each numbered (`seq`) so
the browser notices a gap and asks for a resync. The message protocol is documented in docs/board.md and
mirrored in js/protocol.ts.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import anywidget
import pandas as pd
import traitlets as t

from .. import frames
from ..exceptions import StoreError
from ..session import resolve
from ..store import Store
from .args import experiments_label
from .args import names as _names
from .args import title as _title
from .encode import Part, pack
from .feed import DEFAULT_PX, MAX_PX, MIN_PX, Delta, Feed
from .follower import Follower, hasten, relax

STATIC = Path(__file__).resolve().parent.parent / "static"
X_AXES = ("step", "wall", "relative")
HISTORY_MESSAGES = 256  # deltas kept for a resync; an older gap gets a fresh snapshot instead
HISTORY_BYTES = 32 << 20
INITIAL_BUDGET = 0.1  # seconds spent reading series before the board first shows; the rest streams in
TICK_BUDGET = 0.15  # seconds of series reading per message while loading
QUIET = 5.0  # seconds without changes after which the saved snapshot trait is brought up to date
SNAPSHOT_MAX_BYTES = 2 << 20  # curves kept in that trait at most; beyond, it holds the table only
COPY_EVERY = 60.0  # seconds between refreshes of the notebook's static copy while the board keeps changing


class Board(anywidget.AnyWidget):
    """A live board of the runs of some experiments of a store. Create it with `trackbook.board(...)`.

    Public traits (synced with the browser, saved with the notebook): `metrics` (the charted series keys;
    None charts every key), `x_axis` ("step", "wall" or "relative"), `log_y`, `smoothing` (EMA weight,
    0 to 0.999) and `follow_new` (new runs join the selection). `selected` lists the selected runs' names.
    """

    _esm = STATIC / "widget.js"

    _uid = t.Unicode().tag(sync=True)
    """A unique id, so the browser keeps one data store per board."""
    _snapshot = t.Dict().tag(sync=True)
    """The data the board opened with: run rows, keys, charts and packed series (see docs/board.md)."""
    _selection = t.List(t.Int()).tag(sync=True)
    """Ids of the selected runs (the browser's view of `selected`)."""
    _baseline = t.Int(-1).tag(sync=True)
    """Id of the pinned baseline run, -1 for none."""
    _view = t.Dict().tag(sync=True)
    """Table state set by the browser (sort, filter, hidden columns, differences only), kept on save."""
    _px = t.Int(DEFAULT_PX).tag(sync=True)
    """Width of a chart's plot area in CSS pixels, reported by the browser; series are reduced to it."""

    metrics = t.Any(None, allow_none=True).tag(sync=True)
    """The series keys charted, one chart each; None charts every key (up to 12), new keys included."""
    x_axis = t.Enum(X_AXES, default_value="step").tag(sync=True)
    """The x axis of every chart: "step", "wall" (wall-clock time) or "relative" (time since the run began)."""
    log_y = t.Bool(False).tag(sync=True)
    """Log-scale y axes."""
    smoothing = t.Any(0.0).tag(sync=True)
    """EMA smoothing weight from 0 (raw) to 0.999; the raw line stays faint behind the smoothed one."""
    follow_new = t.Bool(True).tag(sync=True)
    """Runs that appear while the board is open are selected, so their curves show as they train."""
    selected = t.Any([])
    """Names of the selected runs ("experiment/run" when two shown experiments share a run name)."""

    def __init__(
        self,
        experiment: str | Sequence[str] | None = None,
        *,
        metrics: str | Sequence[str] | None = None,
        runs: str | Sequence[str] | None = None,
        store: str | os.PathLike[str] | Store | None = None,
        live: bool = True,
    ) -> None:
        if not (STATIC / "widget.js").is_file():
            raise RuntimeError(
                f"the board's front end is not built ({STATIC / 'widget.js'} is missing); run `npm install` and "
                "`npm run build` in the trackbook checkout, or install trackbook from a wheel"
            )
        experiments = _names(experiment, "experiment")
        run_names = _names(runs, "runs")
        metric_names = _names(metrics, "metrics")
        st, writer = resolve(store)
        writer.flush()  # what was logged before the board was made shows on it
        self._lock = threading.RLock()
        self._store = st
        self._writer = writer
        self._feed = Feed(st, experiments, run_names, metric_names)
        self._seq = 0
        self._history: deque[tuple[int, dict[str, Any], list[bytes]]] = deque()
        self._history_bytes = 0
        self._requests: deque[dict[str, Any]] = deque()
        self._syncing = False
        self._closed = False
        self._views = 0
        self._dormant = False
        self._changed_at = 0.0
        self._copy_id: str | None = None  # display id of the static copy shown beside the widget, once shown
        self._copy_stale = False
        self._copy_at = 0.0
        self._feed.scan(force=True)
        self._feed.load(INITIAL_BUDGET)
        header, parts = self._feed.snapshot()
        snapshot = self._snapshot_state(header, parts)
        self._follower = Follower(self, Board._tick)
        super().__init__(
            _uid=uuid.uuid4().hex,
            _snapshot=snapshot,
            _selection=list(self._feed.selected),
            metrics=metric_names,
            selected=self._feed.labels(self._feed.selected),
        )
        self.on_msg(self._on_message)
        if live:
            writer.on_commit.append(self._follower.poke)
            hasten(writer)
            self._hastened = True
            self._follower.start()

    # -- Python API ----------------------------------------------------------------------------------------

    def selected_df(self) -> pd.DataFrame:
        """The selected runs as a DataFrame, in the layout of `get_experiment_df` (one row per run)."""
        with self._lock:
            ids = list(self._feed.selected)
            names = dict(self._feed.experiments)
        self._writer.flush()
        rows = [r for r in self._store.runs(list(names)) if r.id in set(ids)]
        if not rows:
            return pd.DataFrame([])
        order = {rid: i for i, rid in enumerate(ids)}
        rows.sort(key=lambda r: order[r.id])
        return frames.run_frame(self._store, rows, names)

    @property
    def baseline(self) -> str | None:
        """The name of the pinned baseline run (deltas are shown against it), or None."""
        with self._lock:
            labels = self._feed.labels([self._baseline])
        return labels[0] if labels else None

    @baseline.setter
    def baseline(self, name: str | None) -> None:
        if name is None:
            self._baseline = -1
            return
        with self._lock:
            ids = self._feed.resolve([name])
        self._baseline = ids[0]

    def refresh(self) -> None:
        """Check the store now and send what changed (the follower thread does this on its own)."""
        self._tick()

    @overload
    def to_html(self, path: None = None, *, title: str | None = None) -> str: ...

    @overload
    def to_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path: ...

    def to_html(self, path: str | os.PathLike[str] | None = None, *, title: str | None = None) -> str | Path:
        """This board as one self-contained HTML page (no kernel, no network): returned as a string, or
        written to `path` and the Path written returned (so a cell ending in `board.to_html("b.html")` shows
        the path, not the page)."""
        from .html import page

        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
        with self._lock:
            header, parts = self._feed.snapshot()
            state = self._snapshot_state(header, parts)
            options = self._options()
        html = page(state, options, title=title or _title(header))
        if path is None:
            return html
        target = Path(path).expanduser()
        target.write_text(html, encoding="utf-8")
        return target

    def close(self) -> None:
        """Stop following the store and close the widget."""
        self._closed = True
        follower = getattr(self, "_follower", None)
        if follower is not None:
            follower.stop()
            writer = self._writer
            if follower.poke in writer.on_commit:
                writer.on_commit.remove(follower.poke)
            if getattr(self, "_hastened", False):
                self._hastened = False
                relax(writer)
        super().close()

    def __repr__(self) -> str:
        feed = self._feed
        where = ", ".join(sorted(feed.experiments.values())) or "no experiments yet"
        return (f"<trackbook.Board {len(feed.rows)} runs ({where}), {len(feed.selected)} selected, "
                f"charts={feed.charts()!r}, store={str(self._store.path)!r}>")

    def _ipython_display_(self) -> None:
        """Show the board as two outputs: the live widget, and a static copy of its table and charts under a
        display id, which the kernel brings up to date after quiet spells (and every COPY_EVERY seconds while
        the board changes). A saved notebook so holds the latest static board for viewers without the widget
        (exports, GitHub, JupyterLab reopened without a kernel); a live view hides it (js/saved-copy.ts)."""
        from IPython.display import display

        bundle = super()._repr_mimebundle_()
        if bundle is None:
            return
        data, metadata = bundle
        if "google.colab" in sys.modules:  # each output is its own frame there: a copy could not be hidden
            display(data | {"text/html": self._copy_bundle()["text/html"]}, metadata=metadata, raw=True)
            return
        data.pop("text/plain", None)  # viewers without the widget show the copy instead of a repr
        display(data, metadata=metadata, raw=True)
        copy_id = f"trackbook-board-{self._uid}"
        # Marked fresh before the snapshot is taken: a change the live thread sends meanwhile marks it stale.
        self._copy_stale, self._copy_at = False, time.monotonic()
        display(self._copy_bundle(), raw=True, display_id=copy_id)
        self._copy_id = copy_id

    def _copy_bundle(self) -> dict[str, str]:
        from .html import saved_copy

        with self._lock:
            header, parts = self._feed.snapshot()
            options = self._options()
        return {"text/html": saved_copy(header, parts, options, self._uid),
                "text/plain": f"<trackbook board of {experiments_label(header)}: {len(header['runs'])} runs>"}

    def _refresh_copy(self) -> None:
        """Bring the static copy beside the widget up to date (only once it was shown, only when stale)."""
        if self._copy_id is None or not self._copy_stale:
            return
        from IPython.display import update_display

        self._copy_stale, self._copy_at = False, time.monotonic()
        update_display(self._copy_bundle(), raw=True, display_id=self._copy_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        from .html import fallback

        with self._lock:
            header, parts = self._feed.snapshot()
            options = self._options()
        data["text/html"] = fallback(header, parts, options)
        return data, metadata

    # -- traits ----------------------------------------------------------------------------------------

    @t.validate("selected")
    def _check_selected(self, proposal: Any) -> list[str]:
        names = _names(proposal["value"], "selected") or []
        if not self._syncing:
            with self._lock:
                self._feed.resolve(names)  # raises ValueError naming unknown runs
        return names

    @t.observe("selected")
    def _selected_changed(self, change: Any) -> None:
        if self._syncing:
            return
        with self._lock:
            ids = self._feed.resolve(change["new"])
            self._feed.set_selection(ids)
            self._set_selection_traits()
        self._follower.poke()

    @t.observe("_selection")
    def _selection_changed(self, change: Any) -> None:
        if self._syncing:
            return
        with self._lock:
            self._feed.set_selection(int(i) for i in change["new"])
            self._set_selection_traits()
        self._follower.poke()

    def _set_selection_traits(self) -> None:
        """Make `selected` and `_selection` agree with the feed's selection (under the lock)."""
        self._syncing = True
        try:
            ids = list(self._feed.selected)
            if list(self._selection) != ids:
                self._selection = ids
            labels = self._feed.labels(ids)
            if list(self.selected) != labels:
                self.selected = labels
        finally:
            self._syncing = False

    @t.validate("smoothing")
    def _check_smoothing(self, proposal: Any) -> float:
        value = proposal["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"smoothing must be a number from 0 to 0.999, got {type(value).__name__} {value!r}")
        value = float(value)
        if not 0.0 <= value <= 0.999:
            raise ValueError(f"smoothing must be between 0 (raw) and 0.999, got {value}")
        return value

    @t.validate("metrics")
    def _check_metrics(self, proposal: Any) -> list[str] | None:
        return _names(proposal["value"], "metrics")

    @t.observe("metrics")
    def _metrics_changed(self, change: Any) -> None:
        with self._lock:
            self._feed.set_metrics(change["new"])
        self._follower.poke()

    @t.observe("follow_new")
    def _follow_changed(self, change: Any) -> None:
        self._feed.follow_new = bool(change["new"])

    @t.observe("_px")
    def _px_changed(self, change: Any) -> None:
        self._feed.px = max(MIN_PX, min(MAX_PX, int(change["new"])))

    def _options(self) -> dict[str, Any]:
        return {
            "x_axis": self.x_axis,
            "log_y": self.log_y,
            "smoothing": self.smoothing,
            "selection": list(self._feed.selected),
            "baseline": self._baseline,
            "view": dict(self._view),
        }

    # -- messages ----------------------------------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """Requests from the browser: "hello"/"resync" (with the last seq it has), "range" (a zoom),
        "lineage" (the graph of a run) and "view" (a view of the board opened or closed)."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "view":
            with self._lock:
                self._views = max(0, self._views + (1 if content.get("open") else -1))
                if self._views == 0:
                    self._dormant = True  # every view is gone (the output was cleared): stop working
            self._follower.poke()
            return
        if kind not in ("hello", "resync", "range", "lineage"):
            return
        self._requests.append(content)
        self._follower.poke()
        if not self._follower.alive:  # a board that does not follow (live=False) answers at once
            self._tick()

    def _tick(self) -> None:
        """One round of the follower: answer requests, then send what changed in the store."""
        if self._closed:
            return
        with self._lock:
            if self._dormant:
                if self._views == 0:
                    return
                self._wake()
            while self._requests:
                self._answer(self._requests.popleft())
            feed = self._feed
            delta = feed.scan()
            parts = delta.parts + feed.load(TICK_BUDGET)
            if delta or parts:
                self._send_delta(delta, parts)
                self._changed_at = time.monotonic()
                self._copy_stale = True
            if delta.selection_changed:  # after the rows of the runs it names
                self._set_selection_traits()
            if feed.pending:  # more series to load: come straight back
                self._follower.poke()
            elif self._changed_at and time.monotonic() - self._changed_at > QUIET:
                self._changed_at = 0.0
                self._refresh_snapshot()
                self._refresh_copy()
            elif self._copy_stale and time.monotonic() - self._copy_at > COPY_EVERY:
                self._refresh_copy()

    def _wake(self) -> None:
        """A view opened on a board that slept: bring it up to date with a snapshot under a new seq."""
        self._dormant = False
        self._requests.clear()
        self._feed.scan(force=True)
        self._feed.load(TICK_BUDGET)
        self._seq += 1
        self._history.clear()
        self._history_bytes = 0
        header, parts = self._feed.snapshot()
        headers, data = pack(parts)
        self._send_msg({"type": "snapshot", "seq": self._seq, **header, "series": headers}, [data])
        self._set_selection_traits()

    def _refresh_snapshot(self) -> None:
        """After a quiet spell, put the current data in the `_snapshot` trait, so a notebook saved with its
        widget state shows it without a kernel. Skipped when the curves would make the trait too large."""
        header, parts = self._feed.snapshot()
        if sum(16 * len(p.steps) for p in parts) > SNAPSHOT_MAX_BYTES:
            header, parts = header, []
        self._snapshot = self._snapshot_state(header, parts)

    def _send_delta(self, delta: Delta, parts: list[Part]) -> None:
        content: dict[str, Any] = {"type": "delta"}
        if delta.rows:
            content["runs"] = delta.rows
        if delta.removed:
            content["removed"] = delta.removed
        if delta.keys:
            content["keys"] = delta.keys
        if delta.charts is not None:
            content["charts"] = delta.charts
        if delta.drop:
            content["drop"] = [list(d) for d in delta.drop]
        content["loading"] = len(self._feed.pending)
        self._send_seq(content, parts)

    def _answer(self, request: dict[str, Any]) -> None:
        kind = request["type"]
        if kind == "range":
            try:
                ranges = [(int(r["run"]), float(r["lo"]), float(r["hi"])) for r in request.get("parts", [])]
                px = int(request.get("px", self._feed.px))
                key = str(request["key"])
            except (KeyError, TypeError, ValueError):
                return  # a malformed request from a page is ignored, never fatal
            parts = self._feed.detail(key, ranges, px)
            headers, data = pack(parts)
            self._send_msg({"type": "range", "id": request.get("id"), "key": key, "series": headers}, [data])
            return
        if kind == "lineage":
            self._answer_lineage(request)
            return
        have = request.get("have")
        have = int(have) if isinstance(have, int) else -1
        if have == self._seq:
            return
        if self._history and have >= self._history[0][0] - 1 and have < self._seq:
            for seq, content, buffers in list(self._history):
                if seq > have:
                    self._send_msg(content, buffers)
            return
        header, parts = self._feed.snapshot()
        headers, data = pack(parts)
        self._send_msg({"type": "snapshot", "seq": self._seq, **header, "series": headers}, [data])

    def _answer_lineage(self, request: dict[str, Any]) -> None:
        """The lineage graph of one run of the board, or an error the panel shows as text."""
        from ..lineage import DIRECTIONS
        from .lineage import run_graph

        run, direction = request.get("run"), request.get("direction", "both")
        if isinstance(run, bool) or not isinstance(run, int) or direction not in DIRECTIONS:
            return  # a malformed request from a page is ignored, never fatal
        reply: dict[str, Any] = {"type": "lineage", "id": request.get("id"), "run": run, "direction": direction}
        if run not in self._feed.rows:
            reply["error"] = "this run is not on the board any more"
        else:
            try:
                reply["graph"] = run_graph(self._store, run, direction)
            except LookupError as exc:
                reply["error"] = str(exc)
            except (StoreError, sqlite3.Error) as exc:  # the panel says so instead of waiting forever
                reply["error"] = f"could not read the lineage graph: {exc}"
        self._send_msg(reply, [])

    def _send_seq(self, content: dict[str, Any], parts: list[Part]) -> None:
        self._seq += 1
        content["seq"] = self._seq
        headers, data = pack(parts)
        content["series"] = headers
        buffers = [data]
        self._history.append((self._seq, content, buffers))
        self._history_bytes += len(data)
        while len(self._history) > HISTORY_MESSAGES or self._history_bytes > HISTORY_BYTES:
            _, _, old = self._history.popleft()
            self._history_bytes -= len(old[0])
        self._send_msg(content, buffers)

    def _send_msg(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.send(content, buffers)

    def _snapshot_state(self, header: dict[str, Any], parts: list[Part]) -> dict[str, Any]:
        headers, data = pack(parts)
        return {**header, "seq": self._seq, "series": headers, "data": data}


__all__ = ["Board"]
