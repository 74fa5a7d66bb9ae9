"""The vault's sealed-stream format and small-field AEAD, without a keyring."""

import io
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from picsafe_desktop.vault import crypto
from picsafe_desktop.vault.crypto import Kind
from picsafe_desktop.vault.errors import IntegrityError, UnknownFormat, WrongRecoveryCode

KEY = bytes(range(32))
OID = bytes.fromhex("00112233445566778899aabbccddeeff")
OTHER = bytes.fromhex("ffeeddccbbaa99887766554433221100")
CHUNK = 1 << crypto.DEFAULT_CHUNK_SHIFT
HDR = crypto.STREAM_HEADER.size
STORED = CHUNK + crypto.TAG_LEN


def seal(data: bytes, kind: Kind = Kind.CONTENT, oid: bytes = OID, shift: int = 16) -> bytes:
    return b"".join(crypto.seal_stream(KEY, kind, oid, io.BytesIO(data).read, shift))


def unseal(blob: bytes, kind: Kind = Kind.CONTENT, oid: bytes = OID) -> bytes:
    return crypto.open_bytes(KEY, kind, oid, blob, "test blob")


@pytest.mark.parametrize(
    "size", [0, 1, 15, 16, 17, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7, 1_000_003]
)
def test_round_trip_sizes(size):
    data = os.urandom(size)
    blob = seal(data)
    assert len(blob) == crypto.sealed_size(size)
    assert unseal(blob) == data
    if size >= 32:  # shorter values occur in random ciphertext by chance
        assert data[:32] not in blob and data[-32:] not in blob


def test_short_reads_from_a_raw_stream_still_round_trip():
    data = os.urandom(3 * CHUNK + 5)

    class Trickle(io.RawIOBase):
        def __init__(self):
            self.pos = 0

        def readable(self):
            return True

        def readinto(self, buf):
            n = min(len(buf), 1000, len(data) - self.pos)
            buf[:n] = data[self.pos : self.pos + n]
            self.pos += n
            return n

    blob = b"".join(crypto.seal_stream(KEY, Kind.CONTENT, OID, Trickle().read))
    assert len(blob) == crypto.sealed_size(len(data))
    assert unseal(blob) == data


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), shift=st.integers(10, 12))
def test_round_trip_any_bytes_small_chunks(data, shift):
    assert unseal(seal(data, shift=shift)) == data


def test_same_plaintext_seals_differently_each_time():
    assert seal(b"abc") != seal(b"abc")


def chunks_of(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HDR:]
    return blob[:HDR], [body[i : i + STORED] for i in range(0, len(body), STORED)]


@pytest.fixture
def three_chunks():
    data = os.urandom(2 * CHUNK + 100)
    return data, seal(data)


def test_truncation_at_a_chunk_boundary_is_detected(three_chunks):
    _, blob = three_chunks
    header, chunks = chunks_of(blob)
    with pytest.raises(IntegrityError, match="chunk 1 failed"):
        unseal(header + b"".join(chunks[:2]))


def test_truncation_inside_a_chunk_is_detected(three_chunks):
    _, blob = three_chunks
    with pytest.raises(IntegrityError):
        unseal(blob[:-1])
    with pytest.raises(IntegrityError):
        unseal(blob[: HDR + 10])
    with pytest.raises(IntegrityError, match="truncated"):
        unseal(blob[:HDR])
    with pytest.raises(IntegrityError, match="truncated header"):
        unseal(blob[: HDR - 1])


def test_reordered_chunks_are_detected(three_chunks):
    _, blob = three_chunks
    header, chunks = chunks_of(blob)
    with pytest.raises(IntegrityError, match="chunk 0 failed"):
        unseal(header + chunks[1] + chunks[0] + chunks[2])


def test_appended_chunk_is_detected(three_chunks):
    _, blob = three_chunks
    header, chunks = chunks_of(blob)
    with pytest.raises(IntegrityError):
        unseal(header + chunks[0] + chunks[1] + chunks[1] + chunks[2])
    # a full chunk re-flagged as last is not accepted in place of the real ending
    with pytest.raises(IntegrityError, match="chunk 1 failed"):
        unseal(header + chunks[0] + chunks[1])


@pytest.mark.parametrize("where", [0, 4, 6, 9, 30, HDR, HDR + 5, HDR + STORED - 1, -1])
def test_any_flipped_bit_is_detected(three_chunks, where):
    _, blob = three_chunks
    bad = bytearray(blob)
    bad[where] ^= 0x01
    with pytest.raises((IntegrityError, UnknownFormat)):
        unseal(bytes(bad))


