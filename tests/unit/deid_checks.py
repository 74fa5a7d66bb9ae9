"""Independent checks on scrubbed output, shared by the deid unit, fuzz and corpus tests.

These walkers are written separately from the product's parsers on purpose: a bug shared by
both would otherwise hide itself.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def orientation_tiff(orientation: int) -> bytes:
    # Written out by hand (not via the product) so the check is independent.
    return (
        b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01"
        + struct.pack(">H", orientation)
        + b"\x00\x00\x00\x00\x00\x00"
    )


_ORIENTATION_ONLY = {orientation_tiff(o) for o in range(2, 9)}


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment; entropy data is skipped; asserts nothing follows EOI."""
    assert data[:2] == b"\xff\xd8", "output does not start with SOI"
    pos, out = 2, []
    while True:
        assert data[pos] == 0xFF, f"garbage at {pos}"
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:
            assert pos == len(data), f"{len(data) - pos} bytes after EOI"
            return out
        length = struct.unpack_from(">H", data, pos)[0]
        out.append((marker, data[pos + 2 : pos + length]))
        pos += length
        if marker == 0xDA:
            while True:  # entropy-coded data: FF00 is stuffing, FFD0-FFD7 are restarts
                pos = data.index(b"\xff", pos)
                if data[pos + 1] not in (0, *range(0xD0, 0xD8)):
                    break
                pos += 2


def assert_jpeg_allow_list(data: bytes) -> None:
    allowed_tables = {0xDB, 0xC4, 0xCC, 0xDD, 0xDC, 0xDA, 0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA,
                      0xCB}  # fmt: skip
    for marker, payload in jpeg_segments(data):
        if marker in allowed_tables:
            continue
        if marker == 0xE0:
            assert payload[:5] == b"JFIF\x00" and len(payload) == 14, "JFIF with extra data"
            assert payload[12:14] == b"\x00\x00", "JFIF thumbnail present"
        elif marker == 0xE1:
            assert payload[:6] == b"Exif\x00\x00", "APP1 that is not EXIF"
            assert payload[6:] in _ORIENTATION_ONLY, "EXIF holds more than Orientation"
        elif marker == 0xE2:
            assert payload[:12] == b"ICC_PROFILE\x00", "APP2 that is not ICC"
        elif marker == 0xEE:
            assert payload[:5] == b"Adobe" and len(payload) == 12, "Adobe APP14 with extra data"
        else:
            raise AssertionError(f"segment 0x{marker:02X} is not on the allow-list")


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while True:
        length, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if kind == b"IEND":
            assert pos == len(data), f"{len(data) - pos} bytes after IEND"
            return out


def assert_png_allow_list(data: bytes) -> None:
    allowed = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT",
               b"cICP", b"pHYs", b"iCCP", b"eXIf"}  # fmt: skip
    for kind, payload in png_chunks(data):
        assert kind in allowed, f"PNG chunk {kind!r} is not on the allow-list"
        if kind == b"eXIf":
            assert payload in _ORIENTATION_ONLY, "eXIf holds more than Orientation"
        if kind == b"iCCP":
            assert payload.startswith(b"ICC Profile\x00\x00"), "iCCP keeps its original name"


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack_from("<I", data, 4)[0] + 8 == len(data), "bytes after the RIFF end"
    pos, out = 12, []
    while pos < len(data):
        kind, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        out.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    assert pos == len(data)
    return out


def assert_webp_allow_list(data: bytes) -> None:
    for kind, payload in webp_chunks(data):
        assert kind in {b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ICCP", b"EXIF"}, kind
        if kind == b"EXIF":
            assert payload in _ORIENTATION_ONLY, "EXIF holds more than Orientation"
        if kind == b"VP8X":
            assert not payload[0] & 0x06, "VP8X still flags XMP or animation"


def bmff_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(kind, body start, end) of the ISO-BMFF boxes in data[start:end] (32-bit sizes only)."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos < end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        assert 8 <= size and pos + size <= end, f"box {kind!r} overruns its container"
        out.append((kind, pos + 8, pos + size))
        pos += size
    return out


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"mif2", b"miaf", b"MiHE", b"MiHA",
                b"MiHB", b"MiPr"}  # fmt: skip
_HEIF_PROPERTIES = {b"hvcC", b"ispe", b"pixi", b"colr", b"irot", b"imir", b"clap", b"pasp",
                    b"auxC"}  # fmt: skip


