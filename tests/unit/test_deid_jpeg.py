"""JPEG scrubbing: lossless, allow-listed, and immune to the known library traps."""

from __future__ import annotations

import datetime as dt
import io
import struct

import piexif
import pytest
from PIL import Image, ImageCms, ImageOps

from picsafe_desktop.deid import CorruptImage, UnsupportedFormat, scrub
from tests.unit.deid_checks import (
    assert_jpeg_allow_list,
    decoded,
    jpeg_segments,
    make_jpeg,
    orientation_tiff,
)

SERIAL = b"SECRET-SERIAL-4711"
OWNER = b"Dr Jane Owner"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'photoshop:City="Secretville" aux:SerialNumber="SECRET-SERIAL-4711"/></rdf:RDF></x:xmpmeta>'
)
SENTINELS = [SERIAL, OWNER, b"Secretville", b"2023:05:06", b"ssuniqueid", b"MMIMETA", b"SEFT"]


def seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def insert_after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def full_exif(orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    exif = {
        "0th": {
            piexif.ImageIFD.Make: b"PhoneMaker",
            piexif.ImageIFD.Model: b"PhoneModel X",
            piexif.ImageIFD.Software: b"CameraApp 1.0",
            piexif.ImageIFD.Orientation: orientation,
            piexif.ImageIFD.Artist: OWNER,
        },
        "Exif": {
            piexif.ExifIFD.DateTimeOriginal: b"2023:05:06 07:08:09",
            piexif.ExifIFD.OffsetTimeOriginal: b"+02:00",
            piexif.ExifIFD.SubSecTimeOriginal: b"25",
            piexif.ExifIFD.BodySerialNumber: SERIAL,
            piexif.ExifIFD.CameraOwnerName: OWNER,
            piexif.ExifIFD.MakerNote: b"VENDOR-MAKERNOTE" + SERIAL,
        },
        "GPS": {
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((51, 1), (30, 1), (1234, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"W",
            piexif.GPSIFD.GPSLongitude: ((0, 1), (7, 1), (3921, 100)),
        },
        "1st": {},
        "thumbnail": thumbnail,
    }
    if thumbnail:
        exif["1st"] = {piexif.ImageIFD.Make: b"PhoneMaker"}
    return piexif.dump(exif)


def loaded_jpeg(orientation: int = 1) -> bytes:
    """A JPEG carrying everything phones write, in every place they write it."""
    base = make_jpeg((96, 64), exif=full_exif(orientation, make_jpeg((16, 12))), comment=OWNER)
    return (
        insert_after_soi(
            base,
            seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
            seg(
                0xED,
                b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10"
                b"\x1c\x02Z\x00\x0bSecretville",
            ),
            seg(0xE4, b"\x00" * 8 + b"ssuniqueid=" + SERIAL),  # Samsung-like APP4
            seg(0xE6, b"MMIMETA\x00" + SERIAL),  # Motorola-like APP6
        )
        + b"SEFT"
        + SERIAL
    )  # vendor trailer after EOI


def test_lossless_and_nothing_identifying_left():
    source = loaded_jpeg()
    result = scrub(source)
    assert result.media_type == "image/jpeg"
    assert result.pixels_preserved
    assert decoded(result.data).tobytes() == decoded(source).tobytes()
    assert_jpeg_allow_list(result.data)
    for sentinel in SENTINELS:
        assert sentinel not in result.data
    # Counts by group, never values.
    assert result.removed["exif:GPS"] == 4
    assert result.removed["exif:MakerNotes"] == 1
    assert result.removed["exif:ThumbnailImage"] == 1
    assert result.removed["jpeg:COM comment"] == 1
    assert result.removed["jpeg:APP1 XMP"] == 1
    assert result.removed["jpeg:APP13 Photoshop/IPTC"] == 1
    assert result.removed["jpeg:bytes after end of image"] == len(b"SEFT" + SERIAL)
    for key in result.removed:
        assert SERIAL.decode() not in key


def test_facts_are_read_before_stripping():
    result = scrub(loaded_jpeg(orientation=6))
    tz = dt.timezone(dt.timedelta(hours=2))
    assert result.facts.capture_time == dt.datetime(2023, 5, 6, 7, 8, 9, 250000, tzinfo=tz)
    assert (result.facts.width, result.facts.height) == (96, 64)
    assert result.facts.orientation == 6


def test_orientation_survives_as_the_only_tag():
    source = loaded_jpeg(orientation=6)
    result = scrub(source)
    app1 = [p for m, p in jpeg_segments(result.data) if m == 0xE1]
    assert app1 == [b"Exif\x00\x00" + orientation_tiff(6)]
    before = ImageOps.exif_transpose(decoded(source))
    after = ImageOps.exif_transpose(decoded(result.data))
    assert after.size == (64, 96)
    assert after.tobytes() == before.tobytes()


def test_orientation_one_means_no_exif_at_all():
    result = scrub(loaded_jpeg(orientation=1))
    assert not [m for m, _ in jpeg_segments(result.data) if m == 0xE1]
    assert decoded(result.data).getexif() == {}


def test_trap_pillow_resaves_the_comment():
    source = make_jpeg(comment=OWNER)
    naive = io.BytesIO()
    decoded(source).save(naive, "JPEG")  # what a hand-rolled "re-encode to strip" does
    assert OWNER in naive.getvalue()  # the trap is real
    assert OWNER not in scrub(source).data


def test_trap_exif_transpose_keeps_gps():
    source = make_jpeg(exif=full_exif(orientation=6))
    transposed = ImageOps.exif_transpose(decoded(source))
    assert transposed.getexif().get_ifd(0x8825)  # GPS still there after "fixing" rotation
    clean = decoded(scrub(source).data)
    assert not clean.getexif().get_ifd(0x8825)
    assert dict(clean.getexif()) == {0x0112: 6}


def test_trap_piexif_remove_leaves_the_rest():
    source = loaded_jpeg()
    source = insert_after_soi(source, seg(0xE1, full_exif()))  # a second EXIF APP1
    out = io.BytesIO()
    piexif.remove(source, out)
    leftover = out.getvalue()
    assert XMP in leftover and OWNER in leftover and b"SEFT" in leftover  # trap is real
    result = scrub(source)
    for sentinel in SENTINELS:
        assert sentinel not in result.data
    assert result.removed["jpeg:APP1 EXIF"] == 2


def test_mpo_keeps_primary_image_only():
    first = Image.new("RGB", (40, 30), (255, 0, 0))
    second = Image.new("RGB", (40, 30), (0, 0, 255))
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second])
    mpo = buf.getvalue()
    assert Image.open(io.BytesIO(mpo)).n_frames == 2
    result = scrub(mpo)
    assert "kept primary image of 2 (MPO)" in result.notes
    assert b"MPF\x00" not in result.data
    assert_jpeg_allow_list(result.data)  # also proves nothing follows EOI
    frame0 = Image.open(io.BytesIO(mpo))
    frame0.load()
    assert decoded(result.data).tobytes() == frame0.tobytes()


def test_camera_preview_after_eoi_is_removed():
    preview = make_jpeg((32, 24), exif=full_exif())
    result = scrub(make_jpeg() + preview)
    assert "removed an embedded image stored after the end of the main image" in result.notes
    assert result.data.count(b"\xff\xd8") == 1
    assert SERIAL not in result.data


def test_jfif_thumbnail_and_extension_not_copied():
    jfif_with_thumb = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x02" + b"\x7f" * 12
    jfxx = b"JFXX\x00\x13" + b"\x99" * 40
    source = make_jpeg()
    source = source[:2] + seg(0xE0, jfif_with_thumb) + seg(0xE0, jfxx) + source[2 + 18 :]
    result = scrub(source)
    app0 = [p for m, p in jpeg_segments(result.data) if m == 0xE0]
    assert app0 == [b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"]
    assert decoded(result.data).tobytes() == decoded(source).tobytes()


def test_standard_icc_kept_and_personal_one_dropped():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    kept = scrub(make_jpeg(icc_profile=profile))
    assert decoded(kept.data).info.get("icc_profile") == profile
    personal = profile.replace(
        "sRGB built-in".encode("utf-16-be"), "Dr Smith's PC".encode("utf-16-be")
    )
    assert personal != profile
    dropped = scrub(make_jpeg(icc_profile=personal))
    assert "icc_profile" not in decoded(dropped.data).info
    assert "dropped an ICC profile that is not a known standard one" in dropped.notes


def test_cmyk_adobe_transform_is_kept_so_pixels_decode_the_same():
    buf = io.BytesIO()
    Image.new("CMYK", (32, 32), (10, 200, 30, 40)).save(buf, "JPEG", quality=90)
    source = insert_after_soi(buf.getvalue(), seg(0xE1, full_exif()))
    result = scrub(source)
    assert decoded(result.data).mode == "CMYK"
    assert decoded(result.data).tobytes() == decoded(source).tobytes()
    assert_jpeg_allow_list(result.data)


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"subsampling": 0}, {"restart_marker_blocks": 2}, {"optimize": True}],
)
def test_encoder_variants_stay_bit_identical(options):
    source = make_jpeg((120, 88), exif=full_exif(3), **options)
    result = scrub(source)
    assert decoded(result.data).tobytes() == decoded(source).tobytes()
    assert_jpeg_allow_list(result.data)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda j: j[: len(j) // 2], "truncated"),
        (lambda j: j[:-2], "truncated"),
        (lambda j: j[:20] + b"\x00garbage" + j[20:], "unexpected bytes"),
        (lambda j: j[:4] + b"\xff\xff" + j[6:], "truncated"),  # APP0 length beyond the file
        (lambda j: b"\xff\xd8\xff\xd9", "no image data"),
    ],
)
def test_broken_jpeg_is_corrupt_not_a_crash(mangle, message):
    with pytest.raises(CorruptImage, match=message):
        scrub(mangle(make_jpeg()))


def test_hierarchical_jpeg_is_refused_clearly():
    source = make_jpeg()
    sof = source.index(b"\xff\xc0")
    with pytest.raises(UnsupportedFormat, match="hierarchical"):
        scrub(source[:sof] + b"\xff\xc5" + source[sof + 2 :])


def test_absurd_dimensions_are_refused_before_decoding():
    source = bytearray(make_jpeg())
    sof = source.index(b"\xff\xc0")
    source[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    with pytest.raises(UnsupportedFormat, match="megapixels"):
        scrub(bytes(source))
