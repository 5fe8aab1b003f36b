"""`trackbook import tensorboard`: event files written by real TensorBoard writers (PyTorch's SummaryWriter,
TF1- and TF2-style scalars, HParams) come over with every point, checked against what was written and
against tensorboard's own reader; importing twice adds nothing."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trackbook
from support import PYTHON, python_env
from trackbook.importers import import_tensorboard


def write_logs(logdir: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Two runs as people write them with PyTorch: {run: {tag: [(step, value as written)]}}."""
    from torch.utils.tensorboard import SummaryWriter

    written: dict[str, dict[str, list[tuple[int, float]]]] = {}
    rng = np.random.default_rng(0)
    for lr in (0.1, 0.01):
        name = f"lr-{lr}"
        writer = SummaryWriter(str(logdir / name))
        tags: dict[str, list[tuple[int, float]]] = {"loss": [], "acc/val": []}
        for step in range(0, 300, 3):
            loss = float(np.exp(-step * lr / 10) + rng.random() / 100)
            writer.add_scalar("loss", loss, step)
            tags["loss"].append((step, loss))
            if step % 30 == 0:
                writer.add_scalar("acc/val", step / 300, step, new_style=True)  # a TF2-style tensor scalar
                tags["acc/val"].append((step, step / 300))
        writer.add_histogram("weights", rng.random(50), 0)
        writer.add_hparams({"lr": lr, "batch_size": 32, "optimizer": "adam"}, {"hparam/best_acc": 0.9})
        tags["hparam/best_acc"] = [(0, 0.9)]
        writer.close()
        written[name] = tags
    for split in ("train", "validation"):  # Keras' layout: one folder per split
        writer = SummaryWriter(str(logdir / "keras-run" / split))
        written[f"keras-run/{split}"] = {"epoch_loss": []}
        for epoch in range(5):
            writer.add_scalar("epoch_loss", 1.0 / (epoch + 1), epoch)
            written[f"keras-run/{split}"]["epoch_loss"].append((epoch, 1.0 / (epoch + 1)))
        writer.close()
    return written


