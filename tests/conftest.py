"""Shared fixtures: every test gets its own store file and a clean tracking session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import trackbook
from support import reset_session


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

