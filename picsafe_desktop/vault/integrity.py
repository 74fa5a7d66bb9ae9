"""Whole-index trust checks: the state record, the keyring anchor and the audit log's ends.

Each check returns problems as sentences naming what differs; the caller decides (an index
with problems opens read-only, `vault verify` / `audit verify` exit 1). Nothing here writes.
"""

from __future__ import annotations

import sqlite3

from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import state
from picsafe_desktop.vault.crypto import MacKey, same
from picsafe_desktop.vault.state import Head

FIRST_EVENT = "vault_create"


def audit_head(conn: sqlite3.Connection, audit_key: bytes, genesis: bytes) -> tuple[int, bytes]:
    """(last seq, last MAC) from the head record; (0, genesis) for an empty log."""
    head = audit_chain.read_head(conn, audit_key)
    return head if head is not None else (0, genesis)


def state_problems(
    conn: sqlite3.Connection,
    state_key: bytes,
    audit: tuple[int, bytes],
    index_path: str,
    kinds: tuple[str, ...] = state.KINDS,
) -> tuple[int | None, list[str]]:
    """(generation of the index or None, problems) for the state record and every entry."""
    generation = state.verified_quickly(conn, state_key, audit) if kinds == state.KINDS else None
    if generation is not None:
        return generation, []  # the usual case; otherwise the checks below say what differs
    stored = state.stored_entries(conn)  # read once for both checks
    checked = state.record_ok(conn, state_key, audit, stored)
    problems = []
    if checked is None:
        problems.append(
            f"{index_path}: the vault's state record is missing or damaged (edited outside PicSafe)"
        )
        generation = None
    else:
        generation, ok = checked
        if not ok:
            problems.append(
                f"{index_path}: the vault's state record (generation {generation}) does not "
                "match its entries or the audit log's head (edited outside PicSafe)"
            )
    problems += state.differences(conn, state_key, index_path, kinds, stored)
    return generation, problems


def anchor_problems(
    conn: sqlite3.Connection,
    anchored: Head | None | str,
    generation: int | None,
    audit: tuple[int, bytes],
    index_path: str,
    *,
    audit_only: bool = False,
) -> list[str]:
    """Compare the index (or, `audit_only`, its audit log) with the OS keyring's anchor."""
    if isinstance(anchored, str):
        return [f"{index_path}: {anchored}"]
    if anchored is None:
        if audit_only:
            return []  # said by the whole-index check; the chain itself is still checked
        return [
            f"{index_path}: the OS keyring holds no state anchor for this vault, so an older "
            "copy of the index cannot be told from the current one"
        ]
    problems = []
    if generation is not None and generation < anchored.generation:
        problems.append(
            f"{index_path}: the index is older than its anchor (generation {generation}; the "
            f"OS keyring says {anchored.generation}): it was restored from an older copy or "
            "rolled back, so photos, consents or withdrawals made since may be missing from it"
        )
    seq, _ = audit
    if seq < anchored.audit_seq:
        problems.append(
            f"{index_path}: the audit log was cut back: it ends at row {seq}, the OS keyring's "
            f"anchor says row {anchored.audit_seq} was written"
        )
    else:
        row = conn.execute("SELECT mac FROM audit WHERE seq = ?", (anchored.audit_seq,)).fetchone()
        if anchored.audit_seq and (row is None or not same(row[0], anchored.audit_mac)):
            problems.append(
                f"{index_path}: audit row {anchored.audit_seq} is not the one anchored in the "
                "OS keyring (the audit log was replaced or rewritten)"
            )
    return problems


def audit_start_problems(conn: sqlite3.Connection) -> list[str]:
    row = conn.execute("SELECT seq, event FROM audit ORDER BY seq LIMIT 1").fetchone()
    if row is None:
        return ["the audit log is empty: it must start with vault_create (it was wiped)"]
    if row[0] != 1 or row[1] != FIRST_EVENT:
        return [
            f"the audit log starts at row {row[0]} ({row[1]}), not at row 1 ({FIRST_EVENT}): "
            "rows were removed from its start"
        ]
    return []


def consent_problems(conn: sqlite3.Connection, row_key: bytes, index_path: str) -> list[str]:
    """Every active item needs a consent row that exists and verifies."""
    live = live_consents(conn, row_key)
    # The consents active items use (from the (consent_id, state) index), then the items of
    # any that is not live: 10,000 ids to look at instead of 100,000 rows.
    used = {
        r[0] for r in conn.execute("SELECT DISTINCT consent_id FROM items WHERE state = 'active'")
    }
    if used <= live:
        return []
    problems = []
    for item_id, consent_id in conn.execute(
        "SELECT item_id, consent_id FROM items WHERE state = 'active' ORDER BY item_id"
    ):
        if consent_id not in live:
            problems.append(
                f"{index_path}: item {item_id} is active but its consent {consent_id} does not "
                "exist, does not verify or was withdrawn"
            )
    return problems


def live_consents(conn: sqlite3.Connection, row_key: bytes) -> set[str]:
    """Consents whose row exists and verifies and that were not withdrawn."""
    row_mac = MacKey(row_key).mac  # mac(row_key, ...) without a key schedule per consent
    return {
        consent_id
        for consent_id, batch_id, at, mrn_mac, digest in conn.execute(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac FROM consents"
        )
        if same(digest, row_mac("consent", consent_id, batch_id, at, mrn_mac))
    } - withdrawn_consents(conn)


def withdrawn_consents(conn: sqlite3.Connection, consent_id: str | None = None) -> set[str]:
    """Consents the audit log says were withdrawn (the record stays, to document it)."""
    if consent_id is None:
        rows = conn.execute("SELECT subject FROM audit WHERE event = 'consent_withdrawn'")
    else:
        rows = conn.execute(
            "SELECT subject FROM audit WHERE subject = ? AND event = 'consent_withdrawn'",
            (consent_id,),
        )
    return {r[0] for r in rows}
