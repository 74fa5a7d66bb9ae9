"""Deliberate size limits and the one place Pillow decodes untrusted bytes.

Pillow's global Image.MAX_IMAGE_PIXELS (about 89 MP) would refuse 200-megapixel phone photos.
Rather than raising that process-wide limit (other threads and modules rely on it), our
decoders construct Pillow's format plugins directly, which skips Pillow's check, and apply
our own limit first from the header dimensions.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

from PIL import Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from picsafe_desktop.deid.errors import CorruptImage, ImageTooLarge

# 256 MP: room above today's 200 MP phone sensors (16320 x 12240), and the largest WebP.
MAX_PIXELS = 1 << 28
# Whole-file cap for the CLI and the scrubber (a 200 MP PNG can be several hundred MB).
MAX_FILE_BYTES = 1 << 30
# PNG, WebP and HEIC are rebuilt in memory (original and clean copy held at once), so the
# import takes them up to this size; JPEG streams up to MAX_FILE_BYTES (docs/import.md).
MAX_BUFFERED_BYTES = 100_000_000

# What Pillow, libjpeg, zlib and libwebp raise on malformed input.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                 IndexError)  # fmt: skip

_PLUGINS = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
}


def check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImage(f"the image claims an impossible size {width}x{height}")
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(
            f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels), above the "
            f"limit of {MAX_PIXELS / 1e6:.0f} megapixels"
        )


def check_bytes(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLarge(f"the file is {len(data)} bytes, above the limit of {MAX_FILE_BYTES}")


def open_image(data: bytes | BinaryIO, fmt: str) -> Image.Image:
    """Open JPEG/PNG/WebP bytes (or a seekable binary file) lazily with our pixel limit
    instead of Pillow's global one."""
    try:
        im = _PLUGINS[fmt](io.BytesIO(data) if isinstance(data, bytes | bytearray) else data)
    except Image.DecompressionBombError as exc:  # not expected on this path; never a crash
        raise ImageTooLarge(_reason(exc)) from None
    except DECODE_ERRORS as exc:
        raise CorruptImage(f"the image cannot be decoded ({_reason(exc)})") from None
    check_pixels(*im.size)
    return im


def load(im: Image.Image) -> Image.Image:
    """Decode pixels, turning any decoder failure into CorruptImage."""
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(_reason(exc)) from None
    except DECODE_ERRORS as exc:
        raise CorruptImage(f"the image data cannot be decoded ({_reason(exc)})") from None
    return im


def _reason(exc: BaseException) -> str:
    # Decoder messages name no file and hold no metadata values; keep them short.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
