"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed without outputs.

Each notebook runs in a temporary working directory with its own TRACKBOOK_STORE, so it never writes into
the repository. A cell tagged "raises-exception" may fail (it shows a failure on purpose); any other error
fails the test. New notebooks are picked up by the glob: nothing to register.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from support import ROOT, python_env
from trackbook.store import Store

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300


def executed(path: Path, workdir: Path) -> tuple[Any, Path]:
    """Run the notebook in `workdir` with a store there; return the executed notebook and the store path."""
    nb = nbformat.read(path, as_version=4)
    store = workdir / "trackbook.db"
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(workdir)}},
    )
    # No display in CI: keep matplotlib (used by integrations) off any GUI backend.
    client.execute(env=python_env(TRACKBOOK_STORE=str(store), MPLBACKEND="Agg"))
    return nb, store


def test_there_are_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "magics.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: strip them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} carries saved widget state"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in path.parent.iterdir())
    nb, store = executed(path, tmp_path)
    failures = [
        (i, out.get("ename"))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert failures == []
    assert sorted(p.name for p in path.parent.iterdir()) == before, "the notebook wrote into notebooks/"
    checks = CHECKS.get(path.stem)
    if checks is not None:
        checks(nb, store)


# -- what the example notebooks must have produced ----------------------------------------------------------


def runs_in(path: Path) -> dict[str, tuple[str, str, dict[str, int]]]:
    """{run name: (experiment, state, {series key: number of points})} as stored in the file."""
    store = Store(path, create=False)
    try:
        names = {e.id: e.name for e in store.experiments()}
        out = {}
        for run in store.runs():
            points = {key: len(store.series(run.id, key)[0]) for _, key in store.series_keys([run.id])}
            out[run.name] = (names[run.experiment_id], run.state, points)
        return out
    finally:
        store.close()


def outputs_text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts.append(data.get("text/plain", ""))
        parts.append(data.get("text/html", ""))
        parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def is_altair(output: Any) -> bool:
    """A trackbook chart as displayed: a static SVG drawn by Vega (class "marks"), no script, no CDN."""
    return 'class="marks"' in output.get("data", {}).get("image/svg+xml", "")


def widgets(nb: Any) -> int:
    """How many widgets (the board) the notebook displayed."""
    return sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in nb.cells
               for o in c.get("outputs", []))


def check_quickstart(nb: Any, store: Path) -> None:
    runs = runs_in(store)
    assert len(runs) == 5
    assert {exp for exp, _, _ in runs.values()} == {"auto-mpg-experiment"}
    assert {state for _, state, _ in runs.values()} == {"COMPLETE"}
    assert sorted(points["train_mae"] for _, _, points in runs.values()) == [3, 10, 10, 10, 10]
    text = "\n".join(outputs_text(c) for c in nb.cells)
    assert "time_series_metric.train_mae" in text  # the run table was shown
    charts = [o for c in nb.cells for o in c.get("outputs", []) if is_altair(o)]
    assert len(charts) == 2, "the overlay chart and the one-run chart"
    assert widgets(nb) == 1, "the board"
    assert_report(store.parent / "auto-mpg-report.html", sorted(runs))


def check_magics(nb: Any, store: Path) -> None:
    runs = runs_in(store)
    states = {name: state for name, (_, state, _) in runs.items()}
    auto = [n for n in states if n.startswith("cell-")]
    assert len(auto) == 1
    assert states == {"short": "COMPLETE", "small": "COMPLETE", "small-dropout": "COMPLETE", "wide": "COMPLETE",
                      auto[0]: "COMPLETE", "with-a-bug": "FAILED"}
    assert runs["short"][2]["train_mae"] == 10  # 3 epochs, then 7 more after --resume
    assert runs["with-a-bug"][2]["train_mae"] == 5  # what the failing cell logged before the error
    assert widgets(nb) == 1, "the board"
    bug = next(c for c in nb.cells if "raises-exception" in c.metadata.get("tags", []))
    assert "ValueError" in outputs_text(bug)
    listing = outputs_text(nb.cells[-1])
    assert "with-a-bug" in listing and "FAILED" in listing
    assert_report(store.parent / "auto-mpg-magics.html", [n for n in runs if n != "with-a-bug"])  # shared before


def assert_report(path: Path, run_names: list[str]) -> None:
    """The Share cell wrote the HTML report, listing every run (tests/test_report.py checks it in depth)."""
    html = path.read_text(encoding="utf-8")
    static = html.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert all(f">{name}<" in static for name in run_names)


CHECKS = {"quickstart": check_quickstart, "magics": check_magics}
