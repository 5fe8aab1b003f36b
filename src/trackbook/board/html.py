"""The board without a kernel: a static fallback with no script, and a self-contained interactive page.

`fallback(...)` is the static board: a run table and one inline SVG chart per metric, with no script.
`saved_copy(...)` wraps it as the output a notebook shows beside the live widget (for exported notebooks,
viewers without widgets and notebooks reopened without a kernel; the live view hides it, see
js/saved-copy.ts). `page(...)` and `standalone(...)`
give one HTML file holding the built widget.js, its data and a tiny host that plays the kernel's part, so
the same board runs offline from a file. Everything taken from the store is escaped: it is data, not markup.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ..session import resolve
from ..store import Store
from .args import experiments_label
from .args import title as _title
from .encode import Part, pack

STATIC = Path(__file__).resolve().parent.parent / "static"
# The run colours, by run id modulo their number; js/colors.ts holds the same list (a test checks).
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#c9a227", "#ba55d3", "#9c755f", "#5fa2ce",
    "#d37295", "#c71585", "#a65628", "#6495ed", "#9467bd", "#e9967a", "#1b9e77", "#66a61e", "#e377c2", "#a6761d",
)
MAX_ROWS = 100  # rows in the static table (the newest); the rest are counted
MAX_PARAMS = 12  # param columns in the static table
MAX_CURVES = 10  # runs drawn in each static chart (the newest selected ones)
MAX_CELL = 200  # characters of a static table cell; longer text is cut with "…" (the live board shows it whole)
SVG_W, SVG_H = 640, 220


def color(run_id: int) -> str:
    return PALETTE[run_id % len(PALETTE)]


def empty_hint(experiments: Sequence[str] | None) -> str:
    """What an empty board says: which experiment is empty and the three lines that log a first run."""
    name = experiments[0] if experiments else "my-experiment"
    where = f"experiment {', '.join(repr(e) for e in experiments)}" if experiments else "this store"
    return (
        f"No runs yet in {where}. Log a first run:\n"
        f"trackbook.init(experiment={name!r})\n"
        "trackbook.start_run('run-1')\n"
        "trackbook.log_time_series_metrics({'loss': 0.5})"
    )


def fmt(v: Any) -> str:
    """A table cell's text (the rules of js/format.ts)."""
    if isinstance(v, dict):  # tagged JSON values: {"$f": "NaN"} and {"$i": "123..."}
        return {"NaN": "NaN", "Infinity": "∞", "-Infinity": "-∞"}.get(v.get("$f", ""), v.get("$i", ""))
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        a = abs(v)
        if a < 1e-3 or a >= 1e6:
            mant, exp = f"{v:.3e}".split("e")
            mant = mant.rstrip("0").rstrip(".")
            return f"{mant}e{int(exp)}"
        return f"{float(f'{v:.4g}'):g}" if a >= 1e-3 else str(v)
    return str(v)


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def fallback(
    header: dict[str, Any], parts: Sequence[Part], options: dict[str, Any] | None = None, *, caption: str = "",
    attributes: str = "",
) -> str:
    """The static board: a run table and an SVG chart per metric, with no script (see the module docstring).
    `caption` (text) heads it; `attributes` (markup made here, never from the store) go on its root element."""
    runs = sorted(header.get("runs", []), key=lambda r: -r["start"])
    out = [f'<div class="trackbook-static"{attributes} style="font-family: var(--jp-ui-font-family, sans-serif);'
           ' font-size: 12px; color: var(--jp-ui-font-color1, inherit)">']
    if caption:
        out.append(f'<p style="margin: 4px 0; opacity: 0.75">{escape(caption)}</p>')
    if not runs:
        hint = escape(empty_hint(header.get("wanted")))
        out.append(f'<pre style="padding: 12px; border: 1px dashed #999">{hint}</pre></div>')
        return "".join(out)
    selection = set((options or {}).get("selection") or [])
    selected = [r["id"] for r in runs if r["id"] in selection or not selection]
    drawn = set(selected[:MAX_CURVES])  # the newest: a saved notebook stays small and quick to write
    by_key: dict[str, list[Part]] = {}
    for p in parts:
        if p.run in drawn:
            by_key.setdefault(p.key, []).append(p)
    names = {r["id"]: r["name"] for r in runs}
    # The table first (it says which runs there are), then the charts, side by side where they fit.
    out.append(_table(runs, header.get("charts", [])))
    if len(selected) > MAX_CURVES:
        out.append(f'<p style="margin: 4px 0; opacity: 0.75">Charts: the newest {MAX_CURVES} of the '
                   f'{len(selected)} selected runs.</p>')
    out.append('<div style="display: flex; flex-wrap: wrap; gap: 0 16px">')
    for key in header.get("charts", []):
        if by_key.get(key):
            out.append(_svg_chart(key, by_key[key], names))
    out.append("</div></div>")
    return "".join(out)


