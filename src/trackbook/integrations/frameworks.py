"""Importing an optional framework, with an ImportError that says what to install when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA = "pip install 'trackbook[integrations]'"


def require(module: str, package: str, feature: str) -> ModuleType:
    """Import `module`, or raise ImportError naming the pip `package` that `feature` needs."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        top = module.split(".")[0]
        if missing is not None and missing.split(".")[0] != top:
            # The framework is installed but one of its own dependencies is not (e.g. Keras without a backend).
            raise ImportError(
                f"{feature} could not import {module}: {exc}. Install what it needs, e.g. pip install {missing}"
            ) from exc
        raise ImportError(
            f"{feature} needs {package}, which is not installed: pip install '{package}' (or {EXTRA})"
        ) from exc
