"""Framework callbacks: real Keras, Lightning, transformers and XGBoost trainings on CPU with tiny models,
logged into a real store file and read back through get_experiment_df and the board's queries."""

from __future__ import annotations

import copy
import csv
import enum
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on the torch wheel; must precede importing keras

import numpy as np
import pytest
import torch

import trackbook
from support import PYTHON, python_env
from trackbook.integrations.runs import as_number, config_params, run_name_for
from trackbook.session import session

torch.set_num_threads(1)
NAME = r"-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{5}$"  # {model}-{YYYY-MM-DD-HH-MM-SS}-{5 hex}


def board_view(run_name: str) -> set[str]:
    """The series keys of a run as the board shows it (its run table's last values), checking that the board
    lists the run with the state and params the store holds."""
    run = next(r for e in trackbook.Experiment.list() for r in trackbook.ExperimentRun.list(experiment=e)
               if r.name == run_name)
    board = trackbook.board(run.experiment_name)
    try:
        rows = {row["name"]: row for row in board._snapshot["runs"]}
    finally:
        board.close()
    assert run_name in rows, f"the board does not list {run_name!r}"
    row = rows[run_name]
    assert row["state"] == run.get_state() and row["params"].keys() == run.get_params().keys()
    return set(row["last"])


def row_of(df: Any, run_name: str) -> Any:
    rows = df[df.run_name == run_name]
    assert len(rows) == 1, f"{run_name!r} is not in the run table"
    return rows.iloc[0]


# -- importing trackbook and missing frameworks ----------------------------------------------------------------

FRAMEWORKS = ["torch", "keras", "lightning", "pytorch_lightning", "transformers", "xgboost", "sklearn", "mlflow",
              "tensorboard"]


def test_importing_trackbook_and_its_integration_packages_loads_no_framework() -> None:
    code = (
        "import sys, trackbook, trackbook.integrations, trackbook.importers\n"
        "trackbook.integrations.__doc__\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env(), check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "blocked", "install"),
    [
        ("trackbook.integrations.keras", ["keras"], "pip install 'keras>=3'"),
        ("trackbook.integrations.lightning", ["lightning", "pytorch_lightning"], "pip install lightning"),
        ("trackbook.integrations.huggingface", ["transformers"], "pip install 'transformers'"),
        ("trackbook.integrations.xgboost", ["xgboost"], "pip install 'xgboost'"),
        ("trackbook.integrations.sklearn", ["sklearn"], "pip install 'scikit-learn'"),
    ],
)
def test_a_missing_framework_raises_an_import_error_naming_the_package(module, blocked, install) -> None:
    code = (
        "import sys\n"
        + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
        + "try:\n"
        f"    import {module}\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    print('imported')\n"
    )
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env(), check=True)
    assert install in out.stdout, out.stdout
    assert "trackbook[integrations]" in out.stdout


def test_keras_without_its_backend_says_how_to_choose_one() -> None:
    code = (
        "import sys\nsys.modules['tensorflow'] = None\n"
        "try:\n    import trackbook.integrations.keras\nexcept ImportError as exc:\n    print(exc)\n"
    )
    env = python_env(KERAS_BACKEND="tensorflow")
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "KERAS_BACKEND" in out.stdout and "tensorflow" in out.stdout


# -- shared helpers ------------------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


def test_config_params_turn_any_configuration_into_storable_params() -> None:
    out = config_params({
        "lr": np.float32(0.5), "layers": [64, 32], "opt": {"name": "adam", "betas": (0.9, 0.99)}, "depth": None,
        "color": Color.RED, "path": Path("/tmp/x"), "fn": math.sqrt, "big": 2**70, "text": "x" * 5000,
        "n": np.int64(3), "flag": np.bool_(True), "": 1, 7: "not a str key",
    })
    assert out["lr"] == 0.5 and out["n"] == 3 and out["flag"] is True
    assert out["layers"] == "[64, 32]" and out["opt.name"] == "adam" and out["opt.betas"] == "(0.9, 0.99)"
    assert out["depth"] == "None" and out["color"] == "red" and out["path"] == "/tmp/x" and out["fn"] == "sqrt"
    assert out["big"] == str(2**70) and len(out["text"]) == 1001 and out["text"].endswith("…")
    assert "" not in out and 7 not in out


