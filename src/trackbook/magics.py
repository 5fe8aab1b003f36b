"""IPython magics: `%track` (experiment, board, df, ls, help) and `%%track` (run a cell as a tracked run).

Loaded with `%load_ext trackbook`. Wrong arguments raise IPython's UsageError, which the notebook shows as
one short line, never a traceback. docs/notebooks.md is the reference.
"""

from __future__ import annotations

import argparse
import ast
import json
import shlex
import time
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import values as _values
from .exceptions import AlreadyExists, NotFound

HELP = """\
trackbook magics

  %track experiment NAME [--description TEXT]
      Make NAME the current experiment (created when missing). Without NAME, show the current one.
  %%track [RUN] [--param KEY=VALUE ...] [--resume]
      Run the cell as run RUN of the current experiment (default name: cell-<n>-<time>). The cell's
      source and execution count are stored with the run; params are parsed as int, float, bool or str.
      Module-level trackbook.log_* calls in the cell go to this run. The run ends COMPLETE, FAILED when
      the cell raises (the error still shows), CANCELLED when it is interrupted. When RUN exists
      already (a cell run again), the cell becomes RUN-2, RUN-3, ...; --resume continues RUN instead.
  %track board [--metrics A,B] [--runs R1,R2] [EXPERIMENT ...]
      Show the live board (default: the current experiment, else every experiment).
  %track df [EXPERIMENT]
      The run table as a DataFrame (trackbook.get_experiment_df()).
  %track ls [EXPERIMENT ...]
      List experiments and their runs: state, start time and metrics.
  %track help
      This text.

Values can come from Python: %%track --param lr={lr}
"""

USAGE = {
    "experiment": "%track experiment NAME [--description TEXT]",
    "run": "%%track [RUN] [--param KEY=VALUE ...] [--resume]",
    "board": "%track board [--metrics A,B] [--runs R1,R2] [EXPERIMENT ...]",
    "df": "%track df [EXPERIMENT]",
    "ls": "%track ls [EXPERIMENT ...]",
    "help": "%track help",
}
SHORT_USAGE = "usage: %track experiment|board|df|ls|help ...  or  %%track [RUN] [--param KEY=VALUE ...] [--resume]"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a wrong argument as IPython's UsageError (one line, no traceback)."""

    def __init__(self, command: str) -> None:
        super().__init__(prog=command, usage=USAGE[command], add_help=False)
        self.command = command

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nusage: {USAGE[self.command]}")


def _split(line: str, usage: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"{exc}\n{usage}") from None


