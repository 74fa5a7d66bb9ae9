"""`vault repair`: what an admin can do about a vault that differs from its authenticated state.

Every action here is explicit and audited, and none guesses:
- files in quarantine/ whose index row exists and verifies go back to blobs/ (re-link);
- `from_index`: photos whose row is missing here but present in a copy of the index (a backup)
  are re-linked from it when that row's MAC, wrapped key and ciphertext all verify, as
  "awaiting consent" (consent is asked again) - never a photo the audit log says was deleted;
- `accept_state`: the index as it is now becomes the authenticated state and the keyring's
  anchor is re-seated (rows of photos or consents the audit log says were deleted are dropped
  again first: an old row written back cannot undo a deletion or a withdrawal);
- `shred_quarantine`: quarantined files are overwritten and removed, one audit row each.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import index, integrity, quarantine, sqlerrors, upgrade
from picsafe_desktop.vault import state as vault_state
from picsafe_desktop.vault.blobs import SUFFIX
from picsafe_desktop.vault.errors import IntegrityError, VaultError

if TYPE_CHECKING:
    from picsafe_desktop.vault.vault import Vault

_SELECT_ITEM = (
    "SELECT item_id, batch_id, state, size, media_type, created_at, consent_id, original_mac, "
    "mac, wrapped_key, thumbnail, metadata FROM items WHERE item_id = ?"
)
_INSERT_ITEM = (
    "INSERT INTO items (item_id, batch_id, state, size, media_type, created_at, consent_id, "
    "original_mac, mac, wrapped_key, thumbnail, metadata) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class RepairReport:
    done: list[str] = field(default_factory=list)  # what was changed (each one audited)
    remaining: list[str] = field(default_factory=list)  # what still needs a person

    @property
    def ok(self) -> bool:
        return not self.remaining


def _deleted(conn: sqlite3.Connection, subject: str, event: str) -> bool:
    """Whether the audit log records `event` (a deletion) for `subject`."""
    return (
        conn.execute(
            "SELECT 1 FROM audit WHERE subject = ? AND event = ? LIMIT 1", (subject, event)
        ).fetchone()
        is not None
    )


def relink_quarantined(vault: Vault, actor: str, report: RepairReport) -> None:
    """Put back quarantined blobs whose index row exists here and whose content verifies."""
    for path in quarantine.files(vault.path):
        item_id = quarantine.item_id_of(path)
        if item_id is None or not path.name.endswith(SUFFIX):
            continue
        rows = vault._query(_SELECT_ITEM, (item_id,))
        target = vault._blobs.path(item_id)
        if not rows or target.exists():
            continue
        if not _content_verifies(vault, rows[0], path):
            report.remaining.append(f"{path}: does not decrypt with item {item_id}'s key; kept")
            continue
        target.parent.mkdir(mode=0o700, exist_ok=True)
        path.replace(target)
        vault.audit("repair_relink", actor=actor, subject=item_id, details={"from": "quarantine"})
        report.done.append(f"{target}: put back from quarantine/ (its index row verifies)")


def _content_verifies(vault: Vault, row: tuple, path: Path) -> bool:
    from picsafe_desktop.vault.crypto import Kind, open_stream

    try:
        vault._check_item(row)
        key = vault._data_key(Kind.CONTENT, row[0], row[9])
        with open(path, "rb") as f:
            got = sum(
                len(c)
                for c in open_stream(key, Kind.CONTENT, bytes.fromhex(row[0]), f.read, str(path))
            )
    except (VaultError, OSError):
        return False
    return got == row[3]


def relink_from_index(vault: Vault, copy: Path, actor: str, report: RepairReport) -> None:
    """Re-link photos whose file is here (in blobs/ or quarantine/) but whose row is not, from
    a copy of this vault's index."""
    try:
        other = index.connect(copy, read_only=True)
    except sqlite3.Error as exc:
        raise sqlerrors.classify(exc, copy) from exc
    try:
        with vault._lock:
            here = vault._item_ids(vault._db())
        candidates = {i: vault._blobs.path(i) for i in vault._blobs.ids() - here}
        for path in quarantine.files(vault.path):
            item_id = quarantine.item_id_of(path)
            if item_id and item_id not in here and path.name.endswith(SUFFIX):
                candidates.setdefault(item_id, path)
        for item_id, path in sorted(candidates.items()):
            _relink_one(vault, other, item_id, path, actor, report)
    finally:
        other.close()


