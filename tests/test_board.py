"""The board's kernel side: its snapshot, numbered deltas, reduction, resync and selection, against a real
store file. Messages are captured where ipywidgets hands them to the comm (no kernel needed)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trackbook
from support import ROOT
from trackbook.board import feed as feed_module
from trackbook.board.encode import json_value, pack, unpack
from trackbook.board.html import PALETTE, fallback, standalone
from trackbook.board.widget import HISTORY_MESSAGES, Board

HOSTILE = "<img src=x onerror=alert(1)>"
# Any URL, except the SVG namespace name the lineage panel creates elements in (an identifier, never fetched).
NO_URL = r"https?://(?!www\.w3\.org/2000/svg\b)"


class Wire:
    """What a board sent: custom messages (content, parts) and trait updates."""

    def __init__(self, board: Board) -> None:
        self.messages: list[tuple[dict[str, Any], list[Any]]] = []
        self.updates: list[dict[str, Any]] = []

        def send(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
            if data["method"] == "custom":
                self.messages.append((data["content"], list(buffers or [])))
            elif data["method"] == "update":
                self.updates.append(data["state"])

        board.comm.send = send  # type: ignore[method-assign]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [c for c, _ in self.messages if c["type"] == kind]

    def parts(self, kind: str = "delta") -> list[Any]:
        out = []
        for content, buffers in self.messages:
            if content["type"] == kind:
                out += unpack(content["series"], buffers[0])
        return out


def log_run(name: str, steps: int, *, params: dict[str, Any] | None = None, state: str = "COMPLETE",
            fn: Any = None) -> None:
    trackbook.start_run(name)
    trackbook.log_params(params or {"lr": 0.1})
    for s in range(steps):
        trackbook.log_time_series_metrics({"loss": fn(s) if fn else 1.0 / (s + 1)}, step=s)
    trackbook.end_run(state)


def snapshot_parts(board: Board) -> list[Any]:
    snap = board._snapshot
    return unpack(snap["series"], snap["data"])


def test_the_snapshot_holds_rows_and_series(tb: Any) -> None:
    trackbook.init(experiment="exp")
    log_run("a", 50, params={"lr": 0.1, "note": HOSTILE})
    log_run("b", 20, state="FAILED")
    board = Board("exp", live=False)
    snap = board._snapshot
    rows = {r["name"]: r for r in snap["runs"]}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["state"] == "COMPLETE" and rows["b"]["state"] == "FAILED"
    assert rows["a"]["params"] == {"lr": 0.1, "note": HOSTILE}
    assert rows["a"]["last"]["loss"][0] == 49 and rows["a"]["last"]["loss"][1] == pytest.approx(1 / 50)
    assert snap["charts"] == ["loss"] and snap["keys"] == ["loss"] and snap["seq"] == 0
    parts = {p.run: p for p in snapshot_parts(board)}
    a = rows["a"]["id"]
    assert np.array_equal(parts[a].steps, np.arange(50)) and parts[a].full and parts[a].mode == "set"
    assert np.allclose(parts[a].values, 1.0 / (np.arange(50) + 1), rtol=1e-6)
    assert board.selected == ["a", "b"]
    board.close()


def test_new_points_arrive_as_numbered_appends(tb: Any) -> None:
    trackbook.init(experiment="exp")
    run = trackbook.start_run("live")
    for s in range(10):
        trackbook.log_time_series_metrics({"loss": float(s)}, step=s)
    trackbook.flush()
    board = Board("exp", live=False)
    wire = Wire(board)
    board.refresh()
    assert wire.messages == []  # nothing changed: nothing sent
    for s in range(10, 15):
        run.log_time_series_metrics({"loss": float(s)}, step=s)
    trackbook.flush()
    board.refresh()
    for s in range(15, 17):
        run.log_time_series_metrics({"loss": float("nan") if s == 15 else float(s)}, step=s)
    trackbook.log_metrics({"best": 1.5})
    trackbook.flush()
    board.refresh()
    deltas = wire.of("delta")
    assert [d["seq"] for d in deltas] == [1, 2]
    first, second = wire.parts()
    assert first.mode == "append" and first.steps.tolist() == list(range(10, 15))
    assert second.steps.tolist() == [15, 16] and math.isnan(second.values[0]) and second.values[1] == 16
    row = deltas[1]["runs"][0]
    assert row["metrics"] == {"best": 1.5} and row["last"]["loss"] == [16, 16.0]
    trackbook.end_run()
    board.close()


def test_a_new_run_is_followed_and_selected(tb: Any) -> None:
    trackbook.init(experiment="exp")
    log_run("old", 5)
    board = Board("exp", live=False)
    wire = Wire(board)
    log_run("new", 7)
    trackbook.flush()
    board.refresh()
    delta = wire.of("delta")[0]
    assert [r["name"] for r in delta["runs"]] == ["new"]
    assert board.selected == ["old", "new"]
    new_id = delta["runs"][0]["id"]
    (part,) = wire.parts()
    assert part.run == new_id and part.mode == "set" and part.steps.tolist() == list(range(7))
    # The selection reaches the browser after the rows it names.
    assert wire.updates and wire.updates[-1]["_selection"] == sorted(board._selection)
    board.follow_new = False
    log_run("ignored", 3)
    board.refresh()
    assert "ignored" not in board.selected
    board.close()


def test_selection_from_python_and_from_the_browser(tb: Any) -> None:
    trackbook.init(experiment="exp")
    for name in ("a", "b", "c"):
        log_run(name, 4)
    board = Board("exp", live=False)
    wire = Wire(board)
    board.selected = ["b"]
    ids = {r["name"]: r["id"] for r in board._snapshot["runs"]}
    assert board._selection == [ids["b"]]
    board.refresh()
    delta = wire.of("delta")[-1]
    assert sorted(delta["drop"]) == sorted([[ids["a"], "loss"], [ids["c"], "loss"]])
    with pytest.raises(ValueError, match="no run called 'zzz'"):
        board.selected = ["zzz"]
    with pytest.raises(TypeError, match="selected must be a str or a list of str; it holds int 3"):
        board.selected = [3]  # type: ignore[list-item]
    assert board.selected == ["b"]
    board.selected = "c"
    assert board.selected == ["c"]
    board.selected = ["b"]
    # A click in the browser arrives as a state update of _selection.
    board.set_state({"_selection": [ids["a"], ids["c"]]})
    assert board.selected == ["a", "c"]
    board.refresh()
    sent = {p.run for p in wire.parts() if p.mode == "set"}
    assert sent == {ids["a"], ids["c"]}
    df = board.selected_df()
    assert df.run_name.tolist() == ["a", "c"] and "param.lr" in df
    board.close()


def test_names_shared_by_two_experiments_are_qualified(tb: Any) -> None:
    trackbook.init(experiment="e1")
    log_run("same", 3)
    trackbook.init(experiment="e2")
    log_run("same", 3)
    board = Board(["e1", "e2"], live=False)
    assert sorted(board.selected) == ["e1/same", "e2/same"]
    board.selected = ["e2/same"]
    assert board.selected_df().experiment_name.tolist() == ["e2"]
    board.close()


def test_long_series_are_reduced_and_a_zoom_gets_full_detail(tb: Any) -> None:
    trackbook.init(experiment="exp")
    n = 50_000
    values = np.sin(np.arange(n) / 500.0)
    values[31_337] = 40.0  # a spike
    log_run("long", n, fn=lambda s: float(values[s]))
    board = Board("exp", live=False)
    (part,) = snapshot_parts(board)
    px = feed_module.DEFAULT_PX
    assert not part.full and len(part.steps) <= 4 * px
    # The spike survives, drawn in its own pixel column (a bucket of ceil(n / px) steps).
    width = -(-n // px)
    assert 40.0 in part.values.tolist() and part.steps[np.argmax(part.values)] // width == 31_337 // width
    assert part.steps[0] == 0 and part.steps[-1] == n - 1
    wire = Wire(board)
    run_id = part.run
    board._on_message(board, {"type": "range", "id": 7, "key": "loss", "px": 400,
                              "parts": [{"run": run_id, "lo": 31_000, "hi": 31_999}]}, [])
    reply = wire.of("range")[0]
    assert reply["id"] == 7 and "seq" not in reply
    (detail,) = wire.parts("range")
    assert detail.full and detail.steps.tolist() == list(range(31_000, 32_000))
    assert np.allclose(detail.values, values[31_000:32_000], rtol=1e-6)
    board._on_message(board, {"type": "range", "id": 8, "key": "loss", "px": 100,
                              "parts": [{"run": run_id, "lo": 0, "hi": n}]}, [])
    wide = wire.parts("range")[-1]
    assert not wide.full and len(wide.steps) <= 400 and 40.0 in wide.values.tolist()
    board._on_message(board, {"type": "range", "id": 9, "key": "loss", "parts": [{"run": "x"}]}, [])
    assert len(wire.of("range")) == 2  # a malformed request is ignored
    board.close()


def test_a_summarised_series_keeps_every_bucket_extreme_and_every_nan(tb: Any) -> None:
    from trackbook.board.summary import chart_points
    from trackbook.session import resolve

    trackbook.init(experiment="exp")
    n, px = 30_000, 250
    rng = np.random.default_rng(7)
    values = rng.normal(size=n)
    values[[4_321, 17_000]] = [25.0, -25.0]
    values[[1_000, 1_001, 9_999, 22_222]] = np.nan
    steps = 5 + 3 * np.arange(n)  # sparse steps: buckets are step ranges, not point counts
    trackbook.start_run("r")
    for s_, v in zip(steps.tolist(), values.tolist()):
        trackbook.log_time_series_metrics({"loss": v}, step=s_)
    trackbook.end_run()
    trackbook.flush()
    store = resolve(None)[0]
    run_id, key_id = _only_series(store)
    got_steps, got_wall, got_values, full = chart_points(store, run_id, key_id, px)
    assert not full and len(got_steps) <= 4 * px and np.all(np.diff(got_steps) >= 0)
    assert got_steps[0] == steps[0] and got_steps[-1] == steps[-1]
    width = -(-(int(steps[-1]) - int(steps[0]) + 1) // px)
    want_bucket = (steps - steps[0]) // width
    got_bucket = (got_steps - steps[0]) // width
    for b in np.unique(want_bucket):
        want, got = values[want_bucket == b], got_values[got_bucket == b]
        finite = want[~np.isnan(want)]
        assert got.min(initial=np.inf, where=~np.isnan(got)) == finite.min(), b
        assert got.max(initial=-np.inf, where=~np.isnan(got)) == finite.max(), b
        assert np.isnan(got).sum() == np.isnan(want).sum(), b  # every NaN point leaves its gap
    nan_steps = got_steps[np.isnan(got_values)].tolist()
    assert nan_steps == steps[np.isnan(values)].tolist()
    # The first and last point of every bucket are exact (values and wall times), so lines join up.
    all_steps, all_wall, _ = store.series_points(run_id, key_id)
    wall_at = dict(zip(all_steps.tolist(), all_wall.tolist()))
    truth = dict(zip(steps.tolist(), values.tolist()))
    for i in (0, len(got_steps) - 1):
        assert got_values[i] == truth[int(got_steps[i])] and got_wall[i] == wall_at[int(got_steps[i])]
    assert 25.0 in got_values.tolist() and -25.0 in got_values.tolist()
    # A zoom into a range that fits is read whole.
    z_steps, _, z_values, z_full = chart_points(store, run_id, key_id, px, start=3_000, stop=3_600)
    inside = (steps >= 3_000) & (steps <= 3_600)
    assert z_full and z_steps.tolist() == steps[inside].tolist()
    assert np.array_equal(z_values, values[inside], equal_nan=True)


def _only_series(store: Any) -> tuple[int, int]:
    (row,) = store.conn.execute("SELECT DISTINCT run_id, key_id FROM series").fetchall()
    return int(row[0]), int(row[1])


def test_a_point_logged_again_at_the_last_step_redraws(tb: Any) -> None:
    trackbook.init(experiment="exp")
    run = trackbook.start_run("r")
    for s in range(5):
        run.log_time_series_metrics({"loss": float(s)}, step=s)
    trackbook.flush()
    board = Board("exp", live=False)
    wire = Wire(board)
    run.log_time_series_metrics({"loss": 40.0}, step=4)  # the last step sent, logged again
    trackbook.flush()
    board.refresh()
    (part,) = wire.parts()
    assert part.mode == "append" and part.steps.tolist() == [4] and part.values.tolist() == [40.0]
    held = next(iter(board._feed.held.values()))
    assert held.steps.tolist() == [0, 1, 2, 3, 4] and held.values[-1] == 40.0
    run.log_time_series_metrics({"loss": 41.0}, step=4)
    run.log_time_series_metrics({"loss": 5.0}, step=5)
    trackbook.flush()
    board.refresh()
    last = wire.parts()[-1]
    assert last.steps.tolist() == [4, 5] and last.values.tolist() == [41.0, 5.0]
    board.refresh()
    assert len(wire.parts()) == 2  # nothing new: nothing resent
    trackbook.end_run()
    board.close()


def test_a_held_series_growing_past_its_budget_is_reduced_again(tb: Any) -> None:
    trackbook.init(experiment="exp")
    run = trackbook.start_run("grow")
    run.log_time_series_metrics({"loss": 0.0}, step=0)
    trackbook.flush()
    board = Board("exp", live=False)
    board._feed.px = 100
    for s in range(1, 1200):
        run.log_time_series_metrics({"loss": 100.0 if s == 600 else 0.0}, step=s)
    trackbook.flush()
    board.refresh()
    held = next(iter(board._feed.held.values()))
    assert not held.full and len(held.steps) <= 400 and held.values.max() == 100.0
    trackbook.end_run()
    board.close()


def test_resync_replays_missed_deltas_or_sends_a_snapshot(tb: Any) -> None:
    trackbook.init(experiment="exp")
    run = trackbook.start_run("r")
    board = Board("exp", live=False)
    wire = Wire(board)
    for s in range(3):
        run.log_time_series_metrics({"loss": float(s)}, step=s)
        trackbook.flush()
        board.refresh()
    assert [d["seq"] for d in wire.of("delta")] == [1, 2, 3]
    wire.messages.clear()
    board._on_message(board, {"type": "resync", "have": 1}, [])
    assert [(c["type"], c["seq"]) for c, _ in wire.messages] == [("delta", 2), ("delta", 3)]
    wire.messages.clear()
    board._on_message(board, {"type": "hello", "have": 3}, [])
    assert wire.messages == []  # up to date
    board._history.clear()  # the deltas after seq 1 are gone: only a snapshot can help
    board._on_message(board, {"type": "resync", "have": 1}, [])
    (snap,) = wire.of("snapshot")
    assert snap["seq"] == 3 and [r["name"] for r in snap["runs"]] == ["r"]
    (part,) = wire.parts("snapshot")
    assert part.steps.tolist() == [0, 1, 2]
    board._on_message(board, {"type": "nonsense"}, [])
    board._on_message(board, "not a dict", [])
    assert len(wire.messages) == 1
    assert HISTORY_MESSAGES >= 64
    trackbook.end_run()
    board.close()


def test_charted_metrics_follow_the_metrics_trait(tb: Any) -> None:
    trackbook.init(experiment="exp")
    trackbook.start_run("r")
    for s in range(5):
        trackbook.log_time_series_metrics({"loss": 1.0, "acc": 0.5, "lr": 0.1}, step=s)
    trackbook.end_run()
    board = Board("exp", live=False)
    assert board._snapshot["charts"] == ["acc", "loss", "lr"]
    wire = Wire(board)
    board.metrics = ["lr"]
    board.refresh()
    delta = wire.of("delta")[0]
    assert delta["charts"] == ["lr"] and sorted(k for _, k in delta["drop"]) == ["acc", "loss"]
    board.close()
    only = Board("exp", metrics="acc", live=False)
    assert only._snapshot["charts"] == ["acc"] and [p.key for p in snapshot_parts(only)] == ["acc"]
    only.close()


def test_removed_runs_and_crashed_runs(tb: Any, store_path: Path) -> None:
    import subprocess

    from support import PYTHON, python_env

    trackbook.init(experiment="exp")
    log_run("doomed", 3)
    board = Board("exp", live=False)
    wire = Wire(board)
    doomed = board._snapshot["runs"][0]["id"]
    trackbook.ExperimentRun("doomed", "exp").delete()
    board.refresh()
    assert wire.of("delta")[-1]["removed"] == [doomed]
    assert board.selected == []
    # A process that starts a run and dies without ending it: the run shows as CRASHED.
    code = ("import os, sys, trackbook; trackbook.init(store=sys.argv[1], experiment='exp');"
            " trackbook.start_run('ghost'); trackbook.log_time_series_metrics({'loss': 1.0});"
            " trackbook.flush(); import time; time.sleep(1.2);"
            " trackbook.log_time_series_metrics({'loss': 0.5}); trackbook.flush(); os._exit(0)")
    subprocess.run([PYTHON, "-c", code, str(store_path)], env=python_env(), check=True, timeout=60)
    board.refresh()
    rows = {r["name"]: r for d in wire.of("delta") for r in d.get("runs", [])}
    assert rows["ghost"]["state"] == "CRASHED"
    # Its duration runs from its start to its last sign of life (its last point, its last heartbeat), not
    # to its last update (which logging never moves): the row carries that time as "seen".
    ghost = rows["ghost"]
    assert ghost["end"] is None
    assert ghost["seen"] - ghost["start"] >= 1.0, ghost
    board.close()


def test_an_empty_experiment_says_how_to_log_and_fills_in(tb: Any) -> None:
    board = Board("later", live=False)
    assert board._snapshot["runs"] == [] and board._snapshot["wanted"] == ["later"]
    data, _ = board._repr_mimebundle_()
    html = data["text/html"]
    assert "No runs yet in experiment &#x27;later&#x27;" in html and "start_run" in html
    wire = Wire(board)
    trackbook.init(experiment="later")
    log_run("first", 2)
    board.refresh()
    assert [r["name"] for r in wire.of("delta")[0]["runs"]] == ["first"]
    board.close()


def test_a_notebook_shows_the_board_beside_a_static_copy_it_keeps_up_to_date(
    tb: Any, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from traitlets.config import Config

    from trackbook.board import widget

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setattr(widget, "QUIET", 0.0)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    try:
        shell.display_pub = CapturingDisplayPublisher()
        outputs = shell.display_pub.outputs
        board = Board("later", live=False)
        Wire(board)
        display(board)  # what a cell ending in `board` does
        live, copy = outputs
        # The widget alone (no text for viewers without widgets: they show the copy), then the copy.
        assert set(live["data"]) == {"application/vnd.jupyter.widget-view+json"}
        copy_id = {"display_id": f"trackbook-board-{board._uid}"}
        assert copy["transient"] == copy_id and not copy["update"]
        html = copy["data"]["text/html"]
        assert f'data-trackbook-saved="{board._uid}"' in html and "No runs yet" in html
        assert "a static copy" in html and str(store_path) not in html
        trackbook.init(experiment="later")
        log_run("first", 30, params={"note": HOSTILE})
        board.refresh()  # sends the new run, then (quiet at once here) brings the copy up to date
        (update,) = outputs[2:]
        assert update["update"] and update["transient"] == copy_id
        html = update["data"]["text/html"]
        assert ">first<" in html and "<polyline" in html and "No runs yet" not in html
        assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        assert update["data"]["text/plain"] == "<trackbook board of later: 1 runs>"
        board.refresh()
        assert len(outputs) == 3  # nothing changed: the copy is not sent again
        board.close()
    finally:
        InteractiveShell.clear_instance()


def test_values_json_cannot_carry_become_tagged() -> None:
    assert json_value(float("nan")) == {"$f": "NaN"}
    assert json_value(float("-inf")) == {"$f": "-Infinity"}
    assert json_value(2**60) == {"$i": str(2**60)}
    assert json_value(3) == 3 and json_value("x") == "x" and json_value(True) is True


def test_pack_round_trips_parts() -> None:
    from trackbook.board.encode import Part

    p = Part(1, "loss", "set", np.array([0, 5, 10]), np.array([1_700_000_000_000, 1_700_000_000_500,
                                                              1_700_000_001_000]), np.array([1.0, np.nan, 3.0]),
             True)
    q = Part(2, "acc", "append", np.array([7]), np.array([1_700_000_000_000]), np.array([0.5]), False)
    headers, data = pack([p, q])
    assert all(h["off"] % 8 == 0 for h in headers)
    back = unpack(headers, data)
    assert back[0].steps.tolist() == [0, 5, 10] and back[0].wall_ms.tolist() == p.wall_ms.tolist()
    assert math.isnan(back[0].values[1]) and back[1].key == "acc" and back[1].mode == "append"


def test_values_float32_would_show_wrong_travel_as_float64(tb: Any) -> None:
    from trackbook.board.encode import Part

    wide = [1e39, -3.5e38, 1e-40, 123456789.0, 2.0**24 + 1, 5e-39]  # each one alone makes its part float64
    for v in wide:
        (h,), data = pack([Part(1, "k", "set", np.array([0, 1, 2]), np.array([0, 1, 2]),
                                np.array([0.5, v, np.nan]), True)])
        assert h["f64"] and unpack([h], data)[0].values[1] == v, v
    ordinary = Part(2, "k", "set", np.arange(1000), np.arange(1000), np.linspace(-1e6, 1e6, 1000), True)
    (h,), data = pack([ordinary])
    assert not h["f64"] and len(data) == 16 * 1000  # float32, as before: 4 bytes a value
    for whole in (2.0**24, 1e10, -3.0 * 2.0**60, 0.0):  # float32 holds these exactly
        assert not pack([Part(2, "k", "set", np.array([0]), np.array([0]), np.array([whole]), True)])[0][0]["f64"]
    # Through a board: a run logging values beyond float32's range draws them, not ±inf or 0.
    trackbook.init(experiment="exp")
    trackbook.start_run("wide")
    for s, v in enumerate([1e39, 1e-40, 1e-45, 3.0]):
        trackbook.log_time_series_metrics({"loss": v}, step=s)
    trackbook.end_run()
    board = Board("exp", live=False)
    (part,) = snapshot_parts(board)
    assert part.values.tolist() == [1e39, 1e-40, 1e-45, 3.0]
    assert board._snapshot["series"][0]["f64"] is True
    board.close()


def test_data_is_text_in_the_fallback_and_the_page(tb: Any) -> None:
    trackbook.init(experiment=HOSTILE)
    trackbook.start_run("r<script>alert(1)</script>")
    trackbook.log_params({HOSTILE: HOSTILE})
    trackbook.log_time_series_metrics({HOSTILE: 1.0}, step=1)
    trackbook.log_time_series_metrics({HOSTILE: 2.0}, step=2)
    trackbook.end_run()
    board = Board(None, live=False)
    data, _ = board._repr_mimebundle_()
    html = data["text/html"]
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<polyline" in html  # the static chart
    assert data["text/plain"].startswith("<trackbook.Board 1 runs")
    trackbook.start_run("long")
    trackbook.log_params({"notes": "x" * 100_000})
    trackbook.end_run()
    board.refresh()
    html = board._repr_mimebundle_()[0]["text/html"]
    assert f"{'x' * 200}… (100,000 characters)" in html and "x" * 201 not in html  # no 100 kB in the notebook
    page = board.to_html()
    body = page.split('id="trackbook-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body and "\\u003cimg src=x" in body
    assert not re.search(NO_URL, page), "the standalone page must not reference any URL"
    board.close()


def test_standalone_needs_no_kernel_and_no_network(tb: Any, store_path: Path, tmp_path: Path) -> None:
    trackbook.init(experiment="exp")
    for name in ("a", "b"):
        log_run(name, 30)
    page = standalone("exp", store=store_path, selected=["a"])
    assert page.startswith("<!doctype html>") and "mountStatic" in page
    assert not re.search(NO_URL + r"|//cdn|<link", page)
    board = Board("exp", live=False)
    path = tmp_path / "board.html"
    board.to_html(path, title="my runs")
    assert "<title>my runs</title>" in path.read_text()
    board.close()
    with pytest.raises(TypeError, match="experiment must be a str or a list of str"):
        standalone(3)  # type: ignore[arg-type]


def test_arguments_are_checked(tb: Any) -> None:
    with pytest.raises(TypeError, match="runs must be a str or a list of str; it holds int 1"):
        trackbook.board(runs=["a", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="metrics must be a str or a list of str, got dict"):
        trackbook.board(metrics={"loss": 1})  # type: ignore[arg-type]
    board = Board(live=False)
    with pytest.raises(ValueError, match="smoothing must be between 0"):
        board.smoothing = 1.5
    with pytest.raises(TypeError, match="smoothing must be a number"):
        board.smoothing = "high"
    board.smoothing = 0.6
    assert board.smoothing == 0.6
    board.close()


def test_the_palette_matches_the_front_end() -> None:
    text = (ROOT / "js" / "colors.ts").read_text()
    assert tuple(re.findall(r'"(#[0-9a-f]{6})"', text)) == PALETTE


def test_fallback_breaks_lines_at_nan() -> None:
    from trackbook.board.encode import Part

    header = {"runs": [{"id": 1, "name": "r", "exp": "e", "state": "COMPLETE", "start": 0.0, "end": 1.0,
                        "updated": 1.0, "params": {}, "metrics": {}, "last": {}}], "charts": ["loss"]}
    part = Part(1, "loss", "set", np.arange(6), np.zeros(6, np.int64), np.array([1, 2, np.nan, 3, 4, 5.0]), True)
    html = fallback(header, [part], {"selection": [1]})
    assert html.count("<polyline") == 2


def test_the_follower_thread_sends_what_this_kernel_logs(tb: Any) -> None:
    from trackbook.session import resolve

    trackbook.init(experiment="exp")
    run = trackbook.start_run("r")
    writer = resolve(None)[1]
    own = writer.interval
    board = trackbook.board("exp")
    wire = Wire(board)
    run.log_time_series_metrics({"loss": 1.0}, step=1)
    run.log_time_series_metrics({"loss": 2.0}, step=2)
    assert _wait(lambda: any(p.steps.tolist()[-1:] == [2] for p in wire.parts())), wire.messages
    assert writer.interval == min(own, 0.1)  # commits come sooner while a live board follows
    board.close()
    board.close()
    assert not board._follower.alive
    assert board._follower.poke not in writer.on_commit
    assert writer.interval == own
    trackbook.end_run()


def test_the_follower_sees_another_process_writing_the_file(tb: Any, store_path: Path) -> None:
    import subprocess

    from support import PYTHON, python_env

    trackbook.init(experiment="shared")
    board = trackbook.board("shared")
    wire = Wire(board)
    code = ("import sys, time, trackbook; trackbook.init(store=sys.argv[1], experiment='shared');"
            " trackbook.start_run('other');"
            " [trackbook.log_time_series_metrics({'loss': float(s)}, step=s) for s in range(5)];"
            " trackbook.end_run()")
    subprocess.run([PYTHON, "-c", code, str(store_path)], env=python_env(), check=True, timeout=60)

    def arrived() -> bool:
        rows = [r for d in wire.of("delta") for r in d.get("runs", []) if r["name"] == "other"]
        steps = sorted(s for p in wire.parts() for s in p.steps.tolist())
        return bool(rows) and rows[-1]["state"] == "COMPLETE" and steps == list(range(5))

    assert _wait(arrived), wire.messages
    board.close()


def _wait(condition: Any, timeout: float = 30.0) -> bool:
    """Poll `condition` until it holds (a bound against hangs, not a speed check)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_board_whose_views_are_gone_sleeps_and_wakes_with_a_snapshot(tb: Any) -> None:
    trackbook.init(experiment="exp")
    run = trackbook.start_run("r")
    board = Board("exp", live=False)
    wire = Wire(board)
    board._on_message(board, {"type": "view", "open": True}, [])
    board._on_message(board, {"type": "view", "open": False}, [])  # the output was cleared
    run.log_time_series_metrics({"loss": 1.0}, step=1)
    trackbook.flush()
    board.refresh()
    assert wire.messages == []  # asleep: nothing read, nothing sent
    board._on_message(board, {"type": "view", "open": True}, [])
    board.refresh()
    (snap,) = wire.of("snapshot")
    assert snap["seq"] == 1 and [r["name"] for r in snap["runs"]] == ["r"]
    assert [p.steps.tolist() for p in wire.parts("snapshot")] == [[1]]
    trackbook.end_run()
    board.close()


