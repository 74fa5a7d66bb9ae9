"""Thumbnails, redaction boxes and face suggestions on scrubbed images."""

from __future__ import annotations

import io

import numpy as np
import piexif
import pytest
from PIL import Image, ImageDraw, ImageFilter

from picsafe_desktop.deid import (
    CorruptImage,
    InvalidRedaction,
    Redaction,
    UnsupportedFormat,
    make_thumbnail,
    redact,
    scrub,
    suggest_faces,
)
from tests.unit.deid_checks import assert_allow_list, assert_jpeg_allow_list, decoded


def photo(size=(400, 300), orientation: int = 1, fmt: str = "JPEG") -> bytes:
    im = Image.effect_noise(size, 60).convert("RGB")
    ImageDraw.Draw(im).rectangle([0, 0, 40, 40], fill=(0, 0, 255))  # marks the stored top-left
    buf = io.BytesIO()
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: orientation}})
    im.save(buf, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    return scrub(buf.getvalue()).data


def test_thumbnail_is_upright_small_and_bare():
    thumb = decoded(make_thumbnail(photo(orientation=6), max_side=100))
    assert thumb.format == "JPEG"
    assert thumb.size == (75, 100)  # 400x300 stored, shown turned: 300x400
    assert thumb.getexif() == {}
    assert "icc_profile" not in thumb.info and "comment" not in thumb.info
    r, _, b = thumb.getpixel((70, 3))  # the blue corner is now top-right
    assert b > 150 and r < 100


def test_thumbnail_of_transparent_png_is_flattened():
    buf = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(buf, "PNG")
    thumb = decoded(make_thumbnail(scrub(buf.getvalue()).data, max_side=32))
    assert thumb.mode == "RGB" and thumb.getpixel((5, 5)) == (255, 255, 255)


def test_thumbnail_refuses_broken_heif_and_bad_sizes():
    # Scrubbed HEIC is a vault format now (see test_deid_heif); a broken one is refused.
    with pytest.raises(CorruptImage):
        make_thumbnail(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    with pytest.raises(UnsupportedFormat):
        make_thumbnail(b"GIF89a" + bytes(64))
    with pytest.raises(ValueError):
        make_thumbnail(photo(), max_side=1)


def test_black_box_in_displayed_coordinates():
    clean = photo(orientation=6)
    result = redact(clean, [Redaction(10, 20, 50, 60)])
    out = decoded(result.data)
    assert out.size == (300, 400) and out.getexif() == {}  # upright, orientation 1
    patch = np.asarray(out.crop((12, 22, 58, 78)))
    assert patch.max() < 24  # black (JPEG ringing allowed)
    assert np.asarray(out.crop((100, 100, 150, 150))).std() > 20  # untouched noise elsewhere
    assert_jpeg_allow_list(result.data)
    assert not result.pixels_preserved
    assert result.notes[0] == "1 area(s) redacted; pixels re-encoded"


def test_blur_destroys_detail_and_keeps_format():
    for fmt in ("PNG", "WEBP"):
        clean = photo(fmt=fmt)
        result = redact(clean, [Redaction(100, 100, 160, 120, mode="blur")])
        out = np.asarray(decoded(result.data).convert("L")).astype(int)
        before = np.asarray(decoded(clean).convert("L")).astype(int)
        region = (slice(110, 210), slice(110, 250))
        # Pixel-to-pixel variation (the noise detail) is gone inside the box ...
        assert (
            np.abs(np.diff(out[region], axis=1)).mean()
            < 0.1 * np.abs(np.diff(before[region], axis=1)).mean()
        )
        # ... and outside the box the lossless formats keep every pixel.
        assert (out[:90] == before[:90]).all()
        assert result.media_type == f"image/{fmt.lower()}"
        assert_allow_list(result.data)


@pytest.mark.parametrize(
    "box",
    [Redaction(0, 0, 0, 10), Redaction(5000, 5000, 10, 10), Redaction(0, 0, 5, 5, mode="pixel")],
)
def test_invalid_boxes_are_refused(box):
    with pytest.raises(InvalidRedaction):
        redact(photo(), [box])
    with pytest.raises(InvalidRedaction):
        redact(photo(), [])


def drawn_face(side: int) -> Image.Image:
    """A simple drawn face with the light/dark layout Haar features respond to."""
    im = Image.new("L", (side * 3, side * 3), 90)
    d = ImageDraw.Draw(im)
    cx = cy = side * 1.5
    s = side / 200
    d.ellipse([cx - 80 * s, cy - 105 * s, cx + 80 * s, cy + 105 * s], fill=200)
    for ex in (-38, 38):
        d.ellipse([cx + (ex - 22) * s, cy - 44 * s, cx + (ex + 22) * s, cy - 26 * s], fill=40)
        d.rectangle([cx + (ex - 28) * s, cy - 62 * s, cx + (ex + 28) * s, cy - 54 * s], fill=60)
    d.polygon([(cx, cy - 20 * s), (cx - 12 * s, cy + 25 * s), (cx + 12 * s, cy + 25 * s)], fill=170)
    d.ellipse([cx - 35 * s, cy + 48 * s, cx + 35 * s, cy + 62 * s], fill=70)
    return im.filter(ImageFilter.GaussianBlur(3 * s))


def test_face_suggestions_in_displayed_coordinates():
    face = drawn_face(300).convert("RGB")  # 900x900 with the face in the middle
    canvas = Image.new("RGB", (2400, 1200), (90, 90, 90))
    canvas.paste(face, (1300, 150))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=95)
    faces = suggest_faces(scrub(buf.getvalue()).data)
    assert len(faces) == 1
    x, y, w, h = faces[0]
    # The face oval spans about x 1590-2010, y 435-915 in the full image.
    assert 1500 < x < 1700 and 350 < y < 550 and 250 < w < 500 and 250 < h < 500
    assert suggest_faces(photo()) == []


def test_opencv_without_cascades_fails_clearly(monkeypatch):
    import cv2

    from picsafe_desktop.deid import FaceDetectionUnavailable

    monkeypatch.delattr(cv2, "CascadeClassifier")
    with pytest.raises(FaceDetectionUnavailable, match="OpenCV 5"):
        suggest_faces(photo())
