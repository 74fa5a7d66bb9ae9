"""Recognise image formats from their first bytes; file names are never trusted."""

from __future__ import annotations

JPEG, PNG, WEBP, HEIF = "jpeg", "png", "webp", "heif"

MEDIA_TYPES = {JPEG: "image/jpeg", PNG: "image/png", WEBP: "image/webp", HEIF: "image/heif"}

# ISO-BMFF brands. HEVC brands mean libde265 can decode the file; the generic "mif1"/"msf1"
# brands count only when no AV1 brand says the codec is something we cannot decode.
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"mp71",
    b"M4V ",
    b"M4A ",
    b"qt  ",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
    b"dash",
    b"avc1",
    b"f4v ",
}


def _brands(data: bytes) -> list[bytes]:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return []
    size = int.from_bytes(data[0:4], "big")
    end = min(max(size, 16), len(data), 4096)
    brands = [data[8:12]]
    brands += [data[i : i + 4] for i in range(16, end - 3, 4)]
    return brands


def detect_format(data: bytes) -> str | None:
    """Return "jpeg", "png", "webp" or "heif" from the magic bytes, else None."""
    head = bytes(data[:64])
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    brands = set(_brands(bytes(data[:4096])))
    if brands & _HEVC_BRANDS:
        return HEIF
    if brands & _GENERIC_BRANDS and not brands & _AVIF_BRANDS:
        return HEIF
    return None


def describe(data: bytes) -> str:
    """A short human name for bytes that detect_format() did not accept."""
    head = bytes(data[:4096])
    if not head:
        return "an empty file"
    brands = _brands(head)
    if brands:
        if any(b in _AVIF_BRANDS for b in brands):
            return "an AVIF image (not supported)"
        if brands[0] == b"crx ":
            return "a Canon CR3 raw file"
        if any(b in _VIDEO_BRANDS for b in brands):
            return "an MP4/QuickTime video"
        return "an ISO media file that is not an HEVC HEIF image"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"IIRO", b"IIU\x00", b"MMOR"):
        return "a TIFF or camera raw file (DNG, CR2, NEF, ARW, ORF, RW2 ...)"
    if head[:15] == b"FUJIFILMCCD-RAW":
        return "a Fujifilm raw file"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "an AVI video"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "a Matroska/WebM video"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "a GIF image"
    if head[:2] == b"BM":
        return "a BMP image"
    if head[:5] == b"%PDF-":
        return "a PDF document"
    if head[128:132] == b"DICM":
        return "a DICOM file"
    return "not a recognised image format"
