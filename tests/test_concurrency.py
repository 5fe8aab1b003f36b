"""16 processes logging 10,000 steps each into one file while a reader polls it as the board does."""

from __future__ import annotations

import subprocess
import textwrap
import threading
import time
from pathlib import Path

import trackbook
from support import PYTHON, python_env, reset_session
from trackbook.store import Store

WRITER = textwrap.dedent(
    """
    import sys, trackbook
    path, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    trackbook.init(store=path, experiment="many")
    with trackbook.start_run(name) as run:
        run.log_params({"worker": name, "steps": steps})
        for step in range(1, steps + 1):
            trackbook.log_time_series_metrics({"loss": 1.0 / step, "acc": step / steps})
        trackbook.log_metrics({"final": 1.0})
    """
)


def test_sixteen_writers_and_a_polling_reader(tmp_path: Path) -> None:
    reset_session()
    path = tmp_path / "many.db"
    Store(path).close()  # created up front so the reader can poll from the first moment
    workers, steps = 16, 10_000
    stop = threading.Event()
    reader_errors: list[BaseException] = []
    polls = [0]

    def reader() -> None:
        store = Store(path)
        seen: dict[tuple[int, str], int] = {}
        try:
            while not stop.is_set():
                runs = store.runs()
                for run_id, key, step, _wall, _value in store.last_values([r.id for r in runs]):
                    after = seen.get((run_id, key), 0)
                    if step > after:
                        tail = store.series(run_id, key, start=after + 1)[0].tolist()
                        # later commits may have landed meanwhile: the tail reaches at least `step`, no holes
                        assert tail == list(range(after + 1, after + 1 + len(tail))) and tail[-1] >= step
                        seen[(run_id, key)] = tail[-1]
                polls[0] += 1
                time.sleep(0.05)
        except BaseException as exc:  # reported below
            reader_errors.append(exc)
        finally:
            store.close()

    thread = threading.Thread(target=reader)
    thread.start()
    procs = [
        subprocess.Popen([PYTHON, "-c", WRITER, str(path), f"w{i:02d}", str(steps)], env=python_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(workers)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    stop.set()
    thread.join(timeout=60)
    assert [p.returncode for p in procs] == [0] * workers, [err[-2000:] for _, err in outputs]
    assert all(not out and not err for out, err in outputs), "no error or warning reached any process"
    assert not reader_errors, reader_errors
    assert polls[0] > 10

    trackbook.init(store=path)
    df = trackbook.get_experiment_df("many")
    assert len(df) == workers and set(df.state) == {"COMPLETE"} and df["metric.final"].tolist() == [1.0] * workers
    h = trackbook.history("many")
    assert len(h) == workers * steps * 2
    counts = h.groupby(["run_name", "metric"], observed=True).step.agg(["min", "max", "count", "nunique"])
    assert (counts["min"] == 1).all() and (counts["max"] == steps).all()
    assert (counts["count"] == steps).all() and (counts["nunique"] == steps).all()
    reset_session()
