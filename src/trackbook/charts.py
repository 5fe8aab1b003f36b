"""Static altair charts of logged series, for places a live widget cannot go (exported HTML, PDF, PNG, SVG).

`chart(metric, experiment, runs)` overlays the runs' series of a metric (one panel per metric when given
several); `run_chart(run)` draws one run's series. Long series are reduced with the board's M4 min/max
reduction (`reduce.reduce_minmax`, one bucket per pixel of width), so a spike the board shows is in the
chart too. The data is inlined in the chart's spec, so a saved chart needs neither the store nor a kernel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import selection
from .board.html import color as run_color
from .reduce import reduce_minmax
from .session import resolve
from .store import Context, Store

if TYPE_CHECKING:
    import altair as alt

    from .run import ExperimentRun

X_AXES = ("step", "wall_time")


def chart(
    metric: str | Sequence[str],
    experiment: str | Sequence[str] | None = None,
    runs: str | Sequence[str] | None = None,
    *,
    x: str = "step",
    width: int = 600,
    height: int = 300,
    store: str | os.PathLike[str] | Store | None = None,
) -> alt.Chart | alt.FacetChart:
    """An altair line chart overlaying the series `metric` of the runs of `experiment`, one color per run.

    `experiment` is a name or a list of names (default: the current experiment, else every experiment);
    `runs` narrows to these run names. `x` is "step" or "wall_time". A list of metrics gives one panel per
    metric, each with its own y scale (an altair FacetChart, two columns sharing `width`). Each line is
    reduced to about 4 points per pixel of width, the same M4 reduction the board uses. ValueError when
    nothing matches, naming what exists.
    """
    from .tracking import find_experiments

    metrics = _metric_list(metric)
    _check_layout(x, width, height)
    st, writer = resolve(store)
    writer.flush()
    exps = find_experiments(st, experiment)
    names = {e.id: e.name for e in exps}
    rows = st.runs(list(names))
    where = selection.describe(exps)
    if not rows:
        raise ValueError(f"{where} has no runs yet")
    rows, _ = selection.select(st, rows, where, runs, metrics)
    label = _labels(rows, names)
    title = metrics[0] if len(metrics) == 1 else ", ".join(metrics)
    return _build(st, rows, label, metrics, x=x, width=width, height=height, title=title, subtitle=where)


def run_chart(
    run: ExperimentRun, metric: str | Sequence[str] | None = None, *, x: str = "step", width: int = 600,
    height: int = 300,
) -> alt.Chart | alt.FacetChart:
    """One run's series: `metric` (a name or a list), or every series of the run when None."""
    _check_layout(x, width, height)
    row = run._row()  # flushes, and raises NotFound when the run was deleted
    if metric is None:
        metrics = [k for _, k in run._store.series_keys([row.id])]
        if not metrics:
            raise ValueError(f"run {run.name!r} of experiment {run.experiment_name!r} has no series yet")
    else:
        metrics = _metric_list(metric)
        selection.check_series(run._store, [row], metrics, f"run {row.name!r} of experiment {run.experiment_name!r}")
    return _build(
        run._store, [row], {row.id: _safe(row.name)}, metrics, x=x, width=width, height=height,
        title=row.name, subtitle=f"experiment {run.experiment_name!r}",
    )


# -- building ---------------------------------------------------------------------------------------------


