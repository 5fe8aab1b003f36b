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

from ..reduce import reduction_indices
from ..session import resolve
from ..store import Store
from .encode import Part, pack

STATIC = Path(__file__).resolve().parent.parent / "static"
# The run colours, by run id modulo their number; js/colors.ts holds the same list (a test checks).
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#c9a227", "#ba55d3", "#9c755f", "#5fa2ce",
    "#d37295", "#c71585", "#a65628", "#6495ed", "#9467bd", "#e9967a", "#1b9e77", "#66a61e", "#e377c2", "#a6761d",
)
MAX_ROWS = 100  # rows in the static table (the newest); the rest are counted
MAX_PARAMS = 12  # param columns in the static table
MAX_CELL = 200  # characters of a static table cell; longer text is cut with "…" (the live board shows it whole)
SVG_W, SVG_H, PAD = 640, 200, 36


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
    by_key: dict[str, list[Part]] = {}
    for p in parts:
        if p.run in selection or not selection:
            by_key.setdefault(p.key, []).append(p)
    names = {r["id"]: r["name"] for r in runs}
    for key in header.get("charts", []):
        if by_key.get(key):
            out.append(_svg_chart(key, by_key[key], names))
    out.append(_table(runs, header.get("charts", [])))
    out.append("</div>")
    return "".join(out)


def saved_copy(header: dict[str, Any], parts: Sequence[Part], options: dict[str, Any], uid: str) -> str:
    """The static copy a notebook keeps beside a live board `uid`: the fallback, marked with the board's uid
    (a live view of the board hides it) and dated, plus a JupyterLab style rule that hides the widget's own
    output when it can only say "Error displaying widget" (a notebook reopened without a kernel or saved
    widget state), so the copy stands in for the board."""
    if not re.fullmatch(r"[0-9a-f]{1,64}", uid):
        raise ValueError(f"a board uid is hex digits, got {uid!r}")
    exps = ", ".join(header.get("experiments") or header.get("wanted") or []) or "no experiment yet"
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    caption = f"trackbook board of {exps} as of {when} (a static copy; the live board needs a running kernel)"
    marker = f'[data-trackbook-saved="{uid}"]'
    # JupyterLab marks the output with `jupyter-widgets` only when the widget cannot show ("Error displaying
    # widget: model not found"); a rendered board's output never has it.
    rule = (f".jp-OutputArea-child:has(> .jp-OutputArea-output.jupyter-widgets)"
            f":has(+ .jp-OutputArea-child {marker}) {{ display: none; }}")
    return f"<style>{rule}</style>" + fallback(header, parts, options, caption=caption,
                                               attributes=f' data-trackbook-saved="{uid}"')


def _table(runs: list[dict[str, Any]], charts: list[str]) -> str:
    params: list[str] = []
    for r in runs:
        params += [k for k in r["params"] if k not in params]
    params = params[:MAX_PARAMS]
    head = ["", "run", "experiment", "state", "start", "duration", *charts, *params]
    cells = "".join(f'<th style="text-align:left; padding: 2px 6px">{escape(h)}</th>' for h in head)
    rows = [f"<table style=\"border-collapse: collapse\"><thead><tr>{cells}</tr></thead><tbody>"]
    for r in runs[:MAX_ROWS]:
        end = r["end"] if r["end"] is not None else r["updated"]
        values = [
            f'<span style="color:{color(r["id"])}">&#9632;</span>', escape(r["name"]), escape(r["exp"]),
            escape(r["state"].lower()), escape(_when(r["start"])), escape(duration(end - r["start"])),
            *(escape(fmt(r["last"][k][1])) if k in r["last"] else "" for k in charts),
            *(escape(_cut(fmt(r["params"].get(k)))) for k in params),
        ]
        rows.append("<tr>" + "".join(f'<td style="padding: 2px 6px">{v}</td>' for v in values) + "</tr>")
    rows.append("</tbody></table>")
    if len(runs) > MAX_ROWS:
        rows.append(f"<p>and {len(runs) - MAX_ROWS} more runs</p>")
    return "".join(rows)


def _cut(text: str) -> str:
    """A cell's text cut to MAX_CELL characters, so a huge param does not bloat the saved notebook."""
    return text if len(text) <= MAX_CELL else f"{text[:MAX_CELL]}… ({len(text):,} characters)"


def _svg_chart(key: str, parts: list[Part], names: dict[int, str]) -> str:
    lines = []
    xs, ys = [], []
    for p in parts:
        steps = np.asarray(p.steps, np.float64)
        vals = np.asarray(p.values, np.float64)
        if len(steps) > 240:
            idx = reduction_indices(steps, vals, 60)
            steps, vals = steps[idx], vals[idx]
        lines.append((p.run, steps, vals))
        xs.append(steps)
        ys.append(vals[np.isfinite(vals)])
    x_all = np.concatenate(xs) if xs else np.empty(0)
    y_all = np.concatenate(ys) if ys else np.empty(0)
    if not len(x_all) or not len(y_all):
        return ""
    x0, x1 = float(x_all.min()), float(x_all.max())
    y0, y1 = float(y_all.min()), float(y_all.max())
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    w, h = SVG_W - 2 * PAD, SVG_H - 2 * PAD

    def sx(x: np.ndarray) -> np.ndarray:
        return PAD + (x - x0) / (x1 - x0) * w

    def sy(y: np.ndarray) -> np.ndarray:
        return PAD + h - (y - y0) / (y1 - y0) * h

    svg = [f'<figure style="margin: 8px 0"><figcaption style="font-weight: 600">{escape(key)}</figcaption>'
           f'<svg width="{SVG_W}" height="{SVG_H}" role="img" '
           f'aria-label="{escape(key)}, {len(parts)} runs">'
           f'<rect x="{PAD}" y="{PAD}" width="{w}" height="{h}" fill="none" stroke="#8888"/>'
           f'<text x="{PAD}" y="{SVG_H - 8}" font-size="10" fill="currentColor">{escape(fmt(x0))}</text>'
           f'<text x="{SVG_W - PAD}" y="{SVG_H - 8}" font-size="10" text-anchor="end" fill="currentColor">'
           f'{escape(fmt(x1))}</text>'
           f'<text x="2" y="{PAD + 4}" font-size="10" fill="currentColor">{escape(fmt(y1))}</text>'
           f'<text x="2" y="{PAD + h}" font-size="10" fill="currentColor">{escape(fmt(y0))}</text>']
    for run, steps, vals in lines:
        px, py = sx(steps), sy(vals)
        ok = np.isfinite(vals)
        # NaN breaks the line: one polyline per finite stretch.
        cuts = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
        for seg in np.split(np.arange(len(vals)), cuts):
            if len(seg) and ok[seg[0]]:
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px[seg], py[seg]))
                svg.append(f'<polyline fill="none" stroke="{color(run)}" stroke-width="1.5" points="{pts}">'
                           f"<title>{escape(names.get(run, str(run)))}</title></polyline>")
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
    from .args import title as _title
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
