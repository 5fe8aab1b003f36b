"""Notebooks that show a board, run in a real kernel and exported to HTML with nbconvert (no kernel, no
saved widget state): the export shows the board's static copy (table and chart), kept up to date by the
kernel after the board was shown, with no script of ours and the hostile param as text."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

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
    return html.split('class="trackbook-static"', 1)[1].split("</table>", 1)[0]


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
