"""Board speed in a real JupyterLab in headless Chromium: 1,000 runs in the table, 50 overlaid curves of
100,000 points each.

    python bench/board.py [--store PATH] [--fresh] [--repeat 2] [--markdown] [--kernel-only]

The store (1,000 runs with params and summary metrics; 950 short series; 50 runs with a 100,000-point
`loss`) is built once and reused (`--fresh` rebuilds it). Each repeat opens a fresh notebook (a new
kernel) and measures, from the moment the cell is run in the page:
- first paint: the 1,000 rows in the table and the first curve drawn; then all 50 curves drawn;
- bytes: every websocket frame the page received until all 50 curves were drawn;
- sort: clicking a column header until the next frame is painted (median of 6 sorts);
- live append: a point logged in the kernel (and, separately, by another process) until it is drawn.
Baselines measured in the same run: the same 1,000-run table shown as a pandas DataFrame (HTML) in the same
notebook, an empty frame (two requestAnimationFrame) for the sort, and the bytes of the raw float64 points.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from browser_lab import launch, open_notebook, run_cell, running_lab, wait_cell_done  # noqa: E402

import trackbook  # noqa: E402

RUNS, LONG, POINTS = 1000, 50, 100_000
LIVE_POINTS = 15

# Watches the page every frame: when the rows and the curves appear, and every change of the last step drawn.
WATCH = """
window.__tb = {rowsAt: 0, curveAt: 0, allAt: 0, dfAt: 0, draws: []};
(function watch() {
  const tb = window.__tb;
  const now = Date.now();
  const table = document.querySelector('.trackbook table.tb-table');
  const rows = table ? Number(table.getAttribute('aria-rowcount') || 0) - 1 : 0;  // the table is windowed
  if (!tb.rowsAt && rows >= __RUNS__ && table.querySelector('tbody tr[data-run]')) tb.rowsAt = now;
  const c = document.querySelector('.trackbook canvas');
  if (c) {
    const lines = Number(c.dataset.lines || 0);
    if (!tb.curveAt && lines >= 1) tb.curveAt = now;
    if (!tb.allAt && lines >= __LONG__) tb.allAt = now;
    const step = Number(c.dataset.maxStep || -1);
    const last = tb.draws.length ? tb.draws[tb.draws.length - 1][0] : -2;
    if (step !== last) tb.draws.push([step, Number(c.dataset.drawnAt || now)]);
  }
  if (!tb.dfAt && document.querySelectorAll('table.dataframe tbody tr').length >= __RUNS__) tb.dfAt = now;
  requestAnimationFrame(watch);
})();
""".replace("__RUNS__", str(RUNS)).replace("__LONG__", str(LONG))

SORT = """
async (labels) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const out = {sort: [], handler: [], empty: []};
  for (const label of labels) {
    const btn = [...document.querySelectorAll('.trackbook thead button.tb-sort')]
      .find(b => b.textContent.endsWith(label));
    for (let i = 0; i < 2; i++) {
      await frame();
      let t0 = performance.now(); await frame(); out.empty.push(performance.now() - t0);
      t0 = performance.now(); btn.click(); const t1 = performance.now(); await frame();
      out.handler.push(t1 - t0); out.sort.push(performance.now() - t0);
    }
  }
  return out;
}
"""

LIVE_CELL = """
live = trackbook.start_run("live-kernel")
logged = {}
for k in range(__N__):
    step = 200_000 + k
    logged[step] = time.time()
    live.log_time_series_metrics({"loss": 0.5}, step=step)
    time.sleep(0.4)
