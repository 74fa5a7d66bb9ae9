"""Composition of `cryptography` primitives used by the vault (docs/vault-format.md, "Crypto").

Nothing here invents a cipher or MAC: AES-256-GCM in the STREAM construction for content,
AES-256-GCM with random nonces for small fields and key wrapping, HKDF-SHA256 for subkeys,
HMAC-SHA256 for MACs and keyed lookups, Argon2id for the recovery code.
"""

from __future__ import annotations

import io
import os
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from hmac import compare_digest as _compare_digest

import argon2.low_level
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from picsafe_desktop.vault.errors import IntegrityError, UnknownFormat, WrongRecoveryCode

KEY_LEN = 32
TAG_LEN = 16
NONCE_LEN = 12

# --- sealed streams (content, thumbnail, metadata, consent record) ---------------------------
STREAM_MAGIC = b"PSVS"
STREAM_VERSION = 1
STREAM_HEADER = struct.Struct(">4sBBBB16s16s")  # magic, version, kind, chunk shift, 0, id, salt
DEFAULT_CHUNK_SHIFT = 16  # 64 KiB plaintext per chunk
MIN_CHUNK_SHIFT, MAX_CHUNK_SHIFT = 10, 24


class Kind(IntEnum):
    CONTENT = 1
    THUMBNAIL = 2
    METADATA = 3
    CONSENT = 4


def hkdf(key: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=info).derive(key)


def _nonce(counter: int, last: bool) -> bytes:
    # STREAM nonce: 7-byte prefix (zero: every stream has its own key), 32-bit counter, flag.
    return bytes(7) + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _stream_key(data_key: bytes, kind: Kind, salt: bytes) -> AESGCM:
    return AESGCM(hkdf(data_key, b"picsafe-vault/v1/stream/" + bytes([kind]), salt))


def read_exact(read: Callable[[int], bytes], n: int) -> bytes:
    """Read up to n bytes, looping over short reads; fewer only at end of input."""
    first = read(n)
    if first is None:
        raise ValueError("non-blocking input is not supported")
    if len(first) == n or not first:
        return bytes(first)
    parts = [first]
    got = len(first)
    while got < n:
        more = read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def seal_stream(
    data_key: bytes,
    kind: Kind,
    object_id: bytes,
    read: Callable[[int], bytes],
    chunk_shift: int = DEFAULT_CHUNK_SHIFT,
) -> Iterator[bytes]:
    """Yield the header then each encrypted chunk; holds at most two plaintext chunks."""
    salt = os.urandom(16)
    header = STREAM_HEADER.pack(STREAM_MAGIC, STREAM_VERSION, kind, chunk_shift, 0, object_id, salt)
    aead = _stream_key(data_key, kind, salt)
    size = 1 << chunk_shift
    yield header
    counter = 0
    current = read_exact(read, size)
    while True:
        following = read_exact(read, size) if len(current) == size else b""
        last = not following
        yield aead.encrypt(_nonce(counter, last), current, header)
        if last:
            return
        counter += 1
        current = following


def seal_bytes(data_key: bytes, kind: Kind, object_id: bytes, data: bytes) -> bytes:
    return b"".join(seal_stream(data_key, kind, object_id, io.BytesIO(data).read))


