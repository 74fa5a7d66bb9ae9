"""WebP scrubbing: RIFF rebuilt from an allow-list, bitstream copied, flags fixed."""

from __future__ import annotations

import io
import struct
import warnings

import piexif
import pytest
from PIL import Image, ImageOps

from picsafe_desktop.deid import CorruptImage, scrub
from tests.unit.deid_checks import (
    assert_webp_allow_list,
    decoded,
    orientation_tiff,
    webp_chunks,
)

SECRET = b"SECRET-SERIAL-4711"


def riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(k + struct.pack("<I", len(p)) + p + (b"\x00" if len(p) % 2 else b"")
                    for k, p in chunks)  # fmt: skip
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def exif(orientation: int) -> bytes:
    return piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: orientation, piexif.ImageIFD.Model: SECRET},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2018:08:27 12:20:23"},
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N"},
        }
    )


def webp(lossless: bool, mode: str = "RGB", orientation: int = 6) -> bytes:
    im = Image.new(mode, (24, 16), (200, 10, 10, 90) if mode == "RGBA" else (200, 10, 10))
    im.putpixel((1, 1), (0, 0, 255, 255) if mode == "RGBA" else (0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, "WEBP", lossless=lossless, quality=80, exif=exif(orientation),
            xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>")  # fmt: skip
    chunks = webp_chunks(buf.getvalue())
    # Phones write odd chunk ids too ("XMP\0" on iPhone X exports) and trailing bytes.
    chunks.append((b"XMP\x00", SECRET))
    return riff(chunks) + b"TRAIL" + SECRET


@pytest.mark.parametrize(("lossless", "mode"), [(False, "RGB"), (True, "RGB"), (False, "RGBA"),
                                                (True, "RGBA")])  # fmt: skip
def test_exact_pixels_and_allow_listed_chunks(lossless, mode):
    source = webp(lossless, mode)
    result = scrub(source)
    assert result.media_type == "image/webp" and result.pixels_preserved
    assert decoded(result.data).tobytes() == decoded(source).tobytes()
    assert_webp_allow_list(result.data)
    assert SECRET not in result.data
    assert result.removed["webp:EXIF"] == 1 and result.removed["webp:XMP"] == 1
    assert result.removed["webp:XMP\\0"] == 1
    assert result.removed["webp:bytes after end of image"] == len(b"TRAIL" + SECRET)


def test_orientation_kept_and_rendered_the_same():
    source = webp(False, orientation=6)
    result = scrub(source)
    assert result.facts.orientation == 6
    assert [p for k, p in webp_chunks(result.data) if k == b"EXIF"] == [orientation_tiff(6)]
    with warnings.catch_warnings():  # piexif's test EXIF upsets Pillow; ours must not
        warnings.simplefilter("ignore")
        before = ImageOps.exif_transpose(decoded(source))
    after = ImageOps.exif_transpose(decoded(result.data))
    assert after.size == (16, 24) and after.tobytes() == before.tobytes()


def test_upright_simple_webp_needs_no_extended_header():
    result = scrub(webp(False, orientation=1))
    assert [k for k, _ in webp_chunks(result.data)] == [b"VP8 "]


def test_animated_webp_keeps_first_frame():
    frames = [Image.new("RGBA", (10, 10), c) for c in ((255, 0, 0, 255), (0, 255, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True,
                   exif=exif(1))  # fmt: skip
    result = scrub(buf.getvalue())
    assert any("first frame of 2" in n for n in result.notes)
    assert decoded(result.data).convert("RGBA").getpixel((5, 5)) == (255, 0, 0, 255)
    assert_webp_allow_list(result.data)
    assert SECRET not in result.data


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda w: w[:30], "truncated"),
        (lambda w: w[:4] + struct.pack("<I", len(w) * 2) + w[8:], "truncated"),
        (lambda w: riff([(b"EXIF", b"xx")]), "no image data"),
    ],
)
def test_broken_webp_is_corrupt(mangle, message):
    with pytest.raises(CorruptImage, match=message):
        scrub(mangle(webp(False, orientation=1)))
