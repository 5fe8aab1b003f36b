"""The `trackbook` command: list, export, report and import runs of a store file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

DESCRIPTION = """\
trackbook keeps experiments, runs, params, metrics and per-step series in one SQLite file
(./trackbook.db, or $TRACKBOOK_STORE, or --store PATH). These commands read and share it.
"""
SIGPIPE_STATUS = 141  # 128 + SIGPIPE (13): what a shell reports when a reader such as `head` leaves early


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH", help="the store file (default: $TRACKBOOK_STORE or ./trackbook.db)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackbook", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ls = sub.add_parser("ls", help="list experiments and their runs",
                        description="List experiments with their runs: state, start time, and last values.")
    ls.add_argument("experiment", nargs="*", help="only these experiments (default: all)")
    _store_arg(ls)

    export = sub.add_parser(
        "export", help="write the run table (or every series point) as CSV or Parquet",
        description="Write the run table as in get_experiment_df (one row per run), or with --history every "
                    "series point in long form (experiment_name, run_name, metric, step, wall_time, value).",
    )
    export.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default: csv)")
    export.add_argument("--history", action="store_true", help="export every series point instead of the run table")
    export.add_argument("--experiment", "-e", action="append", metavar="NAME",
                        help="only this experiment (repeatable; default: all)")
    export.add_argument("--output", "-o", metavar="PATH", help="output file (default: standard output for CSV)")
    _store_arg(export)

    report = sub.add_parser(
        "report", help="write a self-contained HTML report (run table and curves) to share",
        description="Write one HTML file with the run table and the curves; scripts and data are inlined, so "
                    "it opens offline in any browser, with no kernel and no server.",
    )
    report.add_argument("path", help="the HTML file to write")
    report.add_argument("--experiment", "-e", action="append", metavar="NAME",
                        help="only this experiment (repeatable; default: all)")
    report.add_argument("--metrics", metavar="A,B", help="the metrics to chart (default: all)")
    _store_arg(report)

    imp = sub.add_parser(
        "import", help="bring runs over from MLflow or TensorBoard",
        description="Import experiments, runs, params, metrics and full series (no sampling) into the store. "
                    "Importing the same source twice adds nothing.",
    )
    source = imp.add_subparsers(dest="source", metavar="SOURCE")
    mlflow = source.add_parser("mlflow", help="an MLflow tracking URI: sqlite:///mlflow.db or an mlruns folder")
    mlflow.add_argument("uri")
    _store_arg(mlflow)
    tensorboard = source.add_parser("tensorboard", help="a TensorBoard log directory (tfevents files)")
    tensorboard.add_argument("logdir")
    tensorboard.add_argument("--experiment", "-e", metavar="NAME",
                             help="experiment to import into (default: the log directory's name)")
    _store_arg(tensorboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .exceptions import NotFound, StoreError
    from .selection import UnknownName

    try:
        code = int(_COMMANDS[args.command](args) or 0)
        sys.stdout.flush()  # a reader that left early shows here, inside the try, not at interpreter exit
        return code
    except BrokenPipeError:  # `trackbook export | head -1`: the reader has all it wanted
        return _reader_gone()
    except (UnknownName, NotFound) as exc:  # a name on the command line that the store does not have
        print(f"trackbook {args.command}: {exc}", file=sys.stderr)
        return 2
    except (StoreError, ValueError, OSError) as exc:
        print(f"trackbook {args.command}: {exc}", file=sys.stderr)
        return 1


def _reader_gone() -> int:
    """Quietly end a command whose standard output was closed by its reader (Python's "Note on SIGPIPE"):
    point stdout at /dev/null, so the flush at exit cannot raise again, and exit 141 (128 + SIGPIPE), the
    status a shell reports for `cat` or `seq` in the same place."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # stdout replaced by an object without a file descriptor
        return SIGPIPE_STATUS
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return SIGPIPE_STATUS


def _open(args: argparse.Namespace) -> Any:
    from .session import default_store_path, resolve

    path = Path(args.store) if args.store else default_store_path()
    if not path.exists():
        raise FileNotFoundError(f"no store at {path} (give --store PATH or set TRACKBOOK_STORE)")
    return resolve(path)[0]


def _ls(args: argparse.Namespace) -> int:
    print_listing(_open(args), args.experiment)
    return 0


def print_listing(store: Any, experiments: list[str] | None = None, file: Any = None) -> None:
    """Print experiments (all, or these names) with their runs: state, start time and summary metrics
    (the last series values when a run has none). ValueError for a name the store does not have."""
    import datetime as dt

    from . import values as _values
    from .selection import pick
    from .store import live_state

    out = file or sys.stdout
    rows = pick(store.experiments(), experiments or None, "experiment", str(store.path))
    if not rows:
        print(f"{store.path}: no experiments yet", file=out)
    for exp in rows:
        runs = store.runs([exp.id])
        print(f"{exp.name}  ({len(runs)} run{'s' if len(runs) != 1 else ''})", file=out)
        last: dict[int, dict[str, Any]] = {}
        for run_id, key, _step, _wall, value in store.last_values([r.id for r in runs]):
            last.setdefault(run_id, {})[key] = float("nan") if value is None else value
        for run in runs:
            started = dt.datetime.fromtimestamp(run.create_time).strftime("%Y-%m-%d %H:%M")
            state = live_state(run.state, run.host, run.pid, run.heartbeat) or "-"
            shown = _values.decode(run.metrics) or last.get(run.id, {})
            print(f"  {run.name:<32} {state:<9} {started}  {_brief(shown)}".rstrip(), file=out)


def _brief(values: dict[str, Any], limit: int = 4) -> str:
    """The first few key=value pairs, numbers to 4 significant digits."""
    parts = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in list(values.items())[:limit]]
    if len(values) > limit:
        parts.append(f"(+{len(values) - limit} more)")
    return " ".join(parts)


