"""Small photos made in memory for the UI tests."""

from __future__ import annotations

import io

from PIL import Image


def png(width: int = 400, height: int = 300, color=(200, 120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_rotated(stored_width: int, stored_height: int) -> bytes:
    """A JPEG stored landscape with EXIF Orientation 6: it displays rotated a quarter turn."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (stored_width, stored_height), (10, 200, 10)).save(
        out, "JPEG", exif=exif.tobytes()
    )
    return out.getvalue()
