"""Picking runs and series by name for `history`, charts, reports and the command line.

One rule everywhere: a run name that matches no run, or a series that none of the picked runs has logged,
raises UnknownName (a ValueError) naming it and listing some of the names that do exist; nothing is read
or written first. The command line reports it as a usage error (exit status 2).
"""

from __future__ import annotations

from collections.abc import Sequence

from .store import Context, Store

LISTED = 10  # names shown in an error; the rest are counted


class UnknownName(ValueError):
    """A run, series or experiment name that matches nothing in the store."""


def name_list(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    """None, or the names of a str or a list/tuple of str (TypeError naming `what` otherwise)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise TypeError(f"{what} must be a str or a list of str, got {type(value).__name__} {value!r}")
    return list(items)


def select(
    store: Store, rows: Sequence[Context], where: str, runs: str | Sequence[str] | None,
    metrics: str | Sequence[str] | None,
) -> tuple[list[Context], list[str] | None]:
    """The rows named in `runs` (all when None) and the list of `metrics` (None when None), checked:
    UnknownName for a run name no row has, or a metric none of the picked rows has logged.

    `where` says where the rows come from, e.g. "experiment 'e1'" (see `describe`).
    """
    picked = pick(rows, name_list(runs, "runs"), "run", where)
    keys = name_list(metrics, "metrics")
    if keys is not None:
        check_series(store, picked, keys, describe_runs(picked, where, narrowed=runs is not None))
    return picked, keys


def pick(rows: Sequence[Context], wanted: Sequence[str] | None, noun: str, where: str) -> list[Context]:
    """The rows whose names are in `wanted` (all rows when None), in `rows` order; UnknownName for a name
    no row has, listing the names there are."""
    if wanted is None:
        return list(rows)
    known = list(dict.fromkeys(r.name for r in rows))
    present = set(known)
    missing = [n for n in wanted if n not in present]
    if missing:
        raise UnknownName(f"no {noun} {missing[0]!r} in {where} ({noun}s: {listing(sorted(known))})")
    keep = set(wanted)
    return [r for r in rows if r.name in keep]


def check_series(store: Store, rows: Sequence[Context], metrics: Sequence[str], where: str) -> None:
    """UnknownName for the first of `metrics` that none of `rows` has logged as a series."""
    logged = {k for _, k in store.series_keys([r.id for r in rows])}
    missing = [m for m in metrics if m not in logged]
    if missing:
        raise UnknownName(f"no series {missing[0]!r} in {where} (series logged: {listing(sorted(logged))})")


def describe(experiments: Sequence[Context]) -> str:
    """'experiment 'a'', 'experiments 'a', 'b'' or 'the store' (no experiments)."""
    if len(experiments) == 1:
        return f"experiment {experiments[0].name!r}"
    if not experiments:
        return "the store"
    return f"experiments {listing([e.name for e in experiments])}"


def describe_runs(rows: Sequence[Context], where: str, narrowed: bool) -> str:
    """Where series were looked for: `where` itself, or the picked runs of it when the caller named runs."""
    if not narrowed:
        return where
    names = list(dict.fromkeys(r.name for r in rows))
    noun = "run" if len(names) == 1 else "runs"
    return f"{noun} {listing(names)} of {where}"


def listing(names: Sequence[str], limit: int = LISTED) -> str:
    """"'a', 'b' and 3 more", or "none yet"."""
    if not names:
        return "none yet"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
