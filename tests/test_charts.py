"""trackbook.chart and ExperimentRun.chart: altair specs with the data inlined, rendered for real by vl-convert."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pytest
import vl_convert

import trackbook
from trackbook.board.html import color as board_color
from trackbook.reduce import reduction_indices


def three_runs(tb: Any, experiment: str = "charts") -> None:
    tb.init(experiment=experiment)
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with tb.start_run(f"lr-{i}"):
            tb.log_params({"lr": lr})
            for step in range(1, 11):
                tb.log_time_series_metrics({"loss": 1.0 / (step * (i + 1)), "acc": step / 10 - i / 100})


def data(chart: Any) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    [values] = spec["datasets"].values()
    return values


def svg(chart: Any) -> str:
    return vl_convert.vegalite_to_svg(chart.to_json())


def test_chart_overlays_every_run_of_the_current_experiment_one_color_each(tb: Any) -> None:
    three_runs(tb)
    chart = trackbook.chart("loss")
    assert isinstance(chart, alt.Chart)
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "step"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["lr-0", "lr-1", "lr-2"]  # oldest first
    assert spec["title"]["text"] == "loss"
    ids = [trackbook.ExperimentRun(f"lr-{i}", "charts")._id for i in range(3)]
    assert spec["encoding"]["color"]["scale"]["range"] == [board_color(i) for i in ids]  # the board's colors
    rows = data(chart)
    assert len(rows) == 30
    by_run = {run: [r["value"] for r in rows if r["run"] == run] for run in ("lr-0", "lr-1", "lr-2")}
    assert by_run["lr-1"] == pytest.approx([1.0 / (s * 2) for s in range(1, 11)])
    assert {r["metric"] for r in rows} == {"loss"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["wall_time"]) for r in rows)
    drawn = svg(chart)
    for name in ("lr-0", "lr-1", "lr-2"):
        assert f">{name}</text>" in drawn  # the legend names each run
    assert drawn.count('aria-roledescription="line mark"') == 3


def test_long_series_are_reduced_like_the_board_and_keep_their_spikes(tb: Any) -> None:
    tb.init(experiment="long")
    rng = np.random.default_rng(7)
    values = rng.normal(size=20_000) * 0.01 + 1.0
    values[12_345] = 40.0
    values[777] = -30.0
    with tb.start_run("big") as run:
        for step, v in enumerate(values, start=1):
            run.log_time_series_metrics({"loss": float(v)}, step=step)
    width = 400
    rows = data(trackbook.chart("loss", width=width))
    steps = np.arange(1, 20_001, dtype=np.float64)
    keep = reduction_indices(steps, values, width)
    assert [r["step"] for r in rows] == (keep + 1).tolist()
    assert len(rows) <= 4 * width
    kept = [r["value"] for r in rows]
    assert 40.0 in kept and -30.0 in kept
    assert rows[0]["step"] == 1 and rows[-1]["step"] == 20_000


def test_nan_points_break_the_line_instead_of_vanishing(tb: Any) -> None:
    tb.init(experiment="gaps")
    with tb.start_run("g"):
        for v in (1.0, 2.0, math.nan, 4.0):
            tb.log_time_series_metrics({"loss": v})
    chart = trackbook.chart("loss")
    assert [r["value"] for r in data(chart)] == [1.0, 2.0, None, 4.0]
    assert chart.to_dict()["mark"]["invalid"] == "break-paths-show-path-domains"
    assert "NaN" not in chart.to_json()  # valid JSON for any reader


def test_runs_and_experiments_narrow_the_chart_and_mixed_experiments_are_labelled(tb: Any) -> None:
    three_runs(tb, "first")
    three_runs(tb, "second")
    only = trackbook.chart("acc", experiment="first", runs=["lr-2", "lr-0"])
    assert only.to_dict()["encoding"]["color"]["scale"]["domain"] == ["lr-0", "lr-2"]
    assert {r["run"] for r in data(only)} == {"lr-0", "lr-2"}
    both = trackbook.chart("acc", experiment=["first", "second"], runs="lr-1")
    assert both.to_dict()["encoding"]["color"]["scale"]["domain"] == ["first/lr-1", "second/lr-1"]
    assert ">second/lr-1</text>" in svg(both)


def test_several_metrics_give_one_panel_each_with_its_own_scale(tb: Any) -> None:
    three_runs(tb)
    chart = trackbook.chart(["loss", "acc"])
    assert isinstance(chart, alt.FacetChart)
    spec = chart.to_dict()
    assert spec["facet"]["field"] == "metric" and spec["facet"]["sort"] == ["loss", "acc"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert {r["metric"] for r in data(chart)} == {"loss", "acc"}
    drawn = svg(chart)
    assert drawn.count('aria-roledescription="line mark"') == 6


def test_wall_time_axis(tb: Any) -> None:
    three_runs(tb)
    spec = trackbook.chart("loss", x="wall_time").to_dict()
    assert spec["encoding"]["x"] == {"field": "wall_time", "title": "wall time", "type": "temporal"}


def test_a_run_charts_all_its_series_or_the_ones_asked_for(tb: Any) -> None:
    three_runs(tb)
    run = trackbook.ExperimentRun("lr-1", "charts")
    every = run.chart()
    assert isinstance(every, alt.FacetChart)
    assert every.to_dict()["facet"]["sort"] == ["loss", "acc"]
    assert {r["run"] for r in data(every)} == {"lr-1"}
    one = run.chart("acc")
    assert isinstance(one, alt.Chart)
    assert [r["value"] for r in data(one)] == pytest.approx([s / 10 - 0.01 for s in range(1, 11)])
    assert one.to_dict()["title"]["text"] == "lr-1"


def test_a_chart_saves_as_svg_png_and_json_without_the_store(tb: Any, tmp_path: Path) -> None:
    three_runs(tb)
    chart = trackbook.chart("loss")
    for ext in ("svg", "png", "json"):
        chart.save(tmp_path / f"loss.{ext}")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "lr-2" in (tmp_path / "loss.svg").read_text()
    spec = json.loads((tmp_path / "loss.json").read_text())
    assert "url" not in json.dumps(spec["data"])  # the data travels with the chart


def test_chart_reads_another_store_by_path(tb: Any, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    exp = trackbook.Experiment.create("elsewhere", store=other)
    with trackbook.ExperimentRun.create("x", experiment=exp) as run:
        run.log_time_series_metrics({"m": 3.0})
    assert [r["value"] for r in data(trackbook.chart("m", experiment="elsewhere", store=other))] == [3.0]


# -- bad input ------------------------------------------------------------------------------------------


def test_unknown_names_say_what_exists(tb: Any) -> None:
    three_runs(tb)
    with pytest.raises(ValueError, match=r"^no series 'lost' in experiment 'charts' \(series logged: 'acc', 'loss'\)$"):
        trackbook.chart("lost")
    with pytest.raises(ValueError, match=r"no run 'lr-9' in experiment 'charts' \(runs: 'lr-0', 'lr-1', 'lr-2'\)"):
        trackbook.chart("loss", runs=["lr-0", "lr-9"])
    with pytest.raises(trackbook.NotFound, match=r"Experiment 'nope' not found .*\(experiments: 'charts'\)"):
        trackbook.chart("loss", experiment="nope")
    with pytest.raises(ValueError, match=r"^no series 'lost' in runs 'lr-0', 'lr-1' of experiment 'charts' "):
        trackbook.chart(["loss", "lost"], runs=["lr-0", "lr-1"])
    with pytest.raises(ValueError, match=r"^no series 'lost' in run 'lr-0' of experiment 'charts' "):
        trackbook.ExperimentRun("lr-0", "charts").chart("lost")


def test_empty_experiments_and_runs_without_series_are_explained(tb: Any) -> None:
    tb.init(experiment="empty")
    with pytest.raises(ValueError, match="experiment 'empty' has no runs yet"):
        trackbook.chart("loss")
    run = tb.start_run("quiet")
    with pytest.raises(ValueError, match="run 'quiet' of experiment 'empty' has no series yet"):
        run.chart()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"metric": 3}, TypeError, "metric must be a series name or a non-empty list of names, got int"),
        ({"metric": []}, TypeError, "non-empty list"),
        ({"metric": ["loss", None]}, TypeError, "metric names must be non-empty str, got NoneType"),
        ({"metric": "loss", "x": "epoch"}, ValueError, "x must be one of 'step', 'wall_time', got 'epoch'"),
        ({"metric": "loss", "width": 0}, ValueError, "width must be a positive int"),
        ({"metric": "loss", "height": 2.5}, ValueError, "height must be a positive int .* float 2.5"),
    ],
)
def test_bad_arguments_raise_before_reading(tb: Any, kwargs: dict[str, Any], error: type, message: str) -> None:
    three_runs(tb)
    with pytest.raises(error, match=message):
        trackbook.chart(**kwargs)


def test_names_from_the_store_cannot_break_out_of_the_notebook_output(tb: Any) -> None:
    hostile = "</script><script>window.pwned = 1</script>"
    tb.init(experiment="x<!--")
    with tb.start_run(hostile):
        tb.log_time_series_metrics({"<img src=x onerror=alert(1)>": 1.0})
    chart = trackbook.chart("<img src=x onerror=alert(1)>")
    # In a notebook the chart shows as a static SVG (no script at all); its text is escaped XML.
    bundle = chart._repr_mimebundle_()
    drawn = bundle["image/svg+xml"]
    assert "<script" not in drawn and "<img" not in drawn and "&lt;" in drawn
    # altair's own HTML output (chart.save("x.html"), other renderers) embeds the spec in a <script>
    html = chart.to_html()
    assert "<script>window.pwned" not in html and "<img" not in html and "<!--" not in html
    # the names still read the same: a zero-width space follows each "<"
    assert [r["run"] for r in data(chart)] == [hostile.replace("<", "<\u200b")]
    assert "window.pwned = 1" in svg(chart)


def test_charts_display_offline_as_svg_and_stay_altair_charts(tb: Any) -> None:
    three_runs(tb)
    chart = trackbook.chart("loss")
    assert isinstance(chart, alt.Chart)
    bundle = chart._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"} and "cdn" not in bundle["image/svg+xml"].lower()
    assert ">lr-1</text>" in bundle["image/svg+xml"]
    wider = chart.properties(width=200)
    assert "image/svg+xml" in wider._repr_mimebundle_() and wider.to_dict()["width"] == 200
