"""Progress and results of an import as plain objects passed to a callback.

The UI adapts them to Qt signals and a progress bar; the CLI prints them. `display` fields are
the local user's own file names: show them on screen, never log them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    IMPORTED = "imported"  # stored, verified; source removed unless `source_note` says why not
    DUPLICATE = "duplicate"  # the same original is already in the vault; not stored again
    FAILED = "failed"  # not stored; the source copy is untouched
    REFUSED = "refused"  # a source entry that is not importable (symlink, FIFO, other type)


@dataclass(frozen=True)
class FileResult:
    display: str
    outcome: Outcome
    item_id: str | None = None
    message: str = ""  # why it failed / was refused, or which item it duplicates
    source_removed: bool = False
    source_note: str = ""  # set when a stored photo's source could not be removed: act on it

    @property
    def needs_manual_removal(self) -> bool:
        return bool(self.source_note)


@dataclass
class BatchResult:
    batch_id: str | None  # None when nothing new was stored (all duplicates or failures)
    source_label: str
    results: list[FileResult] = field(default_factory=list)
    #: set when the vault stopped taking writes mid-batch (what happened and what to do)
    vault_fault: str = ""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def item_ids(self) -> list[str]:
        return [r.item_id for r in self.results if r.outcome == Outcome.IMPORTED and r.item_id]

    @property
    def manual_removals(self) -> list[FileResult]:
        return [r for r in self.results if r.needs_manual_removal]

    @property
    def ok(self) -> bool:
        """Nothing failed and every source that should be gone is gone."""
        return not any(
            r.outcome in (Outcome.FAILED, Outcome.REFUSED) or r.needs_manual_removal
            for r in self.results
        )


@dataclass(frozen=True)
class BatchStarted:
    source_label: str
    total: int
    total_bytes: int


@dataclass(frozen=True)
class FileDone:
    result: FileResult
    done: int
    total: int
    done_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class BatchFinished:
    result: BatchResult


@dataclass(frozen=True)
class ResumeReport:
    """What start-up recovery did with photos a crash left half-imported."""

    rolled_back: int = 0  # never reached the vault: still at their source, will import again
    completed: int = 0  # were in the vault: verified, and their source removal finished
    notes: tuple[str, ...] = ()  # things the user must act on (source left on a device ...)


ImportEvent = BatchStarted | FileDone | BatchFinished
EventCallback = Callable[[ImportEvent], None]
