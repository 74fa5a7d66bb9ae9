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

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage, UnsupportedFormat
from picsafe_desktop.deid.limits import check_pixels, load, open_image
from picsafe_desktop.deid.result import ScrubResult
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


class _Parsed:
    def __init__(self) -> None:
        self.kept: list[bytes | memoryview] = []
        self.removed: Counter[str] = Counter()
        self.exif: list[bytes] = []
        self.icc_chunks: dict[int, bytes] = {}
        self.icc_total = 0
        self.jfif: bytes | None = None
        self.adobe_transform: int | None = None
        self.mpf_images: int | None = None
        self.size: tuple[int, int] | None = None
        self.trailer = 0


def _parse(data: bytes) -> _Parsed:
    view = memoryview(data)
    n = len(data)
    out = _Parsed()
    pos = 2
    seen_scan = False
    while True:
        if pos >= n:
            raise CorruptImage("the file ends before the end of the image (truncated)")
        if data[pos] != 0xFF:
            raise CorruptImage(f"unexpected bytes between JPEG segments at offset {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise CorruptImage("the file ends before the end of the image (truncated)")
        marker = data[pos]
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
        if pos + 2 > n:
            raise CorruptImage("the file ends inside a JPEG segment header (truncated)")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2 or pos + length > n:
            raise CorruptImage("the file ends inside a JPEG segment (truncated)")
        payload = bytes(view[pos + 2 : pos + length])
        segment = view[pos - 2 : pos + length]
        pos += length
        if 0xE0 <= marker <= 0xEF:
            _app(out, marker, payload)
        elif marker == 0xFE:
            out.removed["jpeg:COM comment"] += 1
        elif marker in _SOF_HIERARCHICAL:
            raise UnsupportedFormat("hierarchical JPEG is not supported")
        elif marker in _SOF_SUPPORTED:
            if out.size is not None:
                raise CorruptImage("the JPEG has more than one frame header")
            if len(payload) < 6:
                raise CorruptImage("the JPEG frame header is truncated")
            height, width = struct.unpack_from(">HH", payload, 1)
            check_pixels(width, height)
            out.size = (width, height)
            out.kept.append(segment)
        elif marker in _TABLES:
            out.kept.append(segment)
        elif marker == SOS:
            if out.size is None:
                raise CorruptImage("the JPEG scan starts before its frame header")
            match = _MARKER_IN_SCAN.search(data, pos)
            if match is None:
                raise CorruptImage("the file ends before the end of the image (truncated)")
            out.kept.append(segment)
            out.kept.append(view[pos : match.start()])
            pos = match.start()
            seen_scan = True
        else:
            out.removed[f"jpeg:unknown marker 0x{marker:02X}"] += 1
    out.trailer = n - pos
    return out


def _app(out: _Parsed, marker: int, payload: bytes) -> None:
    kind = _app_kind(marker, payload)
    out.removed[kind] += 1
    if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 12:
        # Keep version/units/density only; any JFIF thumbnail is not copied.
        out.jfif = payload[5:12]
    elif marker == 0xE1 and payload.startswith(b"Exif\x00"):
        out.exif.append(payload[6:])
    elif marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00") and len(payload) > 14:
        seq, total = payload[12], payload[13]
        out.icc_chunks[seq] = payload[14:]
        out.icc_total = total
    elif marker == 0xE2 and payload.startswith(b"MPF\x00"):
        try:
            out.mpf_images = tiff.read_u32_tag(payload[4:], _MPF_NUMBER_OF_IMAGES)
        except (tiff.TiffError, struct.error):
            out.mpf_images = None
    elif marker == 0xEE and payload.startswith(b"Adobe") and len(payload) >= 12:
        out.adobe_transform = payload[11]


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
    parsed = _parse(data)
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
        if parsed.mpf_images is None and b"\xff\xd8\xff" in data[len(data) - parsed.trailer :]:
            notes.append("removed an embedded image stored after the end of the main image")

    clean = b"".join([*head, *parsed.kept, b"\xff\xd9"])
    preview = _verify(clean, parsed.size)
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


def _verify(clean: bytes, size: tuple[int, int]):
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