def _relink_one(
    vault: Vault, other: sqlite3.Connection, item_id: str, path: Path, actor: str, report
) -> None:
    try:
        row = other.execute(_SELECT_ITEM, (item_id,)).fetchone()
        batch = (
            None
            if row is None
            else other.execute(
                "SELECT batch_id, created_at, mac, label FROM batches WHERE batch_id = ?", (row[1],)
            ).fetchone()
        )
    except sqlite3.Error as exc:
        report.remaining.append(f"{path}: the index copy could not be read ({exc})")
        return
    if row is None:
        report.remaining.append(f"{path}: item {item_id} is not in that copy of the index either")
        return
    with vault._lock:
        if _deleted(vault._db(), item_id, "delete"):
            report.remaining.append(
                f"{path}: the audit log says item {item_id} was deleted; it is not put back"
            )
            return
    if not _content_verifies(vault, row, path) or batch is None:
        report.remaining.append(
            f"{path}: item {item_id}'s row in that copy does not verify with this file; kept"
        )
        return
    vault._check_batch(batch[0], batch[1], batch[2])
    awaiting = ItemState.AWAITING_CONSENT.value
    digest = vault._item_mac(item_id, row[1], awaiting, row[3], row[4], row[5], None, row[7])
    target = vault._blobs.path(item_id)
    with vault._tx() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO batches (batch_id, created_at, mac, label) VALUES (?, ?, ?, ?)",
            batch,
        )
        vault._touched.add(("batch", batch[0]))
        conn.execute(
            _INSERT_ITEM,
            (item_id, row[1], awaiting, row[3], row[4], row[5], None, row[7], digest, *row[9:]),
        )
        vault._touched.add(("item", item_id))
        vault._audit_in(
            conn, "repair_relink", actor, item_id, {"from": "index copy", "state": awaiting}
        )
        if path != target:
            target.parent.mkdir(mode=0o700, exist_ok=True)
            path.replace(target)
    report.done.append(
        f"{target}: item {item_id} re-linked from the index copy; it waits for consent again"
    )