def test_as_number_reads_scalars_of_every_kind_and_refuses_the_rest() -> None:
    assert as_number(torch.tensor(1.5)) == 1.5 and as_number(np.array([2.0])) == 2.0
    assert as_number(np.int32(4)) == 4 and isinstance(as_number(np.int32(4)), int) and as_number(True) == 1.0
    assert as_number("1.0") is None and as_number(np.array([1.0, 2.0])) is None and as_number(None) is None


def test_values_trackbook_cannot_store_are_skipped_with_one_warning_not_an_error() -> None:
    from trackbook.integrations.runs import TrainingRun

    tracking = TrainingRun(feature="a callback")
    logs = {"loss": np.float32(0.5), "note": "text", "x" * 300: 1.0, "bad\nkey": 2.0, 3: 4.0}
    with pytest.warns(trackbook.TrackbookWarning) as caught:
        assert tracking.numbers(logs) == {"loss": 0.5}
        assert tracking.numbers({"note": "again"}) == {}  # warned once per key
    messages = [str(w.message) for w in caught]
    assert len(messages) == 4 and "skips 'note': its value is a str, not a number" in messages[0]
    assert "at most 256 are allowed" in messages[1] and "control character" in messages[2]


def test_run_names_follow_the_model_and_the_time() -> None:
    assert re.fullmatch("MyModel" + NAME, run_name_for("MyModel"))
    assert re.fullmatch("a-b" + NAME, run_name_for("a/b"))
    assert run_name_for("x") != run_name_for("x")


# -- Keras ---------------------------------------------------------------------------------------------------------


def keras_model(name: str = "mpg") -> Any:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)], name=name
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def regression_data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, 3)).astype("float32")
    return x, (x @ np.array([1.0, 2.0, -1.0], dtype="float32")).astype("float32")


def test_keras_callback_records_config_epochs_final_values_and_evaluation(tb) -> None:
    from trackbook.integrations.keras import Callback

    tb.init(experiment="keras")
    x, y = regression_data()
    model, callback = keras_model(), Callback(params={"dropout": 0.0})
    history = model.fit(x[:48], y[:48], epochs=3, batch_size=16, validation_data=(x[48:], y[48:]),
                        callbacks=[callback], verbose=0)
    loss, mae = model.evaluate(x[48:], y[48:], callbacks=[callback], verbose=0)

    run = callback.run
    assert re.fullmatch("mpg" + NAME, run.name) and run.get_state() == "COMPLETE"
    assert session.run is None  # the run the callback started was the active run only while training
    params = run.get_params()
    assert params["epochs"] == 3 and params["steps_per_epoch"] == 3 and params["dropout"] == 0.0
    assert params["optimizer"] == "adam" and params["optimizer.learning_rate"] == 0.01 and params["loss"] == "mse"
    assert params["model.class"] == "Sequential" and params["model.total_params"] == 21
    series = run.get_time_series_data_frame()
    assert list(series.step) == [1, 2, 3]
    for key in ("loss", "mae", "val_loss", "val_mae"):
        assert list(series[key]) == history.history[key], key
    metrics = run.get_metrics()
    assert metrics["val_loss"] == history.history["val_loss"][-1]
    assert metrics["eval_loss"] == loss and metrics["eval_mae"] == mae
    df = tb.get_experiment_df()
    row = row_of(df, run.name)
    assert row["param.optimizer"] == "adam" and row["time_series_metric.val_mae"] == history.history["val_mae"][-1]
    assert board_view(run.name) == {"loss", "mae", "val_loss", "val_mae"}


def test_keras_callback_logs_into_the_active_run_and_leaves_it_open(tb) -> None:
    from trackbook.integrations.keras import Callback

    tb.init(experiment="keras")
    mine = tb.start_run("mine")
    x, y = regression_data()
    model = keras_model()
    model.fit(x, y, epochs=2, batch_size=16, callbacks=[Callback(log_every_n_steps=2)], verbose=0)
    assert tb.get_active_run() is mine and mine.get_state() == "RUNNING"
    tb.end_run()
    series = mine.get_time_series_data_frame()
    assert {"loss", "batch/loss"} <= set(series.columns)
    assert sorted(series.dropna(subset=["batch/loss"]).step) == [2, 4, 6, 8]  # 4 batches an epoch, every 2nd
    assert [r.name for r in tb.ExperimentRun.list(experiment="keras")] == ["mine"]


