"""trackbook.autolog(): real scikit-learn, XGBoost and Keras trainings recorded with no other code."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on the torch wheel; must precede importing keras

import numpy as np
import pytest

import trackbook
from support import PYTHON, python_env
from trackbook.integrations import autologging

NAME = r"-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{5}$"


@pytest.fixture
def auto(tb: Any) -> Iterator[Any]:
    """trackbook with an experiment and autologging on; autologging is off again afterwards, whatever happens."""
    tb.init(experiment="auto")
    tb.autolog()
    try:
        yield tb
    finally:
        if autologging.is_enabled():
            tb.autolog(disable=True)


def runs(tb: Any) -> list[Any]:
    return tb.ExperimentRun.list(experiment="auto")


def data(n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, 4))
    return x, (x[:, 0] + 0.3 * rng.random(n) > 0.6).astype(int)


def test_autolog_follows_vertex_errors(tb) -> None:
    with pytest.raises(ValueError, match=r"^No experiment set\. Make sure to call aiplatform\.init\(experiment="):
        tb.autolog()
    with pytest.raises(ValueError, match=r"^Autologging is not enabled\. Enable autologging by calling"):
        tb.autolog(disable=True)
    with pytest.raises(TypeError, match="disable must be a bool, got str"):
        tb.autolog(disable="yes")
    assert not autologging.is_enabled()


def test_autolog_records_a_scikit_learn_fit_and_a_later_score(auto) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, log_loss

    x, y = data()
    model = LogisticRegression(C=0.5).fit(x[:60], y[:60])
    test_score = model.score(x[60:], y[60:])
    (run,) = runs(auto)
    assert re.fullmatch("LogisticRegression" + NAME, run.name) and run.get_state() == "COMPLETE"
    params = run.get_params()
    assert params["C"] == 0.5 and params["solver"] == "lbfgs" and params["class_weight"] == "None"
    metrics = run.get_metrics()
    assert metrics["training_accuracy_score"] == accuracy_score(y[:60], model.predict(x[:60]))
    assert metrics["training_log_loss"] == log_loss(y[:60], model.predict_proba(x[:60]))
    assert metrics["training_score"] == metrics["training_accuracy_score"] and "training_roc_auc" in metrics
    assert metrics["eval_score"] == test_score
    row = auto.get_experiment_df().iloc[0]
    assert row["param.C"] == 0.5 and row["metric.eval_score"] == test_score


def test_autolog_records_regressors_under_mlflows_metric_names(auto) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error, r2_score

    x, _ = data()
    y = x @ np.array([1.0, -2.0, 0.5, 0.0])
    model = Ridge(alpha=0.1).fit(x, y)
    metrics = runs(auto)[0].get_metrics()
    assert metrics["training_mean_squared_error"] == mean_squared_error(y, model.predict(x))
    assert metrics["training_root_mean_squared_error"] == pytest.approx(metrics["training_mean_squared_error"] ** 0.5)
    assert metrics["training_r2_score"] == r2_score(y, model.predict(x))


def test_autolog_records_only_the_outermost_fit_of_a_search(auto) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = data()
    search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()),
                          {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3).fit(x, y)
    (run,) = runs(auto)  # not one run per candidate and fold
    assert run.name.startswith("GridSearchCV-")
    params, metrics = run.get_params(), run.get_metrics()
    assert params["best_logisticregression__C"] == search.best_params_["logisticregression__C"]
    assert params["cv"] == 3 and params["estimator__logisticregression__C"] == 1.0
    assert metrics["best_cv_score"] == search.best_score_


def test_autolog_logs_into_the_active_run_and_leaves_it_open(auto) -> None:
    from sklearn.tree import DecisionTreeClassifier

    mine = auto.start_run("mine")
    x, y = data()
    DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    assert [r.name for r in runs(auto)] == ["mine"] and mine.get_state() == "RUNNING"
    assert mine.get_params()["max_depth"] == 3 and mine.get_metrics()["training_accuracy_score"] > 0.5
    auto.end_run()


def test_a_failing_fit_raises_as_before_and_its_run_is_failed(auto) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = data()
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(np.full_like(x, np.nan), y)
    (run,) = runs(auto)
    assert run.get_state() == "FAILED"


def test_an_interrupted_fit_is_cancelled(auto, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.linear_model import LogisticRegression

    def interrupted(*args: object, **kwargs: object) -> None:  # Ctrl-C while the solver runs
        raise KeyboardInterrupt

    monkeypatch.setattr("sklearn.linear_model._logistic._logistic_regression_path", interrupted)
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        LogisticRegression().fit(x, y)
    (run,) = runs(auto)
    assert run.get_state() == "CANCELLED"


def test_autolog_records_xgboost_train_and_its_scikit_learn_api(auto) -> None:
    import xgboost as xgb

    x, y = data()
    train, valid = xgb.DMatrix(x[:60], label=y[:60]), xgb.DMatrix(x[60:], label=y[60:])
    result: dict[str, Any] = {}
    xgb.train({"max_depth": 2, "objective": "binary:logistic", "nthread": 1}, train, 5,
              evals=[(train, "train"), (valid, "valid")], evals_result=result, verbose_eval=False)
    regressor = xgb.XGBRegressor(n_estimators=4, max_depth=2, n_jobs=1)
    regressor.fit(x[:60], x[:60, 0], eval_set=[(x[60:], x[60:, 0])], verbose=False)
    first, second = runs(auto)
    assert re.fullmatch("xgboost" + NAME, first.name) and second.name.startswith("XGBRegressor-")
    assert first.get_params()["max_depth"] == 2 and first.get_params()["num_boost_round"] == 5
    history = auto.history(runs=first.name)
    got = history[history.metric == "valid-logloss"]
    assert got.step.tolist() == [0, 1, 2, 3, 4] and got.value.tolist() == result["valid"]["logloss"]
    params, metrics = second.get_params(), second.get_metrics()
    assert params["n_estimators"] == 4 and params["objective"] == "reg:squarederror" and "gamma" in params
    assert metrics["validation_0-rmse"] == regressor.evals_result()["validation_0"]["rmse"][-1]
    assert metrics["training_r2_score"] == pytest.approx(regressor.score(x[:60], x[:60, 0]))
    assert metrics["num_boosted_rounds"] == 4 and all(r.get_state() == "COMPLETE" for r in (first, second))


def test_autolog_records_a_keras_fit_with_its_arguments_and_validation(auto) -> None:
    import keras

    from trackbook.integrations.keras import Callback

    keras.utils.set_random_seed(0)
    x, _ = data(64)
    y = x.sum(axis=1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)], name="tiny")
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    (run,) = runs(auto)
    assert re.fullmatch("tiny" + NAME, run.name) and run.get_state() == "COMPLETE"
    params = run.get_params()
    assert params["batch_size"] == 16 and params["epochs"] == 2 and params["validation_split"] == 0.25
    assert params["optimizer"] == "sgd" and params["optimizer.learning_rate"] == 0.01
    series = run.get_time_series_data_frame()
    assert list(series.val_loss) == history.history["val_loss"] and list(series.step) == [1, 2]
    # a fit that already carries trackbook's callback is left to it: one run, not two
    model.fit(x, y, epochs=1, verbose=0, callbacks=[Callback(run_name="by-hand")])
    assert [r.name for r in runs(auto)] == [run.name, "by-hand"]


def test_disable_restores_every_original_method(tb) -> None:
    import keras
    import xgboost
    from sklearn.base import ClassifierMixin
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection._search import BaseSearchCV

    def methods() -> list[Any]:
        return [LogisticRegression.fit, BaseSearchCV.fit, ClassifierMixin.score, xgboost.train,
                xgboost.sklearn.XGBClassifier.fit, keras.Model.__dict__.get("fit")]

    before = methods()
    tb.init(experiment="auto")
    tb.autolog()
    tb.autolog()  # enabling twice is harmless
    assert all(a is not b for a, b in zip(methods(), before))
    tb.autolog(disable=True)
    assert all(a is b for a, b in zip(methods(), before))
    LinearRegression().fit(*data())
    assert runs(tb) == []
    tb.autolog()  # and it can be enabled again
    try:
        LinearRegression().fit(*data())
    finally:
        tb.autolog(disable=True)
    assert len(runs(tb)) == 1


def test_frameworks_imported_after_autolog_are_patched_when_imported(tmp_path) -> None:
    code = (
        "import sys, trackbook\n"
        f"trackbook.init(experiment='late', store={str(tmp_path / 'late.db')!r})\n"
        "trackbook.autolog()\n"
        "assert 'sklearn' not in sys.modules and 'xgboost' not in sys.modules\n"
        "import numpy as np\n"
        "from sklearn.linear_model import LinearRegression\n"
        "import xgboost\n"
        "x = np.arange(20.0).reshape(10, 2)\n"
        "LinearRegression().fit(x, x[:, 0] * 2)\n"
        "xgboost.XGBRegressor(n_estimators=2, n_jobs=1).fit(x, x[:, 0])\n"
        "print([r.name.split('-')[0] for r in trackbook.ExperimentRun.list()])\n"
        "print(trackbook.ExperimentRun.list()[0].get_metrics()['training_r2_score'])\n"
    )
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["['LinearRegression', 'XGBRegressor']", "1.0"]


def test_an_experiment_deleted_under_autolog_warns_instead_of_breaking_training(auto) -> None:
    from sklearn.linear_model import LinearRegression

    trackbook.get_current_experiment().delete()
    with pytest.warns(trackbook.TrackbookWarning, match="this training is not recorded"):
        model = LinearRegression().fit(*data())
    assert hasattr(model, "coef_")
