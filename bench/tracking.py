"""Logging and reading speed of trackbook against the local peers and raw sqlite3, in one run.

    bash bench/setup.sh                      # once: .venv-bench with trackbook, trackio and MLflow
    .venv-bench/bin/python bench/tracking.py [--quick] [--markdown]

Each measurement runs in a fresh child process (no shared caches or threads), on a fresh temporary store.
Figures are absolute for this run plus ratios against baselines measured in the same run: raw sqlite3
`executemany` into the same narrow table is the ingest ceiling; trackio (the fastest local tracker, an
in-memory queue flushed every 0.5 s) and MLflow with its sqlite store are the peers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
KEYS3 = ("loss", "acc", "lr")


# -- cases (each runs in its own process and returns a dict) -------------------------------------------------


def case_call_cost(system: str, calls: int) -> dict[str, Any]:
    """Cost in the training thread of one log call with 3 keys: median and mean µs per call."""
    log, finish = _logger(system)
    values = [{"loss": random.random(), "acc": random.random(), "lr": 1e-3} for _ in range(1000)]
    for i in range(min(calls // 10, 2000)):  # warm-up
        log(values[i % 1000], i + 1)
    clock = time.perf_counter_ns
    empty = []
    for _ in range(10_000):
        t0 = clock()
        empty.append(clock() - t0)
    overhead = statistics.median(empty)
    per_call = []
    start = time.perf_counter()
    base = min(calls // 10, 2000) + 1
    for i in range(calls):
        v = values[i % 1000]
        t0 = clock()
        log(v, base + i)
        per_call.append(clock() - t0)
    wall = time.perf_counter() - start
    finish()
    return {
        "median_us": max(statistics.median(per_call) - overhead, 0) / 1000,
        "mean_us": wall / calls * 1e6,
        "calls": calls,
    }


def case_ingest(system: str, calls: int) -> dict[str, Any]:
    """Points logged until durable (3 keys a call): points/s end to end, and bytes per point on disk."""
    tmp = Path(os.environ["BENCH_DIR"])
    if system == "sqlite":
        return _raw_sqlite_ingest(tmp / "raw.db", calls * 3)
    log, finish = _logger(system)
    values = [{"loss": random.random(), "acc": random.random(), "lr": 1e-3} for _ in range(1000)]
    start = time.perf_counter()
    for i in range(calls):
        log(values[i % 1000], i + 1)
    finish()
    elapsed = time.perf_counter() - start
    points = calls * 3
    return {"points_per_s": points / elapsed, "bytes_per_point": _store_bytes(system, tmp) / points, "points": points}


def _raw_sqlite_ingest(path: Path, rows: int) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE series (run_id INTEGER NOT NULL, key_id INTEGER NOT NULL, step INTEGER NOT NULL,"
        " wall_time INTEGER NOT NULL, value REAL, PRIMARY KEY (run_id, key_id, step)) WITHOUT ROWID"
    )
    now = int(time.time() * 1000)
    data = [(1, 1 + i % 3, 1 + i // 3, now + i, random.random()) for i in range(rows)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO series VALUES (?, ?, ?, ?, ?)", data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"points_per_s": rows / elapsed, "bytes_per_point": path.stat().st_size / rows, "points": rows}


def case_experiment_df(system: str, runs: int, params: int = 20, metrics: int = 10) -> dict[str, Any]:
    """Time to get the run table (params and summary metrics of every run) as a DataFrame."""
    rng = random.Random(0)
    rows = [
        ({f"param_{j}": (rng.random() if j % 3 else rng.randint(0, 100)) for j in range(params)},
         {f"metric_{j}": rng.random() for j in range(metrics)})
        for _ in range(runs)
    ]
    create, read = _run_table(system)
    t0 = time.perf_counter()
    create(rows)
    created = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        df = read()
        times.append(time.perf_counter() - t0)
    assert len(df) == runs, (system, len(df))
    return {"seconds": min(times), "runs": runs, "create_seconds": created}


def case_history(system: str, runs: int, steps: int) -> dict[str, Any]:
    """Time to read every point of `runs` runs x `steps` steps x 2 metrics back into Python."""
    write, read = _history(system)
    write(runs, steps)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        n = read(runs)
        times.append(time.perf_counter() - t0)
    assert n == runs * steps * 2, (system, n)
    out = {"seconds": min(times), "points": n}
    if system == "trackbook":
        # The floor in the same run: plain sqlite3 fetching the same rows from the same file, no DataFrame.
        import sqlite3

        conn = sqlite3.connect(Path(os.environ["BENCH_DIR"]) / "trackbook.db")
        raw = []
        for _ in range(2):
            t0 = time.perf_counter()
            rows = conn.execute("SELECT run_id, key_id, step, wall_time, value FROM series").fetchall()
            raw.append(time.perf_counter() - t0)
            assert len(rows) == n
            del rows
        out["raw_seconds"] = min(raw)
    return out


# -- per-system adapters -------------------------------------------------------------------------------------


def _logger(system: str) -> tuple[Any, Any]:
    tmp = Path(os.environ["BENCH_DIR"])
    if system == "trackbook":
        import trackbook

        trackbook.init(store=tmp / "trackbook.db", experiment="bench")
        run = trackbook.start_run("run")
        log_ts = run.log_time_series_metrics

        def finish() -> None:
            trackbook.end_run()
            from trackbook.session import session

            for store, writer in session.stores.values():
                writer.close()
                store.close()

        return (lambda v, step: log_ts(v)), finish
    if system == "trackio":
        import trackio

        trackio.init(project="bench", name="run")
        return (lambda v, step: trackio.log(v)), trackio.finish
    if system == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
        mlflow.set_experiment("bench")
        mlflow.start_run(run_name="run")
        return (lambda v, step: mlflow.log_metrics(v, step=step)), mlflow.end_run
    raise ValueError(system)


def _store_bytes(system: str, tmp: Path) -> int:
    if system == "trackbook":
        import sqlite3

        # What the points take once checkpointed into the main file (the WAL is a staging area).
        conn = sqlite3.connect(tmp / "trackbook.db")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return (tmp / "trackbook.db").stat().st_size
    if system == "mlflow":
        return (tmp / "mlflow.db").stat().st_size
    return sum(p.stat().st_size for p in tmp.rglob("*.db"))


def _run_table(system: str) -> tuple[Any, Any]:
    tmp = Path(os.environ["BENCH_DIR"])
    if system == "trackbook":
        import trackbook

        trackbook.init(store=tmp / "trackbook.db", experiment="bench")

        def create(rows: list[tuple[dict, dict]]) -> None:
            for i, (p, m) in enumerate(rows):
                trackbook.start_run(f"run-{i}")
                trackbook.log_params(p)
                trackbook.log_metrics(m)
            trackbook.end_run()

        return create, lambda: trackbook.get_experiment_df("bench")
    if system == "trackio":
        import pandas as pd
        import trackio
        from trackio.sqlite_storage import SQLiteStorage

        def create(rows: list[tuple[dict, dict]]) -> None:
            for i, (p, m) in enumerate(rows):
                trackio.init(project="bench", name=f"run-{i}", config=p)
                trackio.log(m)
                trackio.finish()

        def read() -> Any:
            # trackio's SQL path: its configs table plus each run's last metrics row, in two queries.
            import sqlite3

            conn = sqlite3.connect(SQLiteStorage.get_project_db_path("bench"))
            configs = {r: json.loads(c) for r, c in conn.execute("SELECT run_name, config FROM configs")}
            last = dict(conn.execute(
                "SELECT run_name, metrics FROM metrics WHERE id IN (SELECT max(id) FROM metrics GROUP BY run_name)"
            ).fetchall())
            conn.close()
            names = list(configs)
            frame = pd.DataFrame([configs[n] for n in names]).add_prefix("param.")
            mets = pd.DataFrame([json.loads(last.get(n, "{}")) for n in names]).add_prefix("metric.")
            return pd.concat([pd.DataFrame({"run_name": names}), frame, mets], axis=1)

        return create, read
    if system == "mlflow":
        import mlflow
        from mlflow.entities import Metric, Param

        mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
        exp_id = mlflow.set_experiment("bench").experiment_id
        client = mlflow.MlflowClient()

        def create(rows: list[tuple[dict, dict]]) -> None:
            now = int(time.time() * 1000)
            for i, (p, m) in enumerate(rows):
                run = client.create_run(exp_id, run_name=f"run-{i}")
                client.log_batch(run.info.run_id, metrics=[Metric(k, v, now, 0) for k, v in m.items()],
                                 params=[Param(k, str(v)) for k, v in p.items()])
                client.set_terminated(run.info.run_id)

        return create, lambda: mlflow.search_runs(experiment_ids=[exp_id])
    raise ValueError(system)


def _history(system: str) -> tuple[Any, Any]:
    tmp = Path(os.environ["BENCH_DIR"])
    if system == "trackbook":
        import trackbook

        trackbook.init(store=tmp / "trackbook.db", experiment="bench")

        def write(runs: int, steps: int) -> None:
            for r in range(runs):
                run = trackbook.start_run(f"run-{r}")
                log = run.log_time_series_metrics
                for s in range(steps):
                    log({"loss": 1.0 / (s + 1), "acc": s / steps})
            trackbook.end_run()

        return write, lambda runs: len(trackbook.history("bench"))
    if system == "trackio":
        import trackio
        from trackio.sqlite_storage import SQLiteStorage

        def write(runs: int, steps: int) -> None:
            for r in range(runs):
                trackio.init(project="bench", name=f"run-{r}")
                for s in range(steps):
                    trackio.log({"loss": 1.0 / (s + 1), "acc": s / steps})
                trackio.finish()

        def read(runs: int) -> int:
            n = 0
            for r in range(runs):
                for row in SQLiteStorage.get_logs("bench", f"run-{r}"):
                    n += sum(1 for k in ("loss", "acc") if k in row)
            return n

        return write, read
    if system == "mlflow":
        import mlflow
        from mlflow.entities import Metric

        mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
        exp_id = mlflow.set_experiment("bench").experiment_id
        client = mlflow.MlflowClient()
        ids: list[str] = []

        def write(runs: int, steps: int) -> None:
            now = int(time.time() * 1000)
            for r in range(runs):
                run_id = client.create_run(exp_id, run_name=f"run-{r}").info.run_id
                ids.append(run_id)
                points = [Metric(k, v, now + s, s) for s in range(steps)
                          for k, v in (("loss", 1.0 / (s + 1)), ("acc", s / steps))]
                for i in range(0, len(points), 1000):
                    client.log_batch(run_id, metrics=points[i : i + 1000])

        def read(runs: int) -> int:
            return sum(len(client.get_metric_history(run_id, k)) for run_id in ids for k in ("loss", "acc"))

        return write, read
    raise ValueError(system)


# -- orchestration -------------------------------------------------------------------------------------------


def run_case(name: str, **kwargs: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tb-bench-") as tmp:
        env = dict(os.environ, BENCH_DIR=tmp, TRACKIO_DIR=str(Path(tmp) / "trackio"),
                   GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", MLFLOW_ENABLE_ASYNC_LOGGING="false",
                   PYTHONWARNINGS="ignore")
        out = subprocess.run([sys.executable, str(HERE), "--case", name, json.dumps(kwargs)], env=env,
                             capture_output=True, text=True, cwd=tmp)
        if out.returncode != 0:
            raise RuntimeError(f"case {name} {kwargs} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", nargs=2, metavar=("NAME", "JSON"), help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not for the record)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args()
    if args.case:
        name, kwargs = args.case[0], json.loads(args.case[1])
        result = globals()[f"case_{name}"](**kwargs)
        print(json.dumps(result))
        return

    q = args.quick
    calls = 20_000 if q else 200_000
    res: dict[str, dict[str, Any]] = {}

    def measure(label: str, case: str, **kw: Any) -> None:
        print(f"  {label} ...", file=sys.stderr, flush=True)
        res[label] = run_case(case, **kw)

    print("measuring (each case in a fresh process):", file=sys.stderr)
    for system in ("trackbook", "trackio"):
        measure(f"call/{system}", "call_cost", system=system, calls=calls)
    measure("call/mlflow", "call_cost", system="mlflow", calls=300 if not q else 100)
    measure("ingest/sqlite", "ingest", system="sqlite", calls=calls)
    for system in ("trackbook", "trackio"):
        measure(f"ingest/{system}", "ingest", system=system, calls=calls)
    measure("ingest/mlflow", "ingest", system="mlflow", calls=300 if not q else 100)
    df_runs = 1_000 if not q else 200
    for system in ("trackbook", "trackio", "mlflow"):
        measure(f"df{df_runs}/{system}", "experiment_df", system=system, runs=df_runs)
    measure("df10000/trackbook", "experiment_df", system="trackbook", runs=10_000 if not q else 1_000)
    measure("history/trackbook", "history", system="trackbook", runs=100 if not q else 10, steps=10_000)
    for system in ("trackbook", "trackio", "mlflow"):
        measure(f"read200k/{system}", "history", system=system, runs=10 if not q else 2, steps=10_000)

    print_report(res, df_runs, markdown=args.markdown)


def print_report(r: dict[str, dict[str, Any]], df_runs: int, markdown: bool) -> None:
    tb, ti, ml, raw = (r[f"ingest/{s}"] for s in ("trackbook", "trackio", "mlflow", "sqlite"))
    rows = [
        ("log call, 3 keys: median µs in the training thread (target <= 5)",
         r["call/trackbook"]["median_us"], r["call/trackio"]["median_us"], r["call/mlflow"]["median_us"], None),
        ("log call, 3 keys: mean µs (incl. the writer thread's share of the GIL)",
         r["call/trackbook"]["mean_us"], r["call/trackio"]["mean_us"], r["call/mlflow"]["mean_us"], None),
        ("ingest, points/s logged until durable (target >= 1,000,000)",
         tb["points_per_s"], ti["points_per_s"], ml["points_per_s"], raw["points_per_s"]),
        ("store size, bytes per point (target <= 32)",
         tb["bytes_per_point"], ti["bytes_per_point"], ml["bytes_per_point"], raw["bytes_per_point"]),
        (f"run table of {df_runs:,} runs x 20 params x 10 metrics, s",
         r[f"df{df_runs}/trackbook"]["seconds"], r[f"df{df_runs}/trackio"]["seconds"],
         r[f"df{df_runs}/mlflow"]["seconds"], None),
        (f"run table of {r['df10000/trackbook']['runs']:,} runs x 20 params x 10 metrics, s (target <= 0.3)",
         r["df10000/trackbook"]["seconds"], None, None, None),
        (f"read {r['read200k/trackbook']['points']:,} points back, s",
         r["read200k/trackbook"]["seconds"], r["read200k/trackio"]["seconds"], r["read200k/mlflow"]["seconds"], None),
        (f"history() of {r['history/trackbook']['points']:,} points, s (target <= 1)",
         r["history/trackbook"]["seconds"], None, None, r["history/trackbook"]["raw_seconds"]),
    ]

    def fmt(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v:,.0f}" if v >= 1000 else (f"{v:.3g}" if v < 10 else f"{v:,.1f}")

    head = ("measure", "trackbook", "trackio", "MLflow (sqlite)", "raw sqlite3")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + row[0] + " | " + " | ".join(fmt(v) for v in row[1:]) + " |")
    else:
        for row in rows:
            print(f"{row[0]:<80} " + " ".join(f"{fmt(v):>12}" for v in row[1:]))
    ratios = {
        "ingest vs raw sqlite3 executemany (target >= 0.5)": tb["points_per_s"] / raw["points_per_s"],
        "ingest vs trackio (target >= 10)": tb["points_per_s"] / ti["points_per_s"],
        "ingest vs MLflow": tb["points_per_s"] / ml["points_per_s"],
        f"run table vs trackio ({df_runs:,} runs)": r[f"df{df_runs}/trackio"]["seconds"]
        / r[f"df{df_runs}/trackbook"]["seconds"],
        f"run table vs MLflow search_runs ({df_runs:,} runs)": r[f"df{df_runs}/mlflow"]["seconds"]
        / r[f"df{df_runs}/trackbook"]["seconds"],
        "history() vs raw sqlite3 fetchall of the same rows (no DataFrame)": r["history/trackbook"]["raw_seconds"]
        / r["history/trackbook"]["seconds"],
        "read-back vs trackio": r["read200k/trackio"]["seconds"] / r["read200k/trackbook"]["seconds"],
        "read-back vs MLflow": r["read200k/mlflow"]["seconds"] / r["read200k/trackbook"]["seconds"],
    }
    print()
    for k, v in ratios.items():
        print(f"{'- ' if markdown else ''}{k}: {v:.2f}x")


if __name__ == "__main__":
    main()
