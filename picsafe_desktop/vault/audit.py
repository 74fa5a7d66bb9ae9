"""The audit log's MAC chain: append a row, and check the chain naming what was changed.

Row n's MAC covers its own fields and row n-1's MAC; the first row chains to a genesis value
derived from the vault id. A separate head record (last seq and MAC, itself MACed) catches rows
cut off the end, which a chain alone cannot see.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass, field

from picsafe_desktop.vault.crypto import mac, same
from picsafe_desktop.vault.errors import IntegrityError

HEAD_KEY = "audit_head"
_HEAD = struct.Struct(">Q32s32s")  # last seq, last row MAC, MAC over both
_REORDER_WINDOW = 64  # how far a moved row is searched for before calling it edited


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    rows: int = 0


def genesis(key: bytes, vault_id: str) -> bytes:
    return mac(key, "audit-genesis", vault_id)


def row_mac(
    key: bytes, seq: int, at: str, event: str, subject: str, body: bytes, prev: bytes
) -> bytes:
    return mac(key, "audit-row", seq, at, event, subject, body, prev)


def _head_mac(key: bytes, seq: int, last: bytes) -> bytes:
    return mac(key, "audit-head", seq, last)


def read_head(conn: sqlite3.Connection, key: bytes) -> tuple[int, bytes] | None:
    """(last seq, last MAC), or None if the head record is missing or was modified."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if row is None or len(row[0]) != _HEAD.size:
        return None
    seq, last, check = _HEAD.unpack(row[0])
    return (seq, last) if same(check, _head_mac(key, seq, last)) else None


def write_head(conn: sqlite3.Connection, key: bytes, seq: int, last: bytes) -> None:
    value = _HEAD.pack(seq, last, _head_mac(key, seq, last))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (HEAD_KEY, value))


def append(
    conn: sqlite3.Connection,
    key: bytes,
    first_prev: bytes,
    at: str,
    event: str,
    subject: str,
    seal_body,
) -> int:
    """Add one row inside the caller's transaction; `seal_body(seq)` encrypts its body."""
    head = read_head(conn, key)
    has_rows = conn.execute("SELECT 1 FROM audit LIMIT 1").fetchone() is not None
    if head is None and has_rows:
        raise IntegrityError(
            "the audit log's head record is missing or was modified; run "
            "`picsafe-desktop audit verify` and contact IT before using this vault"
        )
    seq, prev = head if head else (0, first_prev)
    seq += 1
    body = seal_body(seq)
    digest = row_mac(key, seq, at, event, subject, body, prev)
    try:
        conn.execute(
            "INSERT INTO audit (seq, at, event, subject, body, prev_mac, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, at, event, subject, body, prev, digest),
        )
    except sqlite3.IntegrityError:
        raise IntegrityError(
            f"the audit log already has a row {seq} that its head does not know about; run "
            "`picsafe-desktop audit verify` and contact IT"
        ) from None
    write_head(conn, key, seq, digest)
    return seq


def verify(conn: sqlite3.Connection, key: bytes, first_prev: bytes) -> AuditReport:
    rows = conn.execute(
        "SELECT seq, at, event, subject, body, prev_mac, mac FROM audit ORDER BY seq"
    ).fetchall()
    problems: list[str] = []
    expected_seq, expected_prev, prev_intact = 1, first_prev, True
    for seq, at, event, subject, body, prev, digest in rows:
        name = f"audit row {seq} ({event} at {at})"
        intact = same(digest, row_mac(key, seq, at, event, subject, body, prev))
        if not intact:
            moved_from = _original_seq(key, seq, at, event, subject, body, prev, digest)
            if moved_from is not None:
                problems.append(f"{name}: rows were reordered; this is row {moved_from}")
            else:
                problems.append(f"{name}: edited (its MAC does not match its content)")
        if seq > expected_seq:
            gap = str(expected_seq) if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            problems.append(
                f"audit row(s) {gap} removed (row {seq} follows row {expected_seq - 1})"
            )
        elif intact and prev_intact and not same(prev, expected_prev):
            problems.append(f"{name}: does not follow row {seq - 1} (a row was replaced or moved)")
        expected_seq, expected_prev, prev_intact = seq + 1, digest, intact

    last_seq = expected_seq - 1
    head = read_head(conn, key)
    if head is None:
        if rows or conn.execute("SELECT 1 FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone():
            problems.append("audit head record missing or edited")
    elif head[0] > last_seq:
        gap = str(head[0]) if head[0] == last_seq + 1 else f"{last_seq + 1}-{head[0]}"
        problems.append(f"audit row(s) {gap} removed from the end of the log")
    elif head[0] < last_seq:
        problems.append(f"audit rows after {head[0]} were added outside PicSafe")
    elif rows and not same(head[1], expected_prev):
        problems.append(f"audit row {last_seq}: replaced (does not match the head record)")
    return AuditReport(ok=not problems, problems=problems, rows=len(rows))


def _original_seq(
    key: bytes, seq: int, at: str, event: str, subject: str, body: bytes, prev: bytes, digest: bytes
) -> int | None:
    for other in range(max(1, seq - _REORDER_WINDOW), seq + _REORDER_WINDOW + 1):
        if other != seq and same(digest, row_mac(key, other, at, event, subject, body, prev)):
            return other
    return None
