"""PNG scrubbing: chunk allow-list, exact pixels, orientation kept as a single tag."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import piexif
import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from picsafe_desktop.deid import CorruptImage, scrub
from tests.unit.deid_checks import assert_png_allow_list, decoded, orientation_tiff, png_chunks

SECRET = b"SECRET-SERIAL-4711"


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def exif_block(orientation: int) -> bytes:
    return piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: orientation, piexif.ImageIFD.Make: b"Maker"},
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: b"2021:01:02 03:04:05",
                piexif.ExifIFD.BodySerialNumber: SECRET,
            },
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N"},
        }
    )[6:]


def loaded_png(orientation: int = 1, mode: str = "RGBA", **save) -> bytes:
    im = Image.new(mode, (30, 20), (10, 20, 30, 128) if mode == "RGBA" else 7)
    im.putpixel((3, 4), (250, 1, 2, 255) if mode == "RGBA" else 200)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Dr Jane Owner")
    info.add_text("Comment", SECRET.decode(), zip=True)
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + SECRET.decode() + "</x:xmpmeta>")
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info, exif=exif_block(orientation), **save)
    data = buf.getvalue()
    # tIME, a C2PA-like unknown chunk, and bytes after IEND.
    idat = data.index(b"IDAT") - 4
    extra = chunk(b"tIME", b"\x07\xe5\x01\x02\x03\x04\x05") + chunk(b"caBX", SECRET)
    return data[:idat] + extra + data[idat:] + b"TRAILER" + SECRET


@pytest.mark.parametrize("mode", ["RGBA", "L", "P"])
def test_pixels_identical_and_only_rendering_chunks_left(mode):
    source = loaded_png(mode=mode)
    result = scrub(source)
    assert result.media_type == "image/png" and result.pixels_preserved
    assert decoded(result.data).tobytes() == decoded(source).tobytes()
    assert decoded(result.data).mode == decoded(source).mode
    assert_png_allow_list(result.data)
    assert SECRET not in result.data and b"Owner" not in result.data
    for kind in ("png:tEXt", "png:zTXt", "png:iTXt", "png:eXIf", "png:tIME", "png:caBX"):
        assert result.removed[kind] >= 1, kind
    assert result.removed["exif:GPS"] == 1


def test_facts_and_orientation_only_exif():
    source = loaded_png(orientation=8)
    result = scrub(source)
    assert result.facts.orientation == 8
    assert result.facts.capture_time is not None
    assert result.facts.capture_time.isoformat() == "2021-01-02T03:04:05"
    exif = [p for k, p in png_chunks(result.data) if k == b"eXIf"]
    assert exif == [orientation_tiff(8)]
    with warnings.catch_warnings():  # piexif's test EXIF upsets Pillow; ours must not
        warnings.simplefilter("ignore")
        before = ImageOps.exif_transpose(decoded(source))
    after = ImageOps.exif_transpose(decoded(result.data))
    assert after.size == (20, 30) and after.tobytes() == before.tobytes()


def test_interlaced_and_16_bit_png():
    im = Image.new("I;16", (33, 17))
    im.putpixel((5, 5), 40000)
    buf = io.BytesIO()
    im.save(buf, "PNG", interlace=1)
    result = scrub(buf.getvalue())
    assert decoded(result.data).tobytes() == decoded(buf.getvalue()).tobytes()


def test_icc_profile_name_is_not_copied():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG", icc_profile=profile)
    data = buf.getvalue().replace(b"ICC Profile\x00", b"Dr Jane PC \x00")  # same length
    at = data.index(b"iCCP") - 4
    length = struct.unpack_from(">I", data, at)[0]
    data = data[:at] + chunk(b"iCCP", data[at + 8 : at + 8 + length]) + data[at + 12 + length :]
    result = scrub(data)
    assert b"Jane" not in result.data
    assert decoded(result.data).info["icc_profile"] == profile


def test_animated_png_keeps_default_image():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    result = scrub(buf.getvalue())
    assert "kept the default image of an animated PNG" in result.notes
    assert decoded(result.data).getpixel((0, 0)) == (255, 0, 0)
    assert_png_allow_list(result.data)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda p: p[: len(p) - 30], "truncated"),
        (lambda p: p[:8] + chunk(b"IEND", b""), "header"),
        (lambda p: p.replace(b"IHDR", b"IHDX"), "CRC"),
        (lambda p: p[:33] + chunk(b"IEND", b""), "no image data"),
    ],
)
def test_broken_png_is_corrupt(mangle, message):
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (1, 2, 3)).save(buf, "PNG")
    with pytest.raises(CorruptImage, match=message):
        scrub(mangle(buf.getvalue()))


def test_damaged_idat_crc_or_short_stream_is_corrupt():
    buf = io.BytesIO()
    Image.effect_noise((64, 64), 50).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    at = data.index(b"IDAT")
    data[at + 20] ^= 0xFF
    with pytest.raises(CorruptImage, match="CRC"):
        scrub(bytes(data))
    good = buf.getvalue()
    at = good.index(b"IDAT") - 4
    length = struct.unpack_from(">I", good, at)[0]
    short = good[at + 8 : at + 8 + length - 10]
    with pytest.raises(CorruptImage, match="truncated"):
        scrub(good[:at] + chunk(b"IDAT", short) + chunk(b"IEND", b""))


def test_hidden_bytes_after_the_zlib_stream_are_refused():
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    good = buf.getvalue()
    at = good.index(b"IDAT") - 4
    length = struct.unpack_from(">I", good, at)[0]
    payload = good[at + 8 : at + 8 + length] + SECRET
    with pytest.raises(CorruptImage, match="after its compressed stream"):
        scrub(good[:at] + chunk(b"IDAT", payload) + chunk(b"IEND", b""))
