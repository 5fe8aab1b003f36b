"""The run lifecycle at its edges: bad calls that change nothing, resuming a live run, resource names given
to the constructors, interrupts and exits."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import warnings

import pytest

import trackbook as vertex_ai
from support import PYTHON, python_env
from trackbook import exceptions


def test_end_run_with_a_bad_state_keeps_the_run_active(tb) -> None:
    vertex_ai.init(experiment="e")
    run = vertex_ai.start_run("r")
    with pytest.raises(ValueError, match="'DONE' is not a run state"):
        vertex_ai.end_run(state="DONE")
    assert vertex_ai.get_active_run() == run and run.get_state() == "RUNNING"
    vertex_ai.end_run()
    assert run.get_state() == "COMPLETE" and vertex_ai.get_active_run() is None


@pytest.mark.parametrize(("name", "resume", "error"), [
    (123, False, TypeError),
    ("", False, ValueError),
    ("bad\x00name", False, ValueError),
    ("taken", False, exceptions.AlreadyExists),
    ("missing", True, exceptions.NotFound),
    (None, True, TypeError),
])
def test_a_failing_start_run_leaves_the_active_run_alone(tb, name, resume, error) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("taken")
    vertex_ai.end_run()
    active = vertex_ai.start_run("active")
    vertex_ai.log_time_series_metrics({"loss": 1.0})
    with pytest.raises(error):
        vertex_ai.start_run(name, resume=resume)
    assert vertex_ai.get_active_run() == active and active.get_state() == "RUNNING"
    vertex_ai.log_time_series_metrics({"loss": 2.0})
    vertex_ai.end_run()
    assert active.get_time_series_data_frame().step.tolist() == [1, 2]


def test_resuming_the_active_run_itself_continues_it(tb) -> None:
    vertex_ai.init(experiment="e")
    vertex_ai.start_run("r")
    vertex_ai.log_time_series_metrics({"loss": 1.0})
    again = vertex_ai.start_run("r", resume=True)
    assert vertex_ai.get_active_run() is again and again.get_state() == "RUNNING"
    vertex_ai.log_time_series_metrics({"loss": 2.0})
    vertex_ai.end_run()
    assert again.get_time_series_data_frame().step.tolist() == [1, 2] and again.get_state() == "COMPLETE"


OWNER = textwrap.dedent(
    """
    import os, sys, trackbook
    trackbook.init(store=sys.argv[1], experiment="e")
    trackbook.start_run("r")
    for v in (1.0, 2.0, 3.0):
        trackbook.log_time_series_metrics({"loss": v})
    trackbook.ExperimentRun.create("idle", experiment="e")
    trackbook.flush()
    print(os.getpid(), flush=True)
    sys.stdin.readline()
    """
)


def test_resuming_a_run_live_in_another_process_warns_once(tb, store_path) -> None:
    owner = subprocess.Popen([PYTHON, "-c", OWNER, str(store_path)], env=python_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        vertex_ai.init(experiment="e")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = vertex_ai.start_run("r", resume=True)
        assert [w.category for w in caught] == [vertex_ai.TrackbookWarning]
        message = str(caught[0].message)
        assert f"process {pid} on host {socket.gethostname()!r}" in message
        assert "automatic steps" in message and "later write of a step wins" in message and "step=" in message
        assert run.get_state() == "RUNNING"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            vertex_ai.start_run("r", resume=True)  # now this process's own run: no warning
    finally:
        owner.kill()
        owner.wait(timeout=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "idle" is RUNNING with a fresh heartbeat, but its process is gone
        assert vertex_ai.start_run("idle", resume=True).get_state() == "RUNNING"
    vertex_ai.end_run()


VERTEX_PREFIX = "projects/p/locations/us-central1/metadataStores/default/contexts/"


def test_experiment_and_run_accept_resource_names(tb) -> None:
    vertex_ai.init(experiment="e1")
    exp = vertex_ai.Experiment("e1")
    run = vertex_ai.start_run("r-1")
    vertex_ai.end_run()
    assert vertex_ai.Experiment(exp.resource_name) == exp
    assert vertex_ai.Experiment(VERTEX_PREFIX + "e1") == exp
    assert vertex_ai.Experiment.get(VERTEX_PREFIX + "e1") == exp
    for name in (run.resource_name, VERTEX_PREFIX + "e1-r-1", run.resource_id):
        found = vertex_ai.ExperimentRun(name, "e1")
        assert found == run and found.name == "r-1" and found.resource_name == run.resource_name
    assert vertex_ai.ExperimentRun(run.resource_name) == run  # the current experiment
    assert vertex_ai.start_run(VERTEX_PREFIX + "e1-r-1", resume=True) == run
    vertex_ai.end_run()
    vertex_ai.Experiment.create("e2")
    with pytest.raises(exceptions.NotFound, match="not a run of experiment 'e2'"):
        vertex_ai.ExperimentRun(run.resource_name, "e2")
    with pytest.raises(exceptions.NotFound):
        vertex_ai.Experiment(VERTEX_PREFIX + "nope")


def test_a_local_resource_name_finds_its_own_store(tb, tmp_path) -> None:
    other = tmp_path / "other.db"
    exp = vertex_ai.Experiment.create("far", store=other)
    run = vertex_ai.ExperimentRun.create("r", experiment=exp)
    vertex_ai.init(experiment="near")  # the session's store holds no "far"
    assert vertex_ai.Experiment(exp.resource_name) == exp
    assert vertex_ai.ExperimentRun(run.resource_name, "far") == run
    with pytest.raises(exceptions.NotFound, match="no store at"):
        vertex_ai.Experiment(f"{tmp_path / 'missing.db'}#contexts/far")


def test_wrong_types_raise_type_errors_naming_the_argument(tb) -> None:
    vertex_ai.init(experiment="e1")
    exp = vertex_ai.Experiment("e1")
    vertex_ai.start_run("r")
    with pytest.raises(TypeError, match=r"^experiment must be a str .* or None, got Experiment"):
        vertex_ai.get_experiment_df(exp)
    with pytest.raises(TypeError, match=r"^experiment_name must be a str \(an experiment name or resource name\), "
                                        r"got int 123"):
        vertex_ai.Experiment(123)
    with pytest.raises(TypeError, match=r"^experiment_name must be a str .*got NoneType"):
        vertex_ai.Experiment.get(None)
    with pytest.raises(TypeError, match=r"^run_name must be a str \(a run name, its resource id or resource "
                                        r"name\), got int 123"):
        vertex_ai.ExperimentRun(123, "e1")
    with pytest.raises(TypeError, match=r"^experiment must be an Experiment, a str \(its name or resource name\) "
                                        r"or None, got int 7"):
        vertex_ai.ExperimentRun("r", 7)
    with pytest.raises(TypeError, match=r"^experiment must be an Experiment"):
        vertex_ai.ExperimentRun.list(experiment=["e1"])
    assert vertex_ai.get_active_run().get_state() == "RUNNING"


def test_an_interrupted_with_block_ends_its_run_cancelled(tb) -> None:
    vertex_ai.init(experiment="e")
    with pytest.raises(KeyboardInterrupt), vertex_ai.start_run("active"):
        raise KeyboardInterrupt
    assert vertex_ai.get_active_run() is None
    with pytest.raises(KeyboardInterrupt), vertex_ai.ExperimentRun.create("plain", experiment="e"):
        raise KeyboardInterrupt
    with pytest.raises(RuntimeError), vertex_ai.start_run("broken"):
        raise RuntimeError("boom")
    states = {r.name: r.get_state() for r in vertex_ai.ExperimentRun.list(experiment="e")}
    assert states == {"active": "CANCELLED", "plain": "CANCELLED", "broken": "FAILED"}


INTERRUPTED = textwrap.dedent(
    """
    import sys, time, trackbook
    trackbook.init(store=sys.argv[1], experiment="e")
    trackbook.start_run("script")
    trackbook.log_time_series_metrics({"loss": 1.0})
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_a_script_interrupted_with_ctrl_c_ends_its_run_cancelled(tb, store_path) -> None:
    proc = subprocess.Popen([PYTHON, "-c", INTERRUPTED, str(store_path)], env=python_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert "KeyboardInterrupt" in err
    run = vertex_ai.ExperimentRun("script", "e")
    assert run.get_state() == "CANCELLED" and run.get_time_series_data_frame().loss.tolist() == [1.0]


@pytest.mark.parametrize(("code", "state"), [
    (1, "FAILED"), (2, "FAILED"), ("fatal: no data", "FAILED"), (0, "COMPLETE"), (None, "COMPLETE"),
])
def test_sys_exit_in_a_with_block_ends_the_run_by_its_code(tb, code, state) -> None:
    vertex_ai.init(experiment="e")
    with pytest.raises(SystemExit), vertex_ai.start_run("active"):
        sys.exit(code)
    with pytest.raises(SystemExit), vertex_ai.ExperimentRun.create("plain", experiment="e"):
        sys.exit(code)
    states = {r.name: r.get_state() for r in vertex_ai.ExperimentRun.list(experiment="e")}
    assert states == {"active": state, "plain": state} and vertex_ai.get_active_run() is None
