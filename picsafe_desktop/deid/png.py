"""Lossless PNG scrubbing at the chunk level.

Kept: the critical chunks (IHDR, PLTE, IDAT, IEND) and the ancillary chunks that only change
how pixels render (tRNS, gAMA, cHRM, sRGB, sBIT, cICP, pHYs), each checked for its fixed
size; an ICC profile only if it is a known standard one, re-written under a neutral name.
Dropped: text (tEXt, zTXt, iTXt, which also carry XMP and IPTC), eXIf, tIME, animation
chunks (the default image is kept), C2PA and every other ancillary chunk, and anything after
IEND. A non-1 orientation is kept as an eXIf chunk holding only the Orientation tag.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage
from picsafe_desktop.deid.limits import check_pixels
from picsafe_desktop.deid.result import ScrubResult, kind_name
from picsafe_desktop.model import PhotoFacts

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Rendering chunks and the exact payload sizes the spec allows for them.
_FIXED = {b"gAMA": {4}, b"cHRM": {32}, b"sRGB": {1}, b"pHYs": {9}, b"cICP": {4},
          b"sBIT": {1, 2, 3, 4}}  # fmt: skip
_ANIMATION = {b"acTL", b"fcTL", b"fdAT"}
_MAX_ICC_COMPRESSED = 1 << 20
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))  # fmt: skip


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def _chunks(data: bytes) -> tuple[list[tuple[bytes, memoryview, memoryview, bool]], int]:
    """Chunks up to and including IEND as (kind, payload, whole chunk, crc ok), and the
    number of bytes after IEND. Views, not copies: a 200 MP PNG is large."""
    view = memoryview(data)
    pos = len(SIGNATURE)
    n = len(data)
    found = []
    while True:
        if pos + 8 > n:
            raise CorruptImage("the file ends before the PNG end chunk (truncated)")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or pos + 12 + length > n:
            raise CorruptImage("the file ends inside a PNG chunk (truncated)")
        payload = view[pos + 8 : pos + 8 + length]
        crc = struct.unpack_from(">I", data, pos + 8 + length)[0]
        crc_ok = crc == zlib.crc32(payload, zlib.crc32(kind)) & 0xFFFFFFFF
        found.append((kind, payload, view[pos : pos + 12 + length], crc_ok))
        pos += 12 + length
        if kind == b"IEND":
            return found, n - pos


def _raw_size(width: int, height: int, depth: int, colour: int, interlace: int) -> int:
    bits = depth * _CHANNELS[colour]

    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits + 7) // 8)

    if interlace == 0:
        return rows(width, height)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        total += rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy)
    return total


def _check_idat(parts: list[memoryview], expected: int) -> None:
    """Inflate the image stream in bounded steps: proves it is complete and exactly the
    right length without ever holding the decoded image in memory."""
    d = zlib.decompressobj()
    total = 0

    def feed(buf: bytes | memoryview) -> None:
        nonlocal total
        while True:
            total += len(d.decompress(buf, 1 << 20))
            if total > expected:
                raise CorruptImage("the PNG image data is longer than its size says")
            buf = d.unconsumed_tail
            if not buf:
                return

    for part in parts:
        for i in range(0, len(part), 1 << 16):  # small input steps keep unconsumed_tail small
            feed(part[i : i + (1 << 16)])
    while not d.eof:
        before = total
        feed(b"")
        if total == before:
            break
    if not d.eof or total != expected:
        raise CorruptImage("the PNG image data is truncated")
    if d.unused_data:
        raise CorruptImage("the PNG image data has bytes after its compressed stream")


def scrub_png(data: bytes) -> ScrubResult:
    removed: Counter[str] = Counter()
    notes: list[str] = []
    kept: list[bytes | memoryview] = []
    idat: list[memoryview] = []
    exif: bytes | None = None
    header: tuple[int, int, int, int, int] | None = None
    icc_chunk: bytes | None = None
    idat_done = False
    found, trailer = _chunks(data)
    for kind, payload, whole, crc_ok in found:
        critical = not kind[0] & 0x20
        if not crc_ok and (critical or kind in _FIXED or kind in (b"tRNS", b"iCCP")):
            raise CorruptImage(f"the PNG {kind_name(kind)} chunk is damaged (bad CRC)")
        if header is None:
            if kind != b"IHDR" or len(payload) != 13:
                raise CorruptImage("the PNG does not start with a valid header chunk")
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", payload)
            if colour not in _CHANNELS or interlace not in (0, 1):
                raise CorruptImage("the PNG header is invalid")
            check_pixels(width, height)
            header = (width, height, depth, colour, interlace)
            kept.append(whole)
        elif kind == b"IDAT":
            if idat_done:
                raise CorruptImage("the PNG image data is split by other chunks")
            idat.append(payload)
            kept.append(whole)
        elif kind == b"IEND":
            kept.append(chunk(kind, b""))
        elif kind in (b"PLTE", b"tRNS"):
            kept.append(whole)
        elif kind in _FIXED:
            if len(payload) not in _FIXED[kind]:
                raise CorruptImage(f"the PNG {kind_name(kind)} chunk has the wrong size")
            kept.append(whole)
        elif kind == b"iCCP":
            removed["png:iCCP"] += 1
            icc_chunk = _clean_iccp(bytes(payload))
            if icc_chunk is not None:
                kept.append(icc_chunk)
        elif critical:
            raise CorruptImage(f"the PNG has an unknown critical chunk {kind_name(kind)}")
        else:
            if kind == b"eXIf" and exif is None:
                exif = bytes(payload)
            name = "animation" if kind in _ANIMATION else kind_name(kind)
            removed[f"png:{name}"] += 1
        if idat and kind != b"IDAT":
            idat_done = True
    assert header is not None
    width, height, depth, colour, interlace = header
    if not idat:
        raise CorruptImage("the PNG has no image data")
    _check_idat(idat, _raw_size(width, height, depth, colour, interlace))
    if trailer:
        removed["png:bytes after end of image"] += trailer
    if removed.get("png:animation"):
        notes.append("kept the default image of an animated PNG")
    if icc_chunk is not None:
        notes.append("kept a standard ICC colour profile")
    elif removed.get("png:iCCP"):
        notes.append("dropped an ICC profile that is not a known standard one")

    summary = tiff.summarise_exif(exif, removed, notes)
    orientation = tiff.valid_orientation(summary.orientation)
    if orientation != 1:
        # Just before the image data, as the PNG eXIf extension asks.
        first_idat = next(i for i, c in enumerate(kept) if bytes(c[4:8]) == b"IDAT")
        kept.insert(first_idat, chunk(b"eXIf", tiff.orientation_only_tiff(orientation)))
    clean = SIGNATURE + b"".join(kept)
    facts = PhotoFacts(width, height, orientation, summary.capture_time)
    return ScrubResult(clean, "image/png", facts, dict(removed), notes, pixels_preserved=True)


def _clean_iccp(payload: bytes) -> bytes | None:
    """Return a re-written iCCP chunk (neutral profile name) if the profile is standard."""
    name_end = payload.find(b"\x00")
    if name_end < 1 or name_end + 2 > len(payload) or payload[name_end + 1] != 0:
        return None
    compressed = payload[name_end + 2 :]
    if len(compressed) > _MAX_ICC_COMPRESSED:
        return None
    d = zlib.decompressobj()
    try:
        profile = d.decompress(compressed, icc.MAX_ICC_BYTES + 1)
    except zlib.error:
        return None
    if not d.eof or len(profile) > icc.MAX_ICC_BYTES or not icc.is_clean_icc(profile):
        return None
    # The profile name is free text chosen by the writer, so it is never copied.
    return chunk(b"iCCP", b"ICC Profile\x00\x00" + compressed)
