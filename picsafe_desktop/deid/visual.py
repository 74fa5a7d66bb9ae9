"""Pixel work on already scrubbed images: thumbnails, redaction boxes, face suggestions.

Every image produced here is saved with an empty `info` and explicit empty comment/EXIF
(Pillow would otherwise re-save a JPEG comment from `info` by default), and redacted images
go through scrub() once more, so the output is metadata-free by construction twice over.
Coordinates are always in the displayed, upright image (EXIF orientation applied).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

from PIL import Image, ImageCms, ImageFilter, ImageOps

from picsafe_desktop.deid import detect
from picsafe_desktop.deid.errors import (
    FaceDetectionUnavailable,
    InvalidRedaction,
    UnsupportedFormat,
)
from picsafe_desktop.deid.limits import load, open_image
from picsafe_desktop.deid.result import Redaction, ScrubResult
from picsafe_desktop.deid.scrub import scrub

THUMBNAIL_QUALITY = 85
REDACTED_JPEG_QUALITY = 92
_FACE_WORK_SIDE = 1024  # faces are searched on a copy no larger than this
_FACE_CASCADE = "haarcascade_frontalface_default.xml"


def _open_clean(
    clean: bytes, draft_side: int | None = None
) -> tuple[Image.Image, str, bytes | None]:
    """Decode scrubbed bytes upright; returns (image, format, icc profile)."""
    fmt = detect.detect_format(clean)
    if fmt == detect.HEIF:
        from picsafe_desktop.deid.heif_jpeg import decode_heif

        # libheif applies the container's rotation/mirror: the result is already upright.
        image, profile = decode_heif(bytes(clean))
        return image, fmt, profile
    if fmt not in (detect.JPEG, detect.PNG, detect.WEBP):
        raise UnsupportedFormat("expected a scrubbed JPEG, PNG, WebP or HEIC image (run scrub "
                                "first)")  # fmt: skip
    im = open_image(bytes(clean), fmt)
    if draft_side and fmt == detect.JPEG:
        im.draft("RGB", (draft_side, draft_side))
    load(im)
    profile = im.info.get("icc_profile") or None
    upright = ImageOps.exif_transpose(im)
    upright.info = {}
    return upright, fmt, profile


def _to_srgb(im: Image.Image, profile: bytes | None) -> Image.Image:
    """Convert to plain RGB in sRGB so an image saved without a profile looks right."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif im.mode != "RGB":
        im = im.convert("RGB")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"))
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None
        if converted is not None:
            im = converted
    return im


def _save_jpeg(im: Image.Image, quality: int, icc_profile: bytes | None = None) -> bytes:
    im.info = {}
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": quality, "comment": b"", "exif": b""}
    if icc_profile:
        options["icc_profile"] = icc_profile
    im.save(buf, "JPEG", **options)
    return buf.getvalue()


def decode_upright(clean: bytes) -> Image.Image:
    """Scrubbed bytes decoded as displayed (orientation applied), in memory; for viewers that
    cannot read every vault format themselves (Qt has no HEIC reader)."""
    im, _, _ = _open_clean(clean)
    return im


def make_thumbnail(clean: bytes | ScrubResult, max_side: int = 256) -> bytes:
    """A small upright sRGB JPEG of scrubbed bytes, with no metadata at all.

    Given the ScrubResult itself, the scrub's own reduced decode (`preview`) is used when it
    is large enough, so a JPEG is decoded once per import, not twice.
    """
    if not 16 <= max_side <= 4096:
        raise ValueError("max_side must be between 16 and 4096")
    if isinstance(clean, ScrubResult):
        preview = clean.preview
        if preview is not None and (
            min(preview.size) >= max_side or preview.size == (clean.facts.width, clean.facts.height)
        ):
            profile = preview.info.get("icc_profile") or None
            im = ImageOps.exif_transpose(preview)
            if im is preview:
                im = preview.copy()  # thumbnail() works in place; keep the result's preview
            im.info = {}
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return _save_jpeg(_to_srgb(im, profile), THUMBNAIL_QUALITY)
        clean = clean.data
    im, _, profile = _open_clean(clean, draft_side=max_side * 2)
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _save_jpeg(_to_srgb(im, profile), THUMBNAIL_QUALITY)


def to_jpeg(clean: bytes, quality: int = 95) -> bytes:
    """An upright sRGB JPEG of scrubbed PNG/WebP/HEIC bytes (JPEG input is returned unchanged).

    For destinations that take only JPEG (DICOM JPEG Baseline, the PDF report); the re-encode
    is lossy, so callers use it only at export, never for what the vault keeps.
    """
    if detect.detect_format(clean) == detect.JPEG:
        return clean
    im, fmt, profile = _open_clean(clean)
    if fmt == detect.HEIF and profile and im.mode == "RGB":
        # A phone's wide-gamut colour (Display P3) travels with its profile, as it did when
        # the vault kept HEIC as JPEG: converting to sRGB would clip it.
        return _save_jpeg(im, quality, icc_profile=profile)
    return _save_jpeg(_to_srgb(im, profile), quality)


