"""%track and %%track, driven through a real IPython shell against a real store file."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython

import trackbook
from trackbook.magics import parse_value

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def ip(tb: Any) -> Any:
    start_ipython()  # once per process: a shell with in-memory history
    shell = get_ipython()
    shell.extension_manager.load_extension("trackbook")  # what %load_ext trackbook does
    shell.user_ns["trackbook"] = trackbook
    shell.run_cell("%track experiment magic-exp", store_history=True)
    return shell


def run(ip: Any, source: str) -> Any:
    return ip.run_cell(source, store_history=True)


def out(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return ANSI.sub("", captured.out + captured.err)


def runs_of(experiment: str = "magic-exp") -> dict[str, Any]:
    return {r.name: r for r in trackbook.ExperimentRun.list(experiment=experiment)}


def cells_of(r: trackbook.ExperimentRun) -> list[dict[str, Any]]:
    row = r._store.context_by_id(r._id)
    return json.loads(row.metadata)["cells"]


def assert_usage_error(result: Any, text: str, expected: str) -> None:
    assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
    assert "UsageError" in text and expected in text
    assert "Traceback" not in text


def test_load_ext_registers_the_line_and_cell_magic(ip: Any) -> None:
    ip.magics_manager.magics["line"].pop("track")
    ip.magics_manager.magics["cell"].pop("track")
    assert run(ip, "%reload_ext trackbook").success
    assert "track" in ip.magics_manager.magics["line"] and "track" in ip.magics_manager.magics["cell"]


# -- the cell magic ---------------------------------------------------------------------------------------


def test_a_track_cell_is_a_complete_run_with_params_source_and_what_it_logged(ip: Any) -> None:
    cell = (
        "%%track fit-1 --param lr=0.01 --param epochs=3 dropout=0.5 augment=true optimizer=adam\n"
        "for epoch in range(3):\n"
        "    trackbook.log_time_series_metrics({'loss': 1.0 / (epoch + 1)})\n"
        "trackbook.log_metrics({'val_acc': 0.9})\n"
        "'trained'\n"
    )
    result = run(ip, cell)
    assert result.success, result.error_in_exec
    assert result.result == "trained"  # the cell's last expression still displays
    r = runs_of()["fit-1"]
    assert r.get_state() == "COMPLETE"
    assert r.get_params() == {"lr": 0.01, "epochs": 3, "dropout": 0.5, "augment": True, "optimizer": "adam"}
    assert type(r.get_params()["epochs"]) is int
    assert r.get_metrics() == {"val_acc": 0.9}
    assert list(r.get_time_series_data_frame()["loss"]) == [1.0, 0.5, 1.0 / 3]
    [recorded] = cells_of(r)
    assert recorded["source"] == cell.split("\n", 1)[1]
    assert recorded["execution_count"] == result.execution_count
    assert trackbook.get_active_run() is None
    assert run(ip, "%%track quiet\n'not shown';\n").result is None  # a trailing ";" hides the value


def test_without_a_name_the_run_is_named_after_the_cell_and_each_cell_gets_its_own(ip: Any) -> None:
    first = run(ip, "%%track\ntrackbook.log_metrics({'x': 1})\n")
    second = run(ip, "%%track\ntrackbook.log_metrics({'x': 2})\n")
    names = list(runs_of())
    assert len(names) == 2
    assert re.fullmatch(rf"cell-{first.execution_count}-\d{{6}}(-\d+)?", names[0]), names
    assert re.fullmatch(rf"cell-{second.execution_count}-\d{{6}}(-\d+)?", names[1]), names
    assert [runs_of()[n].get_metrics()["x"] for n in names] == [1, 2]


def test_a_failing_cell_leaves_a_failed_run_with_what_it_logged_and_shows_the_error(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(
        ip,
        "%%track broken --param lr=0.1\n"
        "trackbook.log_time_series_metrics({'loss': 2.0})\n"
        "trackbook.log_metrics({'partial': 1})\n"
        "raise RuntimeError('diverged at step 2')\n",
    )
    assert isinstance(result.error_in_exec, RuntimeError)
    text = out(capsys)
    assert "RuntimeError: diverged at step 2" in text
    assert "raise RuntimeError('diverged at step 2')" in text  # the cell's own line is in the traceback
    r = runs_of()["broken"]
    assert r.get_state() == "FAILED"
    assert r.get_params() == {"lr": 0.1}
    assert r.get_metrics() == {"partial": 1}
    assert list(r.get_time_series_data_frame()["loss"]) == [2.0]


def test_an_interrupted_cell_is_cancelled(ip: Any) -> None:
    result = run(ip, "%%track stopped\ntrackbook.log_metrics({'a': 1})\nraise KeyboardInterrupt\n")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert runs_of()["stopped"].get_state() == "CANCELLED"


def test_resuming_a_run_another_live_process_writes_warns(ip: Any, store_path: Any) -> None:
    import subprocess
    import textwrap

    from support import PYTHON, python_env

    owner = subprocess.Popen([PYTHON, "-c", textwrap.dedent("""
        import sys, trackbook
        trackbook.init(store=sys.argv[1], experiment="magic-exp")
        trackbook.start_run("shared")
        trackbook.flush()
        print("ready", flush=True)
        sys.stdin.readline()
    """), str(store_path)], env=python_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        with pytest.warns(trackbook.TrackbookWarning, match="still RUNNING in process .* automatic steps"):
            result = run(ip, "%%track shared --resume\ntrackbook.log_time_series_metrics({'loss': 1.0}, step=7)\n")
        assert result.error_in_exec is None
    finally:
        owner.kill()
        owner.wait(timeout=30)


def test_resume_continues_the_run_and_keeps_both_cells(ip: Any) -> None:
    run(ip, "%%track long\nfor i in range(3):\n    trackbook.log_time_series_metrics({'loss': i})\n")
    result = run(ip, "%%track long --resume --param phase=2\ntrackbook.log_time_series_metrics({'loss': 9})\n")
    assert result.success, result.error_in_exec
    r = runs_of()["long"]
    assert r.get_state() == "COMPLETE"
    assert list(r.get_time_series_data_frame()["step"]) == [1, 2, 3, 4]
    assert r.get_params() == {"phase": 2}
    assert [c["execution_count"] for c in cells_of(r)] == [result.execution_count - 1, result.execution_count]


def test_an_outer_active_run_is_left_alone_and_active_again_after_the_cell(ip: Any) -> None:
    outer = trackbook.start_run("outer")
    run(ip, "%%track inner\ninside = trackbook.get_active_run().name\ntrackbook.log_metrics({'m': 1})\n")
    assert ip.user_ns["inside"] == "inner"
    assert trackbook.get_active_run() == outer
    assert outer.get_state() == "RUNNING" and outer.get_metrics() == {}
    assert runs_of()["inner"].get_metrics() == {"m": 1}
    trackbook.end_run()


@pytest.mark.parametrize(("raises", "state"), [(False, "COMPLETE"), (True, "FAILED")])
def test_runs_the_cell_starts_and_leaves_open_are_ended_and_the_outer_run_comes_back(
    ip: Any, raises: bool, state: str
) -> None:
    outer = trackbook.start_run("outer")
    cell = "%%track cell\ntrackbook.start_run('started-inside')\ntrackbook.log_metrics({'m': 1})\n"
    result = run(ip, cell + ("raise RuntimeError('boom')\n" if raises else ""))
    assert isinstance(result.error_in_exec, RuntimeError) if raises else result.success
    assert trackbook.get_active_run() == outer
    runs = runs_of()
    assert runs["outer"].get_state() == "RUNNING"
    assert runs["started-inside"].get_state() == state and runs["started-inside"].get_metrics() == {"m": 1}
    assert runs["cell"].get_state() == "COMPLETE"  # start_run ended it, as it ends any active run


def test_an_outer_run_the_cell_ended_is_not_brought_back(ip: Any) -> None:
    trackbook.start_run("outer")
    assert run(ip, "%%track cell\ntrackbook.ExperimentRun('outer', 'magic-exp').end_run()\n").success
    assert trackbook.get_active_run() is None
    assert runs_of()["outer"].get_state() == "COMPLETE"



def test_a_cell_that_ends_its_run_itself_keeps_the_state_it_chose(ip: Any) -> None:
    run(ip, "%%track manual\ntrackbook.end_run(state='CANCELLED')\n")
    assert runs_of()["manual"].get_state() == "CANCELLED"


def test_params_can_come_from_python_variables(ip: Any) -> None:
    ip.user_ns["lr"] = 0.003
    run(ip, "%%track from-vars --param lr={lr} name=$lr\npass\n")
    assert runs_of()["from-vars"].get_params() == {"lr": 0.003, "name": 0.003}


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("-7", -7), ("0.5", 0.5), ("1e-3", 0.001), ("True", True), ("false", False), ("TRUE", "TRUE"),
     ("adam", "adam"), ("", ""), ("1.0", 1.0)],
)
def test_param_values_are_int_then_float_then_bool_then_str(text: str, value: Any) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


# -- wrong input: one usage line, nothing written ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%%track bad --param lr\npass\n", "--param takes KEY=VALUE, got 'lr'"),
        ("%%track bad --param =3\npass\n", "--param takes KEY=VALUE"),
        ("%%track bad --frobnicate\npass\n", "unrecognized arguments: --frobnicate"),
        ("%%track bad extra-word\npass\n", "unrecognized arguments: extra-word"),
        ("%%track --resume\npass\n", "--resume needs the RUN name"),
        ("%%track 'bad\npass\n", "No closing quotation"),
        ("%%track bad\nx = (\n", "the cell did not compile, so no run was started"),
        ("%%track --resume missing\npass\n", "no run 'missing' in experiment 'magic-exp' to resume"),
    ],
)
def test_wrong_cell_arguments_print_a_usage_line_and_start_no_run(
    ip: Any, capsys: pytest.CaptureFixture[str], source: str, expected: str
) -> None:
    result = run(ip, source)
    assert_usage_error(result, out(capsys), expected)
    assert runs_of() == {}


def test_running_a_named_cell_again_keeps_both_attempts(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run(ip, "%%track attempt\ntrackbook.log_metrics({'a': 1})\n")
    capsys.readouterr()
    for _ in range(2):
        assert run(ip, "%%track attempt\ntrackbook.log_metrics({'a': 2})\n").success
    assert "already has a run 'attempt', so this cell is run 'attempt-2'" in out(capsys)
    assert {n: r.get_metrics() for n, r in runs_of().items()} == {
        "attempt": {"a": 1}, "attempt-2": {"a": 2}, "attempt-3": {"a": 2}
    }


def test_a_track_cell_needs_a_current_experiment(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from trackbook.session import session

    session.experiment = None
    result = run(ip, "%%track r\npass\n")
    assert_usage_error(result, out(capsys), "no current experiment: set one first with %track experiment NAME")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%track frob", "unknown %track command 'frob'"),
        ("%track experiment a b", "unrecognized arguments: b"),
        ("%track experiment --description only", "--description needs the experiment NAME"),
        ("%track experiment 'bad\tname'", "control character"),
        ("%track df nope", "no experiment 'nope'"),
        ("%track ls nope", "no experiment 'nope'"),
        ("%track board --metrics", "expected one argument"),
    ],
)
def test_wrong_line_arguments_print_a_usage_line(
    ip: Any, capsys: pytest.CaptureFixture[str], source: str, expected: str
) -> None:
    capsys.readouterr()
    assert_usage_error(run(ip, source), out(capsys), expected)


def test_board_for_an_unknown_experiment_names_the_ones_that_exist(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    trackbook.init(experiment="other-exp")
    capsys.readouterr()
    result = run(ip, "%track board nope")
    assert_usage_error(result, out(capsys), "no experiment 'nope'")
    assert "(experiments: 'magic-exp', 'other-exp')" in str(result.error_in_exec)


def test_board_shows_the_current_experiment_with_the_metrics_asked_for(ip: Any) -> None:
    trackbook.init(experiment="other-exp")
    run(ip, "%%track c\ntrackbook.log_time_series_metrics({'loss': 3.0})\n")
    trackbook.init(experiment="magic-exp")
    run(ip, "%%track a\ntrackbook.log_time_series_metrics({'loss': 1.0, 'acc': 0.5})\n")
    run(ip, "%%track b\ntrackbook.log_time_series_metrics({'loss': 2.0})\n")
    result = run(ip, "%track board --metrics loss")
    assert result.success, result.error_in_exec
    board = result.result
    try:
        assert isinstance(board, trackbook.Board)
        assert board.metrics == ["loss"]
        assert sorted(board.selected) == ["a", "b"]  # the current experiment only
    finally:
        board.close()
    board = run(ip, "%track board other-exp magic-exp --runs a,c").result
    try:
        assert board.metrics is None
        assert sorted(board.selected) == ["a", "c"]
    finally:
        board.close()


# -- the line commands --------------------------------------------------------------------------------------


def test_experiment_sets_the_current_experiment_with_its_description(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(ip, "%track experiment tuning --description 'grid over lr and depth'")
    assert result.success, result.error_in_exec
    assert trackbook.get_current_experiment().name == "tuning"
    assert trackbook.get_current_experiment().description == "grid over lr and depth"
    capsys.readouterr()
    run(ip, "%track experiment")
    assert "current experiment: 'tuning'" in out(capsys)


def test_df_returns_the_run_table(ip: Any) -> None:
    run(ip, "%%track a --param k=1\ntrackbook.log_metrics({'score': 0.5})\n")
    result = run(ip, "%track df")
    assert result.success, result.error_in_exec
    df = result.result
    assert list(df.run_name) == ["a"]
    assert df.loc[0, "param.k"] == 1 and df.loc[0, "metric.score"] == 0.5
    assert df.equals(trackbook.get_experiment_df())
    assert run(ip, "%track df magic-exp").result.equals(df)


def test_ls_lists_experiments_and_runs(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run(ip, "%%track listed\ntrackbook.log_metrics({'auc': 0.8125})\n")
    run(ip, "%%track failing\nraise ValueError('x')\n")
    capsys.readouterr()
    run(ip, "%track ls")
    text = out(capsys)
    assert "magic-exp  (2 runs)" in text
    assert re.search(r"listed\s+COMPLETE\s+\S+ \S+\s+auc=0.8125", text), text
    assert re.search(r"failing\s+FAILED", text), text


def test_help_explains_every_command(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    run(ip, "%track help")
    text = out(capsys)
    for usage in ("%track experiment NAME", "%%track [RUN] [--param KEY=VALUE ...] [--resume]", "%track board",
                  "%track df", "%track ls"):
        assert usage in text
    run(ip, "%track")
    assert "%%track [RUN]" in out(capsys)