def saved_copy(header: dict[str, Any], parts: Sequence[Part], options: dict[str, Any], uid: str) -> str:
    """The static copy a notebook keeps beside a live board `uid`: the fallback, marked with the board's uid
    (a live view of the board hides it) and dated, plus a JupyterLab style rule that hides the widget's own
    output when it can only say "Error displaying widget" (a notebook reopened without a kernel or saved
    widget state), so the copy stands in for the board."""
    if not re.fullmatch(r"[0-9a-f]{1,64}", uid):
        raise ValueError(f"a board uid is hex digits, got {uid!r}")
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    caption = (f"trackbook board of {experiments_label(header)} as of {when} (a static copy; the live board needs a"
               " running kernel)")
    marker = f'[data-trackbook-saved="{uid}"]'
    # JupyterLab marks the output with `jupyter-widgets` only when the widget cannot show ("Error displaying
    # widget: model not found"); a rendered board's output never has it.
    rule = (f".jp-OutputArea-child:has(> .jp-OutputArea-output.jupyter-widgets)"
            f":has(+ .jp-OutputArea-child {marker}) {{ display: none; }}")
    return f"<style>{rule}</style>" + fallback(header, parts, options, caption=caption,
                                               attributes=f' data-trackbook-saved="{uid}"')


CELL = "padding: 2px 6px"  # nowrap and left alignment come from the table
LONG = "; overflow: hidden; text-overflow: ellipsis; max-width: 18em"  # cells that may need cutting


SHORT = 18  # characters that always fit a cell: such cells need neither the ellipsis rules nor a title


def _cell(tag: str, text: str, style: str = CELL, *, markup: str | None = None) -> str:
    """One table cell holding `text` on one line (cut with an ellipsis by CSS; the full text, escaped, is
    its title). `markup` (made here, never from the store) replaces the shown text. Short cells carry only
    what they need, which keeps a saved notebook small (a 100-run table is most of the copy)."""
    shown = markup if markup is not None else escape(text)
    if tag == "th":  # headers are centred by default, not by inheritance
        style += "; text-align: left"
    if len(text) <= SHORT:
        return f'<{tag} style="{style}">{shown}</{tag}>'
    return f'<{tag} style="{style}{LONG}" title="{escape(text)}">{shown}</{tag}>'


def _table(runs: list[dict[str, Any]], charts: list[str]) -> str:
    """The run table, no wider than the output (it scrolls sideways), one line per run; a header row groups
    the columns into the run, its metrics' last values and its params (a metric and a param may share a
    name)."""
    params: list[str] = []
    for r in runs:
        params += [k for k in r["params"] if k not in params]
    params = params[:MAX_PARAMS]
    base = ["", "run", "experiment", "state", "start", "duration"]
    group = "padding: 2px 6px; text-align: left; font-weight: 400; opacity: 0.7; border-bottom: 1px solid #8884"
    groups = [f'<th colspan="{len(base)}" style="{group}"></th>']
    if charts:
        groups.append(f'<th colspan="{len(charts)}" style="{group}; border-left: 1px solid #8884">'
                      "metrics (last value)</th>")
    if params:
        groups.append(f'<th colspan="{len(params)}" style="{group}; border-left: 1px solid #8884">params</th>')
    first = f"{CELL}; border-left: 1px solid #8884"
    heads = [_cell("th", h) for h in base]
    heads += [_cell("th", k, first if i == 0 else CELL) for i, k in enumerate(charts)]
    heads += [_cell("th", k, first if i == 0 else CELL) for i, k in enumerate(params)]
    rows = ['<div style="max-width: 100%; overflow-x: auto; margin: 4px 0">'
            '<table style="border-collapse: collapse; width: max-content; white-space: nowrap; text-align: left">'
            f'<thead><tr>{"".join(groups)}</tr><tr>{"".join(heads)}</tr></thead><tbody>']
    for r in runs[:MAX_ROWS]:
        # A run that never ended (running, crashed) lasts until its last sign of life, as in the live table.
        end = r["end"] if r["end"] is not None else max(r["updated"], r.get("seen") or r["updated"])
        swatch = f'<span style="color:{color(r["id"])}">&#9632;</span>'
        cells = [_cell("td", "", markup=swatch)]
        cells += [_cell("td", t) for t in (r["name"], r["exp"], r["state"].lower(), _when(r["start"]),
                                            duration(end - r["start"]))]
        cells += [_cell("td", fmt(r["last"][k][1]) if k in r["last"] else "", first if i == 0 else CELL)
                  for i, k in enumerate(charts)]
        cells += [_cell("td", _cut(fmt(r["params"].get(k))), first if i == 0 else CELL)
                  for i, k in enumerate(params)]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</tbody></table></div>")
    if len(runs) > MAX_ROWS:
        rows.append(f"<p>and {len(runs) - MAX_ROWS} more runs</p>")
    return "".join(rows)


