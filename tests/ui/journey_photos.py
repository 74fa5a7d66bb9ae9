"""Generated phone photos with capture times, for the ward journey tests (no patient data)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def with_capture_time(jpeg: bytes, when: str, offset: str | None = "+01:00") -> bytes:
    """The JPEG re-saved with EXIF DateTimeOriginal `when` ("YYYY:MM:DD HH:MM:SS")."""
    with Image.open(io.BytesIO(jpeg)) as im:
        rgb = im.convert("RGB")
    exif = Image.Exif()
    exif[0x0110] = "Pixel 7"  # a camera model, as phones write (scrubbed on import)
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when
    if offset:
        ifd[0x9011] = offset
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def phone_photo(when: str, colour: str, label: str = "", size=(800, 600)) -> bytes:
    """A flat-coloured 'photo' with a big label (so screenshots tell the photos apart)."""
    im = Image.new("RGB", size, colour)
    if label:
        draw = ImageDraw.Draw(im)
        draw.rectangle((40, 40, size[0] - 40, 160), fill="white")
        draw.text((60, 70), label, fill="black", font_size=64)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return with_capture_time(out.getvalue(), when)
