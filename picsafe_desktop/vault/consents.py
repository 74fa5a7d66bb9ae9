"""Consent records: store, find by MRN, read (audited), withdraw and crypto-shred.

Part of the Vault class (vault.py); see items.py for how changes reach the authenticated state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from typing import Any

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault.crypto import (
    Kind,
    mac,
    open_bytes,
    same,
    seal_bytes,
    seal_field,
    wrap_aad,
)
from picsafe_desktop.vault.errors import (
    IntegrityError,
    NotFound,
    VaultError,
)
from picsafe_desktop.vault.records import (
    AuditRow,
    _json_bytes,
    _new_id,
    _normalize_mrn,
    _now,
    _oid,
)

log = logging.getLogger(__name__)


class ConsentsMixin:
    def put_consent(
        self,
        batch_id: str,
        record: dict[str, Any],
        *,
        mrn: str,
        actor: str,
        consent_id: str | None = None,
    ) -> str:
        """Store a consent record. `consent_id` (32 lower-case hex digits, new to this vault)
        lets the record carry the same id the vault and its audit log use for it."""
        plain = _json_bytes(record, "consent record")
        keys = self._k()
        mrn_mac = mac(keys.lookup, "mrn", _normalize_mrn(mrn))
        if consent_id is None:
            consent_id = _new_id()
        elif not isinstance(consent_id, str) or not re.fullmatch(r"[0-9a-f]{32}", consent_id):
            raise ValueError("a consent id is 32 lower-case hex digits")
        data_key = os.urandom(32)
        sealed = seal_bytes(data_key, Kind.CONSENT, _oid(consent_id), plain)
        wrapped = seal_field(keys.wrap, data_key, wrap_aad(Kind.CONSENT, _oid(consent_id)))
        at = _now()
        with self._tx() as conn:
            self._require_batch(conn, batch_id)
            if conn.execute(
                "SELECT 1 FROM consents WHERE consent_id = ?", (consent_id,)
            ).fetchone():
                raise VaultError(
                    f"consent {consent_id} is already in vault {self.path}; a new consent "
                    "record needs a new id"
                )
            conn.execute(
                "INSERT INTO consents (consent_id, batch_id, created_at, mrn_mac, mac, "
                "wrapped_key, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    consent_id,
                    batch_id,
                    at,
                    mrn_mac,
                    mac(keys.row, "consent", consent_id, batch_id, at, mrn_mac),
                    wrapped,
                    sealed,
                ),
            )
            self._touched.add(("consent", consent_id))
            self._audit_in(conn, "consent", actor, consent_id, {"batch_id": batch_id})
        return consent_id

    def _consent_row(self, consent_id: str) -> tuple:
        rows = self._query(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac, wrapped_key, "
            "record FROM consents WHERE consent_id = ?",
            (consent_id,),
        )
        if not rows:
            raise NotFound(f"no consent {consent_id} in vault {self.path}")
        self._check_consent(rows[0])
        return rows[0]

    def _check_consent(self, row: tuple) -> None:
        consent_id, batch_id, at, mrn_mac, digest = row[:5]
        if not same(digest, self._k().row_mac.mac("consent", consent_id, batch_id, at, mrn_mac)):
            raise IntegrityError(
                f"{self._index_path}: the index row of consent {consent_id} "
                "was modified outside PicSafe"
            )

    def read_consent(self, consent_id: str, *, actor: str) -> dict[str, Any]:
        self._refuse_writes()  # no patient data from a vault that cannot audit or is untrusted
        row = self._consent_row(consent_id)
        key = self._data_key(Kind.CONSENT, consent_id, row[5])
        plain = open_bytes(
            key, Kind.CONSENT, _oid(consent_id), row[6], f"{self._index_path}: consent {consent_id}"
        )
        with self._tx() as conn:
            self._audit_in(conn, "consent_view", actor, consent_id, None)
        return json.loads(plain)

    def consents(self) -> list[tuple[str, str, dt.datetime]]:
        """(consent id, batch id, created at) of every consent row that verifies, oldest first
        (index columns only: no record is decrypted)."""
        rows = self._query(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac FROM consents "
            "ORDER BY created_at, consent_id"
        )
        for row in rows:
            self._check_consent(row)
        return [(r[0], r[1], dt.datetime.fromisoformat(r[2])) for r in rows]

    def exports_of(self, consent_id: str) -> list[AuditRow]:
        """The audited exports made under a consent (for follow-up when it is withdrawn)."""
        return [
            row
            for row in self.audit_rows()
            if row.event == "export" and row.details.get("consent_id") == consent_id
        ]

    def consent_batch(self, consent_id: str) -> str:
        return self._consent_row(consent_id)[1]

    def find_by_mrn(self, mrn: str) -> list[str]:
        mrn_mac = mac(self._k().lookup, "mrn", _normalize_mrn(mrn))
        rows = self._query(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac FROM consents "
            "WHERE mrn_mac = ? ORDER BY created_at",
            (mrn_mac,),
        )
        for row in rows:
            self._check_consent(row)
        return [row[0] for row in rows]

    def withdraw_consent(
        self,
        consent_id: str,
        *,
        actor: str,
        reason: str = "consent withdrawn",
        details: dict[str, Any] | None = None,
    ) -> list[str]:
        """Consent withdrawn: crypto-shred every photo it covers and audit the withdrawal, in
        one transaction (the generation moves on, so an old row written back is caught). The
        consent record stays: it documents what was agreed and withdrawn. Returns the ids."""
        with self._tx() as conn:
            consent = conn.execute(
                "SELECT consent_id, batch_id, created_at, mrn_mac, mac FROM consents "
                "WHERE consent_id = ?",
                (consent_id,),
            ).fetchone()
            if consent is None:
                raise NotFound(f"no consent {consent_id} in vault {self.path}")
            self._check_consent(consent)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT item_id FROM items WHERE consent_id = ? ORDER BY item_id",
                    (consent_id,),
                )
            ]
            for item_id in ids:
                self._delete_in(conn, item_id, actor, reason)
            self._audit_in(
                conn,
                "consent_withdrawn",
                actor,
                consent_id,
                {**(details or {}), "photos_destroyed": len(ids), "reason": reason},
            )
        self._after_delete(ids)
        return ids

    def delete_consent(self, consent_id: str, *, actor: str, reason: str) -> None:
        """Crypto-shred a consent record. Items it covered go back to AWAITING_CONSENT, so they
        cannot be used until consent is recorded again."""
        with self._tx() as conn:
            linked = [
                r[0]
                for r in conn.execute(
                    "SELECT item_id FROM items WHERE consent_id = ?", (consent_id,)
                )
            ]
            for item_id in linked:
                self._restate(conn, item_id, ItemState.AWAITING_CONSENT, None, actor)
            if (
                conn.execute("DELETE FROM consents WHERE consent_id = ?", (consent_id,)).rowcount
                != 1
            ):
                raise NotFound(f"no consent {consent_id} in vault {self.path}")
            self._forget_patient(conn, [consent_id])  # shredded with its record
            self._touched.add(("consent", consent_id))
            self._audit_in(conn, "consent_delete", actor, consent_id, {"reason": reason})
        with self._lock:
            self._shred_wal(self._db())
