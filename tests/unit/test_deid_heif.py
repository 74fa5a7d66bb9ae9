"""HEIC/HEIF: decoded once, rotated once, written as a clean JPEG."""

from __future__ import annotations

import io

import piexif
import pillow_heif
import pytest
from PIL import Image

from picsafe_desktop.deid import CorruptImage, scrub
from tests.unit.deid_checks import assert_jpeg_allow_list, decoded

SECRET = b"SECRET-SERIAL-4711"


def heic(orientation: int = 6, size=(64, 32), thumbnails=(16,)) -> bytes:
    """A HEIC like an iPhone's: HEIF rotation (irot) *and* the same EXIF Orientation."""
    im = Image.new("RGB", size, (200, 0, 0))
    im.paste((0, 0, 255), (0, 0, 16, 16))  # blue square marks the top-left corner
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: orientation, piexif.ImageIFD.Make: SECRET},
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: b"2022:02:16 12:55:41",
                piexif.ExifIFD.OffsetTimeOriginal: b"+01:00",
            },
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N"},
        }
    )
    heif = pillow_heif.from_pillow(im)
    heif.info["exif"] = exif
    heif.info["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"
    buf = io.BytesIO()
    heif.save(buf, quality=90, thumbnails=list(thumbnails))
    return buf.getvalue()


def test_rotation_applied_exactly_once():
    source = heic(orientation=6)
    result = scrub(source)
    out = decoded(result.data)
    assert result.media_type == "image/jpeg" and not result.pixels_preserved
    assert out.size == (32, 64)  # turned once: twice would give 64x32 again
    assert result.facts.orientation == 1 and (result.facts.width, result.facts.height) == (32, 64)
    assert out.getexif() == {}  # no Orientation to apply a second time
    r, _, b = out.getpixel((24, 8))  # top-left corner turned 90 degrees clockwise
    assert b > 150 and r < 80
    r, _, b = out.getpixel((8, 56))
    assert r > 150 and b < 80
    assert any("was not applied again" in note for note in result.notes)


def test_nothing_from_the_container_survives():
    result = scrub(heic())
    assert_jpeg_allow_list(result.data)
    assert SECRET not in result.data
    assert result.removed["heif:thumbnail"] == 1
    assert result.removed["heif:XMP"] == 1
    assert result.removed["heif:EXIF"] == 1
    assert result.removed["exif:GPS"] == 1
    assert result.facts.capture_time is not None
    assert result.facts.capture_time.isoformat() == "2022-02-16T12:55:41+01:00"


def test_trap_pillow_heif_copies_info_into_a_resave():
    source = heic()
    resaved = io.BytesIO()
    pillow_heif.open_heif(source).save(resaved)
    assert SECRET in pillow_heif.open_heif(resaved.getvalue()).info["exif"]  # trap is real
    assert SECRET not in scrub(source).data


def test_heic_named_jpg_is_still_handled_by_content():
    # The name never reaches scrub(); this documents that detection is by bytes only.
    assert scrub(heic(orientation=1)).media_type == "image/jpeg"


@pytest.mark.parametrize("cut", [40, 300, -1])
def test_truncated_heic_is_corrupt(cut):
    with pytest.raises(CorruptImage):
        scrub(heic()[:cut])
