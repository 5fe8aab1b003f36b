"""The seed blog post's tracking code, verbatim, against trackbook (`import trackbook as vertex_ai`).

The blog's helpers (read_data, train_test_split, normalize_dataset, build_model, train) are Keras code
around the tracking calls; here they are small numpy stand-ins with the same shapes so the test runs
offline in a second. Everything between "verbatim" markers is copied from the post.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

import trackbook as vertex_ai

PROJECT_ID = "my-project"
BUCKET_URI = "gs://my-bucket"
EXPERIMENT_NAME = "auto-mpg-experiment"


def read_data(uri: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    x = rng.normal(size=(n, 3))
    mpg = 20 + x @ np.array([3.0, -2.0, 0.5]) + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"cylinders": x[:, 0], "displacement": x[:, 1], "weight": x[:, 2], "MPG": mpg})


def train_test_split(dataset: pd.DataFrame):
    train = dataset.sample(frac=0.8, random_state=0)
    test = dataset.drop(train.index)
    return train.drop(columns="MPG"), test.drop(columns="MPG"), train.pop("MPG"), test.pop("MPG")


def normalize_dataset(train: pd.DataFrame, test: pd.DataFrame):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


class _Model:
    def __init__(self, num_units: int, dropout_rate: float) -> None:
        self.w = np.zeros(3)
        self.b = 0.0
        self.lr = 0.05 * (1 - dropout_rate) * (num_units / 16)

    def evaluate(self, x: pd.DataFrame, y: pd.Series, verbose: int = 0):
        err = x.to_numpy() @ self.w + self.b - y.to_numpy()
        mse = float(np.mean(err**2))
        return mse, float(np.mean(np.abs(err))), mse


def build_model(num_units: int, dropout_rate: float) -> _Model:
    return _Model(num_units, dropout_rate)


def train(model: _Model, x: pd.DataFrame, y: pd.Series, epochs: int):
    history: dict[str, list[float]] = {"mae": [], "mse": []}
    xs, ys = x.to_numpy(), y.to_numpy()
    for _ in range(epochs):
        err = xs @ model.w + model.b - ys
        model.w -= model.lr * 2 * xs.T @ err / len(ys)
        model.b -= model.lr * 2 * float(err.mean())
        err = xs @ model.w + model.b - ys
        history["mae"].append(float(np.mean(np.abs(err))))
        history["mse"].append(float(np.mean(err**2)))
    return SimpleNamespace(history=history, params={"verbose": 1, "epochs": epochs, "steps": len(ys) // 32})


def test_seed_tracking_code_runs_verbatim(tb) -> None:
    # --- verbatim from the post ---
    vertex_ai.init(project=PROJECT_ID, staging_bucket=BUCKET_URI)
    vertex_ai_tb = vertex_ai.Tensorboard.create()
    vertex_ai.init(experiment=EXPERIMENT_NAME, experiment_tensorboard=vertex_ai_tb)
    # Define experiment parameters
    parameters = [
        {"num_units": 16, "dropout_rate": 0.1, "epochs": 3},
        {"num_units": 16, "dropout_rate": 0.1, "epochs": 10},
        {"num_units": 16, "dropout_rate": 0.2, "epochs": 10},
        {"num_units": 32, "dropout_rate": 0.1, "epochs": 10},
        {"num_units": 32, "dropout_rate": 0.2, "epochs": 10},
    ]
    # Read data
    dataset = read_data(
        "http://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data"
    )
    # Split data
    train_dataset, test_dataset, train_labels, test_labels = train_test_split(dataset)
    # Normalize data
    normed_train_data, normed_test_data = normalize_dataset(train_dataset, test_dataset)
    # Run experiments
    for i, params in enumerate(parameters):
        # Initialize Vertex AI Experiment run
        vertex_ai.start_run(run=f"auto-mpg-local-run-{i}")
        # Log training parameters
        vertex_ai.log_params(params)
        # Build model
        model = build_model(
            num_units=params["num_units"], dropout_rate=params["dropout_rate"]
        )
        # Train model
        history = train(
            model,
            normed_train_data,
            train_labels,
            epochs=params["epochs"],
        )
        # Log additional parameters
        vertex_ai.log_params(history.params)
        # Log metrics per epochs
        for idx in range(0, history.params["epochs"]):
            vertex_ai.log_time_series_metrics(
                {
                    "train_mae": history.history["mae"][idx],
                    "train_mse": history.history["mse"][idx],
                }
            )
        # Log final metrics
        loss, mae, mse = model.evaluate(normed_test_data, test_labels, verbose=2)
        vertex_ai.log_metrics({"eval_loss": loss, "eval_mae": mae, "eval_mse": mse})
        vertex_ai.end_run()
    # --- end of verbatim ---

    df = vertex_ai.get_experiment_df()
    assert list(df.columns[:4]) == ["experiment_name", "run_name", "run_type", "state"]
    assert sorted(df.run_name) == [f"auto-mpg-local-run-{i}" for i in range(5)]
    assert set(df.state) == {"COMPLETE"}
    assert set(df.run_type) == {"system.ExperimentRun"}
    assert list(df["param.epochs"]) == [3, 10, 10, 10, 10]
    assert list(df["param.num_units"]) == [16, 16, 16, 32, 32]
    params_cols = [c for c in df.columns if c.startswith("param.")]
    assert params_cols == ["param.num_units", "param.dropout_rate", "param.epochs", "param.verbose", "param.steps"]
    assert {"metric.eval_loss", "metric.eval_mae", "metric.eval_mse"} <= set(df.columns)
    assert {"time_series_metric.train_mae", "time_series_metric.train_mse"} <= set(df.columns)

    run = vertex_ai.ExperimentRun("auto-mpg-local-run-1", EXPERIMENT_NAME)
    ts = run.get_time_series_data_frame()
    assert list(ts.columns) == ["step", "wall_time", "train_mae", "train_mse"]
    assert list(ts.step) == list(range(1, 11))
    # the last series value is what the run table shows
    assert math.isclose(df.loc[1, "time_series_metric.train_mae"], ts.train_mae.iloc[-1])

