"""SQL the importers (MLflow, TensorBoard) need beyond the core API. Mixed into `Store`."""

from __future__ import annotations


class ImportQueries:
    """Import bookkeeping statements of `Store`."""
