"""The outbox table: sends to the PACS and the FHIR server waiting for delivery.

Plain columns hold only an id, the destination kind ("pacs"/"fhir"), a photo count, the
state, the attempt count and times; what is sent, to whom and for which patient is sealed
(AES-GCM under the field key, the entry id and kind as associated data), like the journal.
Outbox changes do not move the vault's generation: like the journal they are delivery
bookkeeping, not part of its authenticated state; every delivery is audited. The table is
created on first use, so vaults made before it need no upgrade. Part of the Vault class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from picsafe_desktop.vault.crypto import open_field, seal_field
from picsafe_desktop.vault.records import _json_bytes, _now, _subject, _token

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    entry_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    photos INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    next_at REAL NOT NULL,
    payload BLOB NOT NULL
);
"""

WAITING, HELD = "waiting", "held"  # held: refused for a reason a person must look at


@dataclass(frozen=True)
class OutboxEntry:
    entry_id: str
    kind: str
    photos: int
    state: str
    attempts: int
    created_at: str
    next_at: float  # time.time() of the next automatic attempt
    payload: dict[str, Any]


class OutboxMixin:
    def _outbox_aad(self, entry_id: str, kind: str) -> bytes:
        return b"picsafe-vault/v1/outbox\x00" + entry_id.encode() + b"\x00" + kind.encode()

    def _outbox_seal(self, entry_id: str, kind: str, payload: dict[str, Any]) -> bytes:
        return seal_field(
            self._k().field,
            _json_bytes(payload, "outbox payload", ascii_only=True),
            self._outbox_aad(entry_id, kind),
        )

    def outbox_put(
        self, entry_id: str, kind: str, photos: int, payload: dict[str, Any], next_at: float
    ) -> None:
        _subject(entry_id)
        _token(kind, "an outbox kind")
        sealed = self._outbox_seal(entry_id, kind, payload)
        with self._tx(bump=False) as conn:
            conn.execute(OUTBOX_SCHEMA)
            conn.execute(
                "INSERT INTO outbox (entry_id, kind, photos, state, attempts, created_at, "
                "next_at, payload) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (entry_id, kind, int(photos), WAITING, _now(), float(next_at), sealed),
            )

    def outbox_update(
        self, entry_id: str, *, state: str, attempts: int, next_at: float, payload: dict | None
    ) -> None:
        """Record an attempt's result; `payload` replaces the sealed payload when given."""
        _token(state, "an outbox state")
        with self._tx(bump=False) as conn:
            if payload is not None:
                (kind,) = conn.execute(
                    "SELECT kind FROM outbox WHERE entry_id = ?", (entry_id,)
                ).fetchone()
                conn.execute(
                    "UPDATE outbox SET payload = ? WHERE entry_id = ?",
                    (self._outbox_seal(entry_id, kind, payload), entry_id),
                )
            conn.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_at = ? WHERE entry_id = ?",
                (state, int(attempts), float(next_at), entry_id),
            )

    def outbox_remove(self, entry_id: str) -> None:
        """Delivered: the sealed payload goes (secure_delete zeroes it); the audit log keeps
        the record of the delivery."""
        with self._tx(bump=False) as conn:
            conn.execute("DELETE FROM outbox WHERE entry_id = ?", (entry_id,))

    def outbox_entries(self) -> list[OutboxEntry]:
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'"):
            return []  # nothing was ever queued in this vault
        rows = self._query(
            "SELECT entry_id, kind, photos, state, attempts, created_at, next_at, payload "
            "FROM outbox ORDER BY created_at, entry_id"
        )
        key = self._k().field
        return [
            OutboxEntry(
                entry_id,
                kind,
                photos,
                state,
                attempts,
                created_at,
                next_at,
                json.loads(
                    open_field(
                        key,
                        payload,
                        self._outbox_aad(entry_id, kind),
                        f"{self._index_path}: outbox entry {entry_id}",
                    )
                ),
            )
            for entry_id, kind, photos, state, attempts, created_at, next_at, payload in rows
        ]
