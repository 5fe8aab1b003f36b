"""Helpers shared by the tests (imported as `support`: a `conftest` name would be ambiguous, since the
browser tests have their own conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from trackbook.session import session

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


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


def python_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes that import this checkout's trackbook."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env