def open_stream(
    data_key: bytes, kind: Kind, object_id: bytes, read: Callable[[int], bytes], what: str
) -> Iterator[bytes]:
    """Yield authenticated plaintext chunks; IntegrityError on any tampering.

    Truncation is only detectable at the end: a caller that must not act on a partial
    stream collects it all first (Vault.read does).
    """
    header = read_exact(read, STREAM_HEADER.size)
    if len(header) < STREAM_HEADER.size:
        raise IntegrityError(f"{what}: truncated header")
    magic, version, got_kind, shift, reserved, got_id, salt = STREAM_HEADER.unpack(header)
    if magic != STREAM_MAGIC:
        raise IntegrityError(f"{what}: not a PicSafe sealed object (bad magic)")
    if version != STREAM_VERSION:
        raise UnknownFormat(
            f"{what}: sealed-object format version {version} is not supported by this "
            f"program (it reads version {STREAM_VERSION}); update PicSafe Desktop"
        )
    if got_kind != kind or got_id != object_id:
        raise IntegrityError(f"{what}: belongs to another item or slot (swapped)")
    if reserved != 0 or not MIN_CHUNK_SHIFT <= shift <= MAX_CHUNK_SHIFT:
        raise IntegrityError(f"{what}: invalid header")
    aead = _stream_key(data_key, kind, salt)
    stored = (1 << shift) + TAG_LEN
    counter = 0
    current = read_exact(read, stored)
    while True:
        if len(current) < TAG_LEN:
            raise IntegrityError(f"{what}: truncated (chunk {counter} missing)")
        following = read_exact(read, stored) if len(current) == stored else b""
        last = not following
        try:
            yield aead.decrypt(_nonce(counter, last), current, header)
        except InvalidTag:
            raise IntegrityError(
                f"{what}: chunk {counter} failed authentication (tampered, truncated, "
                "reordered or swapped)"
            ) from None
        if last:
            return
        counter += 1
        current = following


def open_bytes(data_key: bytes, kind: Kind, object_id: bytes, sealed: bytes, what: str) -> bytes:
    return b"".join(open_stream(data_key, kind, object_id, io.BytesIO(sealed).read, what))