def parse_value(text: str) -> int | float | bool | str:
    """A --param value as the first of int, float, bool (True/False/true/false) that fits, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    return text


def parse_params(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs to a params dict, checked as log_params would check it; UsageError otherwise."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param takes KEY=VALUE, got {item!r}\nusage: {USAGE['run']}")
        params[key] = parse_value(raw)
    try:
        return _values.params(params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{exc}\nusage: {USAGE['run']}") from None


@magics_class
class TrackMagics(Magics):
    """`%track SUBCOMMAND ...` and `%%track [RUN] ...`."""

    @line_cell_magic
    def track(self, line: str, cell: str | None = None) -> Any:
        __tracebackhide__ = True  # a failing cell's traceback starts at the cell's own lines
        if cell is not None:
            return self._run_cell(line, cell)
        words = _split(line, SHORT_USAGE)
        if not words or words[0] in ("help", "-h", "--help"):
            print(HELP, end="")
            return None
        command, rest = words[0], words[1:]
        handler = {"experiment": self._experiment, "board": self._board, "df": self._df, "ls": self._ls}.get(command)
        if handler is None:
            raise UsageError(f"unknown %track command {command!r}\n{SHORT_USAGE}")
        return handler(rest)

    # -- line commands --------------------------------------------------------------------------------------

    def _experiment(self, words: list[str]) -> Any:
        parser = _Parser("experiment")
        parser.add_argument("name", nargs="?")
        parser.add_argument("--description", "-d")
        args = parser.parse_args(words)
        from . import tracking

        if args.name is None:
            if args.description is not None:
                parser.error("--description needs the experiment NAME")
            current = tracking.get_current_experiment()
            print(f"current experiment: {current.name!r}" if current else "no current experiment")
            return None
        try:
            tracking.init(experiment=args.name, experiment_description=args.description)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{exc}\nusage: {USAGE['experiment']}") from None
        return None

    def _board(self, words: list[str]) -> Any:
        parser = _Parser("board")
        parser.add_argument("experiments", nargs="*")
        parser.add_argument("--metrics", "-m")
        parser.add_argument("--runs", "-r")
        args = parser.parse_args(words)
        self._check_experiments(args.experiments, "board")
        from . import tracking

        current = tracking.get_current_experiment()
        experiment: str | list[str] | None = current.name if current else None  # None: every experiment
        if len(args.experiments) == 1:
            experiment = args.experiments[0]
        elif args.experiments:
            experiment = args.experiments
        # Looked up at call time, so the magics load without the widget.
        import importlib

        import trackbook

        show = getattr(trackbook, "board", None)
        if show is None:
            try:
                show = importlib.import_module("trackbook.board")
            except ImportError:
                show = None
        show = getattr(show, "board", show)  # the board module, when the package does not re-export it
        if not callable(show):
            raise UsageError("the board is not available in this installation of trackbook")
        return show(experiment, metrics=_csv(args.metrics), runs=_csv(args.runs))

    def _df(self, words: list[str]) -> Any:
        parser = _Parser("df")
        parser.add_argument("experiment", nargs="?")
        args = parser.parse_args(words)
        from . import tracking

        if args.experiment is None and tracking.get_current_experiment() is None:
            raise UsageError(f"no current experiment: give one, or set it with {USAGE['experiment']}")
        self._check_experiments([args.experiment] if args.experiment else [], "df")
        return tracking.get_experiment_df(args.experiment)

    def _ls(self, words: list[str]) -> Any:
        parser = _Parser("ls")
        parser.add_argument("experiments", nargs="*")
        args = parser.parse_args(words)
        from .cli import print_listing
        from .session import resolve

        store, writer = resolve(None)
        writer.flush()
        self._check_experiments(args.experiments, "ls")
        print_listing(store, args.experiments)
        return None

    def _check_experiments(self, names: list[str], command: str) -> None:
        """UsageError naming the experiments that exist when one of `names` does not."""
        from .session import resolve

        if not names:
            return
        store = resolve(None)[0]
        known = [e.name for e in store.experiments()]
        for name in names:
            if name not in known:
                listing = ", ".join(repr(k) for k in known) or "none yet"
                raise UsageError(f"no experiment {name!r} in {store.path} (experiments: {listing})")

    # -- the cell magic -------------------------------------------------------------------------------------

    def _run_cell(self, line: str, cell: str) -> Any:
        __tracebackhide__ = True  # IPython leaves this frame out of the cell's traceback
        from . import tracking
        from .run import ExperimentRun, warn_if_live_elsewhere
        from .session import session
        from .states import ExecutionState

        parser = _Parser("run")
        parser.add_argument("run", nargs="?")
        parser.add_argument("--param", "-p", action="extend", nargs="+", default=[], metavar="KEY=VALUE")
        parser.add_argument("--resume", action="store_true")
        args = parser.parse_args(_split(line, f"usage: {USAGE['run']}"))
        params = parse_params(args.param)
        experiment = tracking.get_current_experiment()
        if experiment is None:
            raise UsageError(f"no current experiment: set one first with {USAGE['experiment']}")
        count = self._execution_count()
        if args.run is None:
            if args.resume:
                raise UsageError(f"--resume needs the RUN name\nusage: {USAGE['run']}")
            stamp = time.strftime("%H%M%S")
            name = f"cell-{count}-{stamp}" if count is not None else f"cell-{stamp}"
        else:
            name = args.run
            try:
                _values.check_name(name, "run name")
            except (TypeError, ValueError) as exc:
                raise UsageError(f"{exc}\nusage: {USAGE['run']}") from None
        # Compile before creating the run: a cell that cannot run leaves no run behind.
        code, last = self._compile(cell, count)

        if args.resume:
            try:
                run = ExperimentRun(name, experiment)
            except NotFound:
                raise UsageError(
                    f"no run {name!r} in experiment {experiment.name!r} to resume; drop --resume to start it"
                ) from None
            warn_if_live_elsewhere(run)
            run.update_state(ExecutionState.RUNNING)
        else:
            run = _create_run(experiment, name)
            if args.run is not None and run.name != name:
                # Re-running a cell is the notebook's way to try again: keep both attempts.
                print(f"experiment {experiment.name!r} already has a run {name!r}, so this cell is run "
                      f"{run.name!r} (%%track {name} --resume continues {name!r})")
        _record_cell(run, cell, count)
        if params:
            run.log_params(params)

        # The cell's run is the active one while it runs. Afterwards a run the cell started itself
        # (trackbook.start_run) and left open ends as the cell did, and an outer active run is put back.
        outer = session.run
        session.run = run
        state = ExecutionState.FAILED
        try:
            ns = self.shell.user_ns
            exec(code, ns)
            value = eval(last, ns) if last is not None else None
            state = ExecutionState.COMPLETE
            return value
        except KeyboardInterrupt:
            state = ExecutionState.CANCELLED
            raise
        finally:
            for left in (run, session.run):  # the cell's run, unless the cell ended it, and one it started
                if left is not None and left != outer and _is_open(left):
                    left.end_run(state=state)
            session.run = outer if outer is not None and _is_open(outer) else None

    def _compile(self, cell: str, count: int | None) -> tuple[Any, Any]:
        """The cell as IPython would run it: (code for all but a trailing expression, that expression's code).

        The source is cached under the cell's name so a traceback shows the cell's lines.
        """
        shell = self.shell
        source = shell.transform_cell(cell)
        filename = shell.compile.cache(source, count or 0, raw_code=cell)
        try:
            tree = shell.compile.ast_parse(source, filename=filename)
        except SyntaxError:
            shell.showsyntaxerror()  # the usual short display: the line, a caret, the message
            raise UsageError("the cell did not compile, so no run was started") from None
        tree = shell.transform_ast(tree)
        last = None
        # As in a plain cell, a trailing expression's value shows, unless the cell ends with ";".
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
        return compile(tree, filename, "exec"), last

    def _execution_count(self) -> int | None:
        """The In[n] number of the running cell: its place in the input history."""
        history = self.shell.user_ns.get("In")
        return len(history) - 1 if history and len(history) > 1 else None


def _is_open(run: Any) -> bool:
    """True while this process runs `run` (started or resumed here and not ended yet)."""
    return run._id in run._writer.owned


def _create_run(experiment: Any, base: str) -> Any:
    """A new run called `base`, or `base-2`, `base-3`, ... when that name is taken."""
    from .run import ExperimentRun

    name, n = base, 1
    while True:
        try:
            return ExperimentRun.create(name, experiment=experiment)
        except AlreadyExists:
            n += 1
            suffix = f"-{n}"
            name = base[: _values.NAME_MAX - len(suffix)] + suffix


def _record_cell(run: Any, cell: str, count: int | None) -> None:
    """Append {source, execution_count, time} to the run's metadata "cells" list (a resumed run keeps both)."""
    row = run._store.context_by_id(run._id)
    meta = json.loads(row.metadata or "{}") if row is not None else {}
    if not isinstance(meta, dict):
        meta = {}
    cells = meta.get("cells") if isinstance(meta.get("cells"), list) else []
    cells.append({"source": cell, "execution_count": count, "time": time.time()})
    run._store.update_context_fields(run._id, metadata={"cells": cells})


def _csv(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (`%load_ext trackbook`)."""
    ipython.register_magics(TrackMagics)