def test_blob_of_another_item_or_slot_is_refused():
    blob = seal(b"photo", oid=OTHER)
    with pytest.raises(IntegrityError, match="another item"):
        unseal(blob)
    with pytest.raises(IntegrityError, match="another item"):
        unseal(seal(b"thumb", kind=Kind.THUMBNAIL), kind=Kind.CONTENT)


def test_header_id_rewritten_to_match_still_fails_authentication():
    blob = bytearray(seal(b"photo of item OTHER", oid=OTHER))
    blob[8:24] = OID  # attacker edits the header so the id check passes
    with pytest.raises(IntegrityError, match="chunk 0 failed"):
        unseal(bytes(blob))


def test_unknown_stream_version_is_reported_as_such():
    blob = bytearray(seal(b"x"))
    blob[4] = 2
    with pytest.raises(UnknownFormat, match="version 2"):
        unseal(bytes(blob))


def test_header_layout_matches_the_documented_format():
    blob = seal(b"")
    magic, version, kind, shift, reserved, oid, salt = struct.unpack(">4sBBBB16s16s", blob[:HDR])
    assert (magic, version, kind, shift, reserved, oid) == (b"PSVS", 1, 1, 16, 0, OID)
    assert HDR == 40 and len(blob) == HDR + 16


def test_field_aead_binds_its_context():
    sealed = crypto.seal_field(KEY, b"label", b"ctx-a")
    assert crypto.open_field(KEY, sealed, b"ctx-a", "f") == b"label"
    with pytest.raises(IntegrityError):
        crypto.open_field(KEY, sealed, b"ctx-b", "f")
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(IntegrityError):
        crypto.open_field(KEY, bytes(flipped), b"ctx-a", "f")
    with pytest.raises(UnknownFormat):
        crypto.open_field(KEY, b"\x02" + sealed[1:], b"ctx-a", "f")
    with pytest.raises(IntegrityError, match="truncated"):
        crypto.open_field(KEY, sealed[:20], b"ctx-a", "f")


def test_wrapped_key_cannot_be_moved_to_another_item():
    wrapped = crypto.seal_field(KEY, b"k" * 32, crypto.wrap_aad(Kind.CONTENT, OID))
    with pytest.raises(IntegrityError):
        crypto.open_field(KEY, wrapped, crypto.wrap_aad(Kind.CONTENT, OTHER), "key")
    with pytest.raises(IntegrityError):
        crypto.open_field(KEY, wrapped, crypto.wrap_aad(Kind.CONSENT, OID), "key")


def test_mac_field_encoding_is_unambiguous():
    assert crypto.mac(KEY, "ab", "c") != crypto.mac(KEY, "a", "bc")
    assert crypto.mac(KEY, None) != crypto.mac(KEY, "")
    assert crypto.mac(KEY, 5) == crypto.mac(KEY, "5")
    assert crypto.encode_fields(["ab", None, b"\x00"]) == (
        b"\x00\x00\x00\x02ab" + b"\xff\xff\xff\xff" + b"\x00\x00\x00\x01\x00"
    )


def test_recovery_code_shape_and_normalisation():
    code = crypto.new_recovery_code()
    groups = code.split("-")
    assert len(groups) == 6 and all(len(g) == 4 for g in groups)
    assert all(c in crypto.CODE_ALPHABET for c in code.replace("-", ""))
    typed = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + "\n"
    assert crypto.normalize_recovery_code(typed) == code.replace("-", "")
    with pytest.raises(WrongRecoveryCode, match="24 letters"):
        crypto.normalize_recovery_code(code[:-1])
    with pytest.raises(WrongRecoveryCode):
        crypto.normalize_recovery_code(code[:-1] + "U")
    assert len({crypto.new_recovery_code() for _ in range(50)}) == 50


def test_kdf_params_are_bounded_and_production_is_strong():
    params = crypto.KdfParams(time_cost=1, memory_kib=8192, parallelism=1)
    salt = b"s" * 16
    key = params.derive("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", salt)
    assert len(key) == 32
    assert key == params.derive("aaaa aaaa aaaa aaaa aaaa aaaa", salt)
    assert key != params.derive("AAAA-AAAA-AAAA-AAAA-AAAA-AAAB", salt)
    with pytest.raises(IntegrityError):
        crypto.KdfParams(0, 8192, 1).check("x")
    with pytest.raises(IntegrityError):
        crypto.KdfParams(1, 1 << 30, 1).check("x")
    prod = crypto.PRODUCTION_KDF
    prod.check("production")
    # RFC 9106's second recommended option is t=3, 64 MiB; production is at least that.
    assert prod.time_cost >= 3 and prod.memory_kib >= 64 * 1024