trackbook.end_run()
print(json.dumps(logged))
""".replace("__N__", str(LIVE_POINTS))

PROCESS_CELL = """
code = '''
import json, sys, time, trackbook
trackbook.init(store=sys.argv[1], experiment="bench")
run = trackbook.start_run("live-process")
logged = {}
for k in range(__N__):
    step = 300_000 + k
    logged[step] = time.time()
    run.log_time_series_metrics({"loss": 0.5}, step=step)
    time.sleep(0.4)
trackbook.end_run()
print(json.dumps(logged))
'''
out = subprocess.run([sys.executable, "-c", code, STORE], capture_output=True, text=True, check=True)
print(out.stdout.strip())
""".replace("__N__", str(LIVE_POINTS))


def build_store(path: Path) -> None:
    """1,000 runs; the newest 50 have a 100,000-point loss, the others 20 points."""
    rng = np.random.default_rng(0)
    if path.exists():
        path.unlink()
    trackbook.init(store=path, experiment="bench")
    t0 = time.perf_counter()
    for i in range(RUNS):
        run = trackbook.start_run(f"run-{i:04d}")
        run.log_params({"lr": float(10 ** rng.uniform(-5, -1)), "batch_size": int(rng.choice([32, 64, 128])),
                        "optimizer": str(rng.choice(["adam", "sgd", "adamw"])), "seed": i, "layers": 4})
        n = POINTS if i >= RUNS - LONG else 20
        noise = rng.normal(size=n) * 0.02
        base = np.exp(-np.arange(n) / (n / 5))
        values = (base + noise).tolist()
        if n == POINTS:
            values[int(rng.integers(1000, n - 1000))] = 5.0  # a spike that must survive reduction
        log = run.log_time_series_metrics
        for step, v in enumerate(values):
            log({"loss": v}, step=step)
        run.log_metrics({"final_loss": values[-1], "accuracy": float(rng.uniform(0.6, 0.95))})
        trackbook.end_run("FAILED" if i % 37 == 0 else "COMPLETE")
    trackbook.flush()
    print(f"built {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def notebook(store: Path, long_names: list[str]) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [
        "import json, subprocess, sys, time\nimport pandas as pd\nimport trackbook\n"
        f"STORE = {str(store)!r}\ntrackbook.init(store=STORE, experiment='bench')\nLONG = {long_names!r}",
        "pd.set_option('display.max_rows', 5000)\ntrackbook.get_experiment_df('bench')",
        "b = trackbook.board('bench')\nb.selected = LONG\nb",
        LIVE_CELL,
        PROCESS_CELL,
    ]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def measure(lab: Any, browser: Any, name: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.add_init_script(WATCH)
    frames: list[tuple[float, int]] = []

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append((time.time() * 1000, len(payload))))

    page.on("websocket", on_ws)
    open_notebook(page, lab, name)
    run_cell(page, 0)

    t_df = page.evaluate("() => Date.now()")
    run_cell(page, 1)
    page.wait_for_function("() => window.__tb.dfAt > 0", timeout=120_000)
    df_paint = page.evaluate("() => window.__tb.dfAt") - t_df

    t_board = page.evaluate("() => Date.now()")
    run_cell(page, 2, wait=False)
    page.wait_for_function("() => window.__tb.allAt > 0", timeout=300_000)
    tb = page.evaluate("() => window.__tb")
    wait_cell_done(page, 2)
    sent = sum(n for t, n in frames if t >= t_board and t <= tb["allAt"] + 500)
    # When the last large frame (series data) arrived: the kernel's share of "all curves", as the page saw it.
    data_frames = [t for t, n in frames if t_board <= t <= tb["allAt"] + 500 and n > 20_000]
    last_data = max(data_frames) - t_board if data_frames else float("nan")

    sorts = page.evaluate(SORT, ["run", "lr", "final_loss"])

    def latencies(cell: int) -> list[float]:
        page.evaluate("() => { window.__tb.draws = []; }")
        run_cell(page, cell, timeout=300)
        out = page.evaluate(
            "(i) => { const o = window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs;"
            " for (let k = 0; k < o.length; k++) { const j = o.get(k).toJSON(); if (j.text) return"
            " Array.isArray(j.text) ? j.text.join('') : j.text; } return ''; }", cell)
        logged = {int(k): v * 1000 for k, v in json.loads(out.strip().splitlines()[-1]).items()}
        page.wait_for_timeout(1500)
        draws = page.evaluate("() => window.__tb.draws")
        lat = []
        for step, at in logged.items():
            drawn = [t for s, t in draws if s >= step]
            if drawn:
                lat.append(min(drawn) - at)
        return lat

    live_kernel = latencies(3)
    live_process = latencies(4)
    context.close()
    return {
        "df_paint_ms": df_paint,
        "rows_ms": tb["rowsAt"] - t_board,
        "first_curve_ms": tb["curveAt"] - t_board,
        "all_curves_ms": tb["allAt"] - t_board,
        "last_data_ms": last_data,
        "bytes": sent,
        "sort_ms": statistics.median(sorts["sort"]),
        "sort_handler_ms": statistics.median(sorts["handler"]),
        "empty_frame_ms": statistics.median(sorts["empty"]),
        "live_kernel_ms": live_kernel,
        "live_process_ms": live_process,
    }


def kernel_side(store: Path, long_names: list[str]) -> dict[str, float]:
    """The kernel's own share: building the board, and reading the 50 long series for the chart, cold (no
    reduction cache): the way the board does it (SQL bucket summaries, with one reader thread and with
    feed.READERS), and, as the baseline, the previous way (every point through Python, M4 in numpy)."""
    from trackbook.board import feed as feed_module
    from trackbook.board.feed import Feed, _reductions, reduce_series
    from trackbook.session import resolve

    st, _ = resolve(store)
    t0 = time.perf_counter()
    feed = Feed(st, ["bench"])
    feed.scan(force=True)
    scan = time.perf_counter() - t0
    feed.set_selection(feed.resolve(long_names))
    feed.scan(force=True)
    pairs = list(feed.pending)

    t0 = time.perf_counter()
    kept_m4 = 0
    for rid, kid in pairs:
        steps, wall, values = st.series_points(rid, kid)
        kept_m4 += len(reduce_series(steps, wall, values, feed.px).steps)
    baseline = time.perf_counter() - t0

    def load(readers: int) -> tuple[float, int]:
        feed_module.READERS = readers
        _reductions.clear()
        for (rid, kid) in pairs:
            feed.held.pop((rid, kid), None)
        feed.pending = list(pairs)
        t0 = time.perf_counter()
        points = 0
        while feed.pending:
            points += sum(len(p.steps) for p in feed.load(budget=60))
        return time.perf_counter() - t0, points

    readers = feed_module.READERS
    one, kept = load(1)
    many, _ = load(readers)
    feed_module.READERS = readers
    return {"scan_ms": scan * 1000, "baseline_s": baseline, "baseline_kept": kept_m4, "one_s": one,
            "many_s": many, "readers": readers, "kept": kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "trackbook-bench-board.db")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--kernel-only", action="store_true", help="only the kernel's share (no browser)")
    args = parser.parse_args()
    store = args.store.absolute()
    if args.fresh or not store.exists():
        build_store(store)
    long_names = [f"run-{i:04d}" for i in range(RUNS - LONG, RUNS)]
    kernel = kernel_side(store, long_names)
    if args.kernel_only:
        print(json.dumps(kernel, indent=1))
        return
    work = Path(tempfile.mkdtemp(prefix="trackbook-bench-board-"))
    root = work / "root"
    root.mkdir()
    results = []
    from playwright.sync_api import sync_playwright

    try:
        with running_lab(root, work / "lab") as lab, sync_playwright() as p:
            browser = launch(p)
            for i in range(args.repeat):
                name = f"bench{i}.ipynb"
                copy = work / f"bench{i}.db"  # each repeat on a pristine copy (the live cells add runs)
                shutil.copy(store, copy)
                nbformat.write(notebook(copy, long_names), root / name)
                results.append(measure(lab, browser, name))
                print(json.dumps(results[-1], default=str), file=sys.stderr)
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, kernel, args.markdown)


def report(results: list[dict[str, Any]], kernel: dict[str, float], markdown: bool) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    live_k = sorted(x for r in results for x in r["live_kernel_ms"])
    live_p = sorted(x for r in results for x in r["live_process_ms"])
    raw_bytes = LONG * POINTS * 8 * 3  # step, wall time and value as float64
    rows = [
        ("first paint: 1,000 rows + first curve", f"{max(med('rows_ms'), med('first_curve_ms')):.0f} ms", "<= 1,000 ms",
         f"{max(med('rows_ms'), med('first_curve_ms')) / med('df_paint_ms'):.2f}x the DataFrame table "
         f"({med('df_paint_ms'):.0f} ms)"),
        ("all 50 curves drawn", f"{med('all_curves_ms'):.0f} ms", "(<= 1,000 ms)",
         f"{med('all_curves_ms') / med('df_paint_ms'):.2f}x the DataFrame table; last series data received at "
         f"{med('last_data_ms'):.0f} ms"),
        ("bytes to the browser until all curves drawn", f"{med('bytes') / 1e6:.2f} MB", "<= 4 MB",
         f"{med('bytes') / raw_bytes:.3f}x the raw points ({raw_bytes / 1e6:.0f} MB)"),
        ("sort 1,000 rows, click to next paint", f"{med('sort_ms'):.1f} ms", "<= 100 ms",
         f"{med('sort_ms') / med('empty_frame_ms'):.2f}x an empty frame ({med('empty_frame_ms'):.1f} ms); "
         f"handler {med('sort_handler_ms'):.1f} ms"),
        ("live append drawn, logged in the kernel (median / max)",
         f"{statistics.median(live_k):.0f} / {max(live_k):.0f} ms", "<= 250 ms", f"{len(live_k)} points"),
        ("live append drawn, logged by another process (median / max)",
         f"{statistics.median(live_p):.0f} / {max(live_p):.0f} ms", "(<= 1 s)", f"{len(live_p)} points"),
        ("kernel: the 50 series for the chart, the previous way (baseline)", f"{kernel['baseline_s']:.2f} s", "",
         f"every point through Python, M4 in numpy; {kernel['baseline_kept']:,} points kept"),
        ("kernel: the 50 series for the chart, SQL summaries, 1 reader", f"{kernel['one_s']:.2f} s", "",
         f"{kernel['baseline_s'] / kernel['one_s']:.1f}x faster than the baseline; {kernel['kept']:,} points kept"),
        (f"kernel: the same, {kernel['readers']} readers", f"{kernel['many_s']:.2f} s", "",
         f"{kernel['baseline_s'] / kernel['many_s']:.1f}x faster than the baseline, "
         f"{kernel['one_s'] / kernel['many_s']:.2f}x one reader"),
        ("kernel: scan 1,000 runs", f"{kernel['scan_ms']:.0f} ms", "", ""),
    ]
    if markdown:
        print("| measure | result | target | ratio / note |\n|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        for r in rows:
            print(f"{r[0]:<62} {r[1]:>14} {r[2]:>12}  {r[3]}")


if __name__ == "__main__":
    main()