def test_keras_callback_reused_after_a_crashed_fit_marks_that_run_failed(tb) -> None:
    import keras

    from trackbook.integrations.keras import Callback

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise RuntimeError("boom")

    tb.init(experiment="keras")
    x, y = regression_data()
    model, callback = keras_model(), Callback()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, epochs=3, callbacks=[callback, Boom()], verbose=0)
    crashed = callback.run
    model.fit(x, y, epochs=1, callbacks=[callback], verbose=0)
    assert crashed.get_state() == "FAILED" and len(crashed.get_time_series_data_frame()) == 2
    assert callback.run != crashed and callback.run.get_state() == "COMPLETE"


def test_keras_callback_needs_an_experiment_and_checks_its_arguments(tb) -> None:
    from trackbook.integrations.keras import Callback

    x, y = regression_data()
    with pytest.raises(ValueError, match=r"No experiment set for trackbook\.integrations\.keras\.Callback"):
        keras_model().fit(x, y, epochs=1, callbacks=[Callback()], verbose=0)
    with pytest.raises(ValueError, match="log_every_n_steps must be a positive int"):
        Callback(log_every_n_steps=0)
    with pytest.raises(TypeError, match="run must be an ExperimentRun or a run name, got int"):
        Callback(run=3)
    with pytest.raises(TypeError, match="params must be a dict of name to value, got list"):
        Callback(params=[("lr", 0.1)])
    # an explicit experiment works without init(experiment=...)
    callback = Callback(experiment="elsewhere", run_name="named")
    keras_model().fit(x, y, epochs=1, callbacks=[callback], verbose=0)
    assert callback.run.name == "named" and callback.run.experiment_name == "elsewhere"


# -- PyTorch Lightning -----------------------------------------------------------------------------------------


def lightning_module(fail_at: int | None = None, error: type[BaseException] = RuntimeError) -> Any:
    import lightning.pytorch as pl

    class Regressor(pl.LightningModule):
        def __init__(self, lr: float = 0.05, hidden: int = 8) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

        def _loss(self, batch: Any) -> Any:
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y)

        def training_step(self, batch: Any, index: int) -> Any:
            if fail_at is not None and self.global_step == fail_at:
                raise error("diverged")
            loss = self._loss(batch)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch: Any, index: int) -> None:
            self.log("val_loss", self._loss(batch))

        def test_step(self, batch: Any, index: int) -> None:
            self.log("test_loss", self._loss(batch))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    return Regressor()


def lightning_data() -> Any:
    from torch.utils.data import DataLoader, TensorDataset

    x, y = regression_data()
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16)