def _cut(text: str) -> str:
    """A cell's text cut to MAX_CELL characters, so a huge param does not bloat the saved notebook."""
    return text if len(text) <= MAX_CELL else f"{text[:MAX_CELL]}… ({len(text):,} characters)"


def nice_ticks(lo: float, hi: float, count: int = 5, min_step: float = 0.0) -> list[float]:
    """About `count` (3 to 6) round values covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten
    (at least `min_step`), the first at or below `lo` and the last at or above `hi`. A range narrower than
    the values' float resolution gets the one value `lo`."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    n = max(count - 1, 1)
    raw = hi / n - lo / n  # finite even for a range of ±1.8e308
    mag = 10.0 ** math.floor(math.log10(raw))
    step = max(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), min_step)
    if not math.isfinite(step) or lo + step == lo or hi - step == hi:
        return [lo]
    # Whole multiples of the step: a bounded count, and finite near the largest floats.
    k0 = math.floor(lo / step + 1e-9)
    k1 = max(math.ceil(hi / step - 1e-9), k0 + 1)
    ticks = [k * step for k in range(k0, min(k1, k0 + 4 * count) + 1)]
    return [v for v in ticks if math.isfinite(v)] or [lo]  # the outer ticks of a ±1.8e308 range overflow


def tick_label(v: float, step: float) -> str:
    """A tick's text with as many decimals as its step needs (1e-4 and 1e6 on in powers of ten)."""
    if v == 0:
        return "0"
    if not (step > 0 and math.isfinite(step)):
        return f"{v:.6g}"
    quarter = 1 if round(step / 10 ** math.floor(math.log10(step) + 1e-9), 6) == 2.5 else 0  # 2.5: one more digit
    big = max(abs(v), step)
    if big >= 1e6 or big < 1e-3:
        digits = max(0, min(3, math.floor(math.log10(abs(v))) - math.floor(math.log10(step)) + quarter))
        mant, exp = f"{v:.{digits}e}".split("e")
        return f"{mant}e{int(exp)}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9) + quarter)
    return f"{v:.{decimals}f}"


