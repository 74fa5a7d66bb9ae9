"""Lossless JPEG scrubbing at the segment level.

The output is rebuilt from an allow-list: SOI, the tables and frame/scan headers a decoder
needs (DQT, DHT, DAC, DRI, SOFn, SOS, DNL), the entropy-coded data copied byte for byte,
and EOI. Every APPn (EXIF, XMP, extended XMP, ICC, MPF, IPTC/Photoshop, vendor blocks such as
Samsung APP4 or Motorola APP6), COM, unknown markers and everything after EOI are dropped.
Three things are written back fresh, never copied: a JFIF APP0 (only if the source had one,
because its presence changes how libjpeg picks the colour transform), an Adobe APP14 holding
only the colour-transform byte (same reason), and an EXIF APP1 holding only Orientation.
A clean, standard ICC profile is kept.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from typing import BinaryIO

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage, UnsupportedFormat
from picsafe_desktop.deid.limits import check_pixels, load, open_image
from picsafe_desktop.deid.result import ScrubResult
from picsafe_desktop.deid.stream import BytesSource, Source, SourceFile, Splice
from picsafe_desktop.model import PhotoFacts

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Decoding needs these (besides SOFn and SOS): DQT, DHT, DAC, DRI, DNL.
_TABLES = {0xDB, 0xC4, 0xCC, 0xDD, 0xDC}
_SOF_SUPPORTED = {0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA, 0xCB}
_SOF_HIERARCHICAL = {0xC5, 0xC6, 0xC7, 0xCD, 0xCE, 0xCF, 0xDE, 0xDF}
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or RSTn; anything else is a marker.
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_ICC_CHUNK = 65519  # 65535 - 2 (length) - 14 ("ICC_PROFILE\0" + seq + count)
_MPF_NUMBER_OF_IMAGES = 0xB001


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > 65533:
        raise ValueError("JPEG segment too long")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _app_kind(marker: int, payload: bytes) -> str:
    n = marker - 0xE0
    for prefix, name in (
        (b"JFIF\x00", "JFIF"),
        (b"JFXX\x00", "JFIF extension (thumbnail)"),
        (b"Exif\x00", "EXIF"),
        (b"http://ns.adobe.com/xap/1.0/\x00", "XMP"),
        (b"http://ns.adobe.com/xmp/extension/\x00", "extended XMP"),
        (b"ICC_PROFILE\x00", "ICC profile"),
        (b"MPF\x00", "MPF (multi-picture)"),
        (b"Photoshop 3.0\x00", "Photoshop/IPTC"),
        (b"Adobe", "Adobe"),
        (b"Ducky", "Ducky"),
        (b"MMIMETA", "Motorola MMIMETA"),
        (b"Qualcomm", "Qualcomm"),
    ):
        if payload.startswith(prefix):
            return f"jpeg:APP{n} {name}"
    return f"jpeg:APP{n} vendor"


# A real JPEG has a few dozen segments (a progressive one a few more); a file made of
# millions of tiny segments is hostile and would cost memory per piece.
MAX_PIECES = 1 << 16
_SCAN_CHUNK = 1 << 20


class _Parsed:
    def __init__(self) -> None:
        self.kept: list[tuple[int, int]] = []  # (offset, length) ranges of the source, merged
        self.removed: Counter[str] = Counter()
        self.exif: list[bytes] = []  # the first EXIF block only (the one that is read)
        self.icc_chunks: dict[int, bytes] = {}
        self.icc_total = 0
        self.jfif: bytes | None = None
        self.adobe_transform: int | None = None
        self.mpf_images: int | None = None
        self.size: tuple[int, int] | None = None
        self.trailer = 0

    def keep(self, offset: int, length: int) -> None:
        if self.kept and sum(self.kept[-1]) == offset:
            self.kept[-1] = (self.kept[-1][0], self.kept[-1][1] + length)
            return
        if len(self.kept) >= MAX_PIECES:
            raise CorruptImage(f"the JPEG is split into more than {MAX_PIECES} pieces")
        self.kept.append((offset, length))


def _marker_at(src: Source, pos: int) -> int:
    """Skip fill bytes (0xFF) from `pos`; return the offset of the marker byte after them."""
    n = src.size
    while True:
        window = src.read_at(pos, 256)
        if not window:
            raise CorruptImage("the file ends before the end of the image (truncated)")
        stripped = len(window) - len(window.lstrip(b"\xff"))
        if stripped < len(window):
            return pos + stripped
        pos += len(window)
        if pos >= n:
            raise CorruptImage("the file ends before the end of the image (truncated)")


def _scan_end(src: Source, pos: int) -> int:
    """Offset of the first marker after entropy-coded data starting at `pos`, read in chunks
    (consecutive chunks overlap by one byte, so a marker split between them is found)."""
    while pos < src.size:
        chunk = src.read_at(pos, _SCAN_CHUNK)
        match = _MARKER_IN_SCAN.search(chunk)
        if match is not None:
            return pos + match.start()
        if len(chunk) < 2:
            break
        pos += len(chunk) - 1
    raise CorruptImage("the file ends before the end of the image (truncated)")


def _parse(src: Source) -> _Parsed:
    n = src.size
    out = _Parsed()
    pos = 2
    seen_scan = False
    while True:
        if pos >= n:
            raise CorruptImage("the file ends before the end of the image (truncated)")
        if src.read_at(pos, 1) != b"\xff":
            raise CorruptImage(f"unexpected bytes between JPEG segments at offset {pos}")
        pos = _marker_at(src, pos)
        marker = src.read_at(pos, 1)[0]
        pos += 1
        if marker == EOI:
            if not seen_scan:
                raise CorruptImage("the JPEG has no image data")
            break
        if marker == SOI:
            raise CorruptImage("a second start-of-image marker appears before the end of image")
        if 0xD0 <= marker <= 0xD7 or marker in (0x00, 0x01):
            out.removed["jpeg:stray marker"] += 1
            continue
        header = src.read_at(pos, 2)
        if len(header) < 2:
            raise CorruptImage("the file ends inside a JPEG segment header (truncated)")
        length = struct.unpack(">H", header)[0]
        if length < 2 or pos + length > n:
            raise CorruptImage("the file ends inside a JPEG segment (truncated)")
        start, body, pos = pos - 2, pos + 2, pos + length
        if 0xE0 <= marker <= 0xEF:
            _app(out, marker, src, body, length - 2)
        elif marker == 0xFE:
            out.removed["jpeg:COM comment"] += 1
        elif marker in _SOF_HIERARCHICAL:
            raise UnsupportedFormat("hierarchical JPEG is not supported")
        elif marker in _SOF_SUPPORTED:
            if out.size is not None:
                raise CorruptImage("the JPEG has more than one frame header")
            if length - 2 < 6:
                raise CorruptImage("the JPEG frame header is truncated")
            height, width = struct.unpack_from(">HH", src.read_at(body, 5), 1)
            check_pixels(width, height)
            out.size = (width, height)
            out.keep(start, length + 2)
        elif marker in _TABLES:
            out.keep(start, length + 2)
        elif marker == SOS:
            if out.size is None:
                raise CorruptImage("the JPEG scan starts before its frame header")
            end = _scan_end(src, pos)
            out.keep(start, end - start)  # the scan header and its entropy-coded data
            pos = end
            seen_scan = True
        else:
            out.removed[f"jpeg:unknown marker 0x{marker:02X}"] += 1
    out.trailer = n - pos
    return out


def _app(out: _Parsed, marker: int, src: Source, body: int, size: int) -> None:
    """Classify an APPn segment; read the whole payload only of the few that are used."""
    prefix = src.read_at(body, min(size, 64))
    kind = _app_kind(marker, prefix)
    out.removed[kind] += 1

    def payload() -> bytes:
        return src.read_at(body, size)

    if marker == 0xE0 and prefix.startswith(b"JFIF\x00") and size >= 12:
        # Keep version/units/density only; any JFIF thumbnail is not copied.
        out.jfif = prefix[5:12]
    elif marker == 0xE1 and prefix.startswith(b"Exif\x00"):
        if not out.exif:
            out.exif.append(payload()[6:])
    elif marker == 0xE2 and prefix.startswith(b"ICC_PROFILE\x00") and size > 14:
        seq, total = prefix[12], prefix[13]
        out.icc_chunks[seq] = payload()[14:]
        out.icc_total = total
    elif marker == 0xE2 and prefix.startswith(b"MPF\x00"):
        try:
            out.mpf_images = tiff.read_u32_tag(payload()[4:], _MPF_NUMBER_OF_IMAGES)
        except (tiff.TiffError, struct.error):
            out.mpf_images = None
    elif marker == 0xEE and prefix.startswith(b"Adobe") and size >= 12:
        out.adobe_transform = prefix[11]


def _icc_profile(out: _Parsed) -> bytes | None:
    chunks = out.icc_chunks
    if not chunks or sorted(chunks) != list(range(1, out.icc_total + 1)):
        return None
    return b"".join(chunks[i] for i in sorted(chunks))


def _icc_segments(profile: bytes) -> list[bytes]:
    parts = [profile[i : i + _ICC_CHUNK] for i in range(0, len(profile), _ICC_CHUNK)]
    return [
        _segment(0xE2, b"ICC_PROFILE\x00" + bytes((i + 1, len(parts))) + part)
        for i, part in enumerate(parts)
    ]


def exif_app1(orientation: int) -> bytes:
    return _segment(0xE1, tiff.EXIF_PREFIX + tiff.orientation_only_tiff(orientation))


def scrub_jpeg(data: bytes) -> ScrubResult:
    """Scrub JPEG bytes in memory; the result's `data` is bytes."""
    result = scrub_jpeg_source(BytesSource(data), in_memory=True)
    return result


