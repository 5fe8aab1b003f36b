"""The `trackbook` command line: ls, export (CSV, Parquet, --history), --help and its errors."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import trackbook
from support import PYTHON, python_env
from trackbook.cli import main


@pytest.fixture
def filled(tb: Any, store_path: Path) -> Path:
    """Two experiments: 'tuning' with a complete and a failed run, 'baseline' with one run; all flushed."""
    tb.init(experiment="tuning")
    with tb.start_run("lr-0.1") as run:
        run.log_params({"lr": 0.1, "optimizer": "adam"})
        for step in range(1, 6):
            run.log_time_series_metrics({"loss": 1.0 / step, "acc": step / 10})
        run.log_metrics({"val_acc": 0.8125})
    run = tb.start_run("lr-1.0")
    run.log_params({"lr": 1.0})
    run.log_time_series_metrics({"loss": 9.0})
    tb.end_run(state="FAILED")
    tb.init(experiment="baseline")
    with tb.start_run("constant") as run:
        run.log_time_series_metrics({"loss": 2.0})
    tb.flush()
    return store_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- ls ----------------------------------------------------------------------------------------------------


def test_ls_lists_every_experiment_with_its_runs_states_and_metrics(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "ls", "--store", str(filled))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "tuning  (2 runs)"
    assert re.fullmatch(r"  lr-0\.1\s+COMPLETE\s+\d{4}-\d\d-\d\d \d\d:\d\d  val_acc=0\.8125", lines[1])
    # no summary metric: the last value of each series instead
    assert re.fullmatch(r"  lr-1\.0\s+FAILED\s+\S+ \S+  loss=9", lines[2])
    assert lines[3] == "baseline  (1 run)"
    assert lines[4].split()[:2] == ["constant", "COMPLETE"]
    assert len(lines) == 5


def test_ls_narrows_to_named_experiments_and_reads_trackbook_store(
    filled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKBOOK_STORE", str(filled))
    code, out, _ = cli(capsys, "ls", "baseline")
    assert code == 0
    assert out.splitlines()[0] == "baseline  (1 run)" and "tuning" not in out


def test_ls_of_an_empty_store(tb: Any, store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "ls", "--store", str(store_path))
    assert code == 0 and out.strip() == f"{store_path}: no experiments yet"


# -- export ------------------------------------------------------------------------------------------------


def test_export_csv_to_stdout_is_the_run_table(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "export", "--store", str(filled))
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    assert list(got.run_name) == ["lr-0.1", "lr-1.0", "constant"]
    assert list(got.experiment_name) == ["tuning", "tuning", "baseline"]
    assert list(got.state) == ["COMPLETE", "FAILED", "COMPLETE"]
    assert got["param.lr"].tolist()[:2] == [0.1, 1.0] and pd.isna(got["param.lr"].iloc[2])
    assert got["param.optimizer"].tolist()[0] == "adam"
    assert got["metric.val_acc"].tolist()[0] == 0.8125
    assert got["time_series_metric.loss"].tolist() == [0.2, 9.0, 2.0]
    expected = trackbook.get_experiment_df("tuning")
    assert list(got.columns[: len(expected.columns)]) == list(expected.columns)


def test_export_one_experiment_to_a_csv_file(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "runs.csv"
    code, out, err = cli(capsys, "export", "--store", str(filled), "-e", "tuning", "-o", str(out_file))
    assert code == 0 and out == ""
    assert err.strip() == f"wrote 2 rows to {out_file}"
    got = pd.read_csv(out_file)
    expected = trackbook.get_experiment_df("tuning")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_export_history_has_every_point_in_long_form(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "export", "--history", "--store", str(filled))
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    assert list(got.columns) == ["experiment_name", "run_name", "metric", "step", "wall_time", "value"]
    assert len(got) == 5 * 2 + 1 + 1
    loss = got[(got.run_name == "lr-0.1") & (got.metric == "loss")]
    assert loss.step.tolist() == [1, 2, 3, 4, 5]
    assert loss.value.tolist() == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])


def test_export_parquet_round_trips_the_run_table_and_the_history(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs_file, history_file = tmp_path / "runs.parquet", tmp_path / "history.parquet"
    assert cli(capsys, "export", "--format", "parquet", "-o", str(runs_file), "--store", str(filled))[0] == 0
    assert cli(capsys, "export", "--format", "parquet", "--history", "-o", str(history_file),
               "--store", str(filled))[0] == 0
    runs = pd.read_parquet(runs_file)
    assert list(runs.run_name) == ["lr-0.1", "lr-1.0", "constant"]
    assert runs["param.lr"].tolist()[:2] == [0.1, 1.0]
    history = pd.read_parquet(history_file)
    expected = trackbook.history(["tuning", "baseline"], store=filled)
    assert len(history) == len(expected) == 12
    assert str(history.wall_time.dtype) == str(expected.wall_time.dtype)
    assert sorted(history.value) == sorted(expected.value)


# -- help and errors -------------------------------------------------------------------------------------


def test_help_explains_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for command in ("ls", "export", "report", "import"):
        assert re.search(rf"^\s+{command}\s+\S", text, re.M), command
    assert "TRACKBOOK_STORE" in text
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    for option in ("--format {csv,parquet}", "--history", "--output", "--experiment", "--store"):
        assert option in text
    assert cli(capsys)[0] == 0  # no command: the overview, not an error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--format", "parquet"], "trackbook export: --format parquet needs --output PATH"),
        (["export", "-o", "{tmp}/no-dir/runs.csv"], "trackbook export: Cannot save file into a non-existent directory"),
    ],
)
def test_errors_are_one_line_and_exit_1(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, out, err = cli(capsys, *argv, "--store", str(filled))
    assert code == 1 and out == ""
    assert err.startswith(message.format(store=filled)), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ls", "nope"], "trackbook ls: no experiment 'nope' in {store} (experiments: 'baseline', 'tuning')\n"),
        (["export", "-e", "nope"],
         "trackbook export: no experiment 'nope' in {store} (experiments: 'baseline', 'tuning')\n"),
        (["report", "{tmp}/r.html", "-e", "nope"],
         "trackbook report: 404 Experiment 'nope' not found in {store} (experiments: 'tuning', 'baseline')\n"),
        (["report", "{tmp}/r.html", "-e", "tuning", "--metrics", "loss,lost"],
         "trackbook report: no series 'lost' in experiment 'tuning' (series logged: 'acc', 'loss')\n"),
    ],
)
def test_unknown_names_are_one_line_and_exit_2(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, out, err = cli(capsys, *argv, "--store", str(filled))
    assert (code, out, err) == (2, "", message.format(store=filled))
    assert not (tmp_path / "r.html").exists()


def test_a_missing_store_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.db"
    code, _, err = cli(capsys, "ls", "--store", str(missing))
    assert code == 1 and f"no store at {missing}" in err
    assert not missing.exists()


def test_parquet_without_an_engine_says_how_to_get_one(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    target = tmp_path / "runs.parquet"
    code, _, err = cli(capsys, "export", "--format", "parquet", "-o", str(target), "--store", str(filled))
    assert code == 1
    assert "--format parquet needs pyarrow, which is not installed: pip install 'trackbook[parquet]'" in err
    assert not target.exists()


def test_bad_arguments_exit_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--format", "xlsx"])
    assert exit_.value.code == 2
    assert "invalid choice: 'xlsx'" in capsys.readouterr().err


def test_the_command_runs_as_a_program(filled: Path) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "trackbook.cli", "ls"], capture_output=True, text=True, timeout=120,
        env=python_env(TRACKBOOK_STORE=str(filled)),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "tuning  (2 runs)"


@pytest.mark.parametrize("argv", [["ls"], ["export"], ["export", "--history"]])
def test_a_reader_that_stops_early_ends_the_command_quietly(filled: Path, argv: list[str]) -> None:
    # As `trackbook export --history | head -1`: the reader is gone before the command writes, so every
    # write to standard output fails with EPIPE. Exit 141 (128 + SIGPIPE, as cat or seq), no message.
    child = subprocess.Popen(
        [PYTHON, "-m", "trackbook.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=python_env(TRACKBOOK_STORE=str(filled)),
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the only read end: from here on no one reads
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141, err
    assert err == ""
