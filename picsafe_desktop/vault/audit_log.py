"""The vault's audit log as the app uses it: append (inside a change's transaction), read, verify.

The chain itself (row MACs, head record) is audit.py; its ends are checked against the
keyring's anchor in integrity.py. Part of the Vault class (vault.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from typing import Any

from picsafe_desktop.vault import anchor, integrity, sqlerrors
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault.audit import AuditReport
from picsafe_desktop.vault.crypto import (
    open_field,
    seal_field,
)
from picsafe_desktop.vault.records import (
    AuditRow,
    _json_bytes,
    _now,
    _subject,
    _token,
)

log = logging.getLogger(__name__)


class AuditMixin:
    def _audit_in(
        self,
        conn: sqlite3.Connection,
        event: str,
        actor: str,
        subject: str,
        details: dict[str, Any] | None,
    ) -> None:
        keys = self._k()
        body = _json_bytes({"actor": actor, "details": details or {}}, "audit details")

        def seal(seq: int) -> bytes:
            return seal_field(keys.field, body, b"picsafe-vault/v1/audit\x00" + str(seq).encode())

        audit_chain.append(conn, keys.audit, self._genesis, _now(), event, subject, seal)

    def audit(
        self, event: str, *, actor: str, subject: str, details: dict[str, Any] | None = None
    ) -> None:
        """Append an audit row. `event` and `subject` are stored in clear (a token and an id);
        actor and details are encrypted."""
        _token(event, "an audit event")
        _subject(subject)
        with self._tx() as conn:
            self._audit_in(conn, event, actor, subject, details)

    def audit_rows(self, subject: str | None = None) -> list[AuditRow]:
        sql = "SELECT seq, at, event, subject, body FROM audit"
        params: tuple = ()
        if subject is not None:
            sql, params = sql + " WHERE subject = ?", (subject,)
        out = []
        key = self._k().field
        for seq, at, event, subj, body in self._query(sql + " ORDER BY seq", params):
            plain = open_field(
                key,
                body,
                b"picsafe-vault/v1/audit\x00" + str(seq).encode(),
                f"{self._index_path}: audit row {seq}",
            )
            content = json.loads(plain)
            out.append(
                AuditRow(
                    seq,
                    dt.datetime.fromisoformat(at),
                    event,
                    content["actor"],
                    subj,
                    content["details"],
                )
            )
        return out

    def verify_audit(self) -> AuditReport:
        """The chain row by row, its start (vault_create) and its end (the keyring's anchor)."""
        keys = self._k()
        anchored = anchor.load(self._service, self.vault_id, keys.state)
        where = str(self._index_path)
        with self._lock:
            conn = self._db()
            try:
                conn.execute("BEGIN")  # one snapshot beside a writing app
                try:
                    report = audit_chain.verify(conn, keys.audit, self._genesis)
                    audit = integrity.audit_head(conn, keys.audit, self._genesis)
                    extra = integrity.audit_start_problems(conn)
                    extra += integrity.anchor_problems(
                        conn, anchored, None, audit, where, audit_only=True
                    )
                finally:
                    conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                return AuditReport(ok=False, problems=[str(sqlerrors.classify(exc, where))])
        problems = report.problems + [p for p in extra if p not in report.problems]
        return AuditReport(ok=not problems, problems=problems, rows=report.rows)
