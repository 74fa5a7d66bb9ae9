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

from picsafe_desktop import winacl, winfs
from picsafe_desktop.model import ItemState, PhotoItem
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import header as vault_header
from picsafe_desktop.vault import index, keystore
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
    WrongRecoveryCode,
)
from picsafe_desktop.vault.lock import VaultLock

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
        lock: VaultLock,
    ) -> None:
        self.path = root
        self.vault_id: str = header["vault_id"]
        self._keys: _Keys | None = keys
        self._conn: sqlite3.Connection | None = conn
        self._file_lock = lock
        self._lock = threading.RLock()
        self._blobs = BlobStore(root)
        self._index_path = root / INDEX_FILE
        self._genesis = audit_chain.genesis(keys.audit, self.vault_id)

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
        if problem := winfs.network_vault_problem(root):  # SQLite WAL is unsafe over SMB/NFS
            raise VaultError(problem)
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
            vault = cls(root, head, keys, conn, lock)
            vault.audit("vault_create", actor=actor, subject=vault_id)
            stored_key = True
            keystore.store_master_key(keyring_service, vault_id, master)
            vault_header.write(root, head)  # the commit point: now the folder is a vault
        except BaseException as exc:
            # Undo everything: the folder was new or empty, so all it holds is ours.
            if conn is not None:
                conn.close()
            if stored_key:
                keystore.forget_master_key(keyring_service, vault_id)
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
    def open(cls, path: str | os.PathLike[str], keyring_service: str = DEFAULT_SERVICE) -> Vault:
        root = Path(path)
        if problem := winfs.network_vault_problem(root):  # SQLite WAL is unsafe over SMB/NFS
            raise VaultError(problem)
        head = vault_header.read(root)
        vault_id = head["vault_id"]
        lock = VaultLock(root / LOCK_FILE)
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
            return cls._open_index(root, head, keys, lock)
        except BaseException:
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
                raise IntegrityError(f"{where}: modified outside PicSafe; restore it from backup")
            keystore.check_backend(keyring_service)
            vault = cls._open_index(root, head, keys, lock)
            try:
                keystore.store_master_key(keyring_service, vault_id, master)
                vault.audit("vault_recover", actor=actor, subject=vault_id)
            finally:
                vault.close()
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_index(cls, root: Path, head: dict[str, Any], keys: _Keys, lock: VaultLock) -> Vault:
        where = root / vault_header.HEADER_FILE
        if not same(vault_header.unb64(head["header_mac"], str(where)), _header_mac(keys, head)):
            raise IntegrityError(f"{where}: modified outside PicSafe; restore it from backup")
        db = root / INDEX_FILE
        if not (root / "blobs").is_dir():
            raise IntegrityError(
                f"{root / 'blobs'}: the vault's file folder is missing; restore it from backup"
            )
        if not db.is_file():
            raise IntegrityError(f"{db}: the vault index is missing; restore it from backup")
        conn = None
        try:
            conn = index.connect(db)
            index.check_version(conn, db)
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
            if row is None or not same(row[0], mac(keys.row, "vault-id", head["vault_id"])):
                raise IntegrityError(f"{db}: this index belongs to another vault or was modified")
            vault = cls(root, head, keys, conn, lock)
            vault._sweep()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise IntegrityError(
                    f"{db}: the vault index is damaged ({exc}); restore it from backup"
                ) from exc
            raise
        return vault

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            conn, self._conn, self._keys = self._conn, None, None
            try:
                conn.close()
            finally:
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

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._db()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                    raise DiskFull(
                        f"{self._index_path}: the disk is full; free space on that "
                        "drive and retry (the vault is unchanged)"
                    ) from exc
                if isinstance(exc, sqlite3.DatabaseError):
                    raise IntegrityError(
                        f"{self._index_path}: the vault index is damaged or "
                        f"inconsistent ({exc}); run `picsafe-desktop vault "
                        "verify`"
                    ) from exc
                raise

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db().execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise IntegrityError(
                    f"{self._index_path}: the vault index is damaged ({exc}); "
                    "restore it from backup"
                ) from exc

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

    def _shred_wal(self, conn: sqlite3.Connection) -> None:
        # Old page versions (with the deleted wrapped key) live on in the WAL until it is
        # checkpointed and truncated; secure_delete only zeroes the database file's copy.
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise VaultError(f"{self._index_path}: could not flush the index after a deletion")

    def _sweep(self) -> None:
        """Remove what a crash left behind: temp files and blobs whose index row never committed
        (no key was stored for them, so they were never readable)."""
        self._blobs.clear_tmp()
        known = {r[0] for r in self._query("SELECT item_id FROM items")}
        for orphan in self._blobs.ids() - known:
            self._blobs.shred(orphan)

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
    ) -> str:
        """Encrypt and store one photo; returns its item id once it is durable and verified."""
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
                self._audit_in(
                    conn,
                    "put",
                    actor,
                    item_id,
                    {"batch_id": batch_id, "size": source.size, "media_type": media_type},
                )
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
        row = self._item_row(item_id)
        data = b"".join(self._content(item_id, self._data_key(Kind.CONTENT, item_id, row[9])))
        with self._tx() as conn:
            self._audit_in(conn, "view", actor, item_id, {"purpose": purpose})
        return data

    def open_stream(self, item_id: str) -> Iterator[bytes]:
        """Chunks of the photo for large files. Each chunk is authenticated, but truncation
        shows only as an IntegrityError at the end: act on the data only after the loop ends.
        Not audited: the caller records the access with `audit()`."""
        row = self._item_row(item_id)
        return self._content(item_id, self._data_key(Kind.CONTENT, item_id, row[9]))

    def read_thumbnail(self, item_id: str) -> bytes:
        row = self._item_row(item_id)
        return open_bytes(
            self._data_key(Kind.CONTENT, item_id, row[9]),
            Kind.THUMBNAIL,
            _oid(item_id),
            row[10],
            f"{self._index_path}: thumbnail of {item_id}",
        )

    def read_metadata(self, item_id: str) -> dict[str, Any]:
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
        self._audit_in(
            conn, "state", actor, item_id, {"state": state.value, "consent_id": consent_id}
        )

    def delete(self, item_id: str, *, actor: str, reason: str) -> None:
        """Crypto-shred: the wrapped key is deleted (and flushed out of the WAL), then the
        encrypted file is overwritten and unlinked."""
        with self._tx() as conn:
            if conn.execute("DELETE FROM items WHERE item_id = ?", (item_id,)).rowcount != 1:
                raise NotFound(f"no item {item_id} in vault {self.path}")
            self._audit_in(conn, "delete", actor, item_id, {"reason": reason})
        with self._lock:
            self._shred_wal(self._db())
        self._blobs.shred(item_id)

    # --- consent ----------------------------------------------------------------------------
    def put_consent(self, batch_id: str, record: dict[str, Any], *, mrn: str, actor: str) -> str:
        plain = _json_bytes(record, "consent record")
        keys = self._k()
        mrn_mac = mac(keys.lookup, "mrn", _normalize_mrn(mrn))
        consent_id = _new_id()
        data_key = os.urandom(32)
        sealed = seal_bytes(data_key, Kind.CONSENT, _oid(consent_id), plain)
        wrapped = seal_field(keys.wrap, data_key, wrap_aad(Kind.CONSENT, _oid(consent_id)))
        at = _now()
        with self._tx() as conn:
            self._require_batch(conn, batch_id)
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
        row = self._consent_row(consent_id)
        key = self._data_key(Kind.CONSENT, consent_id, row[5])
        plain = open_bytes(
            key, Kind.CONSENT, _oid(consent_id), row[6], f"{self._index_path}: consent {consent_id}"
        )
        with self._tx() as conn:
            self._audit_in(conn, "consent_view", actor, consent_id, None)
        return json.loads(plain)

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
        with self._lock:
            try:
                return audit_chain.verify(self._db(), self._k().audit, self._genesis)
            except sqlite3.DatabaseError as exc:
                return AuditReport(ok=False, problems=[f"{self._index_path}: unreadable ({exc})"])

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
        with self._tx() as conn:
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
        with self._tx() as conn:
            conn.execute("DELETE FROM journal WHERE entry_id = ?", (entry_id,))

    # --- whole-vault check ------------------------------------------------------------------
    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Decrypt and authenticate every item, consent, label and journal entry."""
        problems: list[str] = []
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
            problems.append(f"{self._blobs.path(orphan)}: encrypted file without an index row")
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
        return VerifyReport(ok=not problems, problems=problems, items=len(rows))

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
