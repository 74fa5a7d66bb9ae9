"""Upgrading an index written by an older format version (docs/vault-format.md, changelog).

Format 1 had row MACs but no authenticated state. The upgrade adopts the rows as they are,
but only after every batch, consent and item row MAC verifies: a row edited outside PicSafe
is never folded into the new state (the vault then opens read-only, naming it).

Format 2 authenticated batches, consents and items but not the import journal nor the
patient list's index. The upgrade to 3 runs only on a format-2 state that verifies (record,
entries, and not older than the keyring's anchor); it adopts the journal rows whose sealed
payload opens (any other stays outside the state and is named as a difference) and drops the
patient index, a cache rebuilt from the consent records at the next sign-in.
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
        # The patient index was never authenticated: rebuilt from the consent records.
        conn.execute("DELETE FROM meta WHERE key = 'patients'")
        state.create(conn)
        state.rebuild(conn, state_key, integrity.audit_head(conn, audit_key, genesis), 1)
        conn.execute(f"PRAGMA user_version = {index.INDEX_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return []


def index_v2_to_v3(
    conn: sqlite3.Connection,
    state_key: bytes,
    audit: tuple[int, bytes],
    anchored: state.Head | None | str,
    journal_opens,
    index_path: Path,
) -> list[str]:
    """Add the journal's rows and drop the patient index, in one transaction; returns the
    problems that prevented it ([] = done). `journal_opens(entry_id, step, payload)` says
    whether a journal row's sealed payload opens under this vault's key."""
    where = str(index_path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        generation, problems = integrity.state_problems(
            conn, state_key, audit, where, kinds=state.V2_KINDS
        )
        if isinstance(anchored, state.Head) and (generation or 0) < anchored.generation:
            problems.append(
                f"{where}: the index is older than its anchor (generation {generation}; the OS "
                f"keyring says {anchored.generation})"
            )
        if problems:
            conn.execute("ROLLBACK")
            return [p + "; the vault was not upgraded to format 3" for p in problems]
        conn.execute("DELETE FROM meta WHERE key = 'patients'")
        for entry_id, step, updated_at, payload in conn.execute(
            "SELECT entry_id, step, updated_at, payload FROM journal"
        ).fetchall():
            if journal_opens(entry_id, step, payload):
                conn.execute(
                    "INSERT OR REPLACE INTO state (kind, object_id, entry) VALUES (?, ?, ?)",
                    (
                        "journal",
                        entry_id,
                        state.entry(state_key, "journal", entry_id, step, updated_at, payload),
                    ),
                )
        head = state.Head((generation or 0) + 1, *audit)
        state.write_record(
            conn,
            head.generation,
            state.state_mac(state_key, head, state.set_digest(state.stored_entries(conn))),
        )
        conn.execute(f"PRAGMA user_version = {index.INDEX_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return []