def sealed_size(plain_size: int, chunk_shift: int = DEFAULT_CHUNK_SHIFT) -> int:
    chunks = max(1, -(-plain_size // (1 << chunk_shift)))
    return STREAM_HEADER.size + plain_size + chunks * TAG_LEN


# --- small fields and key wrapping ------------------------------------------------------------
FIELD_VERSION = 1


def seal_field(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return bytes([FIELD_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_field(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    if not sealed or sealed[0] != FIELD_VERSION:
        version = sealed[0] if sealed else "none"
        raise UnknownFormat(f"{what}: field format version {version} is not supported")
    if len(sealed) < 1 + NONCE_LEN + TAG_LEN:
        raise IntegrityError(f"{what}: truncated")
    try:
        return AESGCM(key).decrypt(sealed[1 : 1 + NONCE_LEN], sealed[1 + NONCE_LEN :], aad)
    except InvalidTag:
        raise IntegrityError(f"{what}: failed authentication (tampered or swapped)") from None


def wrap_aad(kind: Kind, object_id: bytes) -> bytes:
    return b"picsafe-vault/v1/data-key\x00" + bytes([kind]) + object_id


# --- MACs ---------------------------------------------------------------------------------------
Field = bytes | str | int | None


_NONE = b"\xff\xff\xff\xff"
_LENGTHS = [n.to_bytes(4, "big") for n in range(256)]  # most fields are short: no call each


def encode_fields(fields: Iterable[Field]) -> bytes:
    """Unambiguous encoding: each field as a 4-byte length then its bytes; None as length ~0."""
    # One join instead of growing a bytearray, exact types first and short lengths from a
    # table: listing 100,000 photos encodes 220,000 rows (the encoding itself is unchanged).
    parts: list[bytes] = []
    for value in fields:
        kind = type(value)
        if kind is str:
            value = value.encode("utf-8")
        elif value is None:
            parts.append(_NONE)
            continue
        elif kind is not bytes:
            if isinstance(value, int):
                value = str(value)
            if isinstance(value, str):
                value = value.encode("utf-8")
        n = len(value)
        parts += (_LENGTHS[n] if n < 256 else n.to_bytes(4, "big"), value)
    return b"".join(parts)


def encode_text_fields(prefix: bytes, fields: tuple) -> bytes:
    """`prefix` (fields already encoded) + encode_fields(fields), for rows whose values are
    str, int, bytes and None (anything else takes encode_fields): checking 100,000 rows."""
    parts = [prefix]
    for value in fields:
        kind = type(value)
        if kind is str:
            value = value.encode("utf-8")
        elif kind is int:
            value = str(value).encode("ascii")
        elif kind is not bytes:
            if value is None:
                parts.append(_NONE)
                continue
            return prefix + encode_fields(fields)
        n = len(value)
        parts += (_LENGTHS[n] if n < 256 else n.to_bytes(4, "big"), value)
    return b"".join(parts)


def mac(key: bytes, *fields: Field) -> bytes:
    h = _hmac.HMAC(key, hashes.SHA256())
    h.update(encode_fields(fields))
    return h.finalize()


class MacKey:
    """HMAC-SHA256 under one key with the key schedule done once (`mac(key, ...)` gives the
    same value): checking every row's MAC while listing a large vault."""

    def __init__(self, key: bytes) -> None:
        self._base = _hmac.HMAC(key, hashes.SHA256())

    def mac(self, *fields: Field) -> bytes:
        h = self._base.copy()
        h.update(encode_fields(fields))
        return h.finalize()

    def mac_encoded(self, encoded: bytes) -> bytes:
        """`mac(*fields)` given `encode_fields(fields)` already."""
        h = self._base.copy()
        h.update(encoded)
        return h.finalize()


def same(a: bytes, b: bytes) -> bool:
    # What constant_time.bytes_eq does, without its Python wrapper (once per listed row).
    if not isinstance(a, bytes) or not isinstance(b, bytes):
        raise TypeError("a and b must be bytes")
    return _compare_digest(a, b)


# --- recovery code ----------------------------------------------------------------------------
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LEN = 24  # 120 random bits
_CODE_FIXUPS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LEN, 4))


def normalize_recovery_code(text: str) -> str:
    code = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(_CODE_FIXUPS)
    if len(code) != CODE_LEN or any(ch not in CODE_ALPHABET for ch in code):
        raise WrongRecoveryCode(
            f"a recovery code has {CODE_LEN} letters and digits in groups of four "
            "(e.g. ABCD-EFGH-...); check the printed recovery sheet"
        )
    return code


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost for the recovery code. Production uses PRODUCTION_KDF; tests may pass
    cheaper parameters explicitly to Vault.create (docs/vault-format.md, "Recovery")."""

    time_cost: int
    memory_kib: int
    parallelism: int

    def check(self, where: str) -> None:
        """Refuse costs no PicSafe writes: an edited vault.json must not make `vault recover`
        hang for hours or exhaust the PC's memory before the (bound) parameters fail."""
        if not (
            1 <= self.time_cost <= MAX_TIME_COST
            and 1 <= self.parallelism <= MAX_PARALLELISM
            and 8 * self.parallelism <= self.memory_kib <= MAX_MEMORY_KIB
            and self.time_cost * self.memory_kib <= MAX_WORK_KIB
        ):
            raise IntegrityError(
                f"{where}: the recovery settings ask for Argon2id with {self.memory_kib // 1024} "
                f"MiB of memory, {self.time_cost} pass(es) and {self.parallelism} lane(s), "
                f"beyond what PicSafe ever writes (at most {MAX_MEMORY_KIB // 1024} MiB, "
                f"{MAX_TIME_COST} passes, {MAX_PARALLELISM} lanes, {MAX_WORK_KIB // 1024} MiB x "
                "passes): the file was edited, so nothing was tried. Contact IT: vault.json "
                "from any backup of this vault has the right settings"
            )

    def derive(self, code: str, salt: bytes) -> bytes:
        return argon2.low_level.hash_secret_raw(
            secret=normalize_recovery_code(code).encode("ascii"),
            salt=salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=KEY_LEN,
            type=argon2.low_level.Type.ID,
        )


# Bounds a reader accepts: a little above PRODUCTION_KDF (3 passes x 256 MiB), far below a
# cost that would hang or swap a ward PC.
MAX_TIME_COST, MAX_PARALLELISM = 10, 16
MAX_MEMORY_KIB = 1024 * 1024  # 1 GiB
MAX_WORK_KIB = 3 * 1024 * 1024  # passes x memory: 3 GiB-passes (production uses 768 MiB-passes)
PRODUCTION_KDF = KdfParams(time_cost=3, memory_kib=256 * 1024, parallelism=4)
