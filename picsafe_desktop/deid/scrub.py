"""The one entry point that turns untrusted photo bytes into de-identified bytes."""

from __future__ import annotations

import struct
import zlib

from picsafe_desktop.deid import detect
from picsafe_desktop.deid.errors import CorruptImage, DeidError, UnsupportedFormat
from picsafe_desktop.deid.limits import check_bytes
from picsafe_desktop.deid.result import ScrubResult

# Parsing bugs on hostile bytes must still surface as CorruptImage, never as a crash.
_PARSE_ERRORS = (struct.error, IndexError, ValueError, EOFError, OSError, zlib.error,
                 SyntaxError, OverflowError, KeyError)  # fmt: skip


def scrub(data: bytes) -> ScrubResult:
    """Remove every identifying byte from a JPEG, PNG, WebP or HEIC/HEIF photo.

    Raises UnsupportedFormat (including ImageTooLarge) or CorruptImage; nothing is produced
    then. The result's `removed` and `notes` hold counts and kinds, never metadata values.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("scrub() takes the photo's bytes")
    data = bytes(data)
    if not data:
        raise CorruptImage("the file is empty (0 bytes)")
    check_bytes(data)
    fmt = detect.detect_format(data)
    if fmt is None:
        raise UnsupportedFormat(
            f"{detect.describe(data)}: only JPEG, PNG, WebP and HEIC/HEIF photos are accepted"
        )
    try:
        return _SCRUBBERS[fmt](data)
    except DeidError:
        raise
    except _PARSE_ERRORS as exc:
        raise CorruptImage(f"the {fmt.upper()} file is malformed ({type(exc).__name__})") from None


def _scrub_jpeg(data: bytes) -> ScrubResult:
    from picsafe_desktop.deid.jpeg import scrub_jpeg

    return scrub_jpeg(data)


def _scrub_png(data: bytes) -> ScrubResult:
    from picsafe_desktop.deid.png import scrub_png

    return scrub_png(data)


def _scrub_webp(data: bytes) -> ScrubResult:
    from picsafe_desktop.deid.webp import scrub_webp

    return scrub_webp(data)


def _scrub_heif(data: bytes) -> ScrubResult:
    from picsafe_desktop.deid.heif import scrub_heif

    return scrub_heif(data)


_SCRUBBERS = {
    detect.JPEG: _scrub_jpeg,
    detect.PNG: _scrub_png,
    detect.WEBP: _scrub_webp,
    detect.HEIF: _scrub_heif,
}
