"""HEIC/HEIF: decode the primary image and write a fresh JPEG (quality 92).

Why JPEG and not a metadata-free HEIF: every viewer, PDF writer, DICOM and FHIR consumer
reads JPEG; HEVC re-encoding is as lossy as JPEG at this quality but far slower on a ward
PC; and rebuilding a HEIF by hand would mean copying boxes (thumbnails, depth maps, gain
maps, Live Photo links, vendor boxes such as Samsung 'sefd') that we would have to prove
harmless one by one. Only decoded pixels cross over, so none of that can survive.

Rotation: libheif applies the container's own transform (irot/imir/clap) while decoding, and
that transform is authoritative for HEIF. The EXIF Orientation tag inside a HEIC repeats the
same turn (iPhones write irot 270 *and* Orientation 6); applying it again would turn the
picture twice, so it is read for the audit note only and the output carries orientation 1.
"""

from __future__ import annotations

import io
import struct
from collections import Counter

import pillow_heif
from PIL import Image, ImageCms

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage
from picsafe_desktop.deid.jpeg import scrub_jpeg
from picsafe_desktop.deid.limits import check_pixels
from picsafe_desktop.deid.result import ScrubResult, kind_name
from picsafe_desktop.model import PhotoFacts

JPEG_QUALITY = 92
_HEIF_ERRORS = (ValueError, RuntimeError, OSError, EOFError, SyntaxError, KeyError)
_STANDARD_BOXES = {b"ftyp", b"meta", b"mdat", b"free", b"skip", b"idat"}
_SUBSAMPLING = {"420": "4:2:0", "422": "4:2:2", "444": "4:4:4"}


# Top-level box types of ISO-BMFF files (ISO/IEC 14496-12, HEIF). After a complete image,
# anything else is not a box but bytes appended to the file.
_TOP_LEVEL_KINDS = _STANDARD_BOXES | {
    b"moov", b"moof", b"mfra", b"uuid", b"pdin", b"styp", b"sidx", b"ssix", b"prft",
    b"emsg", b"meco", b"wide", b"jumb",
}  # fmt: skip


def _is_box_kind(kind: bytes) -> bool:
    return kind in _TOP_LEVEL_KINDS


def _top_level_boxes(data: bytes) -> tuple[list[bytes], int]:
    """Walk the top-level ISO-BMFF boxes; a box running past the end means truncation.

    Returns the box kinds and the number of trailing bytes: once `ftyp`, `meta` and `mdat`
    were seen, bytes that do not start with a box header (zero padding from a copy tool,
    garbage appended by a messenger app) are not a truncated image but data after it.
    """
    pos, kinds = 0, []
    while pos < len(data):
        complete = {b"ftyp", b"meta", b"mdat"} <= set(kinds)
        if complete and (pos + 8 > len(data) or not _is_box_kind(data[pos + 4 : pos + 8])):
            return kinds, len(data) - pos
        if pos + 8 > len(data):
            raise CorruptImage("the file ends inside a HEIF box header (truncated)")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                raise CorruptImage("the file ends inside a HEIF box header (truncated)")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            raise CorruptImage("the HEIF file has an invalid box size")
        if pos + size > len(data):
            raise CorruptImage("the file ends before the end of the HEIF image (truncated)")
        kinds.append(kind)
        pos += size
    return kinds, 0


def scrub_heif(data: bytes) -> ScrubResult:
    removed: Counter[str] = Counter()
    notes: list[str] = []
    kinds, trailing = _top_level_boxes(data)
    for kind in kinds:
        if kind not in _STANDARD_BOXES:
            removed[f"heif:{kind_name(kind)} box"] += 1
    if trailing:
        removed["heif:trailing bytes"] += 1
        notes.append(f"dropped {trailing} bytes found after the end of the HEIF image")
        data = data[: len(data) - trailing]
    try:
        heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
        count = len(heif)
        primary = heif[heif.primary_index]
    except _HEIF_ERRORS as exc:
        raise CorruptImage(f"the HEIF file cannot be read ({_reason(exc)})") from None
    if count == 0:
        raise CorruptImage("the HEIF file holds no image")
    check_pixels(*primary.size)
    info = primary.info
    if count > 1:
        notes.append(f"kept primary image of {count} (HEIF)")
        removed["heif:other images"] += count - 1
    for key, label in (("thumbnails", "thumbnail"), ("depth_images", "depth map")):
        if info.get(key):
            removed[f"heif:{label}"] += len(info[key])
    aux = sum(len(v) for v in (info.get("aux") or {}).values())
    if aux:
        removed["heif:auxiliary image"] += aux
    if info.get("xmp"):
        removed["heif:XMP"] += 1

    if info.get("exif"):
        removed["heif:EXIF"] += 1
    summary = tiff.summarise_exif(
        info.get("exif") or None,
        removed,
        notes,
        unreadable="EXIF block unreadable: no capture time taken from it",
    )
    if tiff.valid_orientation(summary.orientation) != 1:
        notes.append(
            "applied the HEIF container's rotation; the EXIF Orientation repeating it was not "
            "applied again"
        )

    try:
        pixels = primary.data
        image = Image.frombuffer(primary.mode, primary.size, pixels, "raw", primary.mode,
                                 primary.stride, 1)  # fmt: skip
    except _HEIF_ERRORS as exc:
        raise CorruptImage(f"the HEIF image data cannot be decoded ({_reason(exc)})") from None
    del heif, primary, pixels  # the decoder's copy can go before JPEG encoding
    image, profile = _colour(image, info, notes)
    if image.mode not in ("RGB", "L"):
        if "A" in image.mode:
            notes.append("flattened transparency onto white (JPEG has no alpha)")
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            image = background
        else:
            image = image.convert("RGB")
    buf = io.BytesIO()
    options = {"quality": JPEG_QUALITY, "optimize": False}
    subsampling = _SUBSAMPLING.get(str(info.get("chroma", "")))
    if subsampling and image.mode == "RGB":
        options["subsampling"] = subsampling
    if profile is not None:
        options["icc_profile"] = profile
    # Nothing from `info` is passed: no exif, no xmp, no comment.
    image.save(buf, "JPEG", **options)
    del image
    encoded = scrub_jpeg(buf.getvalue())
    notes.append(f"HEIF decoded and re-encoded as JPEG (quality {JPEG_QUALITY})")
    notes.extend(n for n in encoded.notes if n not in notes)
    facts = PhotoFacts(encoded.facts.width, encoded.facts.height, 1, summary.capture_time)
    counts = {k: v for k, v in removed.items() if v}
    return ScrubResult(encoded.data, "image/jpeg", facts, counts, notes, pixels_preserved=False)


def _colour(image: Image.Image, info: dict, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """Keep a standard ICC profile; convert from any other profile to sRGB."""
    profile = info.get("icc_profile")
    if not profile:
        if info.get("nclx_profile"):
            primaries = info["nclx_profile"].get("color_primaries")
            if primaries not in (1, 2, 5, 6):  # BT.709/sRGB, unspecified, BT.601
                notes.append("colour primaries other than sRGB were treated as sRGB")
        return image, None
    if icc.is_clean_icc(profile):
        notes.append("kept a standard ICC colour profile")
        return image, bytes(profile)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        target = ImageCms.createProfile("sRGB")
        mode = "RGB" if image.mode == "RGB" else image.mode
        converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        notes.append("dropped an unreadable ICC profile; colours may shift slightly")
        return image, None
    notes.append("converted colours from a non-standard ICC profile to sRGB")
    return converted or image, None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
