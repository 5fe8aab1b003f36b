"""The background writer's safety nets: bad data never blocks the queue, late writes for a deleted run never
land in another run, big backlogs are committed in bounded transactions."""

from __future__ import annotations

import math
import time

import pytest

import trackbook
from trackbook.session import resolve


@pytest.fixture
def writer_run(tb):
    tb.init(experiment="w")
    run = tb.start_run("r")
    return tb, run, resolve(None)[1]


@pytest.mark.parametrize("wall_time, error", [
    (1e300, ValueError), (math.nan, ValueError), (math.inf, ValueError), ("yesterday", TypeError),
])
def test_a_wall_time_that_cannot_be_stored_is_refused_at_the_call(writer_run, wall_time, error) -> None:
    _, run, writer = writer_run
    with pytest.raises(error, match="wall_time"):
        run.log_time_series_metrics({"a": 1.0}, step=1, wall_time=wall_time)
    run.log_time_series_metrics({"a": 2.0}, step=2)
    assert writer.flush(10)
    assert run.get_time_series_data_frame().a.tolist() == [2.0]


def test_a_value_that_slips_past_validation_is_dropped_alone(writer_run) -> None:
    _, run, writer = writer_run
    # Bypass log_*'s checks to put an unstorable step (beyond 64 bits) straight into the queue.
    run.log_time_series_metrics({"a": 1.0}, step=1)
    writer.points.append((run._id, 2**70, int(time.time() * 1000), {"a": 9.0}))
    run.log_time_series_metrics({"a": 3.0}, step=3)
    run.log_params({"kept": 1})
    with pytest.warns(trackbook.TrackbookWarning, match="could not be stored .* dropped"):
        assert writer.flush(10)
    assert writer.lost == 1
    assert run.get_time_series_data_frame().step.tolist() == [1, 3]
    assert run.get_params() == {"kept": 1}
    run.log_time_series_metrics({"a": 4.0}, step=4)  # the writer goes on
    assert writer.flush(10) and run.get_time_series_data_frame().step.tolist() == [1, 3, 4]


def test_late_points_of_a_deleted_run_never_reach_a_new_run(writer_run) -> None:
    tb, run, writer = writer_run
    run.log_time_series_metrics({"loss": 1.0})
    tb.end_run()
    old_id = run._id
    run.delete()
    with pytest.warns(trackbook.TrackbookWarning, match="belong to a run that was deleted"):
        run.log_time_series_metrics({"loss": 99.0}, step=7)  # e.g. another handle still logging
        assert writer.flush(10)
    new = tb.start_run("r2")
    assert new._id != old_id, "ids are never reused"
    tb.log_time_series_metrics({"loss": 0.5})
    tb.end_run()
    assert new.get_time_series_data_frame().step.tolist() == [1]
    assert writer.lost == 1


def test_a_backlog_is_committed_in_bounded_transactions(writer_run, monkeypatch) -> None:
    _, run, writer = writer_run
    import trackbook.writer as w

    monkeypatch.setattr(w, "MAX_BATCH", 1000)
    commits: list[int] = []
    original = writer.store.commit

    def counted(batch, beats=()):  # the real commit, observed
        commits.append(batch.points)
        return original(batch, beats)

    monkeypatch.setattr(writer.store, "commit", counted)
    with writer._lock:  # hold the writer back so a backlog builds up
        for step in range(1, 5001):
            run.log_time_series_metrics({"a": float(step)}, step=step)
        run.log_metrics({"done": 1})
    assert writer.flush(30)
    assert max(commits) <= 1000 and sum(commits) >= 5000
    assert run.get_time_series_data_frame().step.tolist() == list(range(1, 5001))
    assert run.get_metrics() == {"done": 1}
