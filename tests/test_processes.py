"""Several processes on one store file; a writer killed mid-run."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import trackbook
from support import PYTHON, python_env, reset_session

WRITER = textwrap.dedent(
    """
    import sys, trackbook
    path, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    trackbook.init(store=path, experiment="shared")
    trackbook.start_run(name)
    trackbook.log_params({"worker": name})
    for step in range(1, steps + 1):
        trackbook.log_time_series_metrics({"loss": 1.0 / step, "acc": step / steps})
    trackbook.log_metrics({"done": 1})
    trackbook.end_run()
    """
)


def test_processes_write_one_file_at_once(store_path: Path) -> None:
    reset_session()
    workers, steps = 4, 3000
    procs = [
        subprocess.Popen([PYTHON, "-c", WRITER, str(store_path), f"w{i}", str(steps)], env=python_env(),
                         stderr=subprocess.PIPE, text=True)
        for i in range(workers)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, errors
    assert not any(errors), errors
    trackbook.init(store=store_path)
    df = trackbook.get_experiment_df("shared")
    assert sorted(df.run_name) == [f"w{i}" for i in range(workers)]
    assert set(df.state) == {"COMPLETE"} and df["metric.done"].tolist() == [1] * workers
    h = trackbook.history("shared")
    assert len(h) == workers * steps * 2
    for _, g in h.groupby(["run_name", "metric"], observed=True):
        assert g.step.tolist() == list(range(1, steps + 1))
    reset_session()


KILLED = textwrap.dedent(
    """
    import sys, time, trackbook
    trackbook.init(store=sys.argv[1], experiment="crash")
    trackbook.start_run("victim")
    step = 0
    while True:
        step += 1
        trackbook.log_time_series_metrics({"loss": float(step)})
        if step == 2000:
            trackbook.flush()
            print("flushed", flush=True)
        if step % 100 == 0:
            time.sleep(0.001)
    """
)


def test_a_killed_writer_leaves_a_sound_store_and_a_crashed_run(store_path: Path) -> None:
    reset_session()
    proc = subprocess.Popen([PYTHON, "-c", KILLED, str(store_path)], env=python_env(), stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "flushed"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    trackbook.init(store=store_path)
    run = trackbook.ExperimentRun("victim", "crash")
    assert run.get_state() == "CRASHED"
    steps = run.get_time_series_data_frame().step.tolist()
    assert len(steps) >= 2000 and steps == list(range(1, len(steps) + 1))  # no holes
    assert trackbook.get_experiment_df("crash").state.tolist() == ["CRASHED"]
    # the run can be resumed and finished from this process
    trackbook.init(experiment="crash")
    trackbook.start_run("victim", resume=True)
    trackbook.log_time_series_metrics({"loss": -1.0})
    trackbook.end_run()
    assert run.get_time_series_data_frame().step.tolist()[-1] == len(steps) + 1
    assert run.get_state() == "COMPLETE"
    reset_session()


EXITS = textwrap.dedent(
    """
    import sys, trackbook
    trackbook.init(store=sys.argv[1], experiment="exit")
    trackbook.start_run(sys.argv[2])
    trackbook.log_time_series_metrics({"loss": 1.0})
    if sys.argv[2] == "raises":
        raise RuntimeError("training failed")
    """
)


def test_process_exit_without_end_run_ends_the_run(store_path: Path) -> None:
    reset_session()
    ok = subprocess.run([PYTHON, "-c", EXITS, str(store_path), "clean"], env=python_env(), capture_output=True)
    bad = subprocess.run([PYTHON, "-c", EXITS, str(store_path), "raises"], env=python_env(), capture_output=True)
    assert ok.returncode == 0 and bad.returncode == 1
    trackbook.init(store=store_path)
    df = trackbook.get_experiment_df("exit")
    assert dict(zip(df.run_name, df.state)) == {"clean": "COMPLETE", "raises": "FAILED"}
    assert df["time_series_metric.loss"].tolist() == [1.0, 1.0]
    reset_session()


def test_python_env_points_at_this_checkout() -> None:
    out = subprocess.run([PYTHON, "-c", "import trackbook; print(trackbook.__file__)"], env=python_env(),
                         capture_output=True, text=True, check=True).stdout
    assert Path(out.strip()).resolve() == Path(trackbook.__file__).resolve()
    assert sys.executable == PYTHON
