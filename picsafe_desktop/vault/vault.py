"""The Vault: one folder holding encrypted photos, consent records, an index and an audit log.

The on-disk format is docs/vault-format.md. Thread safety: one Vault may be shared by worker
threads; index access is serialised by a lock while encryption and file I/O run outside it.

This module holds the life cycle (create, open, recover, upgrade, close), the transaction that
keeps the authenticated state, the open-time trust checks and sweep, and the whole-vault check.
The model lives beside it - items.py (batches and photos), consents.py, audit_log.py,
patients.py (the patient list's sealed index), journal.py - and the storage format with its
checks and repair in state.py, anchor.py, integrity.py, quarantine.py, repair.py, upgrade.py,
index.py, blobs.py and header.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from picsafe_desktop import winacl, winfs
from picsafe_desktop.vault import anchor, index, integrity, keystore, layout, quarantine, sqlerrors
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import header as vault_header
from picsafe_desktop.vault import state as vault_state
from picsafe_desktop.vault.atna_store import AtnaMixin
from picsafe_desktop.vault.audit_log import AuditMixin
from picsafe_desktop.vault.blobs import BlobStore, no_space
from picsafe_desktop.vault.consents import ConsentsMixin
from picsafe_desktop.vault.crypto import (
    PRODUCTION_KDF,
    KdfParams,
    Kind,
    mac,
    new_recovery_code,
    normalize_recovery_code,
    open_bytes,
    open_field,
    same,
    seal_field,
)
from picsafe_desktop.vault.errors import (
    DiskFull,
    IntegrityError,
    KeyMissing,
    VaultClosed,
    VaultError,
    VaultReadOnly,
    WrongRecoveryCode,
)
from picsafe_desktop.vault.items import ItemsMixin
from picsafe_desktop.vault.journal import JournalMixin
from picsafe_desktop.vault.lock import VaultLock
from picsafe_desktop.vault.outbox_store import OutboxMixin
from picsafe_desktop.vault.patients import PatientIndexMixin
from picsafe_desktop.vault.records import (
    _ITEMS_FULL,
    DEFAULT_SERVICE,
    INDEX_FILE,
    LOCK_FILE,
    AuditRow,
    BatchInfo,
    VerifyReport,
    _Keys,
    _new_id,
    _now,
    _oid,
)

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SERVICE", "AuditRow", "BatchInfo", "Vault", "VerifyReport"]


class Vault(
    ItemsMixin, ConsentsMixin, PatientIndexMixin, AuditMixin, JournalMixin, OutboxMixin, AtnaMixin
):
    """Use `Vault.create`, `Vault.open` or `Vault.recover`; the constructor is internal."""

    def __init__(
        self,
        root: Path,
        header: dict[str, Any],
        keys: _Keys,
        conn: sqlite3.Connection,
        lock: VaultLock | None,
        service: str = DEFAULT_SERVICE,
    ) -> None:
        self.path = root
        self.vault_id: str = header["vault_id"]
        self._keys: _Keys | None = keys
        self._conn: sqlite3.Connection | None = conn
        self._file_lock = lock  # None: opened read-only beside another instance
        self._service = service
        self._lock = threading.RLock()
        self._blobs = BlobStore(root)
        self._index_path = root / INDEX_FILE
        self._genesis = audit_chain.genesis(keys.audit, self.vault_id)
        # Why the vault is read-only ([] = writable); set at open, or when a change made
        # outside PicSafe is found while it is open.
        self._trust_problems: list[str] = []
        self._read_only = lock is None
        self._generation = 0
        self._index_version = index.INDEX_VERSION
        # What the state authenticates: a format-2 index opened read-only (not upgraded)
        # is checked as format 2 authenticated it.
        self._state_kinds = vault_state.KINDS
        # The stored state entries as digest input, and SQLite's data_version when they were
        # last read or written by this connection (see _check_unchanged).
        self._cache: dict[tuple[str, str], bytes] | None = None
        self._data_version: int | None = None
        self._touched: set[tuple[str, str]] = set()
        # transaction(): the connection of the open outer transaction (its thread holds
        # self._lock), and deletions whose files are shredded only once it has committed.
        self._outer: sqlite3.Connection | None = None
        self._after_commit: list[str] = []
        self._anchors = anchor.Writer(service, self.vault_id, keys.state)
        self._checkpoint_pending = False
        self.quarantined: list[str] = []  # what this open moved to quarantine/, for the caller
        # Top-level entries of the folder PicSafe did not put there (named, never touched).
        self.unknown_files: list[str] = []

    # --- life cycle -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        keyring_service: str = DEFAULT_SERVICE,
        *,
        kdf: KdfParams = PRODUCTION_KDF,
        actor: str = "system",
    ) -> tuple[Vault, str]:
        """Create a vault in a new or empty folder; returns it and the recovery code.

        `kdf` sets the Argon2id cost of the recovery code. Keep the default in the product;
        tests pass cheaper parameters so they run fast (docs/vault-format.md, "Recovery").
        """
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            what = (
                "already holds a vault"
                if (root / vault_header.HEADER_FILE).exists()
                else ("is not an empty folder")
            )
            raise VaultError(f"{root}: {what}; choose a new or empty folder for `vault init`")
        kdf.check(str(root))
        keystore.check_backend(keyring_service)
        created_root = not root.exists()
        if problem := winfs.network_vault_problem(root):  # SQLite WAL is unsafe over SMB/NFS
            raise VaultError(problem)
        try:
            winacl.make_private_dir(root)  # Windows: owner-only ACL, not the parent's
        except OSError as exc:
            raise VaultError(
                f"{root}: cannot create the vault folder ({exc.strerror or exc}); choose a "
                "folder on a drive this user can write to"
            ) from None
        lock = VaultLock(root / LOCK_FILE)
        try:
            lock.acquire()
        except VaultError:
            if created_root:
                shutil.rmtree(root, ignore_errors=True)
            raise
        conn = None
        stored_key = False
        try:
            vault_id = _new_id()
            master = os.urandom(32)
            code = new_recovery_code()
            salt = os.urandom(16)
            recovery = {
                "kdf": "argon2id",
                "time_cost": kdf.time_cost,
                "memory_kib": kdf.memory_kib,
                "parallelism": kdf.parallelism,
                "salt": vault_header.b64(salt),
            }
            recovery["wrapped_key"] = vault_header.b64(
                seal_field(
                    kdf.derive(code, salt), master, vault_header.recovery_aad(vault_id, recovery)
                )
            )
            keys = _Keys(master, vault_id)
            head = {
                "format": vault_header.FORMAT_NAME,
                "version": vault_header.FORMAT_VERSION,
                "vault_id": vault_id,
                "created_at": _now(),
                "cipher": "AES-256-GCM",
                "recovery": recovery,
                "key_check": vault_header.b64(mac(keys.header, "key-check", vault_id)),
            }
            head["header_mac"] = vault_header.b64(_header_mac(keys, head))
            BlobStore(root).create_dirs()
            conn = index.create(root / INDEX_FILE)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('vault_id', ?)",
                (mac(keys.row, "vault-id", vault_id),),
            )
            vault_state.rebuild(conn, keys.state, (0, audit_chain.genesis(keys.audit, vault_id)), 0)
            vault = cls(root, head, keys, conn, lock, keyring_service)
            stored_key = True
            vault.audit("vault_create", actor=actor, subject=vault_id)
            vault._flush_anchor(strict=True)
            keystore.store_master_key(keyring_service, vault_id, master)
            vault_header.write(root, head)  # the commit point: now the folder is a vault
        except BaseException as exc:
            # Undo everything: the folder was new or empty, so all it holds is ours.
            if conn is not None:
                conn.close()
            if stored_key:
                keystore.forget_master_key(keyring_service, vault_id)
                anchor.forget(keyring_service, vault_id)
            lock.release()
            if created_root:
                shutil.rmtree(root, ignore_errors=True)
            else:
                for child in root.iterdir():
                    if child.is_dir():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
            if isinstance(exc, OSError) and no_space(exc):
                raise DiskFull(f"{root}: the disk is full; free space and retry") from exc
            if isinstance(exc, sqlite3.Error):
                # SQLite reports a full disk while it creates the index as "disk I/O error".
                raise VaultError(
                    f"{root}: the vault index could not be written ({exc}); check that the "
                    "drive has free space and the folder is writable, then retry (nothing "
                    "was created)"
                ) from exc
            if isinstance(exc, OSError):
                raise VaultError(
                    f"{root}: the vault could not be written ({exc.strerror or exc}); check "
                    "that the folder is writable, then retry (nothing was created)"
                ) from exc
            raise
        return vault, code

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        keyring_service: str = DEFAULT_SERVICE,
        *,
        read_only: bool = False,
    ) -> Vault:
        """Open the vault. An index that differs from its authenticated state or is older than
        its anchor opens read-only (`trust_problems` says why); nothing is changed or removed.

        `read_only=True` (verify, audit verify, list) neither takes the vault's lock nor writes
        anything, so it works while the app has the vault open.
        """
        root = Path(path)
        if problem := winfs.network_vault_problem(root):  # SQLite WAL is unsafe over SMB/NFS
            raise VaultError(problem)
        head = vault_header.read(root)
        vault_id = head["vault_id"]
        lock = None if read_only else VaultLock(root / LOCK_FILE)
        if lock is not None:
            lock.acquire()
        try:
            keystore.check_backend(keyring_service, prove=False)
            master = keystore.load_master_key(keyring_service, vault_id)
            if master is None:
                raise KeyMissing(
                    f"{root}: the OS keyring (service '{keyring_service}') has no key for vault "
                    f"{vault_id}; restore it with `picsafe-desktop vault recover --vault {root}` "
                    "and the recovery code"
                )
            keys = _Keys(master, vault_id)
            if not same(
                vault_header.unb64(head["key_check"], "vault.json"),
                mac(keys.header, "key-check", vault_id),
            ):
                raise KeyMissing(
                    f"{root}: the OS keyring holds a different key for vault {vault_id}; "
                    f"restore the right one with `picsafe-desktop vault recover --vault {root}`"
                )
            return cls._open_index(root, head, keys, lock, keyring_service)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @classmethod
    def recover(
        cls,
        path: str | os.PathLike[str],
        recovery_code: str,
        keyring_service: str = DEFAULT_SERVICE,
        *,
        actor: str = "system",
    ) -> None:
        """Put the master key back into the OS keyring using the recovery code."""
        root = Path(path)
        if problem := winfs.network_vault_problem(root):  # SQLite WAL is unsafe over SMB/NFS
            raise VaultError(problem)
        head = vault_header.read(root)
        vault_id = head["vault_id"]
        where = str(root / vault_header.HEADER_FILE)
        code = normalize_recovery_code(recovery_code)
        recovery = head["recovery"]
        params = vault_header.kdf_params(head, where)
        lock = VaultLock(root / LOCK_FILE)
        lock.acquire()
        try:
            derived = params.derive(code, vault_header.unb64(recovery.get("salt"), where))
            try:
                master = open_field(
                    derived,
                    vault_header.unb64(recovery.get("wrapped_key"), where),
                    vault_header.recovery_aad(vault_id, recovery),
                    where,
                )
            except IntegrityError:
                raise WrongRecoveryCode(
                    f"{root}: this recovery code does not unlock vault {vault_id} (or its "
                    f"{vault_header.HEADER_FILE} was modified); nothing was changed. Check the "
                    "code on this vault's recovery sheet"
                ) from None
            keys = _Keys(master, vault_id)
            if not same(
                vault_header.unb64(head["key_check"], where),
                mac(keys.header, "key-check", vault_id),
            ):
                raise IntegrityError(
                    f"{where}: modified outside PicSafe; nothing was changed. Contact IT: put "
                    f"back only {vault_header.HEADER_FILE} from a backup of this vault"
                )
            keystore.check_backend(keyring_service)
            vault = cls._open_index(root, head, keys, lock, keyring_service, recovering=True)
            try:
                keystore.store_master_key(keyring_service, vault_id, master)
                if vault.read_only:
                    # The key is right (key_check passed) and is back; the index is another
                    # matter, for `vault verify` / `vault repair`.
                    raise VaultReadOnly(
                        f"{root}: the vault key is back in the OS keyring, but the vault "
                        f"differs from its authenticated state: {vault.trust_problems[0]}. "
                        "Nothing was changed; run `picsafe-desktop vault verify` and `vault "
                        "repair`, and contact IT",
                        vault.trust_problems,
                    )
                vault.audit("vault_recover", actor=actor, subject=vault_id)
            finally:
                vault.close()
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_index(
        cls,
        root: Path,
        head: dict[str, Any],
        keys: _Keys,
        lock: VaultLock | None,
        service: str,
        *,
        recovering: bool = False,
    ) -> Vault:
        where = root / vault_header.HEADER_FILE
        if not same(vault_header.unb64(head["header_mac"], str(where)), _header_mac(keys, head)):
            raise IntegrityError(
                f"{where}: modified outside PicSafe; nothing was changed. Contact IT: "
                f"{vault_header.HEADER_FILE} never changes after creation (except once when "
                "the vault format is upgraded), so the copy in any backup of this folder fits"
            )
        db = root / INDEX_FILE
        if not (root / "blobs").is_dir():
            raise IntegrityError(
                f"{root / 'blobs'}: the vault's file folder is missing; nothing was changed. "
                "Do not create or delete anything in the vault folder: contact IT"
            )
        if not db.is_file():
            raise IntegrityError(
                f"{db}: the vault index is missing; nothing was changed. Contact IT: a copy "
                "from a backup may be put back; it then opens read-only and `picsafe-desktop "
                "vault repair` reports what it lacks (no photo file is deleted)"
            )
        conn = None
        try:
            conn = index.connect(db, read_only=lock is None)
            version = index.check_version(conn, db)
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
            if row is None or not same(row[0], mac(keys.row, "vault-id", head["vault_id"])):
                raise IntegrityError(f"{db}: this index belongs to another vault or was modified")
            if lock is not None:
                index.ensure_indexes(conn)
            vault = cls(root, head, keys, conn, lock, service)
            vault._index_version = version
            if version < index.INDEX_VERSION or head["version"] < vault_header.FORMAT_VERSION:
                vault._upgrade(head, version)
            vault._open_checks(recovering=recovering)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise sqlerrors.classify(exc, db) from exc
            raise
        return vault

    def _upgrade(self, head: dict[str, Any], version: int) -> None:
        """Format 1 or 2 -> 3: add the authenticated state (1) or bring the journal and the
        patient index into it (2), then mark vault.json as version 3."""
        from picsafe_desktop.vault import upgrade

        if self._read_only:
            if version == 2:
                # Checked as format 2 authenticated it; its journal and patient index are
                # not authenticated until the upgrade (a note in `vault verify`).
                self._state_kinds = vault_state.V2_KINDS
                return
            self._trust_problems.append(
                f"{self._index_path}: vault format {version}; it is upgraded to format "
                f"{index.INDEX_VERSION} the next time PicSafe opens it for writing"
            )
            return
        keys = self._k()
        if version < index.INDEX_VERSION:
            with self._lock:
                if version == 1:
                    problems = upgrade.index_v1_to_v2(
                        self._db(),
                        keys.row,
                        keys.state,
                        keys.audit,
                        self._genesis,
                        self._index_path,
                    )
                else:
                    problems = upgrade.index_v2_to_v3(
                        self._db(),
                        keys.state,
                        integrity.audit_head(self._db(), keys.audit, self._genesis),
                        self._load_anchor(),
                        self._journal_row_opens,
                        self._index_path,
                    )
            if not problems:
                self._index_version = index.INDEX_VERSION
            if problems:
                # Rows that do not verify are not adopted into the new state: stay read-only.
                if version == 2:
                    self._state_kinds = vault_state.V2_KINDS
                self._read_only = True
                self._trust_problems += problems
                return
            with self._lock:
                self._generation = vault_state.read_record(self._db())[0]
            self.audit(
                "vault_upgrade",
                actor="system",
                subject=self.vault_id,
                details={"from": version, "to": index.INDEX_VERSION},
            )
            self._flush_anchor(strict=True)
        upgraded = dict(head, version=vault_header.FORMAT_VERSION)
        upgraded["header_mac"] = vault_header.b64(_header_mac(keys, upgraded))
        vault_header.write(self.path, upgraded)
        self._chmod_owner_only()

    def _chmod_owner_only(self) -> None:
        """Format 1 created index.sqlite3 with the process umask (often 0644)."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.path / (INDEX_FILE + suffix), 0o600)

    def _open_checks(self, *, recovering: bool = False) -> None:
        """Compare the index with its state record and the keyring's anchor; then (writable
        and trusted only) move what the index does not explain to quarantine/."""
        keys = self._k()
        self.unknown_files = [layout.describe(p) for p in layout.unknown(self.path)]
        if self.unknown_files:
            log.warning("%d unknown file(s) in the vault folder", len(self.unknown_files))
        anchored = anchor.load(self._service, self.vault_id, keys.state)
        if self._trust_problems:  # an upgrade that could not run
            self._read_only = True
            return
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN")  # one consistent snapshot, even beside a writer
            try:
                problems, generation, audit = self._trust_snapshot(
                    conn, anchored, skip_missing_anchor=recovering
                )
                # Only reported with problems (a trusted vault's sweep lists the folder itself):
                # listing 100,000 files is not paid by every read-only `vault list`.
                orphans = sorted(self._blobs.ids() - self._item_ids(conn)) if problems else []
            finally:
                conn.execute("ROLLBACK")
        if problems:
            self._read_only = True
            self._trust_problems = problems + [
                f"{self._blobs.path(i)}: encrypted file without an index row (kept in place)"
                for i in orphans
            ]
            log.warning(
                "vault opened read-only: %d difference(s) from its authenticated state",
                len(problems),
            )
            return
        self._generation = generation or 0
        if self._read_only:
            return
        if not isinstance(anchored, vault_state.Head) or anchored.generation < self._generation:
            # A crash between a commit and its anchor update, or a recovered keyring.
            self._anchors.submit(vault_state.Head(self._generation, *audit))
            self._flush_anchor(strict=True)
        self._sweep()

    def _trust_snapshot(
        self,
        conn: sqlite3.Connection,
        anchored: vault_state.Head | None | str,
        *,
        skip_missing_anchor: bool = False,
    ) -> tuple[list[str], int | None, tuple[int, bytes]]:
        keys = self._k()
        where = str(self._index_path)
        audit = integrity.audit_head(conn, keys.audit, self._genesis)
        problems = []
        if (
            audit_chain.read_head(conn, keys.audit) is None
            and conn.execute("SELECT 1 FROM audit LIMIT 1").fetchone()
        ):
            problems.append(f"{where}: the audit log's head record is missing or was modified")
        generation, found = integrity.state_problems(
            conn, keys.state, audit, where, self._state_kinds
        )
        problems += found
        if not (skip_missing_anchor and anchored is None):
            problems += integrity.anchor_problems(conn, anchored, generation, audit, where)
        problems += [f"{where}: {p}" for p in integrity.audit_start_problems(conn)]
        problems += integrity.consent_problems(conn, keys.row, where)
        return list(dict.fromkeys(problems)), generation, audit

    def _load_anchor(self) -> vault_state.Head | None | str:
        return anchor.load(self._service, self.vault_id, self._k().state)

    def repair(
        self,
        *,
        actor: str,
        from_index: Path | None = None,
        accept_state: bool = False,
        shred_quarantine: bool = False,
        reason: str = "",
    ):
        """`picsafe-desktop vault repair` (see repair.py); every change is audited."""
        from picsafe_desktop.vault import repair

        report = repair.RepairReport()
        if (accept_state or shred_quarantine) and not reason.strip():
            raise ValueError("give a --reason: it goes into the audit log")
        if accept_state and self._trust_problems:
            repair.accept_state(self, actor, reason, report)
        if not self._read_only:
            repair.relink_quarantined(self, actor, report)
            if from_index is not None:
                repair.relink_from_index(self, Path(from_index), actor, report)
            if shred_quarantine:
                repair.shred_quarantine(self, actor, reason, report)
        repair.describe(self, report)
        return report

    @staticmethod
    def _item_ids(conn: sqlite3.Connection) -> set[str]:
        return {r[0] for r in conn.execute("SELECT item_id FROM items")}

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def trust_problems(self) -> list[str]:
        """Why this vault opened read-only: what differs from its authenticated state."""
        return list(self._trust_problems)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            if not self._read_only:
                self._anchors.close()
                if self._checkpoint_pending:
                    with contextlib.suppress(sqlite3.Error):
                        self._try_checkpoint(self._conn)
            conn, self._conn, self._keys = self._conn, None, None
            try:
                conn.close()
            finally:
                if self._file_lock is not None:
                    self._file_lock.release()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._conn is None

    # --- internals --------------------------------------------------------------------------

    def staff_key(self) -> bytes:
        """The key that seals the staff sign-in store (HKDF of the master key, label "staff")."""
        return self._k().staff

    def _k(self) -> _Keys:
        if self._keys is None:
            raise VaultClosed(f"{self.path}: the vault is closed; open it again")
        return self._keys

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise VaultClosed(f"{self.path}: the vault is closed; open it again")
        return self._conn

    def _refuse_writes(self) -> None:
        if self._read_only:
            if not self._trust_problems:
                raise VaultReadOnly(
                    f"{self.path}: opened read-only (for checking); nothing can be changed"
                )
            raise VaultReadOnly(
                f"{self.path}: the vault is read-only because its index differs from its "
                f"authenticated state: {self._trust_problems[0]}"
                + (
                    f" (and {len(self._trust_problems) - 1} more)"
                    if len(self._trust_problems) > 1
                    else ""
                )
                + ". Nothing was changed or deleted. Run `picsafe-desktop vault verify` and "
                "`picsafe-desktop vault repair`, and contact IT",
                self._trust_problems,
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One user action, one transaction: every vault change made inside (puts, consents,
        state changes, deletions, audit rows) commits together or not at all. Files of photos
        deleted inside are shredded only after the commit."""
        with self._lock:
            if self._outer is not None:  # already inside one on this thread (RLock)
                yield
                return
            with self._tx() as conn:
                self._outer, self._after_commit = conn, []
                try:
                    yield
                finally:
                    self._outer = None
            deleted, self._after_commit = self._after_commit, []
        self._after_delete(deleted)

    @contextlib.contextmanager
    def _tx(self, *, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. With `bump` (every change to batches, consents, items or the
        audit log) the touched rows' state entries, the generation and the state MAC are
        updated before the commit, and the new generation is anchored after it. Inside
        transaction() it is part of that one."""
        with self._lock:
            if self._outer is not None:
                yield self._outer
                return
            self._refuse_writes()
            conn = self._db()
            keys = self._k()
            head = None
            try:
                conn.execute("BEGIN IMMEDIATE")
                if bump:
                    self._check_unchanged(conn)
                self._touched = set()
                yield conn
                if bump:
                    audit = integrity.audit_head(conn, keys.audit, self._genesis)
                    head, cache = vault_state.refresh(
                        conn, keys.state, self._touched, audit, self._generation + 1, self._cache
                    )
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise sqlerrors.classify(exc, self._index_path) from exc
                raise
            finally:
                self._touched = set()
            if head is not None:
                self._generation = head.generation
                self._cache = cache
                self._anchors.submit(head)
            if self._checkpoint_pending:
                self._try_checkpoint(conn)

    def _check_unchanged(self, conn: sqlite3.Connection) -> None:
        """Before changing anything: the state record is still the one this vault wrote. A
        change made outside PicSafe while the vault is open must not be folded into the next
        state MAC; the vault turns read-only instead. SQLite's data_version says whether any
        other connection committed since; only then are the entries read and checked again."""
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        if version == self._data_version and self._cache is not None:
            return
        keys = self._k()
        audit = integrity.audit_head(conn, keys.audit, self._genesis)
        checked = vault_state.check_record(conn, keys.state, audit)
        if checked is None or not checked[1] or checked[0] != self._generation:
            self._read_only = True
            self._trust_problems = [
                f"{self._index_path}: the index was changed outside PicSafe while the vault "
                "was open (its state record no longer matches)"
            ]
            conn.execute("ROLLBACK")
            self._refuse_writes()
        self._cache = checked[2]  # the entries the record was just checked against
        self._data_version = version

    @property
    def keyring_trouble(self) -> bool:
        """The OS keyring stopped answering this session (its last anchor write failed); the
        vault keeps working, its anchor retried until the keyring is back."""
        return self._anchors.failing

    def _flush_anchor(self, *, strict: bool = False) -> None:
        """Write the newest generation and audit head to the OS keyring now. After a commit a
        keyring failure is not an error of the change (it is durable): it is retried after the
        next change and at close, and an anchor behind its index is never taken for a
        rollback. `strict` (creation, upgrade, repair) raises instead."""
        self._anchors.flush(strict=strict)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise sqlerrors.classify(exc, self._index_path) from exc

    def _try_checkpoint(self, conn: sqlite3.Connection) -> None:
        # Do not wait the usual 10 s for another program's readers: retrying later is enough.
        conn.execute("PRAGMA busy_timeout = 200")
        try:
            self._checkpoint(conn)
        finally:
            conn.execute("PRAGMA busy_timeout = 10000")

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        # Old page versions (with a deleted wrapped key) live on in the WAL, and the database
        # file keeps its old page until a checkpoint copies the zeroed one over it. Another
        # program reading the index (a backup tool, a verify) can hold the checkpoint back:
        # the deletion is committed all the same, so that is not an error; it is retried
        # after every later change and at close.
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            if sqlerrors.primary_code(exc) not in (sqlerrors.SQLITE_BUSY, sqlerrors.SQLITE_LOCKED):
                raise
            busy = 1
        self._checkpoint_pending = bool(busy)
        if busy:
            log.warning(
                "another program holds the vault index open: a deletion is committed "
                "and its key is flushed out of the index once that program lets go"
            )

    def _shred_wal(self, conn: sqlite3.Connection) -> None:
        self._checkpoint_pending = True
        self._try_checkpoint(conn)

    def _sweep(self) -> None:
        """Files the index does not explain go to quarantine/ (reported, audited), never to
        the shredder: a blob without a row may be a photo whose row was lost or removed."""
        foreign = self._blobs.clear_tmp()
        with self._lock:
            known = self._item_ids(self._db())
        strays = [self._blobs.path(i) for i in sorted(self._blobs.ids() - known)] + foreign
        for path in strays:
            item_id = quarantine.item_id_of(path)
            reason = self._orphan_reason(item_id)
            try:
                moved = quarantine.move(self.path, path)
            except OSError as exc:  # left where it is: still nothing is destroyed
                self.quarantined.append(
                    f"{path}: could not be moved to quarantine/ ({exc.strerror or exc}); left "
                    f"in place: {reason}"
                )
                continue
            self.audit(
                "quarantine",
                actor="system",
                subject=item_id or "file",
                details={"file": moved.name, "reason": reason},
            )
            self.quarantined.append(f"{path} -> {moved}: {reason}")
        if strays:
            log.warning(
                "%d file(s) the vault index does not explain moved to quarantine/", len(strays)
            )

    def _orphan_reason(self, item_id: str | None) -> str:
        """What the audit log says about a blob that has no index row."""
        if item_id is None:
            return "not a file PicSafe writes there"
        events = {
            r[0] for r in self._query("SELECT event FROM audit WHERE subject = ?", (item_id,))
        }
        if "delete" in events:
            return "its photo was deleted (key destroyed) before the file could be removed"
        if "put" in events:
            return (
                "its index row was removed outside PicSafe; `picsafe-desktop vault repair "
                "--from-index COPY` can put it back from a copy of the index"
            )
        return (
            "neither the index nor the audit log knows it: left by an interrupted import (its "
            "key was never stored), or stored after the copy of the index now in use was made "
            "(`picsafe-desktop vault repair --from-index COPY` re-links it from a newer copy)"
        )

    # --- whole-vault check ------------------------------------------------------------------

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Decrypt and authenticate every item, consent, label and journal entry, and compare
        the index with its authenticated state and the keyring's anchor."""
        problems: list[str] = self._current_trust_problems()
        notes = [
            f"{path}: in quarantine (run `picsafe-desktop vault repair`)"
            for path in quarantine.files(self.path)
        ]
        # Reported, not counted as damage: the vault's own data is checked below.
        notes += [layout.describe(p) for p in layout.unknown(self.path)]
        if self._state_kinds != vault_state.KINDS:
            notes.append(
                f"{self._index_path}: vault format 2: its import journal and patient list "
                "index are authenticated from format 3 on, after PicSafe next opens it for "
                "writing"
            )
        check = self._query("PRAGMA integrity_check")
        if [r[0] for r in check] != ["ok"]:
            problems.append(
                f"{self._index_path}: SQLite integrity check failed: "
                + "; ".join(str(r[0]) for r in check[:5])
            )
        rows = self._query(_ITEMS_FULL + " ORDER BY created_at")
        for n, row in enumerate(rows):
            try:
                self._verify_item(row)
            except VaultError as exc:
                problems.append(f"item {row[0]}: {exc}")
            if progress:
                progress(n + 1, len(rows))
        for orphan in sorted(self._blobs.ids() - {r[0] for r in rows}):
            problems.append(
                f"{self._blobs.path(orphan)}: encrypted file without an index row (kept; "
                "`picsafe-desktop vault repair` says what it is)"
            )
        for batch_id, created_at, digest in self._query(
            "SELECT batch_id, created_at, mac FROM batches"
        ):
            try:
                self._check_batch(batch_id, created_at, digest)
                self.batch_label(batch_id)
            except VaultError as exc:
                problems.append(f"batch {batch_id}: {exc}")
        for row in self._query(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac, "
            "wrapped_key, record FROM consents"
        ):
            try:
                self._check_consent(row)
                key = self._data_key(Kind.CONSENT, row[0], row[5])
                open_bytes(key, Kind.CONSENT, _oid(row[0]), row[6], f"consent {row[0]}")
            except VaultError as exc:
                problems.append(f"consent {row[0]}: {exc}")
        try:
            self._journal_rows()
        except VaultError as exc:
            problems.append(f"import journal: {exc}")
        problems = list(dict.fromkeys(problems))
        return VerifyReport(ok=not problems, problems=problems, items=len(rows), notes=notes)

    def _current_trust_problems(self) -> list[str]:
        if self._index_version < 2:
            return list(self._trust_problems)
        anchored = self._load_anchor()
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN")
            try:
                problems, _, _ = self._trust_snapshot(conn, anchored)
            except sqlite3.Error as exc:
                problems = [str(sqlerrors.classify(exc, self._index_path))]
            finally:
                conn.execute("ROLLBACK")
        return problems


def _header_mac(keys: _Keys, head: dict[str, Any]) -> bytes:
    return mac(
        keys.header,
        "header",
        vault_header.canonical({k: v for k, v in head.items() if k != "header_mac"}),
    )