def _export(args: argparse.Namespace) -> int:
    from . import frames
    from .selection import pick

    store = _open(args)
    experiments = pick(store.experiments(), args.experiment, "experiment", str(store.path))
    names = {e.id: e.name for e in experiments}
    rows = store.runs(list(names))
    if args.history:
        df = frames.history_frame(store, rows, names)
    else:
        df = frames.run_frame(store, rows, names) if rows else frames.experiment_frame(store, [])
    if args.format == "parquet":
        if not args.output:
            raise ValueError("--format parquet needs --output PATH")
        _need_parquet_engine()
        df.to_parquet(args.output, index=False)
    elif args.output:
        df.to_csv(args.output, index=False)
    else:
        df.to_csv(sys.stdout, index=False)
    if args.output:
        print(f"wrote {len(df):,} rows to {args.output}", file=sys.stderr)
    return 0


def _need_parquet_engine() -> None:
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
        raise ValueError(
            "--format parquet needs pyarrow, which is not installed: pip install 'trackbook[parquet]' "
            "(or use --format csv)"
        )


def _report(args: argparse.Namespace) -> int:
    from .report import report

    store = _open(args)
    metrics = args.metrics.split(",") if args.metrics else None
    out = report(args.path, experiment=args.experiment, metrics=metrics, store=store)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from . import importers

    if args.source is None:
        raise ValueError("say what to import: trackbook import mlflow URI | trackbook import tensorboard LOGDIR")
    store = args.store
    if args.source == "mlflow":
        summary = importers.import_mlflow(args.uri, store=store, progress=True)
    else:
        summary = importers.import_tensorboard(args.logdir, experiment=args.experiment, store=store, progress=True)
    print(summary, file=sys.stderr)
    return 0


_COMMANDS = {"ls": _ls, "export": _export, "report": _report, "import": _import}

if __name__ == "__main__":
    sys.exit(main())
