"""The import journal: encrypted per-photo progress records for crash recovery (importer).

A resume acts on these rows - it wipes the source a REMOVING row names, and forgets or
destroys what a STORING row says was half-stored - so since format 3 every row is part of the
vault's authenticated state (docs/vault-format.md, 6.4): each change moves the generation,
and a row edited, removed or written back outside PicSafe opens the vault read-only, naming
it. An untrusted vault never hands its journal to a resume (`journal_entries` refuses); an
admin's `vault repair --accept-state` moves such rows out to quarantine/ (still sealed),
never acting on them. Part of the Vault class (vault.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Sequence
from typing import Any

from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.vault import quarantine
from picsafe_desktop.vault import state as vault_state
from picsafe_desktop.vault.crypto import (
    open_field,
    same,
    seal_field,
)
from picsafe_desktop.vault.errors import IntegrityError
from picsafe_desktop.vault.records import (
    _json_bytes,
    _now,
    _subject,
    _token,
)

log = logging.getLogger(__name__)
_BINARY = getattr(os, "O_BINARY", 0)


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
        with self._tx() as conn:
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

    def _journal_apply(
        self, conn: sqlite3.Connection, rows: list[tuple], clear: Sequence[str]
    ) -> None:
        for entry_id in clear:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))
            self._touched.add(("journal", entry_id))
        conn.executemany(
            "INSERT OR REPLACE INTO journal (entry_id, step, updated_at, payload) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        # Journal rows are entries of the authenticated state (a resume acts on them).
        self._touched.update(("journal", row[0]) for row in rows)

    def journal_entries(self) -> list[tuple[str, str, dict[str, Any]]]:
        """The journal, to act on: refused (VaultReadOnly) while the vault differs from its
        authenticated state, since a row written or edited outside PicSafe could make a resume
        wipe or drop the wrong thing."""
        if self._trust_problems:
            self._refuse_writes()
        return self._journal_rows()

    def _journal_rows(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every row decrypted (for `vault verify`, which only checks them)."""
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

    def _journal_row_opens(self, entry_id: str, step: str, payload: bytes) -> bool:
        try:
            open_field(self._k().field, payload, self._journal_aad(entry_id, step), "journal")
        except (IntegrityError, ValueError, TypeError):
            return False
        return True

    def _quarantine_journal(self, conn: sqlite3.Connection) -> list[str]:
        """Inside `vault repair --accept-state`'s transaction: move every journal row that does
        not match its authenticated entry (added, edited or written back outside PicSafe) out
        of the index into quarantine/ - its payload still sealed - so no resume ever acts on
        it. Returns the files written. A row deleted outside PicSafe has nothing to move; it
        is named among the differences."""
        stored = vault_state.stored_entries(conn)
        actual = vault_state.row_entries(conn, self._k().state, ("journal",))
        moved = []
        for key, value in sorted(actual.items()):
            if key in stored and same(stored[key], value):
                continue
            entry_id = key[1]
            step, updated_at, payload = conn.execute(
                "SELECT step, updated_at, payload FROM journal WHERE entry_id = ?", (entry_id,)
            ).fetchone()
            # The name never comes from the row itself (written outside PicSafe: any text).
            name = "journal-" + hashlib.sha256(entry_id.encode()).hexdigest()[:32] + ".json"
            target_dir = quarantine.folder(self.path)
            target_dir.mkdir(mode=0o700, exist_ok=True)
            target = target_dir / name
            body = json.dumps(
                {
                    "entry_id": entry_id,
                    "step": step,
                    "updated_at": updated_at,
                    "payload_sealed": base64.b64encode(bytes(payload)).decode("ascii"),
                },
                ensure_ascii=True,
            ).encode()
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, 0o600)
            with open(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            fsync_dir(target_dir)
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))
            moved.append(name)
        return moved

    def journal_clear(self, entry_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))
            self._touched.add(("journal", entry_id))