def assert_heif_allow_list(data: bytes) -> None:
    top = bmff_boxes(data)
    assert [k for k, _, _ in top] == [b"ftyp", b"meta", b"mdat"], [k for k, _, _ in top]
    _, body, end = top[0]
    brands = {data[i : i + 4] for i in range(body, end, 4)} - {b"\x00\x00\x00\x00"}
    assert brands <= _HEIF_BRANDS, brands
    _, body, end = top[1]
    meta = {k: (b, e) for k, b, e in bmff_boxes(data, body + 4, end)}
    assert set(meta) <= {b"hdlr", b"dinf", b"pitm", b"iinf", b"iref", b"iprp", b"idat", b"iloc"}
    b, e = meta[b"hdlr"]
    assert data[b + 8 : b + 12] == b"pict" and data[b + 24 : e] == b"\x00", "handler has a name"
    b, e = meta[b"iinf"]
    for kind, ib, ie in bmff_boxes(data, b + 6, e):
        assert kind == b"infe" and data[ib] == 2, kind
        assert data[ib + 8 : ib + 12] in {b"hvc1", b"grid", b"iden"}, data[ib + 8 : ib + 12]
        assert data[ib + 12 : ie] == b"\x00", "an item keeps its name"
    if b"iref" in meta:
        b, e = meta[b"iref"]
        assert {k for k, _, _ in bmff_boxes(data, b + 4, e)} <= {b"dimg", b"auxl"}
    b, e = meta[b"iprp"]
    (ipco_kind, pb, pe), _ipma = bmff_boxes(data, b, e)
    assert ipco_kind == b"ipco"
    for kind, cb, ce in bmff_boxes(data, pb, pe):
        assert kind in _HEIF_PROPERTIES, f"HEIF property {kind!r} is not on the allow-list"
        if kind == b"hvcC":
            pos = cb + 23
            for _ in range(data[cb + 22]):
                assert data[pos] & 0x3F in (32, 33, 34), "hvcC keeps a non-parameter-set array"
                count = struct.unpack_from(">H", data, pos + 1)[0]
                pos += 3
                for _ in range(count):
                    pos += 2 + struct.unpack_from(">H", data, pos)[0]
            assert pos == ce
        if kind == b"auxC":
            assert b"alpha" in data[cb:ce] or b"auxid:1\x00" in data[cb:ce], "non-alpha auxC"
    # The media data is nothing but length-prefixed HEVC picture and parameter-set units.
    _, pos, end = top[2]
    while pos < end:
        size = struct.unpack_from(">I", data, pos)[0]
        nal_type = (data[pos + 4] >> 1) & 0x3F
        assert nal_type < 35, f"HEVC unit of type {nal_type} kept"
        pos += 4 + size
    assert pos == end


def assert_allow_list(data: bytes) -> None:
    if data[:2] == b"\xff\xd8":
        assert_jpeg_allow_list(data)
    elif data[4:8] == b"ftyp":
        assert_heif_allow_list(data)
    elif data[:4] == b"\x89PNG":
        assert_png_allow_list(data)
    elif data[:4] == b"RIFF":
        assert_webp_allow_list(data)
    else:
        raise AssertionError("output is not JPEG, PNG, WebP or HEIF")


def exiftool() -> str:
    path = shutil.which("exiftool")
    if path is None:
        if IN_CI:
            pytest.fail("exiftool is missing (scripts/install-system-deps.sh --test installs it)")
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    return path


def exiftool_tags(paths: list[Path]) -> dict[str, list[tuple[str, str, str]]]:
    """`exiftool -a -u -G1 -s` for several files in one run: {file name: [(group, tag, value)]}."""
    out = subprocess.run(
        [exiftool(), "-a", "-u", "-G1", "-s", *map(str, paths)],
        capture_output=True,
        check=False,
        text=True,
        errors="replace",
    ).stdout
    result: dict[str, list[tuple[str, str, str]]] = {}
    current: list[tuple[str, str, str]] = []
    for line in out.splitlines():
        if line.startswith("======== "):
            current = result.setdefault(Path(line[9:]).name, [])
            continue
        if not line.startswith("["):
            continue
        group, rest = line[1:].split("]", 1)
        tag, _, value = rest.strip().partition(":")
        current.append((group.strip(), tag.strip(), value.strip()))
    if len(paths) == 1 and not result:
        result[Path(paths[0]).name] = current
    return result


def make_jpeg(size=(64, 48), colour=(200, 30, 30), **save) -> bytes:
    im = Image.new("RGB", size, colour)
    ImageDraw.Draw(im).rectangle([2, 2, size[0] // 2, size[1] // 3], fill=(10, 220, 40))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im
