"""Lossless WebP scrubbing: rebuild the RIFF container from an allow-list of chunks.

Kept: the image bitstream (VP8 or VP8L, with ALPH for lossy alpha), a VP8X header whose
flags are recomputed from what is kept, and a standard ICC profile. Dropped: EXIF, XMP,
non-standard ids such as "XMP\\0", every unknown chunk and bytes after the RIFF end.
Animated WebP keeps only its first frame, decoded and re-encoded losslessly (exact pixels).
A non-1 orientation is kept as an EXIF chunk holding only the Orientation tag.
"""

from __future__ import annotations

import io
import struct
from collections import Counter

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage
from picsafe_desktop.deid.limits import check_pixels, load, open_image
from picsafe_desktop.deid.result import ScrubResult, kind_name
from picsafe_desktop.model import PhotoFacts

_ICC, _ALPHA, _EXIF, _XMP, _ANIM = 0x20, 0x10, 0x08, 0x04, 0x02


def chunk(kind: bytes, payload: bytes) -> bytes:
    pad = b"\x00" if len(payload) % 2 else b""
    return kind + struct.pack("<I", len(payload)) + payload + pad


def _chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], int]:
    """(fourcc, payload) for each chunk inside the RIFF, and bytes after the RIFF end."""
    if len(data) < 12:
        raise CorruptImage("the WebP file is truncated")
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
        raise CorruptImage("the file ends before the end of the WebP image (truncated)")
    pos, found = 12, []
    while pos + 8 <= riff_end:
        kind = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if pos + 8 + size > riff_end:
            raise CorruptImage("the file ends inside a WebP chunk (truncated)")
        found.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return found, len(data) - riff_end


def _bitstream_size(kind: bytes, payload: bytes) -> tuple[int, int, bool]:
    """(width, height, has_alpha) from a VP8 or VP8L bitstream header."""
    if kind == b"VP8 ":
        if len(payload) < 10 or payload[3:6] != b"\x9d\x01\x2a":
            raise CorruptImage("the WebP VP8 bitstream header is invalid")
        w, h = struct.unpack_from("<HH", payload, 6)
        return w & 0x3FFF, h & 0x3FFF, False
    if len(payload) < 5 or payload[0] != 0x2F:
        raise CorruptImage("the WebP VP8L bitstream header is invalid")
    bits = int.from_bytes(payload[1:5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)


def _vp8x(flags: int, width: int, height: int) -> bytes:
    return chunk(
        b"VP8X",
        bytes([flags, 0, 0, 0])
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little"),
    )


def scrub_webp(data: bytes) -> ScrubResult:
    found, trailer = _chunks(data)
    removed: Counter[str] = Counter()
    notes: list[str] = []
    if trailer:
        removed["webp:bytes after end of image"] += trailer
    kinds = [k for k, _ in found]
    exif = next((p for k, p in found if k == b"EXIF"), None)
    summary = tiff.summarise_exif(exif, removed, notes)
    orientation = tiff.valid_orientation(summary.orientation)

    if b"ANMF" in kinds or b"ANIM" in kinds:
        frames = kinds.count(b"ANMF")
        image, alpha, pixels_kept = _first_frame(data), True, False
        notes.append(f"kept the first frame of {frames} (animated WebP), re-encoded losslessly")
        removed["webp:animation frames"] += max(frames - 1, 0)
        for k in set(kinds) - {b"ANMF", b"ANIM", b"VP8X", b"ICCP"}:
            removed[f"webp:{kind_name(k)}"] += kinds.count(k)
        return _finish(image, alpha, orientation, found, removed, notes, summary, pixels_kept)

    image: list[bytes] = []
    alpha = False
    for kind, payload in found:
        if kind in (b"VP8 ", b"VP8L"):
            if image and any(c.startswith((b"VP8 ", b"VP8L")) for c in image):
                raise CorruptImage("the WebP file holds two image bitstreams")
            w, h, has_alpha = _bitstream_size(kind, payload)
            check_pixels(w, h)
            alpha = alpha or has_alpha
            image.append(chunk(kind, payload))
        elif kind == b"ALPH":
            alpha = True
            image.insert(0, chunk(kind, payload))
        elif kind in (b"VP8X", b"ICCP"):
            continue  # rebuilt / checked below
        else:
            removed[f"webp:{kind_name(kind)}"] += 1
    if not any(c.startswith((b"VP8 ", b"VP8L")) for c in image):
        raise CorruptImage("the WebP file has no image data")
    return _finish(image, alpha, orientation, found, removed, notes, summary, True)


def _finish(
    image: list[bytes],
    alpha: bool,
    orientation: int,
    found: list[tuple[bytes, bytes]],
    removed: Counter[str],
    notes: list[str],
    summary: tiff.ExifSummary,
    pixels_kept: bool,
) -> ScrubResult:
    bitstream = next(c for c in image if c.startswith((b"VP8 ", b"VP8L")))
    width, height, _ = _bitstream_size(bitstream[:4], bitstream[8:])
    vp8x = next((p for k, p in found if k == b"VP8X"), None)
    if vp8x is not None and len(vp8x) >= 10:
        canvas = (int.from_bytes(vp8x[4:7], "little") + 1, int.from_bytes(vp8x[7:10], "little") + 1)
        if canvas != (width, height):
            raise CorruptImage("the WebP canvas size does not match its image")
    profile = next((p for k, p in found if k == b"ICCP"), None)
    extra: list[bytes] = []
    flags = _ALPHA if alpha else 0
    head: list[bytes] = []
    if profile is not None:
        removed["webp:ICCP"] += 1
        if icc.is_clean_icc(profile):
            head.append(chunk(b"ICCP", profile))
            flags |= _ICC
            notes.append("kept a standard ICC colour profile")
        else:
            notes.append("dropped an ICC profile that is not a known standard one")
    if orientation != 1:
        extra.append(chunk(b"EXIF", tiff.orientation_only_tiff(orientation)))
        flags |= _EXIF
    body = b"".join(head + image + extra)
    if flags & (_ICC | _EXIF) or (alpha and image[0].startswith(b"ALPH")):
        body = _vp8x(flags, width, height) + body
    clean = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    im = open_image(clean, "webp")
    if im.size != (width, height):
        raise CorruptImage("the WebP image size is inconsistent")
    load(im)
    facts = PhotoFacts(width, height, orientation, summary.capture_time)
    counts = {k: v for k, v in removed.items() if v}
    return ScrubResult(clean, "image/webp", facts, counts, notes, pixels_preserved=pixels_kept)


def _first_frame(data: bytes) -> list[bytes]:
    """First frame of an animated WebP, composited on its canvas, as lossless VP8L (+ALPH)."""
    im = open_image(data, "webp")
    load(im)
    frame = im.convert("RGBA")
    buf = io.BytesIO()
    frame.save(buf, "WEBP", lossless=True, exact=True, quality=100, method=4)
    found, _ = _chunks(buf.getvalue())
    return [chunk(k, p) for k, p in found if k in (b"VP8L", b"VP8 ", b"ALPH")]
