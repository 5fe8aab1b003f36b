"""Writers killed with SIGKILL at random moments, and a Jupyter kernel restarted mid-run.

After each kill: the file passes PRAGMA integrity_check, every point the writer had flushed is there, the
steps have no holes, and the run reads CRASHED (not RUNNING). Kills land anywhere: while the store is
being created and migrated, while a run starts, while logging, in the middle of a commit.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

import trackbook
from support import PYTHON, python_env, reset_session

VICTIM = textwrap.dedent(
    """
    import sys, time, trackbook
    path, name = sys.argv[1], sys.argv[2]
    print("importing-done", flush=True)
    trackbook.init(store=path, experiment="kills")
    trackbook.start_run(name)
    print("started", flush=True)
    step = 0
    while True:
        step += 1
        trackbook.log_time_series_metrics({"loss": 1.0 / step, "acc": step * 1e-6})
        if step % 1000 == 0:
            trackbook.flush()
            print("flushed", step, flush=True)
    """
)

KILLS = 24


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(20261128)
    shared = tmp_path / "shared.db"
    kills = 0
    for i in range(KILLS):
        # A third of the kills hit a brand-new file, so some land while it is created and migrated.
        path = tmp_path / f"fresh-{i}.db" if i % 3 == 0 else shared
        name = f"victim-{i}"
        proc = subprocess.Popen([PYTHON, "-c", VICTIM, str(path), name], env=python_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # Wait until Python has imported trackbook, then kill after a random delay: during init/migration
        # (short delays), start_run, logging or a commit.
        first = _read_lines_until_token(proc, "importing-done", 60)
        time.sleep(rng.choice([0.0, 0.005, 0.02, 0.05]) if i % 3 == 0 else rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        lines = first + proc.communicate(timeout=30)[0].decode().splitlines()  # what it printed before dying
        kills += 1
        flushed = max((int(x.split()[1]) for x in lines if x.startswith("flushed")), default=0)
        started = any(x == "started" for x in lines)
        _check_after_kill(path, name, flushed, started)
    assert kills >= 20


def _read_lines_until_token(proc: subprocess.Popen, token: str, timeout: float) -> list[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode().strip()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if line == token:
            return lines
    raise AssertionError(f"child never printed {token!r}: {lines}")


def _check_after_kill(path: Path, name: str, flushed: int, started: bool) -> None:
    if not path.exists() or path.stat().st_size == 0:
        assert not started, "a run was started, so the store must exist"
        return
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    reset_session()
    trackbook.init(store=path)  # the file opens (and finishes a migration a kill interrupted)
    exp = trackbook.Experiment.get("kills")
    run = trackbook.ExperimentRun.get(name, experiment=exp) if exp is not None else None
    if run is None:
        assert not started, "start_run returned, so the run must be stored"
        reset_session()
        return
    assert run.get_state() == "CRASHED"
    ts = run.get_time_series_data_frame()
    steps = ts.step.tolist() if not ts.empty else []
    assert steps == list(range(1, len(steps) + 1)), "no holes"
    assert len(steps) >= flushed, "everything flushed before the kill is there"
    if steps:
        assert ts.loss.tolist() == [1.0 / s for s in steps]
    reset_session()


KERNEL_CODE = textwrap.dedent(
    """
    import trackbook
    trackbook.init(store={path!r}, experiment="kernel")
    trackbook.start_run({name!r})
    for step in range(1, 10**9):
        trackbook.log_time_series_metrics({{"loss": 1.0 / step}})
        if step % 1000 == 0:
            trackbook.flush()
            print("flushed", step, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["restart-busy", "shutdown-idle"])
def test_kernel_restarted_in_the_middle_of_a_run(tmp_path: Path, how: str) -> None:
    from jupyter_client.manager import start_new_kernel

    path = tmp_path / "kernel.db"
    km, kc = start_new_kernel(kernel_name="python3", env=python_env(), cwd=str(tmp_path))
    try:
        flushed = 0
        if how == "restart-busy":
            kc.execute(KERNEL_CODE.format(path=str(path), name="busy"))
            deadline = time.monotonic() + 60
            while flushed < 3000 and time.monotonic() < deadline:
                msg = kc.get_iopub_msg(timeout=30)
                if msg["msg_type"] == "stream":
                    for line in msg["content"]["text"].splitlines():
                        if line.startswith("flushed"):
                            flushed = int(line.split()[1])
            km.restart_kernel(now=True)  # what JupyterLab's "Restart kernel" does to a busy kernel
        else:
            reply = kc.execute_interactive(
                f"import trackbook\ntrackbook.init(store={str(path)!r}, experiment='kernel')\n"
                "trackbook.start_run('idle')\ntrackbook.log_time_series_metrics({'loss': 0.5})\n",
                timeout=60,
            )
            assert reply["content"]["status"] == "ok"
            km.restart_kernel(now=False)  # a graceful shutdown while the run is still open
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    reset_session()
    trackbook.init(store=path)
    name = "busy" if how == "restart-busy" else "idle"
    run = trackbook.ExperimentRun(name, "kernel")
    assert run.get_state() == "CRASHED"
    steps = run.get_time_series_data_frame().step.tolist()
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= max(flushed, 1)
    reset_session()
