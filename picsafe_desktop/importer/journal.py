"""The import journal: which step each in-flight photo has reached, kept in the vault's SQLite.

One entry per photo, written *before* the step it announces, so that after a crash start-up
knows what may have happened:

    (no entry)  nothing was stored and the source is untouched (a crash inside vault.put
                leaves at most an encrypted blob without a row: the vault quarantines it)
    STORING     committed in vault.put's own transaction, with the item's row: stored and
                verified, the source untouched (entries of older versions were written before
                the put, so it may not have committed)
                -> in the vault (found by original hash and verified): go on to REMOVING
                -> not in the vault: roll back, i.e. forget the entry (the source is untouched)
    REMOVING    stored and verified; the source is being removed with the journaled random
                token (the wipe's rename target) -> finish the removal
    (cleared)   done. A finished photo's entry is cleared in the same commit as the next
                photo's entry (one commit fewer per photo), so a crash just after a wipe may
                leave its REMOVING entry: finishing it finds nothing left to remove.

The payload holds the source's locator (file path or device path). It is stored in the vault's
index, whose journal payloads the vault encrypts, because file names can name patients.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PREFIX = "import-"
STORING = "storing"
REMOVING = "removing"


@dataclass(frozen=True)
class Entry:
    entry_id: str
    step: str
    batch_id: str
    source: dict[str, Any]
    original_sha256: str
    clean_sha256: str | None = None
    item_id: str | None = None
    token: str | None = None

    def payload(self) -> dict[str, Any]:
        data = {
            "batch_id": self.batch_id,
            "source": self.source,
            "original_sha256": self.original_sha256,
            "clean_sha256": self.clean_sha256,
        }
        if self.item_id is not None:
            data["item_id"] = self.item_id
        if self.token is not None:
            data["token"] = self.token
        return data

    @classmethod
    def from_row(cls, entry_id: str, step: str, payload: dict[str, Any]) -> Entry:
        return cls(
            entry_id=entry_id,
            step=step,
            batch_id=payload["batch_id"],
            source=payload["source"],
            original_sha256=payload["original_sha256"],
            clean_sha256=payload.get("clean_sha256"),
            item_id=payload.get("item_id"),
            token=payload.get("token"),
        )


def new_entry_id() -> str:
    return PREFIX + uuid.uuid4().hex


def new_token() -> str:
    return uuid.uuid4().hex


class Journal:
    """Thin typed view over the vault's journal API, limited to the importer's entries."""

    def __init__(self, vault: Any) -> None:
        self.vault = vault

    def write(self, entry: Entry) -> None:
        self.vault.journal_set(entry.entry_id, entry.step, entry.payload())

    def clear(self, entry: Entry) -> None:
        self.vault.journal_clear(entry.entry_id)

    def update(self, entry: Entry | None = None, *, clear: Sequence[Entry] = ()) -> None:
        """Write `entry` and clear the `clear` entries in one commit."""
        write = [(entry.entry_id, entry.step, entry.payload())] if entry is not None else []
        self.vault.journal_update(write, [e.entry_id for e in clear])

    def write_in(self, conn: Any, entry: Entry, *, clear: Sequence[Entry] = ()) -> None:
        """Write `entry` (and clear `clear`) inside the vault transaction `conn` is in."""
        self.vault.journal_set_in(
            conn, entry.entry_id, entry.step, entry.payload(), [e.entry_id for e in clear]
        )

    def pending(self) -> list[Entry]:
        return [
            Entry.from_row(entry_id, step, payload)
            for entry_id, step, payload in self.vault.journal_entries()
            if entry_id.startswith(PREFIX)
        ]
