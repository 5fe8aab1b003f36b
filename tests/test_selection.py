"""Unknown run and series names get the same answer everywhere: history(), chart(), report() and the
`trackbook report` command raise (or exit 2) naming the unknown name and listing the known ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import trackbook
from trackbook.cli import main


@pytest.fixture
def e1(tb: Any) -> None:
    tb.init(experiment="e1")
    for name in ("c0", "c1"):
        with tb.start_run(name):
            tb.log_time_series_metrics({"loss": 1.0, "acc": 0.5})
    with tb.start_run("only-lr"):
        tb.log_time_series_metrics({"lr": 0.1})
    tb.flush()


UNKNOWN_RUN = r"^no run 'zz' in experiment 'e1' \(runs: 'c0', 'c1', 'only-lr'\)$"
UNKNOWN_SERIES = r"^no series 'zz' in experiment 'e1' \(series logged: 'acc', 'loss', 'lr'\)$"


def test_history_refuses_an_unknown_run_or_series(e1: None) -> None:
    with pytest.raises(ValueError, match=UNKNOWN_RUN):
        trackbook.history(experiment="e1", runs=["c0", "zz"])
    with pytest.raises(ValueError, match=UNKNOWN_SERIES):
        trackbook.history(metrics=["loss", "zz"])
    # A series that exists, but in none of the picked runs, is unknown there too.
    with pytest.raises(ValueError, match=r"^no series 'lr' in runs 'c0', 'c1' of experiment 'e1' "
                                         r"\(series logged: 'acc', 'loss'\)$"):
        trackbook.history(runs=["c0", "c1"], metrics="lr")
    df = trackbook.history(runs="c0", metrics=["loss"])
    assert df.run_name.tolist() == ["c0"] and df.metric.tolist() == ["loss"]
    assert len(trackbook.history(metrics="lr")) == 1  # present in one of the runs is enough


def test_chart_and_report_give_the_same_errors(e1: None, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=UNKNOWN_RUN):
        trackbook.chart("loss", runs=["c0", "zz"])
    with pytest.raises(ValueError, match=UNKNOWN_SERIES):
        trackbook.chart(["loss", "zz"])
    out = tmp_path / "r.html"
    with pytest.raises(ValueError, match=UNKNOWN_RUN):
        trackbook.report(out, "e1", runs=["zz"])
    with pytest.raises(ValueError, match=UNKNOWN_SERIES):
        trackbook.report(out, "e1", metrics=["zz"])
    assert not out.exists()


def test_the_report_command_exits_2_without_writing(
    e1: None, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.html"
    assert main(["report", str(out), "--store", str(store_path), "--metrics", "loss,zz"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "trackbook report: no series 'zz' in experiment 'e1' (series logged: 'acc', 'loss', 'lr')\n"
    )
    assert not out.exists()
    assert main(["report", str(out), "--store", str(store_path), "-e", "e1", "--metrics", "acc"]) == 0
    assert out.is_file()


def test_names_are_listed_a_few_at_a_time(tb: Any) -> None:
    tb.init(experiment="many")
    for i in range(15):
        with tb.start_run(f"r{i:02d}"):
            tb.log_time_series_metrics({"loss": float(i)})
    with pytest.raises(ValueError, match=r"\(runs: 'r00', .* 'r09' and 5 more\)$"):
        trackbook.history(runs="zz")
