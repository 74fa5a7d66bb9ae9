"""The Vault: one folder holding encrypted photos, consent records, an index and an audit log.

The on-disk format is docs/vault-format.md. Thread safety: one Vault may be shared by worker
threads; index access is serialised by a lock while encryption and file I/O run outside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from picsafe_desktop.model import ItemState, PhotoItem
from picsafe_desktop.vault import anchor, index, integrity, keystore, quarantine, sqlerrors
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import header as vault_header
from picsafe_desktop.vault import state as vault_state
from picsafe_desktop.vault.audit import AuditReport
from picsafe_desktop.vault.blobs import BlobStore, no_space
from picsafe_desktop.vault.crypto import (
    PRODUCTION_KDF,
    KdfParams,
    Kind,
    hkdf,
    mac,
    new_recovery_code,
    normalize_recovery_code,
    open_bytes,
    open_field,
    open_stream,
    same,
    seal_bytes,
    seal_field,
    seal_stream,
    wrap_aad,
)
from picsafe_desktop.vault.errors import (
    DiskFull,
    DuplicateOriginal,
    IntegrityError,
    KeyMissing,
    NotFound,
    VaultClosed,
    VaultError,
    VaultReadOnly,
    WrongRecoveryCode,
)
from picsafe_desktop.vault.lock import VaultLock

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "picsafe-desktop"
INDEX_FILE = "index.sqlite3"
LOCK_FILE = "vault.lock"
# Values stored in clear in the index or audit log: ids and short tokens, never free text.
_TOKEN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SUBJECT = re.compile(r"[A-Za-z0-9_.:-]{0,80}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Plain, MACed columns of an item row first (row[:9]), then its key and sealed parts.
_ITEMS = (
    "SELECT item_id, batch_id, state, size, media_type, created_at, consent_id, original_mac, "
    "mac FROM items"
)
_ITEMS_FULL = (
    "SELECT item_id, batch_id, state, size, media_type, created_at, consent_id, original_mac, "
    "mac, wrapped_key, thumbnail, metadata FROM items"
)


@dataclass(frozen=True)
class BatchInfo:
    batch_id: str
    created_at: dt.datetime
    item_count: int
    states: dict[ItemState, int]  # items per state; absent states have none


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: dt.datetime
    event: str
    actor: str
    subject: str
    details: dict[str, Any]


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    items: int = 0
    notes: list[str] = field(default_factory=list)  # reported, not failures (quarantine)


class _Keys:
    """Subkeys of the master key (HKDF-SHA256, salt = the vault id's 16 bytes)."""

    def __init__(self, master: bytes, vault_id: str) -> None:
        salt = bytes.fromhex(vault_id)

        def sub(name: str) -> bytes:
            return hkdf(master, b"picsafe-vault/v1/" + name.encode(), salt)

        self.wrap = sub("wrap")
        self.field = sub("field")
        self.audit = sub("audit-mac")
        self.lookup = sub("lookup")
        self.row = sub("row-mac")
        self.header = sub("header-mac")
        self.state = sub("state-mac")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _new_id() -> str:
    return uuid.uuid4().hex


def _oid(object_id: str) -> bytes:
    return bytes.fromhex(object_id)


def _token(value: str, what: str) -> str:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} must be a short lower-case token like 'put' or 'export_pdf'")
    return value


def _subject(value: str) -> str:
    if not isinstance(value, str) or not _SUBJECT.fullmatch(value):
        raise ValueError("an audit subject must be an id (letters, digits, _.:-), not free text")
    return value


def _json_bytes(value: Any, what: str, *, ascii_only: bool = False) -> bytes:
    """UTF-8 JSON. `ascii_only` writes non-ASCII as \\u escapes, which also carries file names
    that are not valid UTF-8 (held by Python as lone surrogates) and gives them back unchanged."""
    try:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from None


def _normalize_mrn(mrn: str) -> str:
    value = mrn.strip().upper() if isinstance(mrn, str) else ""
    if not value:
        raise ValueError("an MRN is required")
    return value


