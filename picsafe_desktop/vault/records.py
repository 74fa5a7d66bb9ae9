"""Plain helpers shared by the parts of the Vault class: subkeys, ids, tokens, row SQL and the
small result types callers receive (BatchInfo, AuditRow, VerifyReport)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault.crypto import (
    MacKey,
    hkdf,
)

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
        self.row_mac = MacKey(self.row)  # the same MACs, faster for many rows
        self.header = sub("header-mac")
        self.state = sub("state-mac")
        self.staff = sub("staff")  # seals the staff sign-in store (picsafe_desktop/staff)


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

    def __init__(
        self, data: bytes | bytearray | memoryview | BinaryIO, *, hashing: bool = True
    ) -> None:
        if isinstance(data, bytes | bytearray | memoryview):
            data = io.BytesIO(data)
        self._read = data.read
        # No hash when the caller already has the bytes' SHA-256 (Vault.put's `sha256`).
        self.sha = hashlib.sha256() if hashing else None
        self.size = 0

    def read(self, n: int) -> bytes:
        chunk = self._read(n)
        if self.sha is not None:
            self.sha.update(chunk)
        self.size += len(chunk)
        return chunk
