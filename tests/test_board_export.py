"""A notebook that shows a board, run in a real kernel and exported to HTML with nbconvert (no kernel, no
saved widget state): the output is the board's static fallback (table and chart), with no script of ours
and the hostile param as text."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from support import python_env

CODE = """
import trackbook
trackbook.init(store="export.db", experiment="exported")
for name in ["first", "second"]:
    trackbook.start_run(name)
    trackbook.log_params({"note": "<img src=x onerror=alert(1)>"})
    for s in range(30):
        trackbook.log_time_series_metrics({"loss": 1 / (s + 1)}, step=s)
    trackbook.end_run()
trackbook.board("exported")
"""


def test_an_exported_notebook_shows_the_static_board(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CODE)]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=python_env())
    output = nb.cells[0].outputs[-1]
    assert "application/vnd.jupyter.widget-view+json" in output["data"]
    assert "widgets" not in nb.metadata  # nothing saved the widget state
    html, _ = HTMLExporter().from_notebook_node(nb)
    board = html.split('class="trackbook-static"', 1)[1].split("</table>", 1)[0]
    assert ">first<" in board and ">second<" in board
    assert "<polyline" in board  # the chart
    assert "&lt;img src=x onerror=alert(1)&gt;" in board and "<img" not in board and "<script" not in board
    assert "Error displaying widget" not in html
