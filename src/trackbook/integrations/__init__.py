"""Framework integrations: one line connects a training loop to trackbook.

- `trackbook.integrations.keras.Callback`: `model.fit(..., callbacks=[Callback()])` (Keras 3);
- `trackbook.integrations.lightning.Logger`: `Trainer(logger=Logger())` (PyTorch Lightning);
- `trackbook.integrations.huggingface.Callback`: `Trainer(..., callbacks=[Callback()])` (transformers);
- `trackbook.integrations.xgboost.Callback`: `xgb.train(..., callbacks=[Callback()])` (XGBoost);
- `trackbook.autolog()`: patches `fit` of scikit-learn estimators, XGBoost and Keras, no other code needed.

Each logs into the active run, or starts a run named after the model and the time (and ends it when
training ends). Importing this package imports no framework; each module imports its own framework and
raises an ImportError naming the package to install when it is missing. docs/integrations.md has the details.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = ("keras", "lightning", "huggingface", "xgboost", "sklearn", "autologging")

__all__ = ["autolog", *_MODULES]


def autolog(disable: bool = False) -> None:
    """Enable (or with `disable=True` undo) automatic logging of scikit-learn, XGBoost and Keras `fit`."""
    from .autologging import autolog as _autolog

    _autolog(disable=disable)


def __getattr__(name: str) -> Any:
    # `trackbook.integrations.keras` etc. load on first use, so importing this package loads no framework.
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
