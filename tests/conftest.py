"""Shared fixtures: every test gets its own store file and a clean tracking session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import trackbook
from trackbook.session import session

ROOT = Path(__file__).resolve().parent.parent


def reset_session() -> None:
    """Forget the active experiment and run and close every store this process opened."""
    session.run = None
    session.experiment = None
    session.tensorboard = None
    for store, writer in list(session.stores.values()):
        writer.owned.clear()
        writer.close()
        store.close()
    session.stores.clear()
    session.store_path = None


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "trackbook.db"


@pytest.fixture
def tb(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """trackbook with a fresh store in a temporary directory (also the working directory)."""
    reset_session()
    monkeypatch.chdir(store_path.parent)
    monkeypatch.delenv("TRACKBOOK_STORE", raising=False)
    monkeypatch.delenv("AIP_EXPERIMENT_NAME", raising=False)
    trackbook.init(store=store_path)
    yield trackbook
    reset_session()


def python_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes that import this checkout's trackbook."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


PYTHON = sys.executable
