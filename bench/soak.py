"""Soak: the kill and concurrency loops of tests/test_crash.py and tests/test_concurrency.py, for longer.

    python bench/soak.py [--kills 200] [--rounds 5] [--writers 16] [--steps 10000]

Prints the counts: kills, points logged, points lost (logged before the kill but not stored), the largest
window of logging time lost to a kill (trackbook promises at most the last flush interval, 0.2 s, plus
the commit in flight), holes, integrity failures and errors. Not a test: run it by hand and record the
figures in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))

VICTIM = textwrap.dedent(
    """
    import sys, time, trackbook
    trackbook.init(store=sys.argv[1], experiment="soak")
    trackbook.start_run(sys.argv[2])
    print("started", time.time(), flush=True)
    step = 0
    while True:
        step += 1
        trackbook.log_time_series_metrics({"loss": 1.0 / step, "acc": 0.5})
        if step % 200 == 0:
            print("logged", step, time.time(), flush=True)
            time.sleep(0.02)  # a fast training loop: at most ~10,000 steps (20,000 points) a second
    """
)


def kill_loop(kills: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    out = {"kills": 0, "points_logged": 0, "points_lost": 0, "max_lost_window_s": 0.0, "holes": 0,
           "integrity_failures": 0, "not_crashed": 0, "errors": 0}
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "soak.db"
        for i in range(kills):
            proc = subprocess.Popen([sys.executable, "-c", VICTIM, str(path), f"v{i}"], env=ENV,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("started"):
                out["errors"] += 1
                proc.kill()
                errors.append(f"did not start: {line!r} {proc.communicate()[1][-500:]}")
                continue
            time.sleep(rng.uniform(0.1, 2.0))
            proc.send_signal(signal.SIGKILL)
            killed_at = time.time()
            rest, err = proc.communicate()
            if err.strip():
                out["errors"] += 1
                errors.append(err[-500:])
            out["kills"] += 1
            lines = [x.split() for x in rest.splitlines()]
            progress = [(int(p[1]), float(p[2])) for p in lines if len(p) == 3 and p[0] == "logged"]  # not cut
            logged = progress[-1][0] if progress else 0
            conn = sqlite3.connect(path)
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                out["integrity_failures"] += 1
            rows = conn.execute(
                "SELECT s.step FROM series s JOIN context r ON r.id = s.run_id JOIN series_key k ON k.id = s.key_id"
                " WHERE r.name = ? AND k.name = 'loss' ORDER BY s.step", (f"v{i}",)).fetchall()
            conn.close()
            steps = [r[0] for r in rows]
            if steps != list(range(1, len(steps) + 1)):
                out["holes"] += 1
            stored = len(steps)
            out["points_logged"] += 2 * max(logged, stored)
            out["points_lost"] += 2 * max(logged - stored, 0)
            # when was the first lost step logged? (interpolated from the progress lines)
            after = [t for s, t in progress if s > stored]
            if after:
                before = [t for s, t in progress if s <= stored]
                first_lost = before[-1] if before else after[0]
                out["max_lost_window_s"] = max(out["max_lost_window_s"], killed_at - first_lost)
            state = _state(path, f"v{i}")
            if state != "CRASHED":
                out["not_crashed"] += 1
            if (i + 1) % 20 == 0:
                print(f"  {i + 1} kills ...", file=sys.stderr, flush=True)
    for text in errors[:3]:
        print(f"  error: {text}", file=sys.stderr)
    return out


def _state(path: Path, name: str) -> str | None:
    sys.path.insert(0, str(ROOT / "src"))
    import trackbook
    from trackbook.session import session

    trackbook.init(store=path)
    state = trackbook.ExperimentRun(name, "soak").get_state()
    for store, writer in list(session.stores.values()):
        writer.close()
        store.close()
    session.stores.clear()
    session.store_path = None
    return state


WRITER = textwrap.dedent(
    """
    import sys, trackbook
    trackbook.init(store=sys.argv[1], experiment="many")
    with trackbook.start_run(sys.argv[2]):
        for step in range(1, int(sys.argv[3]) + 1):
            trackbook.log_time_series_metrics({"loss": 1.0 / step, "acc": 0.5})
    """
)


def concurrency_loop(rounds: int, writers: int, steps: int) -> dict[str, float]:
    out = {"rounds": 0, "processes": 0, "points_logged": 0, "points_stored": 0, "errors": 0, "reader_polls": 0,
           "reader_errors": 0}
    for r in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "many.db"
            sys.path.insert(0, str(ROOT / "src"))
            from trackbook.store import Store

            Store(path).close()
            stop = threading.Event()

            def reader(path: Path = path, stop: threading.Event = stop) -> None:
                store = Store(path)
                while not stop.is_set():
                    try:
                        store.last_values([x.id for x in store.runs()])
                        out["reader_polls"] += 1
                    except Exception:
                        out["reader_errors"] += 1
                    time.sleep(0.05)
                store.close()

            t = threading.Thread(target=reader)
            t.start()
            procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{i}", str(steps)], env=ENV,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for i in range(writers)]
            for p in procs:
                o, e = p.communicate()
                if p.returncode != 0 or e.strip() or o.strip():
                    out["errors"] += 1
            stop.set()
            t.join()
            conn = sqlite3.connect(path)
            out["points_stored"] += conn.execute("SELECT count(*) FROM series").fetchone()[0]
            conn.close()
            out["rounds"] += 1
            out["processes"] += writers
            out["points_logged"] += writers * steps * 2
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.time()
    print("kill loop:", file=sys.stderr)
    kills = kill_loop(args.kills, args.seed)
    print("concurrency loop:", file=sys.stderr)
    conc = concurrency_loop(args.rounds, args.writers, args.steps)
    print(f"\nsoak finished in {time.time() - t0:.0f} s")
    print("kill loop:        " + ", ".join(f"{k}={v:,.3f}" if isinstance(v, float) else f"{k}={v:,}"
                                          for k, v in kills.items()))
    print("concurrency loop: " + ", ".join(f"{k}={v:,}" for k, v in conc.items()))


if __name__ == "__main__":
    main()
