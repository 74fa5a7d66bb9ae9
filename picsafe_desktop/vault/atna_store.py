"""The ATNA spool: audit messages waiting for the hospital's audit record repository.

Each message (a DICOM audit message carrying patient identifiers in its ParticipantObject
elements) is sealed under the field key with its spool number as associated data; the plain
columns are that number and nothing else. `atna_cursor` is the last audit row already turned
into a spooled message, so every row is forwarded and a restart neither skips nor repeats one
(the cursor moves in the same transaction that spools the messages). Like the journal and the
outbox, the spool is delivery bookkeeping outside the authenticated state. Part of the Vault.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from picsafe_desktop.vault.crypto import Kind, open_bytes, open_field, seal_field
from picsafe_desktop.vault.records import AuditRow, _oid

ATNA_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS atna_spool (n INTEGER PRIMARY KEY AUTOINCREMENT, "
    "message BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS atna_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


class AtnaMixin:
    def _atna_aad(self, n: int) -> bytes:
        return b"picsafe-vault/v1/atna\x00" + str(n).encode()

    def _atna_tables(self) -> bool:
        rows = self._query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'atna_%'"
        )
        return rows[0][0] == 2

    def atna_cursor(self) -> int | None:
        """The last audit row spooled; None before the first use (the caller decides where
        forwarding starts)."""
        if not self._atna_tables():
            return None
        rows = self._query("SELECT value FROM atna_state WHERE key = 'cursor'")
        return rows[0][0] if rows else None

    def atna_spool(self, messages: Sequence[bytes], cursor: int | None = None) -> None:
        """Spool `messages` (and move the cursor to `cursor`) in one transaction."""
        key = self._k().field
        with self._tx(bump=False) as conn:
            for statement in ATNA_SCHEMA:
                conn.execute(statement)
            for message in messages:
                (n,) = conn.execute("SELECT coalesce(max(n), 0) + 1 FROM atna_spool").fetchone()
                # AUTOINCREMENT never reuses a number, so (n, key) never seals twice.
                (seq,) = conn.execute(
                    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
                    "'atna_spool'), 0) + 1"
                ).fetchone()
                n = max(n, seq)
                conn.execute(
                    "INSERT INTO atna_spool (n, message) VALUES (?, ?)",
                    (n, seal_field(key, message, self._atna_aad(n))),
                )
            if cursor is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO atna_state (key, value) VALUES ('cursor', ?)",
                    (int(cursor),),
                )

    def atna_waiting(self, limit: int = 500) -> list[tuple[int, bytes]]:
        """The oldest spooled messages, in order: (number, message)."""
        if not self._atna_tables():
            return []
        key = self._k().field
        rows = self._query("SELECT n, message FROM atna_spool ORDER BY n LIMIT ?", (limit,))
        return [
            (n, open_field(key, sealed, self._atna_aad(n), f"{self._index_path}: ATNA {n}"))
            for n, sealed in rows
        ]

    def atna_count(self) -> int:
        if not self._atna_tables():
            return 0
        return self._query("SELECT count(*) FROM atna_spool")[0][0]

    def atna_sent(self, numbers: Sequence[int]) -> None:
        """Delivered to the repository: removed (secure_delete zeroes the sealed rows)."""
        with self._tx(bump=False) as conn:
            conn.executemany("DELETE FROM atna_spool WHERE n = ?", [(n,) for n in numbers])

    def consent_patient(self, consent_id: str) -> dict[str, Any]:
        """The consent's patient ({"mrn", "name", ...}) for an audit message's Patient
        ParticipantObject. Not itself audited: it is the audit trail's own read, and auditing
        it would audit the forwarding of every audit row again, without end."""
        row = self._consent_row(consent_id)
        key = self._data_key(Kind.CONSENT, consent_id, row[5])
        plain = open_bytes(
            key, Kind.CONSENT, _oid(consent_id), row[6], f"{self._index_path}: consent {consent_id}"
        )
        patient = json.loads(plain).get("patient") or {}
        return patient if isinstance(patient, dict) else {}

    def audit_rows_after(self, seq: int, limit: int = 1000) -> list[AuditRow]:
        """Audit rows with a sequence number above `seq`, oldest first (the forwarder's read;
        audit_rows() reads the whole log)."""
        key = self._k().field
        out = []
        for n, at, event, subject, body in self._query(
            "SELECT seq, at, event, subject, body FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
            (int(seq), int(limit)),
        ):
            content = json.loads(
                open_field(
                    key,
                    body,
                    b"picsafe-vault/v1/audit\x00" + str(n).encode(),
                    f"{self._index_path}: audit row {n}",
                )
            )
            out.append(
                AuditRow(
                    n,
                    dt.datetime.fromisoformat(at),
                    event,
                    content["actor"],
                    subject,
                    content["details"],
                )
            )
        return out
