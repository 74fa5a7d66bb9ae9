"""Upgrading an index written by an older format version (docs/vault-format.md, changelog).

Format 1 had row MACs but no authenticated state. The upgrade adopts the rows as they are,
but only after every batch, consent and item row MAC verifies: a row edited outside PicSafe
is never folded into the new state (the vault then opens read-only, naming it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from picsafe_desktop.vault import index, integrity, state
from picsafe_desktop.vault.crypto import mac, same

_ROWS = {
    "batch": ("SELECT batch_id, created_at, mac FROM batches", lambda r: ("batch", *r[:2])),
    "consent": (
        "SELECT consent_id, batch_id, created_at, mrn_mac, mac FROM consents",
        lambda r: ("consent", *r[:4]),
    ),
    "item": (
        "SELECT item_id, batch_id, state, size, media_type, created_at, consent_id, "
        "original_mac, mac FROM items",
        lambda r: ("item", *r[:8]),
    ),
}


def unverified_rows(conn: sqlite3.Connection, row_key: bytes, index_path: Path) -> list[str]:
    problems = []
    for kind, (sql, fields) in _ROWS.items():
        for row in conn.execute(sql):
            if not same(row[-1], mac(row_key, *fields(row))):
                problems.append(
                    f"{index_path}: the index row of {kind} {row[0]} was modified outside "
                    "PicSafe; the vault was not upgraded"
                )
    return problems


def index_v1_to_v2(
    conn: sqlite3.Connection,
    row_key: bytes,
    state_key: bytes,
    audit_key: bytes,
    genesis: bytes,
    index_path: Path,
) -> list[str]:
    """Upgrade in one transaction; returns the problems that prevented it ([] = done)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        problems = unverified_rows(conn, row_key, index_path)
        problems += [f"{index_path}: {p}" for p in integrity.audit_start_problems(conn)]
        if problems:
            conn.execute("ROLLBACK")
            return problems
        state.create(conn)
        state.rebuild(conn, state_key, integrity.audit_head(conn, audit_key, genesis), 1)
        conn.execute(f"PRAGMA user_version = {index.INDEX_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return []