def _envelope(steps: np.ndarray, vals: np.ndarray, buckets: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per x bucket: its centre, the min, max and mean of its finite values (NaN where it has none)."""
    lo, hi = float(steps[0]), float(steps[-1])
    b = np.zeros(len(steps), np.int64) if hi <= lo else np.minimum(
        ((steps - lo) / (hi - lo) * buckets).astype(np.int64), buckets - 1)
    ok = np.isfinite(vals)
    count = np.bincount(b[ok], minlength=buckets).astype(np.float64)
    total = np.bincount(b[ok], weights=vals[ok], minlength=buckets)
    low = np.full(buckets, np.inf)
    high = np.full(buckets, -np.inf)
    np.minimum.at(low, b[ok], vals[ok])
    np.maximum.at(high, b[ok], vals[ok])
    points = np.bincount(b, minlength=buckets)
    xs = np.bincount(b, weights=steps, minlength=buckets) / np.maximum(points, 1)
    has = count > 0
    mean = np.where(has, total / np.maximum(count, 1), np.nan)
    low[~has] = np.nan
    high[~has] = np.nan
    used = points > 0
    return xs[used], low[used], high[used], mean[used]


def _finite_stretches(values: np.ndarray) -> list[np.ndarray]:
    """The index ranges of `values`' consecutive finite stretches (NaN and ±inf split them)."""
    ok = np.isfinite(values)
    cuts = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
    return [seg for seg in np.split(np.arange(len(values)), cuts) if len(seg) and ok[seg[0]]]


ENVELOPE_ABOVE = 600  # points in a curve beyond which it is drawn as its min/max band and bucket means
BUCKETS = 200  # buckets of such a curve (about one per three px of the chart; whole-px band corners)


def _svg_chart(key: str, parts: list[Part], names: dict[int, str]) -> str:
    """One metric's chart: every run's curve (a long noisy one as a light min/max band with its bucket
    means through it), 3 to 6 round ticks per axis with labels that fit their margin."""
    curves = []
    for p in parts:
        steps = np.asarray(p.steps, np.float64)
        vals = np.asarray(p.values, np.float64)
        if len(steps) > ENVELOPE_ABOVE:
            order = np.argsort(steps, kind="stable")
            xs, low, high, mean = _envelope(steps[order], vals[order], BUCKETS)
            curves.append((p.run, xs, mean, (low, high)))
        else:
            curves.append((p.run, steps, vals, None))
    x_all = np.concatenate([c[1] for c in curves]) if curves else np.empty(0)
    y_parts = [c[2][np.isfinite(c[2])] for c in curves] + [
        v[np.isfinite(v)] for c in curves if c[3] is not None for v in c[3]]
    y_all = np.concatenate(y_parts) if y_parts else np.empty(0)
    if not len(x_all) or not len(y_all):
        return ""
    x0, x1 = float(x_all.min()), float(x_all.max())
    y0, y1 = float(y_all.min()), float(y_all.max())
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x0 + 0.5
    if y1 - y0 <= 1e-9 * max(abs(y0), abs(y1)):  # equal but for float rounding: a flat line
        pad = abs(y0) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    yt = nice_ticks(y0, y1, 5)
    y0, y1 = min(y0, yt[0]), max(y1, yt[-1])  # the axis runs from tick to tick
    if y1 <= y0:
        y1 = y0 + 1.0
    ystep = yt[1] - yt[0] if len(yt) > 1 else 1.0
    xt = [t for t in nice_ticks(x0, x1, 5, min_step=1.0) if x0 - 1e-9 <= t <= x1 + 1e-9]  # steps are whole
    xstep = xt[1] - xt[0] if len(xt) > 1 else 1.0
    ylabels = [tick_label(t, ystep) for t in yt]
    if len(set(ylabels)) < len(ylabels):  # ticks closer than the label's digits: full precision
        ylabels = [f"{t:.17g}" for t in yt]
    left = 10 + 6.5 * max(len(t) for t in ylabels)  # room for the longest y label at 10 px
    top, right, bottom = 8, 14, 22
    w, h = SVG_W - left - right, SVG_H - top - bottom

    def sx(x: np.ndarray | float) -> Any:
        return left + (np.asarray(x) - x0) / (x1 - x0) * w

    def sy(y: np.ndarray | float) -> Any:  # halves keep the differences finite for values near ±1.8e308
        return top + h - (np.asarray(y) / 2 - y0 / 2) / (y1 / 2 - y0 / 2) * h

    svg = [f'<figure style="margin: 8px 0; max-width: 100%"><figcaption style="font-weight: 600">'
           f'{escape(key)}</figcaption>'
           f'<svg width="{SVG_W}" height="{SVG_H}" viewBox="0 0 {SVG_W} {SVG_H}" style="max-width: 100%; '
           f'height: auto" role="img" aria-label="{escape(key)}, {len(parts)} runs" font-size="10">']
    for t, label in zip(yt, ylabels):
        y = float(sy(t))
        svg.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#8883"/>'
                   f'<text x="{left - 4}" y="{y + 3.5:.1f}" text-anchor="end" fill="currentColor">'
                   f"{escape(label)}</text>")
    for t in xt:
        x = float(sx(t))
        anchor = "end" if x > left + w - 20 else "middle"
        svg.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + h}" stroke="#8883"/>'
                   f'<text x="{x:.1f}" y="{top + h + 14}" text-anchor="{anchor}" fill="currentColor">'
                   f"{escape(tick_label(t, xstep))}</text>")
    svg.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#8888"/>')
    for run, xs, ys, band in curves:
        title = f"<title>{escape(names.get(run, str(run)))}</title>"
        px = sx(xs)
        if band is not None:  # the spread of each bucket, so a noisy curve reads as its noise band
            low, high = band
            for seg in _finite_stretches(low):
                upper = " ".join(f"{a:.0f},{b:.0f}" for a, b in zip(px[seg], sy(high[seg])))
                lower = " ".join(f"{a:.0f},{b:.0f}" for a, b in zip(px[seg][::-1], sy(low[seg])[::-1]))
                svg.append(f'<polygon fill="{color(run)}" fill-opacity="0.2" stroke="none" '
                           f'points="{upper} {lower}">{title}</polygon>')
        py = sy(ys)
        for seg in _finite_stretches(ys):  # NaN breaks the line: one polyline per finite stretch
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px[seg], py[seg]))
            svg.append(f'<polyline fill="none" stroke="{color(run)}" stroke-width="1.5" points="{pts}">'
                       f"{title}</polyline>")
    svg.append("</svg></figure>")
    return "".join(svg)


