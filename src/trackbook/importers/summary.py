"""What an import did, as an object to inspect and as text to print."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

NOTES_SHOWN = 20  # more notes than this are counted, not listed


@dataclass
class ImportSummary:
    """The outcome of `import_mlflow` / `import_tensorboard`; `str()` gives the report the CLI prints.

    `runs_imported` are new runs, `runs_updated` runs imported before whose source has changed since (their
    new points were added), `runs_unchanged` runs imported before and skipped. Counts of params, metrics,
    series and points cover the imported and updated runs.
    """

    tool: str
    source: str
    store: Path
    experiments: dict[str, int] = field(default_factory=dict)  # experiment -> runs imported or updated in it
    experiments_created: list[str] = field(default_factory=list)
    runs_imported: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    runs_left_out: int = 0  # deleted in the source
    params: int = 0
    metrics: int = 0
    series: int = 0
    points: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def runs(self) -> int:
        """Runs written by this import (new or updated)."""
        return self.runs_imported + self.runs_updated

    def __str__(self) -> str:
        title = {"mlflow": "MLflow", "tensorboard": "TensorBoard"}.get(self.tool, self.tool)
        lines = [f"Imported from {title} {self.source} into {self.store} in {self.seconds:.1f} s"]
        if self.experiments:
            listed = ", ".join(
                f"{name} ({n} run{'s' if n != 1 else ''}{', new' if name in self.experiments_created else ''})"
                for name, n in self.experiments.items()
            )
            lines.append(f"  experiments: {listed}")
        runs = f"  runs: {self.runs_imported} imported, {self.runs_updated} updated"
        runs += f", {self.runs_unchanged} already imported and unchanged (skipped)"
        if self.runs_left_out:
            runs += f", {self.runs_left_out} deleted in the source (left out)"
        lines.append(runs)
        lines.append(
            f"  values: {self.params:,} params, {self.metrics:,} metrics, {self.series:,} series with "
            f"{self.points:,} points"
        )
        if not self.runs and not self.runs_unchanged:
            lines.append("  nothing to import was found")
        if self.notes:
            lines.append("  notes:")
            lines += [f"    - {note}" for note in self.notes[:NOTES_SHOWN]]
            if len(self.notes) > NOTES_SHOWN:
                lines.append(f"    - ... and {len(self.notes) - NOTES_SHOWN} more (see .notes)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<ImportSummary {self.tool} {self.source}: {self.runs_imported} imported, {self.runs_updated} updated, "
            f"{self.runs_unchanged} unchanged, {self.points:,} points>"
        )
