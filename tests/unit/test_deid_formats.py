"""Format detection by content, refusal of unsupported types, EXIF facts and ICC checks."""

from __future__ import annotations

import datetime as dt
import io
import struct

import piexif
import pytest
from PIL import Image, ImageCms

from picsafe_desktop.deid import CorruptImage, UnsupportedFormat, detect_format, scrub
from picsafe_desktop.deid.icc import is_clean_icc
from picsafe_desktop.deid.tiff import TiffError, read_exif, read_exif_lenient
from tests.unit.deid_checks import make_jpeg


def encoded(fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, fmt, **options)
    return buf.getvalue()


def test_detect_by_magic_bytes():
    assert detect_format(make_jpeg()) == "jpeg"
    assert detect_format(encoded("PNG")) == "png"
    assert detect_format(encoded("WEBP")) == "webp"
    assert detect_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "heif"
    assert detect_format(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif") is None
    assert detect_format(b"") is None
    assert detect_format(b"\xff\xd8") is None


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (encoded("TIFF"), "TIFF or camera raw"),
        (encoded("GIF"), "GIF"),
        (encoded("BMP"), "BMP"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41", "video"),
        (b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00qt  ", "video"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "CR3"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\x00" * 128 + b"DICM" + b"\x00" * 10, "DICOM"),
        (b"hello, not an image", "not a recognised image"),
    ],
)
def test_unsupported_types_are_named(data, named):
    with pytest.raises(UnsupportedFormat, match=named):
        scrub(data)


def test_empty_file_is_corrupt():
    with pytest.raises(CorruptImage, match="empty"):
        scrub(b"")


def test_exif_facts_with_offset_subseconds_and_fallback():
    block = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: 3},
            "Exif": {
                piexif.ExifIFD.DateTimeDigitized: b"2020:06:30 11:27:59",
                piexif.ExifIFD.OffsetTimeDigitized: b"-05:30",
                piexif.ExifIFD.SubSecTimeDigitized: b"0042",
            },
        }
    )
    summary = read_exif(block)
    tz = dt.timezone(-dt.timedelta(hours=5, minutes=30))
    assert summary.capture_time == dt.datetime(2020, 6, 30, 11, 27, 59, 4200, tzinfo=tz)
    assert summary.orientation == 3
    assert summary.groups == {"exif:IFD0": 2, "exif:ExifIFD": 3}


@pytest.mark.parametrize("stamp", [b"0000:00:00 00:00:00", b"2020:13:45 99:00:00", b"garbage"])
def test_impossible_dates_give_no_capture_time(stamp):
    block = piexif.dump({"Exif": {piexif.ExifIFD.DateTimeOriginal: stamp}})
    assert read_exif(block).capture_time is None


def test_exif_loops_and_bad_offsets_do_not_hang_or_crash():
    looped = bytearray(b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">HHHII", 1, 0x8769, 4, 1, 8))
    looped += b"\x00\x00\x00\x00"
    with pytest.raises(TiffError):
        read_exif(bytes(looped))
    summary, ok = read_exif_lenient(b"MM\x00\x2a\xff\xff\xff\xff")
    assert not ok and summary.capture_time is None
    assert read_exif_lenient(b"II*\x00\x08\x00\x00\x00\xff\xff")[1] is False


def _profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_icc_allow_list():
    profile = _profile()
    assert is_clean_icc(profile)
    # Extra bytes hidden after the tag data (and the size field updated to cover them).
    hidden = bytearray(profile + b"Dr Jane Owner")
    hidden[0:4] = struct.pack(">I", len(hidden))
    assert not is_clean_icc(bytes(hidden))
    # A private tag, as in Apple display profiles ('mmod' holds the display serial number).
    tagged = bytearray(profile)
    at = tagged.index(b"chrm", 128)
    tagged[at : at + 4] = b"mmod"
    assert not is_clean_icc(bytes(tagged))
    assert not is_clean_icc(b"")
    assert not is_clean_icc(profile[:200])