def _build(
    st: Store, rows: Sequence[Context], label: dict[int, str], metrics: list[str], *, x: str, width: int,
    height: int, title: str, subtitle: str,
) -> alt.Chart | alt.FacetChart:
    if len(metrics) > 1:
        width = max(width // 2, 100)  # two columns of panels share the width
    import altair as alt  # imported on first use: it takes a second, and most sessions never chart

    records = _records(st, rows, label, metrics, x, buckets=width)
    shown = [_safe(m) for m in metrics]
    drawn = {rec["run"] for rec in records}
    shown_rows = [r for r in rows if label[r.id] in drawn]
    order = [label[r.id] for r in shown_rows]  # oldest first, as on the board
    colors = [run_color(r.id) for r in shown_rows]  # each run keeps its board color
    pick = alt.selection_point(fields=["run"], bind="legend")
    x_enc = alt.X("step:Q", title="step") if x == "step" else alt.X("wall_time:T", title="wall time")
    single_run = len(order) == 1
    base = (
        alt.Chart(alt.InlineData(values=records))
        # NaN points (gaps) break the line instead of being bridged.
        .mark_line(strokeWidth=1.5, invalid="break-paths-show-path-domains")
        .encode(
            x=x_enc,
            y=alt.Y("value:Q", title=shown[0] if len(shown) == 1 else None, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "run:N", sort=order, scale=alt.Scale(domain=order, range=colors),
                legend=None if single_run else alt.Legend(title="run", symbolType="stroke"),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[
                alt.Tooltip("run:N"),
                alt.Tooltip("metric:N"),
                alt.Tooltip("step:Q"),
                alt.Tooltip("value:Q", format=".6~g"),
                alt.Tooltip("wall_time:T", format="%Y-%m-%d %H:%M:%S"),
            ],
        )
        .add_params(pick)
        .properties(width=width, height=height)
    )
    heading = alt.TitleParams(_safe(title), subtitle=_safe(subtitle), anchor="start")
    if len(metrics) == 1:
        return _static(base.interactive(bind_y=False).properties(title=heading))
    return _static(
        base.facet(facet=alt.Facet("metric:N", sort=shown, title=None), columns=2)
        .resolve_scale(y="independent")
        .properties(title=heading)
    )


_STATIC_CLASSES: dict[type, type] = {}


def _static(chart: Any) -> Any:
    """The chart, shown in notebooks as an inline SVG when vl-convert-python is installed.

    altair's own notebook display loads Vega from a CDN, so on an offline machine (and in JupyterLab 4,
    which has no renderer for Vega-Lite 6) the chart would not show. An SVG needs no script, survives
    saving, nbconvert and PDF export, and is what a static chart is for; the board is the interactive view.
    Still an altair chart: `.save()`, `.to_dict()` and composition work as usual.
    """
    try:
        import vl_convert  # noqa: F401
    except ImportError:
        return chart
    cls = type(chart)
    static = _STATIC_CLASSES.get(cls)
    if static is None:
        static = _STATIC_CLASSES[cls] = type(cls.__name__, (cls,), {"_repr_mimebundle_": _svg_bundle})
    object.__setattr__(chart, "__class__", static)  # altair's __setattr__ would store it as a chart property
    return chart


def _svg_bundle(self: Any, include: Any = None, exclude: Any = None) -> dict[str, str]:
    import vl_convert

    title = getattr(self.title, "text", None)
    return {"image/svg+xml": vl_convert.vegalite_to_svg(self.to_json()), "text/plain": f"<trackbook chart {title!r}>"}


def _records(
    st: Store, rows: Sequence[Context], label: dict[int, str], metrics: list[str], x: str, buckets: int
) -> list[dict[str, Any]]:
    """One dict per kept point: run, metric, step, wall_time (ISO text), value (None for NaN)."""
    records: list[dict[str, Any]] = []
    for row in rows:
        name = label[row.id]
        for metric in metrics:
            steps, wall, values = st.series(row.id, metric)
            if not len(steps):
                continue
            xs = steps.astype(np.float64) if x == "step" else wall.astype(np.float64)
            order = np.argsort(xs, kind="stable")
            _, kept_y, kept_i = reduce_minmax(xs[order], values[order], buckets, extra=order)
            stamps = np.datetime_as_string(wall[kept_i].astype("datetime64[ms]"), unit="ms", timezone="UTC")
            for i, v, t in zip(kept_i.tolist(), kept_y.tolist(), stamps.tolist()):
                records.append({
                    "run": name,
                    "metric": _safe(metric),
                    "step": int(steps[i]),
                    "wall_time": t,
                    "value": None if v != v else v,  # JSON has no NaN; null breaks the line
                })
    return records


# -- helpers -------------------------------------------------------------------------------------------


def _safe(text: str) -> str:
    """Store text made harmless inside an HTML <script>: altair's notebook and HTML output embed the spec
    unescaped, so a name holding "</script>" could end the script. A zero-width space after each "<" keeps
    the text as it reads while no tag can start."""
    return text.replace("<", "<\u200b")


def _metric_list(metric: object) -> list[str]:
    items = [metric] if isinstance(metric, str) else metric
    if not isinstance(items, Sequence) or not items:
        raise TypeError(f"metric must be a series name or a non-empty list of names, got {type(metric).__name__}")
    for m in items:
        if not isinstance(m, str) or not m:
            raise TypeError(f"metric names must be non-empty str, got {type(m).__name__} {m!r}")
    return list(dict.fromkeys(items))


def _check_layout(x: object, width: object, height: object) -> None:
    if x not in X_AXES:
        raise ValueError(f"x must be one of {', '.join(map(repr, X_AXES))}, got {x!r}")
    for what, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{what} must be a positive int (pixels), got {type(value).__name__} {value!r}")


def _labels(rows: Sequence[Context], names: dict[int, str]) -> dict[int, str]:
    """Run names as legend labels, prefixed with the experiment when runs of several experiments mix."""
    several = len({r.experiment_id for r in rows}) > 1
    return {r.id: _safe(f"{names[r.experiment_id]}/{r.name}" if several else r.name) for r in rows}
