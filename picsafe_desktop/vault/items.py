"""Batches and photos ("items"): store, list, read, change state, redact and crypto-shred.

Part of the Vault class (vault.py), kept apart from the storage format and its checks
(state.py, integrity.py, repair.py). Every change runs in one `Vault._tx` transaction, which
keeps the authenticated state up to date; methods record the rows they change in `_touched`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from picsafe_desktop.model import ItemState, PhotoItem
from picsafe_desktop.vault import integrity
from picsafe_desktop.vault.crypto import (
    Kind,
    encode_fields,
    encode_text_fields,
    mac,
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
    DuplicateOriginal,
    IntegrityError,
    NotFound,
    VaultError,
)
from picsafe_desktop.vault.records import (
    _ITEMS,
    _ITEMS_FULL,
    _SHA256,
    BatchInfo,
    _json_bytes,
    _new_id,
    _now,
    _oid,
    _Reader,
)

log = logging.getLogger(__name__)
_STATES = {s.value: s for s in ItemState}
_ITEM_FIELD = encode_fields(("item",))  # a dict lookup, not Enum's call, per listed row


class ItemsMixin:
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
        return self._k().row_mac.mac(
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
            with self._lock:
                withdrawn = integrity.withdrawn_consents(self._db(), rows[0][6])
            if withdrawn:
                raise IntegrityError(
                    f"{self._index_path}: item {item_id} is active but its consent "
                    f"{rows[0][6]} was withdrawn; run `picsafe-desktop vault verify`"
                )
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
            state=_STATES.get(state) or ItemState(state),
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
        if consent_id is not None and integrity.withdrawn_consents(conn, consent_id):
            raise VaultError(
                f"consent {consent_id} was withdrawn; photos cannot be made usable under it "
                "(record a new consent)"
            )

    # --- batches -----------------------------------------------------------------------------

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

    # --- items -------------------------------------------------------------------------------

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
        sha256: str | None = None,
    ) -> str:
        """Encrypt and store one photo; returns its item id once it is durable and verified.
        `then(conn, item_id)` runs inside the transaction that adds the row (one user action,
        one transaction: see put_redacted). `sha256`, when the caller already has it (the
        importer's scrub worker does), is the SHA-256 of `data`: the blob read back must match
        it, and `data` is not hashed a second time while it is encrypted."""
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

        expected = None
        if sha256 is not None:
            if not _SHA256.fullmatch(sha256.lower()):
                raise ValueError("sha256 must be 64 hex digits")
            expected = bytes.fromhex(sha256)
        item_id = _new_id()
        oid = _oid(item_id)
        data_key = os.urandom(32)
        source = _Reader(data, hashing=expected is None)
        self._blobs.write(item_id, seal_stream(data_key, Kind.CONTENT, oid, source.read))
        try:
            if expected is None:
                expected = source.sha.digest()
            self._check_blob(item_id, data_key, source.size, expected)
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
        return [self._photo(row) for row in self.list_rows(state, batch_id, consent_id)]

    def list_rows(
        self,
        state: ItemState | None = None,
        batch_id: str | None = None,
        consent_id: str | None = None,
    ) -> list[tuple]:
        """list_items as the checked index rows (item_id, batch_id, state, size, media_type,
        created_at text, consent_id, ...): for `vault list`, which prints them, without a
        PhotoItem and a datetime for each of 100,000 photos."""
        # Only the filters given go into the SQL: "(? IS NULL OR col = ?)" keeps SQLite from
        # using an index, so one patient's photos scanned all 100,000 rows.
        where, params = [], []
        for column, value in (
            ("state", state and ItemState(state).value),
            ("batch_id", batch_id),
            ("consent_id", consent_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self._query(
            _ITEMS
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_at, item_id",
            tuple(params),
        )
        # The check of _check_item without a call per row and with "item" encoded once.
        row_mac, prefix = self._k().row_mac.mac_encoded, _ITEM_FIELD
        for row in rows:
            if not same(row[8], row_mac(encode_text_fields(prefix, row[:8]))):
                self._check_item(row)  # raises, naming the item
        return rows

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

    def check_file(self, item_id: str) -> None:
        """Raise IntegrityError, as read() would, when the item's encrypted file is missing:
        for lists that must name such a photo without reading every photo in full."""
        problem = self._blobs.missing(item_id)
        if problem is not None:
            raise problem

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
            if self._outer is not None:  # inside transaction(): shred once it has committed
                self._after_commit.extend(item_ids)
                return
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

    def refuse_batch(
        self,
        batch_id: str,
        *,
        actor: str,
        item_ids: list[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Consent refused: crypto-shred the batch's photos waiting for it (or just `item_ids`,
        which must all be waiting in it) and audit the refusal with `details`, in one
        transaction; returns how many photos were destroyed."""
        with self._tx() as conn:
            self._require_batch(conn, batch_id)
            waiting = [
                r[0]
                for r in conn.execute(
                    "SELECT item_id FROM items WHERE batch_id = ? AND state = ?",
                    (batch_id, ItemState.AWAITING_CONSENT.value),
                )
            ]
            ids = waiting if item_ids is None else list(dict.fromkeys(item_ids))
            if set(ids) - set(waiting):
                raise VaultError("a refusal can only destroy photos waiting for consent")
            for item_id in ids:
                self._delete_in(conn, item_id, actor, "consent refused")
            self._audit_in(
                conn,
                "consent_refused",
                actor,
                batch_id,
                {**(details or {}), "photos_destroyed": len(ids)},
            )
        self._after_delete(ids)
        return len(ids)

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
