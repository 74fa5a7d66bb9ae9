"""The patient list's index: one sealed value in `meta` ("patients") holding what the list
shows of each consent's patient (MRN, name, birth date). Signing in to a 10,000-patient vault
then decrypts one value instead of 10,000 consent records, and writes one audit row
("patient_list_view") instead of one per consent. Part of the Vault class (vault.py).

The index is a cache derived from the consent records, never the source of truth:
- it is sealed with the field key and bound to the vault id (AEAD), so it cannot be forged,
  edited or swapped in from another vault;
- consent records never change after they are stored, so an entry that is present is right;
  a copy written back from an older index can only lack entries, and a consent without an entry
  is read from its own (authenticated) record and the index rewritten;
- a consent that is crypto-shredded loses its entry in the same transaction (`delete_consent`,
  `vault repair`), and `secure_delete` plus the WAL checkpoint after it clear the old value.
Which consents the list shows, and their photo counts, come from the authenticated rows.
Since format 3 the sealed value is also an entry of the vault's authenticated state (kind
"meta", docs/vault-format.md 6.4): an older value written back, or one deleted, opens the vault
read-only naming it, like any other row changed outside PicSafe.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault.crypto import Kind, open_bytes, open_field, seal_field
from picsafe_desktop.vault.errors import IntegrityError
from picsafe_desktop.vault.records import _json_bytes, _oid

PATIENTS_KEY = "patients"
_FORMAT = 1


def _aad(vault_id: str) -> bytes:
    return b"picsafe-vault/v1/patient-index\x00" + bytes.fromhex(vault_id)


class PatientIndexMixin:
    def patient_list(self, *, actor: str, audit: bool = True) -> list[tuple[str, dict, int]]:
        """(consent id, {"mrn", "name", "birth_date"}, active photos) for every consent that
        covers active photos, oldest first. With `audit`, one "patient_list_view" row records
        who saw the list and how many consents it showed (none for an empty list: it shows
        nobody)."""
        self._refuse_writes()  # no patient data from a vault that cannot audit or is untrusted
        with self._lock:
            rows = self._query(
                "SELECT c.consent_id, c.batch_id, c.created_at, c.mrn_mac, c.mac, i.n "
                "FROM consents c JOIN (SELECT consent_id, count(*) AS n "
                "FROM items INDEXED BY items_consent_state WHERE consent_id IS NOT NULL "
                "AND state = ? GROUP BY consent_id) i "
                "ON i.consent_id = c.consent_id ORDER BY c.created_at, c.consent_id",
                (ItemState.ACTIVE.value,),
            )
            for row in rows:
                self._check_consent(row)
            index = self._read_patient_index(self._db()) or {}
            missing = [row[0] for row in rows if row[0] not in index]
            audit = audit and bool(rows)
            if missing or audit:
                with self._tx() as conn:
                    if missing:
                        for consent_id in missing:
                            index[consent_id] = self._patient_of(conn, consent_id)
                        self._write_patient_index(conn, index)
                    if audit:
                        self._audit_in(
                            conn, "patient_list_view", actor, "patient_list", {"count": len(rows)}
                        )
        return [(row[0], index[row[0]], row[5]) for row in rows]

    def _read_patient_index(self, conn: sqlite3.Connection) -> dict[str, dict] | None:
        """The index ({} when there is none yet), or None when it cannot be read."""
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (PATIENTS_KEY,)).fetchone()
        if row is None:
            return {}
        try:
            plain = open_field(
                self._k().field,
                row[0],
                _aad(self.vault_id),
                f"{self._index_path}: patient list index",
            )
            value = json.loads(plain)
            if value.get("format") != _FORMAT:
                return None  # another version's layout: rebuilt from the consent records
            return {
                cid: {"mrn": p[0], "name": p[1], "birth_date": p[2]}
                for cid, p in value["consents"].items()
            }
        except (IntegrityError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            # Damaged or swapped: it is only a cache; the consent records rebuild it.
            return None

    def _write_patient_index(self, conn: sqlite3.Connection, index: dict[str, dict]) -> None:
        plain = _json_bytes(
            {
                "format": _FORMAT,
                "consents": {
                    cid: [p["mrn"], p["name"], p["birth_date"]] for cid, p in index.items()
                },
            },
            "patient index",
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (PATIENTS_KEY, seal_field(self._k().field, plain, _aad(self.vault_id))),
        )
        self._touched.add(("meta", PATIENTS_KEY))

    def _patient_of(self, conn: sqlite3.Connection, consent_id: str) -> dict[str, Any]:
        """The list's fields from one consent record (decrypted for the index, not shown)."""
        row = conn.execute(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac, wrapped_key, record "
            "FROM consents WHERE consent_id = ?",
            (consent_id,),
        ).fetchone()
        self._check_consent(row)
        key = self._data_key(Kind.CONSENT, consent_id, row[5])
        record = json.loads(
            open_bytes(
                key,
                Kind.CONSENT,
                _oid(consent_id),
                row[6],
                f"{self._index_path}: consent {consent_id}",
            )
        )
        patient = record.get("patient") if isinstance(record, dict) else None
        patient = patient if isinstance(patient, dict) else {}
        return {
            "mrn": str(patient.get("mrn") or ""),
            "name": str(patient.get("name") or ""),
            "birth_date": str(patient.get("birth_date") or ""),
        }

    def _forget_patient(self, conn: sqlite3.Connection, consent_ids: list[str]) -> None:
        """Inside the transaction that crypto-shreds these consents: drop their entries."""
        index = self._read_patient_index(conn)
        if index is None:  # unreadable: dropped whole (rebuilt at the next sign-in)
            conn.execute("DELETE FROM meta WHERE key = ?", (PATIENTS_KEY,))
            self._touched.add(("meta", PATIENTS_KEY))
        elif any(cid in index for cid in consent_ids):
            for cid in consent_ids:
                index.pop(cid, None)
            self._write_patient_index(conn, index)
