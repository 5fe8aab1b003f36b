"""A store that cannot be written (full disk, read-only file system): training goes on, one warning, points
stay buffered within the memory bound, and are written when writing works again; the file stays sound.

As root (CI) the store lives on a real 4 MB tmpfs that fills up or is remounted read-only; otherwise the
same failures come from a file-size limit (RLIMIT_FSIZE) and file permissions.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import trackbook
from support import reset_session
from trackbook.session import resolve

CAN_MOUNT = os.geteuid() == 0


@contextlib.contextmanager
def small_disk(tmp_path: Path, size_mb: int = 4) -> Iterator[Path]:
    """A directory on a file system of `size_mb` MB (a tmpfs when we may mount, else a normal dir)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    if CAN_MOUNT:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        reset_session()
        if CAN_MOUNT:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill the disk with a ballast file until only `leave` bytes are free."""
    ballast = disk / "ballast"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with ballast.open("wb") as f:
        f.write(b"\0" * max(free - leave, 0))
    return ballast


def _log_until_failing(run: trackbook.ExperimentRun, writer, start: int) -> int:
    """Log points (flushing now and then) until a commit fails; return the next step."""
    step = start
    for _ in range(2000):
        for _ in range(500):
            run.log_time_series_metrics({"loss": float(step), "acc": 0.5}, step=step)
            step += 1
        writer.flush(5)
        if writer.failures:
            return step
    raise AssertionError("the store never failed to write")


def _check_sound(path: Path, run_name: str, last_step: int) -> None:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    steps = trackbook.ExperimentRun(run_name, "disk").get_time_series_data_frame().step.tolist()
    assert steps == list(range(1, last_step)), "every point logged is stored, once, in order"


@pytest.mark.skipif(not CAN_MOUNT, reason="the file-size-limit variant below covers non-root machines")
def test_full_disk_then_space_freed(tmp_path: Path) -> None:
    with small_disk(tmp_path) as disk:
        path = disk / "t.db"
        trackbook.init(store=path, experiment="disk")
        run = trackbook.start_run("full")
        _, writer = resolve(path)
        ballast = _fill(disk, leave=256 * 1024)
        with pytest.warns(trackbook.TrackbookWarning, match="could not write") as caught:
            step = _log_until_failing(run, writer, 1)
            # training goes on: more points are accepted while the disk is full
            for _ in range(5000):
                run.log_time_series_metrics({"loss": float(step), "acc": 0.5}, step=step)
                step += 1
            assert writer.flush(2) is False and writer.pending > 0
            # a key never seen before, logged while the disk is full, waits with the rest
            run.log_time_series_metrics({"loss": float(step), "acc": 0.5, "new_key": 1.0}, step=step)
            step += 1
            assert writer.flush(2) is False
        assert sum("could not write" in str(w.message) for w in caught) == 1  # one warning, not one per retry
        ballast.unlink()
        with pytest.warns(trackbook.TrackbookWarning, match="works again"):
            assert writer.flush(30) is True
        trackbook.end_run()
        _check_sound(path, "full", step)
        assert run.get_state() == "COMPLETE"
        assert trackbook.ExperimentRun("full", "disk").get_time_series_data_frame().new_key.dropna().tolist() == [1.0]
        assert writer._thread is not None and writer._thread.is_alive(), "the writer thread survived"


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root for chattr; the file-size-limit variant covers others")
def test_read_only_file_then_writable_again(tmp_path: Path) -> None:
    """The store file turns read-only under a running writer (chattr +i refuses writes even to open files)."""
    path = tmp_path / "t.db"
    trackbook.init(store=path, experiment="disk")
    run = trackbook.start_run("ro")
    _, writer = resolve(path)
    for step in range(1, 1001):
        run.log_time_series_metrics({"loss": float(step), "acc": 0.5}, step=step)
    assert writer.flush(10)
    files = [str(path), f"{path}-wal"]
    subprocess.run(["chattr", "+i", *files], check=True)
    try:
        with pytest.warns(trackbook.TrackbookWarning, match="could not write"):
            for step in range(1001, 3001):
                run.log_time_series_metrics({"loss": float(step), "acc": 0.5}, step=step)
            assert writer.flush(3) is False
            trackbook.end_run()  # returns: the state change waits in memory with the points
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
    with pytest.warns(trackbook.TrackbookWarning, match="works again"):
        assert writer.flush(30) is True
    _check_sound(path, "ro", 3001)
    assert run.get_state() == "COMPLETE"
    reset_session()


FSIZE_CHILD = """
import os, resource, signal, sys, warnings, sqlite3
import trackbook
from trackbook.session import resolve
path = sys.argv[1]
trackbook.init(store=path, experiment="disk")
run = trackbook.start_run("limited")
_, writer = resolve(path)
for s in range(1, 501):
    run.log_time_series_metrics({"loss": float(s)}, step=s)
assert writer.flush(10)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
size = max(os.path.getsize(path), os.path.getsize(path + "-wal"))
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 8192, resource.RLIM_INFINITY))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    s = 501
    while not writer.failures:
        for _ in range(2000):
            run.log_time_series_metrics({"loss": float(s)}, step=s); s += 1
        writer.flush(5)
    assert writer.flush(1) is False
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert writer.flush(30) is True
trackbook.end_run()
msgs = [str(w.message) for w in caught]
assert sum("could not write" in m for m in msgs) == 1, msgs
steps = run.get_time_series_data_frame().step.tolist()
assert steps == list(range(1, s)), (len(steps), s)
assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
print("ok", s - 1)
"""


def test_file_size_limit_then_lifted(tmp_path: Path) -> None:
    """The same failure without root: the process may not grow files past a limit (EFBIG)."""
    from support import PYTHON, python_env

    out = subprocess.run([PYTHON, "-c", FSIZE_CHILD, str(tmp_path / "t.db")], env=python_env(),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")


def test_past_the_memory_bound_points_are_dropped_and_counted(tb) -> None:
    tb.init(experiment="disk")
    run = tb.start_run("bounded")
    _, writer = resolve(None)
    writer.max_pending = 100
    # Hold the writer's lock so nothing is committed while we log: the queue fills up.
    with writer._lock, pytest.warns(trackbook.TrackbookWarning, match="dropped until writing catches up"):
        for step in range(1, 301):
            run.log_time_series_metrics({"a": 1.0, "b": 2.0}, step=step)
    assert writer.dropped == 200 * 2
    run.log_params({"kept": True})  # params, metrics and states are never dropped
    tb.end_run()
    assert run.get_time_series_data_frame().step.tolist() == list(range(1, 101))
    assert run.get_params() == {"kept": True} and run.get_state() == "COMPLETE"


def test_a_store_that_cannot_be_created_fails_at_init(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root ignores permissions, not the immutable flag
        subprocess.run(["chattr", "+i", str(locked)], check=True)
    else:
        locked.chmod(0o555)
    try:
        with pytest.raises(trackbook.StoreError, match=r"cannot (create|open) the store"):
            trackbook.init(store=locked / "t.db")
        assert not (locked / "t.db").exists()
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        reset_session()