def lightning_trainer(tmp_path: Path, loggers: list[Any], **kw: Any) -> Any:
    import lightning.pytorch as pl

    return pl.Trainer(max_epochs=2, logger=loggers, log_every_n_steps=1, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu", **kw)


def test_lightning_logger_records_every_logged_value_as_lightnings_csv_logger_does(tb, tmp_path) -> None:
    from lightning.pytorch.loggers import CSVLogger

    from trackbook.integrations.lightning import Logger

    tb.init(experiment="lightning")
    logger, csv_logger = Logger(), CSVLogger(tmp_path / "csv")
    trainer = lightning_trainer(tmp_path, [logger, csv_logger])
    data = lightning_data()
    trainer.fit(lightning_module(), data, data)
    trainer.test(trainer.lightning_module, data, verbose=False)

    run = logger.run
    assert re.fullmatch("Regressor" + NAME, run.name) and run.name.endswith(logger.version)
    assert run.get_state() == "COMPLETE" and session.run is None
    params = run.get_params()
    assert params["lr"] == 0.05 and params["hidden"] == 8 and params["model.class"] == "Regressor"
    assert params["trainer.max_epochs"] == 2 and params["optimizer"] == "SGD" and params["optimizer.lr"] == 0.05
    assert params["model.total_params"] == 41
    # every (step, value) Lightning wrote to its own CSV is in the run, exactly
    with open(Path(csv_logger.log_dir) / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    history = tb.history(runs=run.name)
    for key in ("train_loss", "val_loss", "test_loss", "epoch"):
        # the CSV has a row per log_metrics call, so `epoch` repeats when train and val values share a step
        expected = {(int(r["step"]), float(r[key])) for r in rows if r.get(key)}
        got = history[history.metric == key]
        assert set(zip(got.step.tolist(), got.value.tolist())) == expected and len(got) == len(expected), key
    metrics = run.get_metrics()
    assert metrics["test_loss"] == float(trainer.callback_metrics["test_loss"])
    checkpoints = list(tmp_path.glob(f"lightning/{logger.version}/checkpoints/*.ckpt"))
    assert checkpoints, "checkpoints go under the experiment and the run's id"
    assert {"train_loss", "val_loss", "test_loss"} <= board_view(run.name)
    assert row_of(tb.get_experiment_df(), run.name)["param.hidden"] == 8


def test_lightning_logger_marks_a_failed_training_failed(tb, tmp_path) -> None:
    from trackbook.integrations.lightning import Logger

    tb.init(experiment="lightning")
    logger = Logger(params={"note": "diverges"})
    trainer = lightning_trainer(tmp_path, [logger], enable_checkpointing=False)
    with pytest.raises(RuntimeError, match="diverged"):
        trainer.fit(lightning_module(fail_at=3), lightning_data())
    assert logger.run.get_state() == "FAILED" and logger.run.get_params()["note"] == "diverges"
    assert sorted(logger.run.get_time_series_data_frame().step) == [0, 1, 2]


def test_lightning_logger_marks_an_interrupted_training_cancelled(tb, tmp_path) -> None:
    import signal

    from trackbook.integrations.lightning import Logger

    tb.init(experiment="lightning")
    logger = Logger()
    trainer = lightning_trainer(tmp_path, [logger], enable_checkpointing=False)
    handler = signal.getsignal(signal.SIGINT)  # Lightning ignores further Ctrl-C while it shuts down
    try:
        with pytest.raises(SystemExit):  # its graceful shutdown after Ctrl-C exits 1
            trainer.fit(lightning_module(fail_at=3, error=KeyboardInterrupt), lightning_data())
    finally:
        signal.signal(signal.SIGINT, handler)
    assert logger.run.get_state() == "CANCELLED"
    assert sorted(logger.run.get_time_series_data_frame().step) == [0, 1, 2]


def test_lightning_logger_writes_to_the_active_run_without_ending_it(tb, tmp_path) -> None:
    from trackbook.integrations.lightning import Logger

    tb.init(experiment="lightning")
    mine = tb.start_run("sweep-1")
    lightning_trainer(tmp_path, [Logger()], enable_checkpointing=False).fit(lightning_module(), lightning_data())
    assert mine.get_state() == "RUNNING" and "train_loss" in mine.get_metrics()
    tb.end_run()


# -- Hugging Face transformers ---------------------------------------------------------------------------------


def test_huggingface_callback_records_arguments_logs_and_the_trainer_summary(tb, tmp_path) -> None:
    import transformers

    from trackbook.integrations.huggingface import Callback

    tb.init(experiment="hf")
    transformers.set_seed(0)
    config = transformers.BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=2)
    model = transformers.BertForSequenceClassification(config)
    generator = torch.Generator().manual_seed(0)

    class Tokens(torch.utils.data.Dataset):
        def __init__(self, n: int) -> None:
            self.ids = torch.randint(0, 32, (n, 8), generator=generator)

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": self.ids[i], "labels": int(self.ids[i, 0] > 15)}

    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=1, eval_strategy="epoch", save_strategy="no", report_to="none", use_cpu=True,
        disable_tqdm=True, hub_token="secret-token",
    )
    callback = Callback()
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Tokens(32), eval_dataset=Tokens(16),
                                   callbacks=[callback])
    trainer.train()
    final = trainer.evaluate()

    run = callback.run
    assert re.fullmatch("BertForSequenceClassification" + NAME, run.name) and run.get_state() == "COMPLETE"
    params = run.get_params()
    assert params["learning_rate"] == 1e-3 and params["num_train_epochs"] == 2 and params["eval_strategy"] == "epoch"
    assert params["model.hidden_size"] == 16 and params["model.model_type"] == "bert"
    assert not any("token" in k and "secret" in str(v) for k, v in params.items())
    history = tb.history(runs=run.name)
    during = trainer.state.log_history[:-1]  # the last entry is the evaluation after training
    for key, points in (("loss", 8), ("learning_rate", 8), ("grad_norm", 8), ("eval_loss", 2)):
        expected = [(e["step"], e[key]) for e in during if key in e]
        got = history[history.metric == key]
        assert list(zip(got.step.tolist(), got.value.tolist())) == expected and len(expected) == points, key
    metrics = run.get_metrics()
    summary = trainer.state.log_history[-2]  # the Trainer's closing entry, before the final evaluation
    assert metrics["train_runtime"] == summary["train_runtime"] and metrics["train_loss"] == summary["train_loss"]
    assert metrics["eval_loss"] == final["eval_loss"]  # the evaluation after training is the final value
    assert "train_runtime" not in board_view(run.name)  # a summary, not a curve
    assert row_of(tb.get_experiment_df(), run.name)["metric.eval_loss"] == final["eval_loss"]


