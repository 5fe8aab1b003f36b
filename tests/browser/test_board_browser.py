"""The board in a real JupyterLab (and Notebook 7) in headless Chromium: rows, drawn curves, a live update
while a later cell is still running, selection both ways, sorting, filtering, differences only, a pinned
baseline, theming, a hostile param value shown as text, and the lineage panel of a run. Saves screenshots
under artifacts/browser/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_lab import Lab, canvas_ink, cell_text_output, open_notebook, run_cell, wait_cell_done

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"
SECONDS = 1000  # Playwright timeouts are in ms; these are bounds against hangs, not speed checks
KERNEL_GONE = "() => !window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel"


def board_in_cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output .trackbook")


def names(board: Any, visible_only: bool = False) -> list[str]:
    rows = board.locator("tbody tr[data-run]")
    out = []
    for i in range(rows.count()):
        row = rows.nth(i)
        if visible_only and not row.is_visible():
            continue
        out.append(row.locator("td").nth(1).inner_text())
    return out


def chart(board: Any, key: str) -> Any:
    return board.locator("figure.tb-chart").filter(has=board.page.locator(".tb-chart-title", has_text=key)).first


def test_board_in_jupyterlab(lab: Lab, page: Any, artifacts: Path) -> None:
    p = page.page
    open_notebook(p, lab, "board.ipynb")
    run_cell(p, 0)
    run_cell(p, 1)
    board = board_in_cell(p, 1)

    # Rows are real table rows holding the run names as text; the state shows as a badge.
    board.locator("tbody tr[data-run]").nth(2).wait_for(timeout=60 * SECONDS)
    assert sorted(names(board)) == ["alpha", "beta", "gamma"]
    badges = board.locator("tbody .tb-badge").all_inner_texts()
    assert sorted(badges) == ["complete", "complete", "failed"]

    # A hostile param value is text: shown literally, no element made from it, no alert.
    notes = board.locator("tbody td", has_text="onerror").all_inner_texts()
    assert notes == [HOSTILE] * 3
    assert board.locator("img").count() == 0

    # Curves were drawn: pixels on each chart's canvas.
    canvases = ".jp-Cell:nth-child(2) .trackbook canvas"
    p.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].length === 2 && [...document.querySelectorAll(sel)]"
        ".every(c => Number(c.dataset.lines) === 3)", arg=canvases, timeout=30 * SECONDS)
    assert all(ink > 2000 for ink in canvas_ink(p, ".trackbook canvas")), canvas_ink(p, ".trackbook canvas")
    board.screenshot(path=str(artifacts / "board.png"))

    # Hover names the run, step and value; a drag zooms, a double click resets.
    loss_chart = chart(board, "loss")
    loss = loss_chart.locator("canvas")
    loss.hover(position={"x": 62, "y": 21})  # where every curve starts: step 0, loss 1
    tip = loss_chart.locator(".tb-tooltip")
    tip.wait_for(state="visible", timeout=10 * SECONDS)
    text = tip.inner_text()
    assert re.search(r"step\s+\d\b", text) and re.search(r"loss\s+0\.9", text), text  # near step 0, loss 1
    assert text.split()[0] in ("alpha", "beta", "gamma"), text
    box = loss.bounding_box()
    p.mouse.move(box["x"] + 150, box["y"] + 100)
    p.mouse.down()
    p.mouse.move(box["x"] + 300, box["y"] + 100, steps=5)
    p.mouse.up()
    reset = loss_chart.locator("button.tb-reset")
    reset.wait_for(state="visible", timeout=10 * SECONDS)
    loss.dblclick(position={"x": 200, "y": 100})
    reset.wait_for(state="hidden", timeout=10 * SECONDS)
    p.mouse.move(0, 0)

    # Live: a later cell trains while the board watches; the new run and its points arrive while the
    # kernel is still busy running that cell.
    run_cell(p, 2, wait=False)
    status = p.wait_for_function(
        "([table, canvas]) => { const names = [...table.querySelectorAll('tbody tr td:nth-child(2)')]"
        ".map(td => td.textContent);"
        " const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status;"
        " return names.includes('live-run') && Number(canvas.dataset.lines) === 4 ? k : ''; }",
        arg=[board.locator("table").element_handle(), loss.element_handle()], timeout=60 * SECONDS,
    ).json_value()
    assert status == "busy", "the live run should appear while the training cell is still running"
    first = int(loss.get_attribute("data-points"))
    status = p.wait_for_function(
        "([c, n]) => Number(c.dataset.points) > n + 5 ? "
        "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status : ''",
        arg=[loss.element_handle(), first], timeout=30 * SECONDS).json_value()
    assert status == "busy", "new points should be drawn while the training cell is still running"
    live_row = board.locator("tbody tr[data-run]", has_text="live-run")
    assert live_row.locator(".tb-badge").inner_text() == "running"
    wait_cell_done(p, 2)
    live_row.locator(".tb-badge", has_text="complete").wait_for(timeout=30 * SECONDS)

    # Selection from Python reaches the checkboxes ...
    run_cell(p, 3)
    p.wait_for_function(
        "(t) => [...t.querySelectorAll('tbody tr[data-run]')].filter(r => r.querySelector('input').checked)"
        ".map(r => r.children[1].textContent).join() === 'alpha'",
        arg=board.locator("table").element_handle(), timeout=30 * SECONDS)
    # ... and clicks (shift-click for a range) reach Python. Rows are newest first: live-run, gamma, beta, alpha.
    assert names(board) == ["live-run", "gamma", "beta", "alpha"]
    board.locator("tbody tr[data-run]", has_text="gamma").locator("td").nth(1).click()
    board.locator("tbody tr[data-run]", has_text="alpha").locator("td").nth(1).click(modifiers=["Shift"])
    p.wait_for_timeout(300)
    run_cell(p, 4)
    assert cell_text_output(p, 4).strip() == "['alpha', 'beta', 'gamma']"

    # Results first: one experiment, so its column is hidden (the menu counts it), and the last values of
    # the series are in view without scrolling. Scrolled sideways, the select and name columns stay, opaque.
    header = board.locator("thead th")
    assert header.filter(has_text="experiment").is_hidden()
    assert board.locator(".tb-runs .tb-menu > summary").inner_text() == "columns (1 hidden)"
    scroller = board.locator(".tb-table-scroll")
    view = scroller.bounding_box()
    first_result = header.filter(has_text="last").first.bounding_box()
    assert first_result["x"] + first_result["width"] <= view["x"] + view["width"], (first_result, view)
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    p.wait_for_timeout(200)
    alpha_name = board.locator("tbody tr[data-run]", has_text="alpha").locator("td.tb-namecol")
    box = alpha_name.bounding_box()
    assert view["x"] <= box["x"] < view["x"] + 200, (box, view)
    on_top = alpha_name.evaluate(
        "td => { const r = td.getBoundingClientRect();"
        " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === td; }")
    assert on_top, "the name cell should cover the cells scrolled under it"
    name_bg_light = alpha_name.evaluate("td => getComputedStyle(td).backgroundColor")
    assert name_bg_light not in ("", "rgba(0, 0, 0, 0)", "transparent"), name_bg_light
    scroller.evaluate("el => { el.scrollLeft = 0; }")

    # Sort by name; filter; differences only; a pinned baseline shows deltas.
    board.locator("thead button.tb-sort", has_text="run").click()
    assert names(board) == ["alpha", "beta", "gamma", "live-run"]
    # The filter compares: exact values, numbers numerically, a leading - negates; nothing matching says so.
    board.locator("input.tb-filter").fill("lr>=0.03 -live")
    assert names(board, visible_only=True) == ["alpha", "beta"]
    board.locator("input.tb-filter").fill("batch_size=64")
    assert names(board, visible_only=True) == ["live-run"]
    board.locator("input.tb-filter").fill("lr>5")
    assert board.locator("tbody tr.tb-nomatch").inner_text() == "No runs match lr>5"
    board.locator("input.tb-filter").fill("note~<img")
    assert board.locator("tbody tr.tb-nomatch").count() == 0
    board.locator("label", has_text="differences only").locator("input").check()
    assert header.filter(has_text="batch_size").is_hidden()  # 32 for every run shown
    assert header.filter(has_text="lr").first.is_visible()
    assert names(board, visible_only=True) == ["alpha", "beta", "gamma"]
    board.locator("tbody tr[data-run]", has_text="alpha").locator("button.tb-pin").click()
    assert board.locator("tbody tr[data-run]", has_text="beta").locator(".tb-delta").count() >= 1
    board.locator("input.tb-filter").fill("")
    assert len(names(board, visible_only=True)) == 4

    # The theme follows JupyterLab's (light to dark), through its CSS variables.
    fg_light = board.evaluate("el => getComputedStyle(el).getPropertyValue('--tb-fg')")
    p.evaluate("() => { window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'}); }")
    p.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30 * SECONDS)
    p.wait_for_timeout(500)
    assert board.evaluate("el => getComputedStyle(el).getPropertyValue('--tb-fg')") != fg_light
    name_bg_dark = alpha_name.evaluate("td => getComputedStyle(td).backgroundColor")
    assert name_bg_dark not in ("", "rgba(0, 0, 0, 0)", "transparent", name_bg_light), name_bg_dark
    board.screenshot(path=str(artifacts / "board-dark.png"))

    # An empty experiment says how to log a first run.
    run_cell(p, 5)
    empty = board_in_cell(p, 5).locator(".tb-empty")
    empty.wait_for(timeout=30 * SECONDS)
    assert "No runs yet in experiment 'nothing-here'" in empty.inner_text()
    assert "trackbook.start_run(" in empty.inner_text()

    assert page.dialogs == [], page.dialogs
    assert page.errors == [], page.errors


LINEAGE_CELL = """
import trackbook
trackbook.init(store='lineage.db', experiment='lin')
raw = trackbook.Artifact.create('system.Dataset', uri='/tmp/raw.csv', display_name='raw <b>data</b>')
with trackbook.start_run('trained'):
    trackbook.log_time_series_metrics({'loss': 1.0}, step=0)
    with trackbook.start_execution(schema_title='system.ContainerExecution', display_name='fit') as ex:
        ex.assign_input_artifacts([raw])
        model = trackbook.Artifact.create('system.Model', uri='/tmp/model.npy', display_name='model-1')
        ex.assign_output_artifacts([model])
