"""The one entry point that turns untrusted photo bytes into de-identified bytes."""

from __future__ import annotations

import struct
import zlib

from picsafe_desktop.deid import detect
from picsafe_desktop.deid.errors import CorruptImage, DeidError, ImageTooLarge, UnsupportedFormat
from picsafe_desktop.deid.limits import MAX_BUFFERED_BYTES, MAX_FILE_BYTES, check_bytes
from picsafe_desktop.deid.result import ScrubResult
from picsafe_desktop.deid.stream import Source, read_all

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


def scrub_source(src: Source) -> ScrubResult:
    """scrub() for a photo read piece by piece from `src` (the import pipeline's path).

    JPEG streams: the result's `data` is a `Splice` over `src` (read it with `result.open()`),
    so a 500 MB JPEG costs a few MB of memory. The other formats are rebuilt in memory: they
    are read whole (original and clean copy held at once), so they are refused above
    MAX_BUFFERED_BYTES with a message that says why (docs/import.md, "Large files").
    """
    if src.size == 0:
        raise CorruptImage("the file is empty (0 bytes)")
    if src.size > MAX_FILE_BYTES:
        raise ImageTooLarge(f"the file is {src.size} bytes, above the limit of {MAX_FILE_BYTES}")
    head = src.read_at(0, 4096)
    fmt = detect.detect_format(head)
    if fmt == detect.JPEG:
        from picsafe_desktop.deid.jpeg import scrub_jpeg_source

        try:
            return scrub_jpeg_source(src)
        except DeidError:
            raise
        except _PARSE_ERRORS as exc:
            raise CorruptImage(f"the JPEG file is malformed ({type(exc).__name__})") from None
    if fmt is None:
        raise UnsupportedFormat(
            f"{detect.describe(head)}: only JPEG, PNG, WebP and HEIC/HEIF photos are accepted"
        )
    if src.size > MAX_BUFFERED_BYTES:
        name = "HEIC/HEIF" if fmt == detect.HEIF else fmt.upper()
        raise ImageTooLarge(
            f"the {name} file is {src.size / 1e6:.0f} MB; {name} photos are de-identified in "
            f"memory, so PicSafe imports them up to {MAX_BUFFERED_BYTES / 1e6:.0f} MB (JPEG up "
            f"to {MAX_FILE_BYTES / 1e9:.1f} GB) - save it as JPEG and import that"
        )
    return scrub(read_all(src) if src.size > len(head) else head)


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
