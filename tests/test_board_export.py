"""Notebooks that show a board, run in a real kernel and exported to HTML with nbconvert (no kernel, no
saved widget state): the export shows the board's static copy (table and chart), kept up to date by the
kernel after the board was shown, with no script of ours and the hostile param as text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

import trackbook
from support import python_env

TRAIN = """
for name in ["first", "second"]:
    trackbook.start_run(name)
    trackbook.log_params({"note": "<img src=x onerror=alert(1)>"})
    for s in range(30):
        trackbook.log_time_series_metrics({"loss": 1 / (s + 1)}, step=s)
    trackbook.end_run()
"""
SETUP = 'import trackbook\ntrackbook.init(store="export.db", experiment="exported")\n'


def _run(tmp_path: Path, cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=python_env())
    assert "widgets" not in nb.metadata  # nothing saved the widget state
    return nb


def _static_board(nb: nbformat.NotebookNode, cell: int) -> str:
    """The exported board of one cell: its widget output and its static copy."""
    live, copy = nb.cells[cell].outputs[-2:]
    assert list(live["data"]) == ["application/vnd.jupyter.widget-view+json"]
    assert 'class="trackbook-static"' in copy["data"]["text/html"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "Error displaying widget" not in html
    return html.split('class="trackbook-static"', 1)[1].split("</svg></figure></div></div>", 1)[0]


def test_an_exported_notebook_shows_the_static_board(tmp_path: Path) -> None:
    nb = _run(tmp_path, [SETUP + TRAIN + 'trackbook.board("exported")',
                         'trackbook.board("exported").to_html("board.html")'])
    # A cell ending in to_html(path) shows the path written, not the whole page.
    (shown,) = nb.cells[1].outputs
    assert shown["data"]["text/plain"] == "PosixPath('board.html')", shown["data"]["text/plain"][:200]
    assert (tmp_path / "board.html").read_text().startswith("<!doctype html>")
    board = _static_board(nb, 0)
    assert ">first<" in board and ">second<" in board
    assert "<polyline" in board  # the chart
    assert "&lt;img src=x onerror=alert(1)&gt;" in board and "<img" not in board and "<script" not in board


def test_a_board_shown_before_training_is_saved_as_it_ended(tmp_path: Path) -> None:
    nb = _run(tmp_path, [
        SETUP + "from trackbook.board import widget\nwidget.QUIET = 0.3\nboard = trackbook.board('exported')\nboard",
        TRAIN,
        "import time\ntime.sleep(2)",  # a quiet spell: the kernel brings the copy up to date
    ])
    board = _static_board(nb, 0)
    assert ">first<" in board and ">second<" in board and "<polyline" in board
    assert "No runs yet" not in board


def test_the_static_copy_is_readable(tb: Any) -> None:
    """The copy a notebook keeps: the table first, as wide as the output at most, one line per run (the full
    text of a cut cell in its escaped title), metric and param columns told apart, charts with round ticks
    and a noisy 20k-point curve drawn as its min/max band."""
    trackbook.init(experiment="static")
    rng = np.random.default_rng(0)
    trackbook.start_run("noisy")
    note = 'a "long" note <b>bold</b> ' + "word " * 60
    trackbook.log_params({"lr": 0.01, "note": note})
    steps = np.arange(20_000)
    loss = 9.4165 + 0.0004 * rng.standard_normal(len(steps))
    for s, v in zip(steps[::1].tolist(), loss.tolist()):
        trackbook.log_time_series_metrics({"loss": v, "lr": 0.01 * 0.9999 ** s}, step=s)
    trackbook.end_run()
    board = trackbook.board("static")
    board.refresh()
    html = board._repr_mimebundle_()[0]["text/html"]
    board.close()
    static = html.split('class="trackbook-static"', 1)[1]
    assert "<script" not in static and "<b>" not in static
    assert static.index("<table") < static.index("<figure")  # the table first
    table = static.split("</table>", 1)[0]
    assert "overflow-x: auto" in static.split("<table", 1)[0]  # scrolls inside the output's width
    assert "white-space: nowrap" in table and "text-overflow: ellipsis" in table
    assert ">metrics (last value)</th>" in table and ">params</th>" in table  # lr the metric vs lr the param
    assert 'title="a &quot;long&quot; note &lt;b&gt;bold&lt;/b&gt; word' in table  # the full text, escaped
    charts = re.findall(r"<figure.*?</figure>", static)
    assert len(charts) == 2
    for chart in charts:
        ylabels = re.findall(r'text-anchor="end" fill="currentColor">([^<]+)</text>', chart)
        values = [float(t) for t in ylabels]
        assert 3 <= len(values) <= 6, ylabels
        gaps = np.diff(values)
        assert np.allclose(gaps, gaps[0], rtol=1e-6) and gaps[0] > 0, ylabels  # evenly spaced round ticks
        assert len(set(ylabels)) == len(ylabels)
    loss_chart = next(c for c in charts if ">loss</figcaption>" in c)
    ylabels = re.findall(r'text-anchor="end" fill="currentColor">([^<]+)</text>', loss_chart)
    assert all(t.startswith("9.41") and "e" not in t for t in ylabels), ylabels  # not "9.416e-"
    assert "<polygon" in loss_chart  # the noise band
    line = re.search(r'<polyline[^>]*points="([^"]+)"', loss_chart)
    assert line is not None and len(line.group(1).split()) >= 200  # a dense mean line, not a sparse zigzag


def test_a_run_that_never_ended_lasts_until_its_last_point_in_the_static_copy(tb: Any) -> None:
    import time

    from trackbook.board.widget import Board

    trackbook.init(experiment="open")
    trackbook.start_run("still-open")
    later = time.time() + 3600
    trackbook.log_time_series_metrics({"loss": 1.0}, step=1, wall_time=later)
    trackbook.flush()
    board = Board("open", live=False)
    html = board._repr_mimebundle_()[0]["text/html"]
    board.close()
    assert ">1h 00m<" in html  # not the 0s of its last update
    trackbook.end_run()


@pytest.mark.parametrize("values", [
    (0.001, 0.0009999999999999998),  # a constant lr with rounding noise
    (0.3, 0.1 * 3),
    (1.0, 1.0000000000001),
    (1e-300, 2e-300),
    (-1.7e308, 1.7e308),
    (1e15, 1e15 + 3),
    (2e-4, 3e-4),
])
def test_the_static_chart_draws_any_finite_range(tb: Any, values: tuple[float, float]) -> None:
    from trackbook.board.widget import Board

    trackbook.init(experiment="ranges")
    with trackbook.start_run("r"):
        for step, v in enumerate(values):
            trackbook.log_time_series_metrics({"m": v}, step=step)
    board = Board("ranges", live=False)
    html = board._repr_mimebundle_()[0]["text/html"]
    board.close()
    chart = html.split("<svg", 1)[1]
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", chart)
    assert "nan" not in chart.lower() and "inf" not in chart.lower()
    y_labels = [s for s in labels if s not in ("0", "1")]
    assert len(set(y_labels)) == len(y_labels)  # no two ticks with one label


def test_the_static_copy_draws_the_newest_ten_selected_runs(tb: Any) -> None:
    from trackbook.board.widget import Board

    trackbook.init(experiment="many")
    for i in range(12):
        with trackbook.start_run(f"run-{i:02d}"):
            trackbook.log_time_series_metrics({"loss": 1.0 / (i + 1)}, step=1)
            trackbook.log_time_series_metrics({"loss": 0.5 / (i + 1)}, step=2)
    board = Board("many", live=False)
    board.selected = [f"run-{i:02d}" for i in range(12)]
    html = board._copy_bundle()["text/html"]
    board.close()
    assert "the newest 10 of the 12 selected runs" in html
    drawn = set(re.findall(r"<polyline[^>]*><title>([^<]*)</title>", html))
    assert drawn == {f"run-{i:02d}" for i in range(2, 12)}
    assert html.count("<tr>") >= 12  # the table still lists every run