with trackbook.start_run('evaluated'):
    with trackbook.start_execution(schema_title='system.ContainerExecution', display_name='evaluate') as ex:
        ex.assign_input_artifacts([model])
        ex.assign_output_artifacts([trackbook.Artifact.create(
            'system.Metrics', uri='/tmp/report.json', display_name='evaluation-report')])
with trackbook.start_run('plain'):
    trackbook.log_time_series_metrics({'loss': 2.0}, step=0)
trackbook.board('lin')
"""


def test_lineage_panel(lab: Lab, page: Any, artifacts: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(LINEAGE_CELL)]
    nbformat.write(nb, lab.root / "lineage.ipynb")
    p = page.page
    open_notebook(p, lab, "lineage.ipynb")
    run_cell(p, 0)
    board = board_in_cell(p, 0)
    board.locator("tbody tr[data-run]").nth(1).wait_for(timeout=60 * SECONDS)
    panel = board.locator(".tb-lineage")
    assert panel.is_hidden()  # nothing asked for yet

    # The row's lineage button asks the kernel for the run's graph; the panel draws it.
    board.locator("tbody tr[data-run]", has_text="trained").locator("button.tb-lin").click()
    nodes = panel.locator("g.tb-lnode")
    nodes.nth(4).wait_for(timeout=30 * SECONDS)  # raw, fit, model and downstream evaluate, its report
    assert panel.locator(".tb-lineage-title").inner_text() == "Lineage of trained"
    pressed = board.locator("tbody tr[data-run]", has_text="trained").locator("button.tb-lin")
    assert pressed.get_attribute("aria-pressed") == "true"
    # Each node's full name is in its title (the box may cut it with an ellipsis to fit the panel).
    labels = {nodes.nth(i).locator("title").text_content().rsplit(" (", 1)[0]: nodes.nth(i)
              for i in range(nodes.count())}
    assert set(labels) == {"raw <b>data</b>", "fit", "model-1", "evaluate", "evaluation-report"}  # text
    assert labels["raw <b>data</b>"].locator(".tb-lname").text_content().startswith("raw <b>")
    assert panel.locator("b").count() == 0
    kinds = {name: g.get_attribute("class") for name, g in labels.items()}
    assert "tb-lnode-artifact" in kinds["raw <b>data</b>"] and "tb-lnode-execution" in kinds["fit"]
    # The type line keeps the state whole when the box is too narrow for all of it.
    assert re.fullmatch(r"Contain(erExecution|\w*…) · complete", labels["fit"].locator(".tb-lkind").text_content())
    # Inputs left, the execution in the middle, outputs right.
    x = {name: g.bounding_box()["x"] for name, g in labels.items()}
    assert x["raw <b>data</b>"] < x["fit"] < x["model-1"] < x["evaluate"] < x["evaluation-report"]
    # Five layers (1216 px at the default sizes) fit the panel: no node cut off, no sideways scroll.
    graph = panel.locator(".tb-lineage-graph")
    fit = graph.evaluate("el => ({client: el.clientWidth, scroll: el.scrollWidth,"
                         " right: el.getBoundingClientRect().right})")
    assert fit["scroll"] <= fit["client"], fit
    for g in labels.values():
        box = g.bounding_box()
        assert box["x"] + box["width"] <= fit["right"] + 0.5, (box, fit)
    # Edge style by event type: dashed INPUTs, solid OUTPUTs.
    assert panel.locator("path.tb-ledge-input").count() == 2
    assert panel.locator("path.tb-ledge-output").count() == 2
    dash = panel.locator("path.tb-ledge-input").first.evaluate("el => getComputedStyle(el).strokeDasharray")
    assert dash not in ("", "none"), dash
    # Hovering a node shows its details as text.
    labels["model-1"].hover()
    details = panel.locator(".tb-lineage-details")
    details.locator("dd", has_text="/tmp/model.npy").wait_for(timeout=10 * SECONDS)
    text = details.inner_text()
    assert "system.Model" in text and "lin-trained" in text and "in this run" in text
    # The labels ("resource id", "made by / read by") each keep to one line beside their values.
    lines = details.locator("dl").evaluate(
        "el => [...el.querySelectorAll('dt')].map(dt => { const r = document.createRange();"
        " r.selectNodeContents(dt); return [dt.textContent, r.getBoundingClientRect().height,"
        " parseFloat(getComputedStyle(dt).lineHeight)]; })")
    assert len(lines) >= 8 and all(h < 1.5 * line for _, h, line in lines), lines
    for dd in details.locator("dd").all():  # the values get the room and wrap
        assert dd.bounding_box()["width"] > 150, (dd.inner_text(), dd.bounding_box())
    board.screenshot(path=str(artifacts / "board-lineage.png"))

    # Upstream only, then a run without lineage, then close.
    panel.locator("select").select_option("upstream")
    p.wait_for_function("(el) => el.querySelectorAll('g.tb-lnode').length === 3", arg=panel.element_handle(),
                        timeout=30 * SECONDS)
    board.locator("tbody tr[data-run]", has_text="plain").locator("button.tb-lin").click()
    details.locator("text=has no artifacts or executions").wait_for(timeout=30 * SECONDS)
    assert panel.locator("g.tb-lnode").count() == 0
    panel.locator("button.tb-lineage-close").click()
    assert panel.is_hidden()
    assert page.dialogs == [], page.dialogs
    assert page.errors == [], page.errors


SAVED_CELLS = [
    "import trackbook\nfrom trackbook.board import widget\nwidget.QUIET = 0.5\n"
    "trackbook.init(store='saved.db', experiment='saved')\nboard = trackbook.board('saved')\nboard",
    "for name in ['first', 'second']:\n    trackbook.start_run(name)\n    for s in range(30):\n"
    "        trackbook.log_time_series_metrics({'loss': 1 / (s + 1)}, step=s)\n    trackbook.end_run()",
    "import time\ntime.sleep(2)",
]
OUTPUTS = (
    "() => [...document.querySelectorAll('.jp-Cell')[0].querySelectorAll('.jp-OutputArea-child')].map(c =>"
    " ({shown: getComputedStyle(c).display !== 'none' && c.offsetHeight > 0, text: c.innerText}))"
)


def test_a_saved_board_reopened_without_its_kernel_shows_its_static_copy(lab: Lab, page: Any, artifacts: Path
                                                                          ) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in SAVED_CELLS]
    nbformat.write(nb, lab.root / "saved.ipynb")
    p = page.page
    open_notebook(p, lab, "saved.ipynb")
    for i in range(3):  # the board is shown before any run, then training, then a quiet spell
        run_cell(p, i)
    board = board_in_cell(p, 0)
    board.locator("tbody tr[data-run]").nth(1).wait_for(timeout=60 * SECONDS)
    live, copy = p.evaluate(OUTPUTS)
    assert live["shown"] and not copy["shown"]  # the live board hides its static copy

    p.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    p.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30 * SECONDS)
    saved = nbformat.read(lab.root / "saved.ipynb", as_version=4)
    assert "widgets" not in saved.metadata  # JupyterLab's default: no widget state saved
    html = saved.cells[0].outputs[1]["data"]["text/html"]
    assert ">first<" in html and ">second<" in html and "No runs yet" not in html  # brought up to date

    # Reopened later: a new kernel, which has no model for the widget.
    p.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    p.wait_for_function(KERNEL_GONE, timeout=30 * SECONDS)
    open_notebook(p, lab, "saved.ipynb")
    p.locator(".jp-Cell").nth(0).locator(".trackbook-static").wait_for(timeout=30 * SECONDS)
    p.wait_for_function(  # JupyterLab gives up on the widget once its manager has restored
        "() => !!document.querySelector('.jp-Cell .jp-OutputArea-output.jupyter-widgets')", timeout=30 * SECONDS)
    widget_output, copy = p.evaluate(OUTPUTS)
    assert widget_output["text"] == "Error displaying widget: model not found" and not widget_output["shown"]
    assert copy["shown"] and "first" in copy["text"] and "a static copy" in copy["text"]
    static = p.locator(".jp-Cell").nth(0).locator(".trackbook-static")
    assert static.locator("polyline").count() == 2 and static.locator("tbody tr").count() == 2
    assert board_in_cell(p, 0).count() == 0
    p.locator(".jp-Cell").nth(0).screenshot(path=str(artifacts / "board-reopened.png"))
    assert page.dialogs == [] and page.errors == [], (page.dialogs, page.errors)


def test_board_in_notebook_7(lab: Lab, page: Any) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import trackbook\n"
        "trackbook.init(store='nb7.db', experiment='nb7')\n"
        "for name in ['one', 'two']:\n"
        "    trackbook.start_run(name)\n"
        "    for s in range(50):\n"
        "        trackbook.log_time_series_metrics({'loss': 1 / (s + 1)}, step=s)\n"
        "    trackbook.end_run()\n"
        "trackbook.board('nb7')"
    )]
    nbformat.write(nb, lab.root / "nb7.ipynb")
    p = page.page
    p.goto(lab.notebook_url("nb7.ipynb", app="notebook"))
    p.wait_for_function(
        "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=90 * SECONDS)
    page.errors.clear()  # Notebook 7.6 itself throws one settings-schema error while loading; ours come later
    run_cell(p, 0)
    board = p.locator(".jp-OutputArea-output .trackbook")
    board.locator("tbody tr[data-run]").nth(1).wait_for(timeout=60 * SECONDS)
    assert sorted(names(board)) == ["one", "two"]
    p.wait_for_function(
        "() => { const c = document.querySelector('.trackbook canvas'); return c && Number(c.dataset.lines) === 2; }",
        timeout=30 * SECONDS)
    assert canvas_ink(p, ".trackbook canvas")[0] > 2000
    assert page.errors == [], page.errors