def scrub_jpeg_source(src: Source, *, in_memory: bool = False) -> ScrubResult:
    """Scrub a JPEG read through `src` piece by piece. The result's `data` is a `Splice`
    (the new segments plus ranges of `src`, produced on demand) unless `in_memory`, when it is
    bytes. Memory stays a few MB whatever the file's size: nothing is held whole."""
    parsed = _parse(src)
    assert parsed.size is not None  # _parse guarantees a frame header before any scan
    removed: Counter[str] = Counter(parsed.removed)
    notes: list[str] = []

    summary = tiff.summarise_exif(parsed.exif[0] if parsed.exif else None, removed, notes)
    orientation = tiff.valid_orientation(summary.orientation)
    if summary.orientation is not None and summary.orientation != orientation:
        notes.append("ignored an invalid EXIF orientation value")

    head: list[bytes] = [b"\xff\xd8"]
    if parsed.jfif is not None:
        head.append(_segment(0xE0, b"JFIF\x00" + parsed.jfif + b"\x00\x00"))
    if orientation != 1:
        head.append(exif_app1(orientation))
    profile = _icc_profile(parsed)
    if profile is not None and icc.is_clean_icc(profile):
        head.extend(_icc_segments(profile))
        notes.append("kept a standard ICC colour profile")
    elif parsed.icc_chunks:
        notes.append("dropped an ICC profile that is not a known standard one")
    if parsed.adobe_transform is not None:
        head.append(
            _segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00" + bytes([parsed.adobe_transform]))
        )

    if parsed.mpf_images and parsed.mpf_images > 1:
        notes.append(f"kept primary image of {parsed.mpf_images} (MPO)")
    if parsed.trailer:
        removed["jpeg:bytes after end of image"] += parsed.trailer
        if parsed.mpf_images is None and _contains(src, src.size - parsed.trailer, b"\xff\xd8\xff"):
            notes.append("removed an embedded image stored after the end of the main image")

    splice = Splice(src)
    for part in head:
        splice.add_bytes(part)
    for offset, length in parsed.kept:
        splice.add_range(offset, length)
    splice.add_bytes(b"\xff\xd9")
    clean: bytes | Splice = splice.to_bytes() if in_memory else splice
    preview = _verify(clean if in_memory else SourceFile(splice), parsed.size)
    width, height = parsed.size
    facts = PhotoFacts(
        width=width, height=height, orientation=orientation, capture_time=summary.capture_time
    )
    return ScrubResult(
        data=clean,
        media_type="image/jpeg",
        facts=facts,
        removed=dict(removed),
        notes=notes,
        pixels_preserved=True,
        preview=preview,
    )


# The reduced decode must still be large enough for a thumbnail of this side.
PREVIEW_SIDE = 256


def _contains(src: Source, start: int, needle: bytes) -> bool:
    """Whether `needle` occurs in `src` from `start` on, read in chunks that overlap."""
    pos = start
    while pos < src.size:
        chunk = src.read_at(pos, _SCAN_CHUNK)
        if needle in chunk:
            return True
        if len(chunk) < len(needle):
            return False
        pos += len(chunk) - len(needle) + 1
    return False


def _verify(clean: bytes | BinaryIO, size: tuple[int, int]):
    """Decode the output at a reduced scale (1/8 for phone photos): this runs every
    entropy-coded byte through libjpeg (catching broken streams) without allocating
    full-size pixels. The decode is returned so the thumbnail reuses it (one decode, not two).
    """
    im = open_image(clean, "jpeg")
    if im.size != size:
        raise CorruptImage("the JPEG frame size is inconsistent")
    # draft() picks the largest DCT scaling (1/8, 1/4, 1/2) that keeps both sides at least
    # this big; a 12 MP photo gets 1/8.
    im.draft(im.mode, (min(size[0], PREVIEW_SIDE), min(size[1], PREVIEW_SIDE)))
    return load(im)