@pytest.fixture
def logdir(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    root = tmp_path / "runs"
    return root, write_logs(root)


def reader_points(run_dir: Path) -> dict[str, list[tuple[int, int, float]]]:
    """Every scalar point as tensorboard's own reader gives it, unsampled: {tag: [(step, wall_ms, value)]}."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util

    acc = ea.EventAccumulator(str(run_dir), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    out = {t: [(e.step, round(e.wall_time * 1000), e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
            out[tag] = [(e.step, round(e.wall_time * 1000), float(tensor_util.make_ndarray(e.tensor_proto)))
                        for e in acc.Tensors(tag)]
    return out


def stored_points(run: str, experiment: str) -> dict[str, list[tuple[int, int, float]]]:
    history = trackbook.history(experiment=experiment, runs=run)
    wall = ((history.wall_time - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).tolist()
    out: dict[str, list[tuple[int, int, float]]] = {}
    for metric, step, ms, value in zip(history.metric.astype(str), history.step.tolist(), wall, history.value):
        out.setdefault(metric, []).append((step, ms, float(value)))
    return out


def test_import_brings_every_scalar_point_and_the_hparams(tb, logdir) -> None:
    root, written = logdir
    summary = import_tensorboard(root)
    assert summary.experiments == {"runs": 4} and summary.experiments_created == ["runs"]
    assert summary.runs_imported == 4 and summary.points == 2 * (100 + 10 + 1) + 2 * 5
    assert "not imported (only scalars are): 1 histogram tag" in str(summary)
    names = sorted(r.name for r in trackbook.ExperimentRun.list(experiment="runs"))
    assert names == ["keras-run/train", "keras-run/validation", "lr-0.01", "lr-0.1"]  # hparams folders merged
    for run, tags in written.items():
        got = stored_points(run, "runs")
        assert got.keys() == tags.keys(), run
        for tag, points in tags.items():  # what was written: steps exact, values as float32 stored them
            assert [(s, v) for s, _, v in got[tag]] == [(s, float(np.float32(v))) for s, v in points], (run, tag)
        truth = reader_points(root / run)
        for child in (root / run).iterdir():
            if child.is_dir():
                truth.update(reader_points(child))
        assert got == truth, run  # what tensorboard reads: steps, values, wall times to the millisecond
    params = trackbook.ExperimentRun("lr-0.1", "runs").get_params()
    assert params == {"lr": 0.1, "batch_size": 32, "optimizer": "adam"}
    df = trackbook.get_experiment_df("runs")
    assert set(df.run_name) == set(names) and (df.state == "COMPLETE").all()
    assert df[df.run_name == "lr-0.01"].iloc[0]["param.lr"] == 0.01
    board = trackbook.board("runs")  # the board lists the runs with their series
    try:
        rows = {row["name"]: row for row in board._snapshot["runs"]}
    finally:
        board.close()
    assert rows.keys() == set(names) and set(rows["lr-0.1"]["last"]) == {"loss", "acc/val", "hparam/best_acc"}


def test_a_second_import_adds_nothing_and_a_grown_run_is_updated(tb, logdir) -> None:
    from torch.utils.tensorboard import SummaryWriter

    root, _ = logdir
    import_tensorboard(root, experiment="tb")
    before = trackbook.history(experiment="tb")
    again = import_tensorboard(root, experiment="tb")
    assert (again.runs_imported, again.runs_updated, again.runs_unchanged, again.points) == (0, 0, 4, 0)
    assert trackbook.history(experiment="tb").equals(before)
    time.sleep(1.1)  # a new event file: SummaryWriter names it by the second
    writer = SummaryWriter(str(root / "lr-0.1"))  # training resumed: a second event file in the same run
    for step in range(300, 330, 3):
        writer.add_scalar("loss", 0.01, step)
    writer.close()
    grown = import_tensorboard(root, experiment="tb")
    assert (grown.runs_imported, grown.runs_updated, grown.runs_unchanged, grown.points) == (0, 1, 3, 10)
    loss = stored_points("lr-0.1", "tb")["loss"]
    assert len(loss) == 110 and loss[-1][0] == 327
    assert len(trackbook.ExperimentRun.list(experiment="tb")) == 4


def test_a_logdir_with_event_files_at_its_root_is_one_run_named_after_it(tb, tmp_path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "single"))
    for step in range(3):
        writer.add_scalar("x", step * 2.0, step)
    writer.close()
    summary = import_tensorboard(str(tmp_path / "single"))
    assert summary.runs_imported == 1
    assert [r.name for r in trackbook.ExperimentRun.list(experiment="single")] == ["single"]


def test_the_command_line_imports_into_the_named_experiment(logdir, tmp_path) -> None:
    root, _ = logdir
    store = tmp_path / "cli.db"
    command = [PYTHON, "-m", "trackbook.cli", "import", "tensorboard", str(root), "--experiment", "from-tb",
               "--store", str(store)]
    out = subprocess.run(command, capture_output=True, text=True, env=python_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    assert "tensorboard [########################] 4/4 runs" in out.stderr
    assert "experiments: from-tb (4 runs, new)" in out.stderr and "runs: 4 imported" in out.stderr
    listing = subprocess.run([PYTHON, "-m", "trackbook.cli", "ls", "--store", str(store)], capture_output=True,
                             text=True, env=python_env(), timeout=300)
    assert "from-tb" in listing.stdout and "lr-0.01" in listing.stdout


def test_what_is_not_a_logdir_is_refused_clearly(tb, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no TensorBoard log directory at"):
        import_tensorboard(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no TensorBoard event files"):
        import_tensorboard(tmp_path / "empty")
    with pytest.raises(TypeError, match="experiment must be a str, got int"):
        import_tensorboard(tmp_path / "empty", experiment=3)  # type: ignore[arg-type]
    assert trackbook.Experiment.list() == []


# -- the reader keeps what TensorBoard keeps -------------------------------------------------------------------


def scalar_event(step: int, tag: str, value: float, wall: float) -> Any:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    return event_pb2.Event(step=step, wall_time=wall,
                           summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]))


def write_records(path: Path, events: list[Any]) -> None:
    """Events as a TFRecord file through tensorboard's own record writer."""
    from tensorboard.summary.writer.record_writer import RecordWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        writer = RecordWriter(f)
        for event in events:
            writer.write(event.SerializeToString())
        writer.flush()


def as_tensorboard_shows(run_dir: Path) -> dict[str, list[tuple[int, int, float]]]:
    """tensorboard's reader, with the later point kept where a tag repeats a step (trackbook keeps one)."""
    out = {}
    for tag, points in reader_points(run_dir).items():
        latest = {step: (step, wall, value) for step, wall, value in points}
        out[tag] = [latest[s] for s in sorted(latest)]
    return out


def test_restarts_are_purged_as_tensorboard_purges_them(tb, tmp_path) -> None:
    from tensorboard.compat.proto import event_pb2

    root = tmp_path / "restarts"
    t0 = 1_700_000_000.0
    # file_version 2: a SessionLog.START at step 4 orphans every earlier point at step >= 4
    v2 = [event_pb2.Event(wall_time=t0, file_version="brain.Event:2")]
    v2 += [scalar_event(s, "loss", 1.0 / (s + 1), t0 + s) for s in range(8)]
    v2 += [scalar_event(s, "acc", s / 10, t0 + s) for s in range(8)]
    restart = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    v2 += [event_pb2.Event(step=4, wall_time=t0 + 20, session_log=restart)]
    v2 += [scalar_event(s, "loss", 0.5 / (s + 1), t0 + 20 + s) for s in range(4, 10)]
    write_records(root / "v2" / "events.out.tfevents.1700000000.host.1.0", v2)
    # file_version 1: a tag going back to step 3 orphans that tag's points at step >= 3 only
    v1 = [event_pb2.Event(wall_time=t0, file_version="brain.Event:1")]
    for s in range(6):
        v1 += [scalar_event(s, "loss", float(s), t0 + s), scalar_event(s, "acc", s / 10, t0 + s)]
    v1 += [scalar_event(s, "loss", 10.0 + s, t0 + 10 + s) for s in range(3, 5)]
    write_records(root / "v1" / "events.out.tfevents.1700000000.host.2.0", v1)
    # a resumed PyTorch run: the second writer logs steps 5..9 again with no restart marker
    from torch.utils.tensorboard import SummaryWriter

    for attempt in range(2):
        writer = SummaryWriter(str(root / "resumed"), filename_suffix=f".{attempt}")
        for step in range(5 * attempt, 10):
            writer.add_scalar("loss", 100.0 * attempt + step, step)
        writer.close()
    summary = import_tensorboard(root)
    for run in ("v1", "v2", "resumed"):
        assert stored_points(run, "restarts") == as_tensorboard_shows(root / run), run
    assert stored_points("v2", "restarts")["acc"] == [(s, round((t0 + s) * 1000), np.float32(s / 10)) for s in range(4)]
    assert [v for _, _, v in stored_points("v1", "restarts")["loss"]] == [0, 1, 2, 13, 14]
    assert [v for _, _, v in stored_points("resumed", "restarts")["loss"]] == [0, 1, 2, 3, 4, 105, 106, 107, 108, 109]
    assert "restarts/resumed: 'loss' was logged again at 5 steps it already had" in str(summary)


def test_a_record_still_being_written_ends_the_reading_of_its_file(tb, tmp_path) -> None:
    from tensorboard.compat.proto import event_pb2

    path = tmp_path / "live" / "run" / "events.out.tfevents.1700000000.host.3.0"
    events = [event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")]
    events += [scalar_event(s, "loss", float(s), 1.7e9 + s) for s in range(5)]
    write_records(path, events)
    path.write_bytes(path.read_bytes()[:-7])  # the writer was cut off in the middle of the last record
    import_tensorboard(tmp_path / "live")
    assert [s for s, _, _ in stored_points("run", "live")["loss"]] == [0, 1, 2, 3]
