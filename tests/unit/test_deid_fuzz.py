"""Property tests: mutated and truncated photos never crash scrub() and never leak.

For every mutation of a metadata-laden seed file, scrub() either raises a DeidError or
returns bytes that pass the container allow-list and contain none of the seed's secrets.
"""

from __future__ import annotations

import io
import struct
import zlib

import piexif
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from picsafe_desktop.deid import DeidError, scrub
from tests.unit import heif_files
from tests.unit.deid_checks import assert_allow_list

SECRET = b"SECRET-SERIAL-4711"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"


def _exif() -> bytes:
    return piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: SECRET, piexif.ImageIFD.Orientation: 6},
            "Exif": {
                piexif.ExifIFD.BodySerialNumber: SECRET,
                piexif.ExifIFD.DateTimeOriginal: b"2023:01:02 03:04:05",
            },
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N"},
        }
    )


def _picture() -> Image.Image:
    im = Image.effect_noise((48, 32), 40).convert("RGB")
    im.paste((255, 0, 0), (0, 0, 8, 8))
    return im


def _jpeg() -> bytes:
    buf = io.BytesIO()
    _picture().save(buf, "JPEG", quality=80, exif=_exif(), comment=SECRET)
    data = buf.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP
    app1 = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    return data[:2] + app1 + data[2:] + b"SEFT" + SECRET


def _png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buf = io.BytesIO()
    _picture().save(buf, "PNG", pnginfo=info, exif=_exif()[6:])
    return buf.getvalue()


def _webp() -> bytes:
    buf = io.BytesIO()
    _picture().save(buf, "WEBP", quality=80, exif=_exif(), xmp=XMP)
    return buf.getvalue()


def _heic() -> bytes:
    heif = pillow_heif.from_pillow(_picture())
    heif.info["exif"] = _exif()
    heif.info["xmp"] = XMP
    buf = io.BytesIO()
    heif.save(buf, quality=60)
    return buf.getvalue()


SEEDS = {"jpeg": _jpeg(), "png": _png(), "webp": _webp(), "heif": _heic()}


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "zero-length"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "zero-length" and at + 4 <= len(data):
            data[at : at + 4] = b"\x00\x00\x00\x00"  # lengths and sizes collapse to zero
    return bytes(data)


def check(data: bytes) -> None:
    try:
        result = scrub(data)
    except DeidError:
        return
    assert_allow_list(result.data)
    assert SECRET not in result.data
    assert result.facts.width > 0 and result.facts.height > 0
    for key in result.removed:
        assert SECRET.decode() not in key
        assert key.isascii() and key.isprintable(), key  # audit keys never carry raw bytes


FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_unmutated_seed_scrubs_clean(fmt):
    check(SEEDS[fmt])
    assert scrub(SEEDS[fmt]).data  # the seed itself is a valid photo


@FUZZ
@given(data=mutated(SEEDS["jpeg"]))
def test_fuzz_jpeg(data):
    check(data)


@FUZZ
@given(data=mutated(SEEDS["png"]))
def test_fuzz_png(data):
    check(data)


@FUZZ
@given(data=mutated(SEEDS["webp"]))
def test_fuzz_webp(data):
    check(data)


@settings(FUZZ, max_examples=60)
@given(data=mutated(SEEDS["heif"]))
def test_fuzz_heif(data):
    check(data)


GRID_HEIF = heif_files.grid_photo(sei=True)
_META_END = GRID_HEIF.index(b"mdat") - 4


@st.composite
def hostile_fields(draw) -> bytes:
    """Box sizes, counts, ids and offsets of the container set to extreme values."""
    data = bytearray(GRID_HEIF)
    for _ in range(draw(st.integers(1, 3))):
        width = draw(st.sampled_from([1, 2, 4]))
        at = draw(st.integers(0, _META_END - width))
        top = (1 << (8 * width)) - 1
        value = draw(st.sampled_from([0, 1, 2, 7, 8, 9, top, top >> 1, len(data), len(data) + 1])
                     | st.integers(0, top))  # fmt: skip
        data[at : at + width] = (value & top).to_bytes(width, "big")
    return bytes(data)


@settings(FUZZ, max_examples=300)
@given(data=hostile_fields())
def test_fuzz_heif_container_fields(data):
    """Sizes past the end, huge counts, loops, dangling ids: DeidError or a clean file."""
    check(data)
    assert heif_files.SECRET not in scrub_or_empty(data)


def scrub_or_empty(data: bytes) -> bytes:
    try:
        return scrub(data).data
    except DeidError:
        return b""


@FUZZ
@given(prefix=st.sampled_from(list(SEEDS.values())), cut=st.integers(0, 400))
def test_fuzz_short_prefixes(prefix, cut):
    check(prefix[:cut])


@settings(FUZZ, max_examples=200)
@given(data=st.binary(max_size=64))
def test_fuzz_random_bytes_behind_real_magic(data):
    for magic in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP",
                  b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"):  # fmt: skip
        check(magic + data)


def test_png_zlib_bomb_is_bounded():
    """A tiny IDAT that inflates far past the declared size is refused while streaming."""
    bomb = zlib.compress(b"\x00" * (50 << 20), 9)
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bomb) + chunk(b"IEND", b"")
    with pytest.raises(DeidError, match="longer than its size"):
        scrub(data)