def test_a_quiet_board_refreshes_its_saved_snapshot(tb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackbook.board import widget

    monkeypatch.setattr(widget, "QUIET", 0.0)
    trackbook.init(experiment="exp")
    run = trackbook.start_run("r")
    board = Board("exp", live=False)
    assert snapshot_parts(board) == []
    run.log_time_series_metrics({"loss": 1.0}, step=1)
    trackbook.flush()
    board.refresh()  # sends the delta
    board.refresh()  # quiet since: the trait catches up
    assert board._snapshot["seq"] == 1
    assert [p.steps.tolist() for p in snapshot_parts(board)] == [[1]]
    trackbook.end_run()
    board.close()


def _followed_store(path: Path) -> tuple[Any, Any, dict[str, int], int]:
    """A store of three runs with a 3-point `loss` each, and a Feed that has read it and holds every series."""
    from trackbook.board.feed import Feed
    from trackbook.store import Batch, Store

    store = Store(path)
    exp = store.create_experiment("exp", None)
    ids = {name: store.create_run(exp.id, name).id for name in ("a", "b", "c")}
    k = store.key_id("loss")
    store.commit(Batch([x for r in ids.values() for s in range(3) for x in (r, k, s, s, float(s))], {}, {}, []))
    feed = Feed(Store(path), ["exp"])
    feed.scan()
    while feed.pending:
        feed.load()
    assert len(feed.held) == 3
    return store, feed, ids, k


def test_a_scan_after_points_reads_only_the_heads_that_moved(tb: Any, store_path: Path) -> None:
    from trackbook.store import Batch

    store, feed, ids, k = _followed_store(store_path)
    cursor = feed.cursor
    store.commit(Batch([ids["b"], k, 3, 3, 9.0], {}, {}, []))
    assert [h[0] for h in store.series_heads_since(cursor)] == [ids["b"]]  # all the scan reads of the heads
    delta = feed.scan()
    assert [r["name"] for r in delta.rows] == ["b"] and delta.rows[0]["last"]["loss"] == [3, 9.0]
    (part,) = delta.parts
    assert (part.run, part.mode, part.steps.tolist(), part.values.tolist()) == (ids["b"], "append", [3], [9.0])
    assert feed.cursor > cursor
    assert not feed.scan()  # nothing committed since


def test_a_scan_sees_points_after_the_run_holding_the_newest_head_was_deleted(tb: Any, store_path: Path) -> None:
    from trackbook.store import Batch

    store, feed, ids, k = _followed_store(store_path)
    store.commit(Batch([ids["c"], k, 3, 3, 3.0], {}, {}, []))
    feed.scan()
    store.delete_contexts([ids["c"]])
    store.commit(Batch([ids["a"], k, 3, 3, 7.0], {}, {}, []))
    delta = feed.scan()
    assert delta.removed == [ids["c"]]
    assert [(p.run, p.steps.tolist()) for p in delta.parts] == [(ids["a"], [3])]


def test_points_written_without_a_head_number_still_reach_the_board(tb: Any, store_path: Path) -> None:
    import sqlite3

    _, feed, ids, k = _followed_store(store_path)
    # What a trackbook of schema 4, still running when the file was migrated, writes: no change number.
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO series (run_id, key_id, step, wall_time, value) VALUES (?, ?, 3, 3, 5.0)", (ids["a"], k))
    conn.execute("UPDATE series_last SET step = 3, wall_time = 3, value = 5.0 WHERE run_id = ? AND key_id = ?",
                 (ids["a"], k))
    conn.execute("COMMIT")
    conn.close()
    delta = feed.scan()
    assert [(p.run, p.steps.tolist(), p.values.tolist()) for p in delta.parts] == [(ids["a"], [3], [5.0])]


def test_a_run_that_comes_into_a_followed_experiment_brings_its_series(tb: Any, store_path: Path) -> None:
    from trackbook.store import PIPELINE_RUN, Batch

    store, feed, _, k = _followed_store(store_path)
    job = store.create_context("job-1", PIPELINE_RUN, state="COMPLETE").id  # not in an experiment yet
    store.commit(Batch([job, k, 0, 0, 4.0], {}, {}, []))
    assert not feed.scan().rows
    store.add_child_contexts(store.experiment("exp").id, [job], adopt_runs=True)
    delta = feed.scan()
    assert [r["name"] for r in delta.rows] == ["job-1"] and delta.rows[0]["last"]["loss"] == [0, 4.0]