def _box(r: Redaction, size: tuple[int, int]) -> tuple[int, int, int, int]:
    if r.mode not in ("black", "blur"):
        raise InvalidRedaction(f"unknown redaction mode {r.mode!r}")
    if r.w <= 0 or r.h <= 0:
        raise InvalidRedaction("a redaction box must have a positive width and height")
    x0, y0 = max(0, r.x), max(0, r.y)
    x1, y1 = min(size[0], r.x + r.w), min(size[1], r.y + r.h)
    if x0 >= x1 or y0 >= y1:
        raise InvalidRedaction("a redaction box lies entirely outside the image")
    return x0, y0, x1, y1


def _blur(im: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Irreversible blur: average down to at most 8 cells on the short side, then smooth.
    Unlike a plain Gaussian blur, the detail is gone, not just spread out. `resize` with a
    box reads the region without `crop`, which would apply Pillow's global pixel limit."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cell = max(1, min(w, h) // 8)
    small = im.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BOX, box=box)
    patch = small.resize((w, h), Image.Resampling.BILINEAR)
    patch = patch.filter(ImageFilter.GaussianBlur(radius=max(1, cell // 2)))
    im.paste(patch, (x0, y0))


def redact(clean: bytes, boxes: Sequence[Redaction]) -> ScrubResult:
    """Black out or blur rectangles (displayed coordinates) and re-encode, metadata-free.

    The output keeps the input's format (JPEG at quality 92, PNG and WebP losslessly; HEIC
    becomes JPEG at quality 92, as HEVC encoding is slow and no more faithful),
    is upright (orientation 1) and is passed through scrub() again. Only pixels cross from
    the input, so `removed` is empty and `facts.capture_time` is None: keep the facts of
    the original scrub.
    """
    if not boxes:
        raise InvalidRedaction("no redaction boxes were given")
    im, fmt, profile = _open_clean(clean)
    rects = [(_box(r, im.size), r.mode) for r in boxes]
    if im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA" if "A" in im.getbands() or im.mode == "P" else "RGB")
    fill = {"L": 0, "LA": (0, 255), "RGB": (0, 0, 0), "RGBA": (0, 0, 0, 255)}[im.mode]
    for rect, mode in rects:
        if mode == "black":
            im.paste(fill, rect)  # opaque black, also over transparent pixels
        else:
            _blur(im, rect)
    im.info = {}
    buf = io.BytesIO()
    if fmt in (detect.JPEG, detect.HEIF):
        jpeg_ready = im if im.mode in ("RGB", "L") else _to_srgb(im, None)
        buf.write(_save_jpeg(jpeg_ready, REDACTED_JPEG_QUALITY, profile))
    elif fmt == detect.PNG:
        options: dict[str, object] = {"icc_profile": profile} if profile else {}
        im.save(buf, "PNG", **options)
    else:
        options = {"icc_profile": profile} if profile else {}
        im.save(buf, "WEBP", lossless=True, exact=True, quality=100, method=4, **options)
    result = scrub(buf.getvalue())
    notes = [f"{len(rects)} area(s) redacted; pixels re-encoded", *result.notes]
    return ScrubResult(
        data=result.data,
        media_type=result.media_type,
        facts=result.facts,
        removed={},
        notes=notes,
        pixels_preserved=False,
    )


def _cascade():
    try:
        import cv2
    except ImportError as exc:
        raise FaceDetectionUnavailable(f"OpenCV is not installed ({exc})") from None
    path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""), _FACE_CASCADE)
    if not hasattr(cv2, "CascadeClassifier") or not os.path.isfile(path):
        raise FaceDetectionUnavailable(
            "this OpenCV build has no Haar face cascade (OpenCV 5 moved it out); "
            "install opencv-python-headless 4.x"
        )
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise FaceDetectionUnavailable("the OpenCV face cascade could not be loaded")
    return cv2, classifier


def suggest_faces(clean: bytes) -> list[tuple[int, int, int, int]]:
    """Rectangles (x, y, w, h, displayed coordinates) that may be faces.

    Suggestions only: Haar cascades miss turned and partly hidden faces and flag some
    non-faces, so a person must confirm every box and look for what was missed.
    """
    import numpy as np

    cv2, classifier = _cascade()
    im, _, _ = _open_clean(clean, draft_side=_FACE_WORK_SIDE)
    gray = im.convert("L")
    scale = max(gray.size) / _FACE_WORK_SIDE if max(gray.size) > _FACE_WORK_SIDE else 1.0
    if scale > 1.0:
        gray = gray.resize(
            (max(1, round(gray.width / scale)), max(1, round(gray.height / scale))),
            Image.Resampling.BOX,
        )
    array = cv2.equalizeHist(np.asarray(gray))
    found = classifier.detectMultiScale(array, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    # The decoded image may be a reduced JPEG draft: map back to full displayed size.
    full_w, full_h = _displayed_size(clean)
    fx, fy = full_w / gray.width, full_h / gray.height
    faces = []
    for x, y, w, h in found if len(found) else []:
        faces.append((int(x * fx), int(y * fy), max(1, int(w * fx)), max(1, int(h * fy))))
    return sorted(faces)


def _displayed_size(clean: bytes) -> tuple[int, int]:
    fmt = detect.detect_format(clean)
    assert fmt is not None
    if fmt == detect.HEIF:
        from picsafe_desktop.deid.heif_jpeg import open_heif_checked

        heif = open_heif_checked(bytes(clean))
        return heif[heif.primary_index].size  # transforms applied: displayed size
    im = open_image(bytes(clean), fmt)
    w, h = im.size
    orientation = im.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