class _Reader:
    """read(n) over bytes or a binary file that also hashes and counts what it hands out."""

    def __init__(self, data: bytes | bytearray | memoryview | BinaryIO) -> None:
        if isinstance(data, bytes | bytearray | memoryview):
            data = io.BytesIO(data)
        self._read = data.read
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int) -> bytes:
        chunk = self._read(n)
        self.sha.update(chunk)
        self.size += len(chunk)
        return chunk


class Vault:
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
        self._touched: set[tuple[str, str]] = set()
        self._anchors = anchor.Writer(service, self.vault_id, keys.state)
        self._checkpoint_pending = False
        self.quarantined: list[str] = []  # what this open moved to quarantine/, for the caller

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
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        head = vault_header.read(root)
        vault_id = head["vault_id"]
        lock = None if read_only else VaultLock(root / LOCK_FILE)
        if lock is not None:
            lock.acquire()
        try:
            keystore.check_backend(keyring_service)
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
        """Format 1 -> 2: add the authenticated state, then mark vault.json as version 2."""
        from picsafe_desktop.vault import upgrade

        if self._read_only:
            self._trust_problems.append(
                f"{self._index_path}: vault format 1; it is upgraded to format "
                f"{index.INDEX_VERSION} the next time PicSafe opens it for writing"
            )
            return
        keys = self._k()
        if version < index.INDEX_VERSION:
            with self._lock:
                problems = upgrade.index_v1_to_v2(
                    self._db(), keys.row, keys.state, keys.audit, self._genesis, self._index_path
                )
            if not problems:
                self._index_version = index.INDEX_VERSION
            if problems:
                # Rows that do not verify are not adopted into the new state: stay read-only.
                self._read_only = True
                self._trust_problems += problems
                return
            with self._lock:
                self._generation = vault_state.read_record(self._db())[0]
            self.audit(
                "vault_upgrade",
                actor="system",
                subject=self.vault_id,
                details={"from": 1, "to": index.INDEX_VERSION},
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
                orphans = sorted(self._blobs.ids() - self._item_ids(conn))
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
        generation, found = integrity.state_problems(conn, keys.state, audit, where)
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
    def _tx(self, *, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. With `bump` (every change to batches, consents, items or the
        audit log) the touched rows' state entries, the generation and the state MAC are
        updated before the commit, and the new generation is anchored after it."""
        with self._lock:
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
                    head = vault_state.refresh(
                        conn, keys.state, self._touched, audit, self._generation + 1
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
                self._anchors.submit(head)
            if self._checkpoint_pending:
                self._try_checkpoint(conn)

    def _check_unchanged(self, conn: sqlite3.Connection) -> None:
        """Before changing anything: the state record is still the one this vault wrote. A
        change made outside PicSafe while the vault is open must not be folded into the next
        state MAC; the vault turns read-only instead."""
        keys = self._k()
        audit = integrity.audit_head(conn, keys.audit, self._genesis)
        checked = vault_state.record_ok(conn, keys.state, audit)
        if checked is None or not checked[1] or checked[0] != self._generation:
            self._read_only = True
            self._trust_problems = [
                f"{self._index_path}: the index was changed outside PicSafe while the vault "
                "was open (its state record no longer matches)"
            ]
            conn.execute("ROLLBACK")
            self._refuse_writes()

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
            moved = quarantine.move(self.path, path)
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

    def _item_mac(
        self,
        item_id: str,
        batch_id: str,
        state: str,
        size: int,
        media_type: str,
        created_at: str,
        consent_id: str | None,
        original_mac: bytes | None,
    ) -> bytes:
        return mac(
            self._k().row,
            "item",
            item_id,
            batch_id,
            state,
            size,
            media_type,
            created_at,
            consent_id,
            original_mac,
        )

    def _check_item(self, row: tuple) -> None:
        item_id, batch_id, state, size, media_type, created_at, consent_id, omac, digest = row[:9]
        if not same(
            digest,
            self._item_mac(
                item_id, batch_id, state, size, media_type, created_at, consent_id, omac
            ),
        ):
            raise IntegrityError(
                f"{self._index_path}: the index row of item {item_id} was modified outside "
                "PicSafe (state, size or links); run `picsafe-desktop vault verify`"
            )

    def _item_row(self, item_id: str) -> tuple:
        rows = self._query(_ITEMS_FULL + " WHERE item_id = ?", (item_id,))
        if not rows:
            raise NotFound(f"no item {item_id} in vault {self.path}")
        self._check_item(rows[0])
        if rows[0][2] == ItemState.ACTIVE.value:
            # An active photo needs a live consent whose row verifies.
            try:
                self._consent_row(rows[0][6])
            except NotFound:
                raise IntegrityError(
                    f"{self._index_path}: item {item_id} is active but its consent "
                    f"{rows[0][6]} does not exist; run `picsafe-desktop vault verify`"
                ) from None
        return rows[0]

    def _data_key(self, kind: Kind, object_id: str, wrapped: bytes) -> bytes:
        return open_field(
            self._k().wrap,
            wrapped,
            wrap_aad(kind, _oid(object_id)),
            f"{self._index_path}: key of {object_id}",
        )

    def _photo(self, row: tuple) -> PhotoItem:
        item_id, batch_id, state, size, media_type, created_at, consent_id = row[:7]
        return PhotoItem(
            item_id=item_id,
            batch_id=batch_id,
            state=ItemState(state),
            size=size,
            media_type=media_type,
            created_at=dt.datetime.fromisoformat(created_at),
            consent_id=consent_id,
        )

    def _require_batch(self, conn: sqlite3.Connection, batch_id: str) -> None:
        if not conn.execute("SELECT 1 FROM batches WHERE batch_id = ?", (batch_id,)).fetchone():
            raise NotFound(f"no batch {batch_id} in vault {self.path}")

    def _require_consent(
        self, conn: sqlite3.Connection, state: ItemState, consent_id: str | None
    ) -> None:
        if (state == ItemState.ACTIVE) != (consent_id is not None):
            raise ValueError("a consent id is required for ACTIVE items and only for them")
        if (
            consent_id is not None
            and not conn.execute(
                "SELECT 1 FROM consents WHERE consent_id = ?", (consent_id,)
            ).fetchone()
        ):
            raise NotFound(f"no consent {consent_id} in vault {self.path}")

    # --- batches ----------------------------------------------------------------------------
    def create_batch(self, source_label: str, actor: str) -> str:
        batch_id = _new_id()
        at = _now()
        keys = self._k()
        label = seal_field(
            keys.field,
            source_label.encode("utf-8"),
            b"picsafe-vault/v1/batch-label\x00" + batch_id.encode(),
        )
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO batches (batch_id, created_at, mac, label) VALUES (?, ?, ?, ?)",
                (batch_id, at, mac(keys.row, "batch", batch_id, at), label),
            )
            self._touched.add(("batch", batch_id))
            self._audit_in(conn, "batch_create", actor, batch_id, None)
        return batch_id

    def batches(self, state: ItemState | None = None) -> list[BatchInfo]:
        rows = self._query("SELECT batch_id, created_at, mac FROM batches ORDER BY created_at")
        counts: dict[str, dict[ItemState, int]] = {}
        for item in self.list_items():
            per = counts.setdefault(item.batch_id, {})
            per[item.state] = per.get(item.state, 0) + 1
        out = []
        for batch_id, created_at, digest in rows:
            self._check_batch(batch_id, created_at, digest)
            states = counts.get(batch_id, {})
            if state is None or states.get(state):
                out.append(
                    BatchInfo(
                        batch_id,
                        dt.datetime.fromisoformat(created_at),
                        sum(states.values()),
                        states,
                    )
                )
        return out

    def _check_batch(self, batch_id: str, created_at: str, digest: bytes) -> None:
        if not same(digest, mac(self._k().row, "batch", batch_id, created_at)):
            raise IntegrityError(
                f"{self._index_path}: the index row of batch {batch_id} "
                "was modified outside PicSafe"
            )

    def batch_label(self, batch_id: str) -> str:
        rows = self._query("SELECT label FROM batches WHERE batch_id = ?", (batch_id,))
        if not rows:
            raise NotFound(f"no batch {batch_id} in vault {self.path}")
        return open_field(
            self._k().field,
            rows[0][0],
            b"picsafe-vault/v1/batch-label\x00" + batch_id.encode(),
            f"{self._index_path}: label of batch {batch_id}",
        ).decode("utf-8")

    # --- items ------------------------------------------------------------------------------
    def put(
        self,
        data: bytes | BinaryIO,
        *,
        batch_id: str,
        media_type: str,
        thumbnail: bytes,
        metadata: dict[str, Any],
        original_sha256: str | None = None,
        actor: str,
        state: ItemState = ItemState.AWAITING_CONSENT,
        consent_id: str | None = None,
        then: Callable[[sqlite3.Connection, str], None] | None = None,
    ) -> str:
        """Encrypt and store one photo; returns its item id once it is durable and verified.
        `then(conn, item_id)` runs inside the transaction that adds the row (one user action,
        one transaction: see put_redacted)."""
        state = ItemState(state)
        meta_plain = _json_bytes(metadata, "metadata")
        if not isinstance(media_type, str) or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", media_type):
            raise ValueError("media_type must be a MIME type such as image/jpeg")
        keys = self._k()
        original_mac = None
        if original_sha256 is not None:
            digest = original_sha256.lower()
            if not _SHA256.fullmatch(digest):
                raise ValueError("original_sha256 must be 64 hex digits")
            original_mac = mac(keys.lookup, "original", digest)
        with self._lock:
            conn = self._db()
            self._require_batch(conn, batch_id)
            self._require_consent(conn, state, consent_id)
            if original_mac is not None:
                found = self._find_original_mac(original_mac)
                if found:
                    raise DuplicateOriginal(found)

        item_id = _new_id()
        oid = _oid(item_id)
        data_key = os.urandom(32)
        source = _Reader(data)
        self._blobs.write(item_id, seal_stream(data_key, Kind.CONTENT, oid, source.read))
        try:
            self._check_blob(item_id, data_key, source.size, source.sha.digest())
            sealed_thumb = seal_bytes(data_key, Kind.THUMBNAIL, oid, thumbnail)
            sealed_meta = seal_bytes(data_key, Kind.METADATA, oid, meta_plain)
            what = f"new item {item_id}"
            if (
                open_bytes(data_key, Kind.THUMBNAIL, oid, sealed_thumb, what) != thumbnail
                or open_bytes(data_key, Kind.METADATA, oid, sealed_meta, what) != meta_plain
            ):
                raise IntegrityError(f"{what}: read-back verification failed")
            wrapped = seal_field(keys.wrap, data_key, wrap_aad(Kind.CONTENT, oid))
            created_at = _now()
            row_mac = self._item_mac(
                item_id,
                batch_id,
                state.value,
                source.size,
                media_type,
                created_at,
                consent_id,
                original_mac,
            )
            with self._tx() as conn:
                self._require_batch(conn, batch_id)
                self._require_consent(conn, state, consent_id)
                try:
                    conn.execute(
                        "INSERT INTO items (item_id, batch_id, state, size, media_type, "
                        "created_at, consent_id, original_mac, mac, wrapped_key, thumbnail, "
                        "metadata) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            item_id,
                            batch_id,
                            state.value,
                            source.size,
                            media_type,
                            created_at,
                            consent_id,
                            original_mac,
                            row_mac,
                            wrapped,
                            sealed_thumb,
                            sealed_meta,
                        ),
                    )
                except sqlite3.IntegrityError:
                    found = self._find_original_mac(original_mac) if original_mac else None
                    if found:
                        raise DuplicateOriginal(found) from None
                    raise
                self._touched.add(("item", item_id))
                self._audit_in(
                    conn,
                    "put",
                    actor,
                    item_id,
                    {"batch_id": batch_id, "size": source.size, "media_type": media_type},
                )
                if then is not None:
                    then(conn, item_id)
        except BaseException:
            self._blobs.shred(item_id)
            raise
        return item_id

    def _check_blob(self, item_id: str, data_key: bytes, size: int, sha256: bytes) -> None:
        check = hashlib.sha256()
        got = 0
        for chunk in self._content(item_id, data_key):
            check.update(chunk)
            got += len(chunk)
        if got != size or check.digest() != sha256:
            raise IntegrityError(
                f"{self._blobs.path(item_id)}: read-back verification failed; "
                "the disk may be failing"
            )

    def _content(self, item_id: str, data_key: bytes) -> Iterator[bytes]:
        with self._blobs.open(item_id) as f:
            yield from open_stream(
                data_key, Kind.CONTENT, _oid(item_id), f.read, str(self._blobs.path(item_id))
            )

    def _find_original_mac(self, original_mac: bytes) -> str | None:
        rows = self._query("SELECT item_id FROM items WHERE original_mac = ?", (original_mac,))
        return rows[0][0] if rows else None

    def find_original(self, original_sha256: str) -> str | None:
        return self._find_original_mac(mac(self._k().lookup, "original", original_sha256.lower()))

    def list_items(
        self,
        state: ItemState | None = None,
        batch_id: str | None = None,
        consent_id: str | None = None,
    ) -> list[PhotoItem]:
        """Index columns only: no blob is read or decrypted (each row's MAC is checked)."""
        rows = self._query(
            _ITEMS + " WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR batch_id = ?2) "
            "AND (?3 IS NULL OR consent_id = ?3) ORDER BY created_at, item_id",
            (state and ItemState(state).value, batch_id, consent_id),
        )
        for row in rows:
            self._check_item(row)
        return [self._photo(row) for row in rows]

    def get_item(self, item_id: str) -> PhotoItem:
        return self._photo(self._item_row(item_id))

    def read(self, item_id: str, *, actor: str, purpose: str = "view") -> bytes:
        """The photo's bytes, fully authenticated; the access is audited."""
        self._refuse_writes()  # no patient data from a vault that cannot audit or is untrusted
        row = self._item_row(item_id)
        data = b"".join(self._content(item_id, self._data_key(Kind.CONTENT, item_id, row[9])))
        with self._tx() as conn:
            self._audit_in(conn, "view", actor, item_id, {"purpose": purpose})
        return data

    def open_stream(self, item_id: str) -> Iterator[bytes]:
        """Chunks of the photo for large files. Each chunk is authenticated, but truncation
        shows only as an IntegrityError at the end: act on the data only after the loop ends.
        Not audited: the caller records the access with `audit()`."""
        self._refuse_writes()
        row = self._item_row(item_id)
        return self._content(item_id, self._data_key(Kind.CONTENT, item_id, row[9]))

    def read_thumbnail(self, item_id: str) -> bytes:
        self._refuse_writes()  # no patient data from a vault that cannot audit or is untrusted
        row = self._item_row(item_id)
        return open_bytes(
            self._data_key(Kind.CONTENT, item_id, row[9]),
            Kind.THUMBNAIL,
            _oid(item_id),
            row[10],
            f"{self._index_path}: thumbnail of {item_id}",
        )

    def read_metadata(self, item_id: str) -> dict[str, Any]:
        self._refuse_writes()  # no patient data from a vault that cannot audit or is untrusted
        row = self._item_row(item_id)
        plain = open_bytes(
            self._data_key(Kind.CONTENT, item_id, row[9]),
            Kind.METADATA,
            _oid(item_id),
            row[11],
            f"{self._index_path}: metadata of {item_id}",
        )
        return json.loads(plain)

    def update_metadata(self, item_id: str, metadata: dict[str, Any], *, actor: str) -> None:
        plain = _json_bytes(metadata, "metadata")
        row = self._item_row(item_id)
        sealed = seal_bytes(
            self._data_key(Kind.CONTENT, item_id, row[9]), Kind.METADATA, _oid(item_id), plain
        )
        with self._tx() as conn:
            if (
                conn.execute(
                    "UPDATE items SET metadata = ? WHERE item_id = ?", (sealed, item_id)
                ).rowcount
                != 1
            ):
                raise NotFound(f"no item {item_id} in vault {self.path}")
            self._touched.add(("item", item_id))
            self._audit_in(conn, "metadata", actor, item_id, None)

    def set_state(
        self,
        item_ids: list[str] | tuple[str, ...],
        state: ItemState,
        *,
        consent_id: str | None = None,
        actor: str,
    ) -> None:
        """Change the state of several items at once (all or none)."""
        state = ItemState(state)
        with self._tx() as conn:
            self._require_consent(conn, state, consent_id)
            for item_id in item_ids:
                self._restate(conn, item_id, state, consent_id, actor)

    def _restate(
        self,
        conn: sqlite3.Connection,
        item_id: str,
        state: ItemState,
        consent_id: str | None,
        actor: str,
    ) -> None:
        row = conn.execute(_ITEMS + " WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFound(f"no item {item_id} in vault {self.path}")
        self._check_item(row)
        _, batch_id, _, size, media_type, created_at, _, original_mac, _ = row
        digest = self._item_mac(
            item_id, batch_id, state.value, size, media_type, created_at, consent_id, original_mac
        )
        conn.execute(
            "UPDATE items SET state = ?, consent_id = ?, mac = ? WHERE item_id = ?",
            (state.value, consent_id, digest, item_id),
        )
        self._touched.add(("item", item_id))
        self._audit_in(
            conn, "state", actor, item_id, {"state": state.value, "consent_id": consent_id}
        )

    def delete(self, item_id: str, *, actor: str, reason: str) -> None:
        """Crypto-shred: the wrapped key is deleted (and flushed out of the WAL), then the
        encrypted file is overwritten and unlinked."""
        self.delete_items([item_id], actor=actor, reason=reason)

    def delete_items(
        self, item_ids: list[str] | tuple[str, ...], *, actor: str, reason: str
    ) -> int:
        """Crypto-shred several photos in one transaction (all or none); returns how many."""
        ids = list(dict.fromkeys(item_ids))
        with self._tx() as conn:
            for item_id in ids:
                self._delete_in(conn, item_id, actor, reason)
        self._after_delete(ids)
        return len(ids)

    def _delete_in(self, conn: sqlite3.Connection, item_id: str, actor: str, reason: str) -> None:
        if conn.execute("DELETE FROM items WHERE item_id = ?", (item_id,)).rowcount != 1:
            raise NotFound(f"no item {item_id} in vault {self.path}")
        self._touched.add(("item", item_id))
        self._audit_in(conn, "delete", actor, item_id, {"reason": reason})

    def _after_delete(self, item_ids: list[str]) -> None:
        """After the commit (the keys are gone, the deletion stands): flush the WAL and remove
        the files. A failure here is not the deletion's: a file left behind cannot be read and
        goes to quarantine/ (as "deleted") at the next open."""
        if not item_ids:
            return
        with self._lock:
            self._shred_wal(self._db())
        for item_id in item_ids:
            try:
                self._blobs.shred(item_id)
            except VaultError:
                log.warning("the file of a deleted photo could not be removed yet")

    def put_redacted(
        self,
        original_id: str,
        data: bytes,
        *,
        media_type: str,
        thumbnail: bytes,
        metadata: dict[str, Any],
        actor: str,
        boxes: int,
        replace: bool,
    ) -> str:
        """Store a redacted version under the original's consent, audit it and (`replace`)
        crypto-shred the original, all in one transaction."""
        original = self.get_item(original_id)

        def finish(conn: sqlite3.Connection, new_id: str) -> None:
            row = conn.execute(_ITEMS + " WHERE item_id = ?", (original_id,)).fetchone()
            if row is None or row[2] != original.state.value or row[6] != original.consent_id:
                raise VaultError(
                    f"photo {original_id} was deleted or its consent changed meanwhile; the "
                    "redacted version was not saved"
                )
            self._audit_in(
                conn,
                "redact",
                actor,
                new_id,
                {"original": original_id, "boxes": boxes, "original_kept": not replace},
            )
            if replace:
                self._delete_in(conn, original_id, actor, "replaced by redacted version")

        new_id = self.put(
            data,
            batch_id=original.batch_id,
            media_type=media_type,
            thumbnail=thumbnail,
            metadata=metadata,
            actor=actor,
            state=original.state,  # covered by the same consent, atomically: never re-asked
            consent_id=original.consent_id,
            then=finish,
        )
        if replace:
            self._after_delete([original_id])
        return new_id

    def refuse_batch(self, batch_id: str, *, actor: str) -> int:
        """Consent refused: crypto-shred every photo of the batch waiting for it and audit the
        refusal, in one transaction; returns how many photos were destroyed."""
        with self._tx() as conn:
            self._require_batch(conn, batch_id)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT item_id FROM items WHERE batch_id = ? AND state = ?",
                    (batch_id, ItemState.AWAITING_CONSENT.value),
                )
            ]
            for item_id in ids:
                self._delete_in(conn, item_id, actor, "consent refused")
            self._audit_in(conn, "consent_refused", actor, batch_id, {"photos_destroyed": len(ids)})
        self._after_delete(ids)
        return len(ids)

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

    # --- consent ----------------------------------------------------------------------------
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
        if not same(digest, mac(self._k().row, "consent", consent_id, batch_id, at, mrn_mac)):
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
            self._touched.add(("consent", consent_id))
            self._audit_in(conn, "consent_delete", actor, consent_id, {"reason": reason})
        with self._lock:
            self._shred_wal(self._db())

    # --- audit ------------------------------------------------------------------------------
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

    # --- import journal ---------------------------------------------------------------------
    def _journal_aad(self, entry_id: str, step: str) -> bytes:
        return b"picsafe-vault/v1/journal\x00" + entry_id.encode() + b"\x00" + step.encode()

    def journal_set(self, entry_id: str, step: str, payload: dict[str, Any]) -> None:
        _subject(entry_id)
        _token(step, "a journal step")
        sealed = seal_field(
            self._k().field,
            # Journal payloads hold source paths: on POSIX any bytes but "/" and NUL.
            _json_bytes(payload, "journal payload", ascii_only=True),
            self._journal_aad(entry_id, step),
        )
        with self._tx(bump=False) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO journal (entry_id, step, updated_at, payload) "
                "VALUES (?, ?, ?, ?)",
                (entry_id, step, _now(), sealed),
            )

    def journal_entries(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._query("SELECT entry_id, step, payload FROM journal ORDER BY updated_at")
        key = self._k().field
        return [
            (
                entry_id,
                step,
                json.loads(
                    open_field(
                        key,
                        payload,
                        self._journal_aad(entry_id, step),
                        f"{self._index_path}: journal entry {entry_id}",
                    )
                ),
            )
            for entry_id, step, payload in rows
        ]

    def journal_clear(self, entry_id: str) -> None:
        with self._tx(bump=False) as conn:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))

    # --- whole-vault check ------------------------------------------------------------------
    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Decrypt and authenticate every item, consent, label and journal entry, and compare
        the index with its authenticated state and the keyring's anchor."""
        problems: list[str] = self._current_trust_problems()
        notes = [
            f"{path}: in quarantine (run `picsafe-desktop vault repair`)"
            for path in quarantine.files(self.path)
        ]
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
            self.journal_entries()
        except VaultError as exc:
            problems.append(f"import journal: {exc}")
        problems = list(dict.fromkeys(problems))
        return VerifyReport(ok=not problems, problems=problems, items=len(rows), notes=notes)

    def _current_trust_problems(self) -> list[str]:
        if self._index_version < index.INDEX_VERSION:
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

    def _verify_item(self, row: tuple) -> None:
        self._check_item(row)
        item_id, size = row[0], row[3]
        oid = _oid(item_id)
        key = self._data_key(Kind.CONTENT, item_id, row[9])
        open_bytes(key, Kind.THUMBNAIL, oid, row[10], "thumbnail")
        json.loads(open_bytes(key, Kind.METADATA, oid, row[11], "metadata"))
        got = sum(len(chunk) for chunk in self._content(item_id, key))
        if got != size:
            raise IntegrityError(f"holds {got} bytes, the index says {size}")


def _header_mac(keys: _Keys, head: dict[str, Any]) -> bytes:
    return mac(
        keys.header,
        "header",
        vault_header.canonical({k: v for k, v in head.items() if k != "header_mac"}),
    )
