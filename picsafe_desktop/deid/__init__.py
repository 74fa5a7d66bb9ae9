"""Metadata scrubbing and visual redaction: bytes in, bytes out, no I/O, no Qt.

    result = scrub(data)          # de-identified JPEG/PNG/WebP/HEIC bytes + facts + audit counts
    result = scrub_source(src)    # the same from a random-access source; a JPEG streams
    thumb = make_thumbnail(result)   # reuses the scrub's reduced JPEG decode (or pass bytes)
    redacted = redact(result.data, [Redaction(x, y, w, h, mode="black")])
    boxes = suggest_faces(result.data)   # suggestions only; a person confirms

See docs/deidentification.md for what is removed, what is kept and the limits.
"""

from picsafe_desktop.deid.detect import detect_format
from picsafe_desktop.deid.errors import (
    CorruptImage,
    DeidError,
    FaceDetectionUnavailable,
    ImageTooLarge,
    InvalidRedaction,
    UnsupportedFormat,
)
from picsafe_desktop.deid.limits import MAX_FILE_BYTES, MAX_PIXELS
from picsafe_desktop.deid.result import Redaction, ScrubResult
from picsafe_desktop.deid.scrub import scrub, scrub_source
from picsafe_desktop.deid.stream import BytesSource, Source, SourceFile, Splice
from picsafe_desktop.deid.visual import (
    decode_upright,
    make_thumbnail,
    redact,
    suggest_faces,
    to_jpeg,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "CorruptImage",
    "DeidError",
    "FaceDetectionUnavailable",
    "ImageTooLarge",
    "InvalidRedaction",
    "Redaction",
    "ScrubResult",
    "BytesSource",
    "Source",
    "SourceFile",
    "Splice",
    "UnsupportedFormat",
    "decode_upright",
    "detect_format",
    "make_thumbnail",
    "redact",
    "scrub",
    "scrub_source",
    "suggest_faces",
    "to_jpeg",
]