# -- the standalone page ------------------------------------------------------------------------------------


def _script_json(value: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no "<", ">", "&" or line separators."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def page(state: dict[str, Any], options: dict[str, Any], *, title: str = "trackbook board") -> str:
    """One self-contained HTML page showing a board (state as made by `Board._snapshot_state`)."""
    esm_path = STATIC / "widget.js"
    if not esm_path.is_file():
        raise RuntimeError(f"the board's front end is not built ({esm_path} is missing); run `npm run build`")
    data = dict(state)
    blob = data.pop("data", b"")
    data["data"] = base64.b64encode(bytes(blob)).decode("ascii")
    payload = {"esm": esm_path.read_text(encoding="utf-8"), "state": data, "options": options}
    header = {k: v for k, v in state.items() if k not in ("data", "series")}
    static = fallback(header, [], options)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
        "<style>body{margin:16px;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
        "background:var(--jp-layout-color0,#fff);color:var(--jp-ui-font-color1,#222)}"
        "@media (prefers-color-scheme: dark){body{background:#111;color:#ddd}}</style></head><body>"
        f"<h1 style=\"font-size:16px;font-weight:600\">{escape(title)}</h1>"
        f"<div id=\"trackbook-board\"><noscript>{static}</noscript></div>"
        f"<script type=\"application/json\" id=\"trackbook-data\">{_script_json(payload)}</script>"
        "<script type=\"module\">"
        "const d=JSON.parse(document.getElementById('trackbook-data').textContent);"
        "const url=URL.createObjectURL(new Blob([d.esm],{type:'text/javascript'}));"
        "const mod=await import(url);URL.revokeObjectURL(url);"
        "mod.mountStatic(document.getElementById('trackbook-board'),d.state,d.options);"
        "</script></body></html>\n"
    )


def standalone(
    experiment: str | Sequence[str] | None = None,
    *,
    metrics: str | Sequence[str] | None = None,
    runs: str | Sequence[str] | None = None,
    selected: Sequence[str] | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    title: str | None = None,
) -> str:
    """The board of these experiments as one self-contained HTML page: no kernel, no network, no CDN.

    Arguments as for `trackbook.board`; `selected` names the runs whose curves are drawn (default: the
    newest ten, as a new board does). The page holds the built widget, the run table and the curves
    reduced to the chart width, so it can be mailed or attached to a report.
    """
    from .args import names as _names
    from .feed import Feed

    st, writer = resolve(store)
    writer.flush()
    feed = Feed(st, _names(experiment, "experiment"), _names(runs, "runs"), _names(metrics, "metrics"))
    feed.scan(force=True)
    if selected is not None:
        feed.set_selection(feed.resolve(_names(selected, "selected") or []))
        feed.scan(force=True)
    while feed.pending:
        feed.load(budget=60.0)
    header, parts = feed.snapshot()
    headers, data = pack(parts)
    state = {**header, "seq": 0, "series": headers, "data": data}
    options = {"x_axis": "step", "log_y": False, "smoothing": 0.0, "selection": list(feed.selected),
               "baseline": -1, "view": {}}
    return page(state, options, title=title or _title(header))
