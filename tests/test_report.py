"""trackbook.report / `trackbook report`: one self-contained HTML file with every run, no external URL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import trackbook
from trackbook.cli import main

HOSTILE = "<img src=x onerror=alert(1)>"
# Anything that would make a browser fetch from the network: src/href attributes, CSS url(), module imports.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|"""
                      r"""import\s*(?:[\w{}\s,*]+from\s*)?["'](?:https?:)?//|@import""", re.I)


def _experiment(tb, name: str = "exp", runs: int = 3) -> list[str]:
    tb.init(experiment=name)
    names = []
    for i in range(runs):
        run = tb.start_run(f"{name}-run-{i}")
        run.log_params({"lr": 0.1 * (i + 1), "note": HOSTILE})
        for step in range(1, 21):
            tb.log_time_series_metrics({"loss": 1.0 / step + i, "acc": step / 20})
        tb.log_metrics({"final": float(i)})
        names.append(run.name)
    tb.end_run()
    return names


def _payload(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="trackbook-data">(.*?)</script>', html, re.S)
    assert m, "the page carries its data inline"
    return json.loads(m.group(1))


def test_report_is_self_contained_and_lists_every_run(tb, store_path: Path, tmp_path: Path) -> None:
    names = _experiment(tb, "a") + _experiment(tb, "b", runs=2)
    out = trackbook.report(tmp_path / "report.html")
    assert out == tmp_path / "report.html"
    html = out.read_text(encoding="utf-8")
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert str(store_path) not in html and str(tmp_path) not in html  # no local path goes out with a report
    assert "<script src" not in html and "<link" not in html
    state = _payload(html)["state"]
    assert sorted(r["name"] for r in state["runs"]) == sorted(names)
    assert state["data"], "the curves are inlined as base64"
    # The static table (shown without scripts) lists every run, as escaped text.
    static = html.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    for name in names:
        assert f">{name}<" in static
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in static


def test_report_of_one_experiment_and_errors(tb, tmp_path: Path) -> None:
    _experiment(tb, "a")
    _experiment(tb, "b", runs=1)
    html = trackbook.report(tmp_path / "a.html", "a", metrics=["loss"]).read_text(encoding="utf-8")
    assert {r["name"] for r in _payload(html)["state"]["runs"]} == {"a-run-0", "a-run-1", "a-run-2"}
    with pytest.raises(trackbook.NotFound, match="experiments: 'a', 'b'"):
        trackbook.report(tmp_path / "x.html", "missing")
    with pytest.raises(ValueError, match=r"cannot write the report .* does not exist"):
        trackbook.report(tmp_path / "no" / "such" / "dir" / "r.html")
    with pytest.raises(ValueError, match="is a directory"):
        trackbook.report(tmp_path)
    assert not (tmp_path / "x.html").exists()


def test_report_command_line(tb, store_path: Path, tmp_path: Path, capsys) -> None:
    _experiment(tb, "a")
    trackbook.flush()
    out = tmp_path / "cli.html"
    assert main(["report", str(out), "--store", str(store_path), "-e", "a", "--metrics", "loss,acc"]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing" / "r.html"), "--store", str(store_path)]) == 1
    assert "cannot write the report" in capsys.readouterr().err
