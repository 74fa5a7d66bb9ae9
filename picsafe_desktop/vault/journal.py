"""The import journal: encrypted per-photo progress records for crash recovery (importer).

Journal changes do not move the vault's generation: they are not part of its authenticated
state (docs/vault-format.md, 6.4). Part of the Vault class (vault.py).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from picsafe_desktop.vault.crypto import (
    open_field,
    seal_field,
)
from picsafe_desktop.vault.records import (
    _json_bytes,
    _now,
    _subject,
    _token,
)

log = logging.getLogger(__name__)


class JournalMixin:
    def _journal_aad(self, entry_id: str, step: str) -> bytes:
        return b"picsafe-vault/v1/journal\x00" + entry_id.encode() + b"\x00" + step.encode()

    def journal_set(self, entry_id: str, step: str, payload: dict[str, Any]) -> None:
        self.journal_update([(entry_id, step, payload)])

    def journal_update(
        self,
        entries: Sequence[tuple[str, str, dict[str, Any]]] = (),
        clear: Sequence[str] = (),
    ) -> None:
        """Set `entries` (entry_id, step, payload) and clear the ids in `clear`: one commit."""
        rows = [self._journal_row(*entry) for entry in entries]
        with self._tx(bump=False) as conn:
            self._journal_apply(conn, rows, clear)

    def journal_set_in(
        self,
        conn: sqlite3.Connection,
        entry_id: str,
        step: str,
        payload: dict[str, Any],
        clear: Sequence[str] = (),
    ) -> None:
        """journal_update inside a write transaction the caller is given (`put`'s `then`):
        the entry commits, or not, together with that change."""
        self._journal_apply(conn, [self._journal_row(entry_id, step, payload)], clear)

    def _journal_row(self, entry_id: str, step: str, payload: dict[str, Any]) -> tuple:
        _subject(entry_id)
        _token(step, "a journal step")
        sealed = seal_field(
            self._k().field,
            # Journal payloads hold source paths: on POSIX any bytes but "/" and NUL.
            _json_bytes(payload, "journal payload", ascii_only=True),
            self._journal_aad(entry_id, step),
        )
        return (entry_id, step, _now(), sealed)

    @staticmethod
    def _journal_apply(conn: sqlite3.Connection, rows: list[tuple], clear: Sequence[str]) -> None:
        for entry_id in clear:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))
        conn.executemany(
            "INSERT OR REPLACE INTO journal (entry_id, step, updated_at, payload) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )

    def journal_entries(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._query("SELECT entry_id, step, payload FROM journal ORDER BY updated_at")
        key = self._k().field
        return [
            (
                entry_id,
                step,
                json.loads(
                    open_field(
                        key,
                        payload,
                        self._journal_aad(entry_id, step),
                        f"{self._index_path}: journal entry {entry_id}",
                    )
                ),
            )
            for entry_id, step, payload in rows
        ]

    def journal_clear(self, entry_id: str) -> None:
        with self._tx(bump=False) as conn:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))