def accept_state(vault: Vault, actor: str, reason: str, report: RepairReport) -> None:
    """Make the index as it is now the authenticated state and re-seat the keyring's anchor."""
    if vault._file_lock is None:
        raise VaultError(f"{vault.path}: opened read-only; `vault repair` needs the vault itself")
    keys = vault._k()
    where = vault._index_path
    anchored = vault._load_anchor()
    differences = vault._current_trust_problems()
    with vault._lock:
        conn = vault._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            bad = upgrade.unverified_rows(conn, keys.row, where)
            if bad:
                raise IntegrityError(
                    "; ".join(bad) + ". Rows edited outside PicSafe are never accepted: contact IT"
                )
            dropped = _drop_deleted_rows(vault, conn)
            # Never accepted, never acted on: moved out (sealed) for a person to look at.
            journal_out = vault._quarantine_journal(conn)
            # The patient list's index is a cache: never accepted as found, rebuilt from the
            # (verified) consent records at the next sign-in.
            conn.execute("DELETE FROM meta WHERE key = 'patients'")
            if audit_chain.read_head(conn, keys.audit) is None:
                last = conn.execute(
                    "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                if last is not None:
                    audit_chain.write_head(conn, keys.audit, last[0], last[1])
            record = vault_state.read_record(conn)
            generation = max(
                record[0] if record else 0,
                anchored.generation if isinstance(anchored, vault_state.Head) else 0,
            )
            vault._audit_in(
                conn,
                "vault_reanchor",
                actor,
                vault.vault_id,
                {
                    "reason": reason,
                    "differences": differences[:50],
                    "dropped": dropped,
                    "journal_quarantined": journal_out,
                },
            )
            audit = integrity.audit_head(conn, keys.audit, vault._genesis)
            head = vault_state.rebuild(conn, keys.state, audit, generation + 1)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise sqlerrors.classify(exc, where) from exc
            raise
    vault._generation = head.generation
    vault._cache = None  # re-read at the next change
    vault._anchors.submit(head)
    vault._flush_anchor(strict=True)
    vault._read_only = False
    vault._trust_problems = []
    report.done += [f"dropped again: {d}" for d in dropped]
    report.done += [
        f"{vault.path / 'quarantine' / name}: an import journal entry that did not match the "
        "vault's authenticated state, moved out of the index (still sealed) and never acted on"
        for name in journal_out
    ]
    report.done.append(
        f"{where}: accepted as the vault's state (generation {head.generation}) and anchored "
        f"in the OS keyring; {len(differences)} difference(s) recorded in the audit log"
    )
    before = len(vault.quarantined)
    vault._sweep()
    report.done += [f"quarantined: {q}" for q in vault.quarantined[before:]]


def _drop_deleted_rows(vault: Vault, conn: sqlite3.Connection) -> list[str]:
    """Rows of items or consents the audit log says were deleted came back from an old copy."""
    dropped = []
    for (item_id,) in conn.execute("SELECT item_id FROM items").fetchall():
        if _deleted(conn, item_id, "delete"):
            conn.execute("DELETE FROM items WHERE item_id = ?", (item_id,))
            dropped.append(f"item {item_id} (deleted earlier, row written back)")
    for (consent_id,) in conn.execute("SELECT consent_id FROM consents").fetchall():
        if _deleted(conn, consent_id, "consent_delete"):
            for (item_id,) in conn.execute(
                "SELECT item_id FROM items WHERE consent_id = ?", (consent_id,)
            ).fetchall():
                conn.execute("DELETE FROM items WHERE item_id = ?", (item_id,))
                dropped.append(f"item {item_id} (under deleted consent {consent_id})")
            conn.execute("DELETE FROM consents WHERE consent_id = ?", (consent_id,))
            vault._forget_patient(conn, [consent_id])
            dropped.append(f"consent {consent_id} (deleted earlier, row written back)")
    withdrawn = [
        c for (c,) in conn.execute("SELECT subject FROM audit WHERE event = 'consent_withdrawn'")
    ]
    for consent_id in withdrawn:
        for (item_id,) in conn.execute(
            "SELECT item_id FROM items WHERE consent_id = ?", (consent_id,)
        ).fetchall():
            conn.execute("DELETE FROM items WHERE item_id = ?", (item_id,))
            dropped.append(f"item {item_id} (its consent {consent_id} was withdrawn)")
    return dropped


def shred_quarantine(vault: Vault, actor: str, reason: str, report: RepairReport) -> None:
    for path in quarantine.files(vault.path):
        subject = quarantine.item_id_of(path) or "quarantine"
        quarantine.shred(path)
        vault.audit(
            "quarantine_shred",
            actor=actor,
            subject=subject,
            details={"file": path.name, "reason": reason},
        )
        report.done.append(f"{path}: overwritten and removed")


def describe(vault: Vault, report: RepairReport) -> None:
    """What still needs a person: differences, and each quarantined file with its reason."""
    report.remaining += vault.trust_problems
    for path in quarantine.files(vault.path):
        if path.name.startswith("journal-") and path.name.endswith(".json"):
            why = (
                "an import journal entry changed outside PicSafe, never acted on: check by "
                "hand whether the photo it names is in the vault and its source removed"
            )
        else:
            why = vault._orphan_reason(quarantine.item_id_of(path))
        report.remaining.append(f"{path}: in quarantine ({why})")
