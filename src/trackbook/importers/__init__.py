"""Bring history over from other trackers: `import_mlflow(uri)` and `import_tensorboard(logdir)`.

Both read the other tool's files directly (no server), write each run with every point in one transaction,
remember where each run came from so that importing again adds nothing (runs changed in the source since
are brought up to date), and return an `ImportSummary`. The command line runs the same functions:
`trackbook import mlflow URI` and `trackbook import tensorboard LOGDIR`. docs/integrations.md has the details.
"""

from __future__ import annotations

from .mlflow import import_mlflow
from .summary import ImportSummary
from .tensorboard import import_tensorboard

__all__ = ["ImportSummary", "import_mlflow", "import_tensorboard"]