# -- XGBoost ---------------------------------------------------------------------------------------------------------


def classification_data(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, 4))
    return x, (x[:, 0] + 0.3 * rng.random(n) > 0.6).astype(int)


def test_xgboost_callback_logs_every_rounds_evaluation_like_evals_result(tb) -> None:
    import xgboost as xgb

    from trackbook.integrations.xgboost import Callback

    tb.init(experiment="xgb")
    x, y = classification_data()
    train, valid = xgb.DMatrix(x[:90], label=y[:90]), xgb.DMatrix(x[90:], label=y[90:])
    params = {"max_depth": 2, "eta": 0.3, "objective": "binary:logistic", "eval_metric": ["logloss", "error"],
              "nthread": 1}
    evals_result: dict[str, Any] = {}
    callback = Callback(params={"dataset": "synthetic"})
    booster = xgb.train(params, train, 30, evals=[(train, "train"), (valid, "valid")], evals_result=evals_result,
                        early_stopping_rounds=3, verbose_eval=False, callbacks=[callback])
    run = callback.run
    assert re.fullmatch("xgboost" + NAME, run.name) and run.get_state() == "COMPLETE"
    history = tb.history(runs=run.name)
    for data in ("train", "valid"):
        for metric in ("logloss", "error"):
            got = history[history.metric == f"{data}-{metric}"]
            assert got.step.tolist() == list(range(len(evals_result[data][metric])))
            assert got.value.tolist() == evals_result[data][metric]
    params_logged = run.get_params()
    assert params_logged["objective"] == "binary:logistic" and params_logged["max_depth"] == 2
    assert params_logged["eta"] == 0.3 and params_logged["dataset"] == "synthetic"
    metrics = run.get_metrics()
    assert metrics["best_iteration"] == booster.best_iteration and metrics["best_score"] == booster.best_score
    assert metrics["num_boosted_rounds"] == booster.num_boosted_rounds()
    assert metrics["valid-logloss"] == evals_result["valid"]["logloss"][-1]
    assert board_view(run.name) == {"train-logloss", "train-error", "valid-logloss", "valid-error"}


def test_xgboost_callback_survives_scikit_learns_clone_and_logs_cv(tb) -> None:
    import xgboost as xgb
    from sklearn.base import clone

    from trackbook.integrations.xgboost import Callback

    tb.init(experiment="xgb")
    x, y = classification_data()
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1, callbacks=[Callback()])
    model.fit(x[:90], y[:90], eval_set=[(x[90:], y[90:])], verbose=False)
    copied = clone(model)  # deep-copies the callback: the copy must start a run of its own
    copied.fit(x, y, eval_set=[(x, y)], verbose=False)
    runs = tb.ExperimentRun.list(experiment="xgb")
    assert len(runs) == 2 and all(r.get_state() == "COMPLETE" for r in runs)
    for run, fitted in zip(runs, (model, copied)):
        got = tb.history(runs=run.name)
        assert got.value.tolist() == fitted.evals_result()["validation_0"]["logloss"]
    cv = Callback(run_name="cv")
    results = xgb.cv({"max_depth": 2, "objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y), 3,
                     nfold=3, callbacks=[cv])
    cv_history = tb.history(runs="cv")
    got = cv_history[cv_history.metric == "test-logloss-mean"]
    assert np.allclose(got.value.to_numpy(), results["test-logloss-mean"].to_numpy())
    assert copy.deepcopy(cv).run is None
