"""A store made by someone else, full of HTML, JavaScript and SQL fragments and 10 MB values: trackbook
reads it as data. (The board's and the report's rendering of such a file are tested with them.)"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

import trackbook
from support import reset_session
from trackbook.store import Store

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    "'); DROP TABLE context; --",
    "\" OR 1=1 --",
    "{{constructor.constructor('alert(1)')()}}",
    "javascript:alert(1)",
    "</td></tr><tr><td>injected",
    "%s %d %n",
]
BIG = "A" * (10 * 1024 * 1024)


def make_hostile_store(path: Path) -> None:
    """Write a store with plain sqlite3, as another tool (or an attacker) could, with no trackbook API."""
    Store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    now = time.time()
    conn.execute("BEGIN")
    exp_id = conn.execute(
        "INSERT INTO context (schema_title, experiment_id, name, display_name, metadata, create_time, update_time)"
        " VALUES ('system.Experiment', 0, ?, ?, '{}', ?, ?)", (HOSTILE[0], HOSTILE[0], now, now)
    ).lastrowid
    for i, text in enumerate(HOSTILE):
        params = {text: text, f"p{i}": text, "big": BIG if i == 0 else "small"}
        run_id = conn.execute(
            "INSERT INTO context (schema_title, experiment_id, name, display_name, params, metrics, state,"
            " create_time, update_time) VALUES ('system.ExperimentRun', ?, ?, ?, ?, ?, 'COMPLETE', ?, ?)",
            (exp_id, text, text, json.dumps(params), json.dumps({text: 1.5}), now, now),
        ).lastrowid
        key_id = conn.execute("INSERT INTO series_key (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = name"
                              " RETURNING id", (text,)).fetchone()[0]
        for step in range(1, 4):
            conn.execute("INSERT INTO series VALUES (?, ?, ?, ?, ?)", (run_id, key_id, step, int(now * 1000), 0.1))
        conn.execute("INSERT INTO series_last (run_id, key_id, step, wall_time, value) VALUES (?, ?, 3, ?, 0.1)",
                     (run_id, key_id, int(now * 1000)))
    conn.execute("COMMIT")
    conn.close()


@pytest.fixture
def hostile(tmp_path: Path):
    path = tmp_path / "hostile.db"
    make_hostile_store(path)
    reset_session()
    trackbook.init(store=path)
    yield path
    reset_session()


def test_hostile_names_and_values_come_back_as_the_same_text(hostile: Path) -> None:
    df = trackbook.get_experiment_df(HOSTILE[0])
    assert sorted(df.run_name) == sorted(HOSTILE)
    for text in HOSTILE:
        row = df[df.run_name == text].iloc[0]
        assert row[f"param.{text}"] == text and row[f"metric.{text}"] == 1.5
    big = df[df.run_name == HOSTILE[0]].iloc[0]["param.big"]
    assert big == BIG
    h = trackbook.history(HOSTILE[0])
    assert set(h.metric) == set(HOSTILE) and len(h) == 3 * len(HOSTILE)
    # the SQL fragments did nothing: every table is still there, the run count is right
    conn = sqlite3.connect(hostile)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM context WHERE schema_title = 'system.ExperimentRun'").fetchone()[0] == 8


def test_looking_up_hostile_names_is_parameterized(hostile: Path) -> None:
    for text in HOSTILE:
        run = trackbook.ExperimentRun(text, HOSTILE[0])
        assert run.name == text and run.get_params()[text] == text
    with pytest.raises(trackbook.NotFound):
        trackbook.ExperimentRun("x' OR '1'='1", HOSTILE[0])


def test_logging_hostile_text_through_the_api_stores_it_verbatim(tb) -> None:
    tb.init(experiment="e")
    with tb.start_run("<b>run</b>") as run:
        run.log_params({text: text for text in HOSTILE})
        run.log_time_series_metrics({text: 1.0 for text in HOSTILE})
    assert run.get_params() == {text: text for text in HOSTILE}
    assert set(tb.history("e").metric) == set(HOSTILE)


def test_cli_prints_hostile_names_as_plain_text(hostile: Path, capsys) -> None:
    from trackbook.cli import main

    assert main(["ls", "--store", str(hostile)]) == 0
    out = capsys.readouterr().out
    for text in HOSTILE:
        assert text.splitlines()[0] in out
