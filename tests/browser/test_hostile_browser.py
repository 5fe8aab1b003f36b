"""A store made by someone else (tests/test_hostile.py: names, params and keys full of HTML, JavaScript and SQL
fragments, and a 10 MB param) shown by the board in JupyterLab and by the HTML report opened from disk in
Chromium with the network blocked: every string is text, no script runs, nothing is fetched, and the page
stays usable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_lab import Lab, open_notebook, run_cell

import trackbook
from support import reset_session
from test_hostile import BIG, HOSTILE, make_hostile_store

pytestmark = pytest.mark.browser
SECONDS = 1000  # Playwright timeouts are in ms; bounds against hangs, not speed checks

# Anything the page could have made of the hostile strings, had it parsed them as markup.
INJECTED = "img[src='x'], script:not([src]):not([type]), tbody tr:not([data-run]):not(.tb-spacer)"


def run_names(table: Any) -> list[str]:
    return table.evaluate(
        "t => [...t.querySelectorAll('tbody tr[data-run]')].map(r => r.children[1].textContent)")


def check_table(root: Any) -> None:
    """The hostile names are the run names, the hostile keys are column headers, all as text; the table
    still sorts and filters."""
    table = root.locator("table.tb-table")
    table.locator("tbody tr[data-run]").nth(len(HOSTILE) - 1).wait_for(timeout=60 * SECONDS)
    assert sorted(run_names(table)) == sorted(HOSTILE)
    headers = table.locator("thead").inner_text()
    for text in HOSTILE:
        assert text.splitlines()[0] in headers, text
    # A cell holds the hostile value as its text (param p0 of run 0 is HOSTILE[0]).
    cells = table.evaluate("t => [...t.querySelectorAll('tbody td')].map(td => td.textContent)")
    for text in HOSTILE:
        assert text in cells, text
    # The 10 MB value is there, as text, and the table still works: sort by name, then filter.
    assert table.evaluate("t => Math.max(...[...t.querySelectorAll('tbody td')].map(td => td.textContent.length))") \
        == len(BIG)
    table.locator("thead button.tb-sort").filter(has_text="run").first.click()
    root.page.wait_for_function("(t) => t.querySelector('tbody tr[data-run] td:nth-child(2)').textContent"
                                " === [...t.querySelectorAll('tbody tr[data-run]')].map(r => r.children[1].textContent)"
                                ".sort((a, b) => a.localeCompare(b, undefined, {numeric: true}))[0]",
                                arg=table.element_handle(), timeout=10 * SECONDS)
    root.locator("input.tb-filter").fill("DROP")
    root.page.wait_for_function(
        "(t) => [...t.querySelectorAll('tbody tr[data-run]')].filter(r => r.offsetParent !== null).length === 1",
        arg=table.element_handle(), timeout=10 * SECONDS)
    root.locator("input.tb-filter").fill("")
    assert root.locator(INJECTED).count() == 0


def test_a_hostile_store_on_the_board_in_jupyterlab(lab: Lab, page: Any, artifacts: Path) -> None:
    make_hostile_store(lab.root / "hostile.db")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import trackbook\ntrackbook.board(store='hostile.db')")]
    nbformat.write(nb, lab.root / "hostile.ipynb")
    p = page.page
    requests: list[str] = []
    p.on("request", lambda r: requests.append(r.url))
    open_notebook(p, lab, "hostile.ipynb")
    requests.clear()  # JupyterLab's own loading; from here on, only what showing the board asks for
    run_cell(p, 0, timeout=120)
    board = p.locator(".jp-OutputArea-output .trackbook")
    check_table(board)
    board.screenshot(path=str(artifacts / "board-hostile.png"))
    # In the whole notebook, not only the board (JupyterLab's own page has inline scripts of its own).
    # The board's table rows are its own (data-run); the static copy beside it (hidden while the board lives)
    # has plain rows, so rows are checked in the board only.
    selectors = INJECTED.replace("tbody", ".trackbook tbody").split(", ")
    found = p.evaluate("(sel) => [...document.querySelectorAll(sel)].map(e => e.outerHTML.slice(0, 200))",
                       ", ".join(f".jp-Notebook {s}" for s in selectors))
    assert found == [], found
    # The static copy holds the hostile values as text too, and the 10 MB param cut short.
    copy = p.locator(".jp-Notebook .trackbook-static").first
    copy_cells = copy.evaluate("c => [...c.querySelectorAll('tbody td')].map(td => td.textContent)")
    for text in HOSTILE:
        assert text in copy_cells, text
    assert f"{'A' * 200}… ({len(BIG):,} characters)" in copy_cells
    # Every request went to the lab server (or is anywidget's module as a blob of this page), and none was made
    # from a hostile string (<img src=x>).
    outside = [u for u in requests if not u.startswith((lab.url, f"blob:{lab.url}"))]
    assert outside == [], outside
    assert not [u for u in requests if u.split("?")[0].endswith("/x") or "alert" in u], requests
    assert page.dialogs == [], page.dialogs
    assert page.errors == [], page.errors


def test_the_report_of_a_hostile_store_offline(browser: Any, tmp_path: Path) -> None:
    store = tmp_path / "hostile.db"
    make_hostile_store(store)
    reset_session()
    try:
        html = trackbook.report(tmp_path / "report.html", store=str(store))
    finally:
        reset_session()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    attempted: list[str] = []

    def block(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith("file:") else attempted.append(r.url))
    page.goto(html.resolve().as_uri())
    root = page.locator(".trackbook")
    check_table(root)
    assert page.title().startswith("trackbook report")
    assert page.locator(INJECTED).count() == 0
    assert attempted == [], attempted
    assert dialogs == [] and errors == [], (dialogs, errors)
    context.close()
