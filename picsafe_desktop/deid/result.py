"""Result and request types of the de-identification API."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from picsafe_desktop.deid.stream import SourceFile, Splice, sha256_of
from picsafe_desktop.model import PhotoFacts


@dataclass(frozen=True)
class ScrubResult:
    """A de-identified image and an audit-safe account of what was taken out.

    `facts` describe the clean image: `width`/`height` are its stored pixel size and
    `orientation` the EXIF orientation it still carries (always 1 for re-encoded images);
    `capture_time` was read from the source before stripping.
    `removed` maps a tag group or segment kind to a count (never a value).
    `pixels_preserved` is True when the clean image decodes to exactly the source's pixels.
    `preview` is the reduced decode the scrub made to verify the clean bytes (JPEG: libjpeg's
    1/8-scale decode), handed on so the thumbnail needs no second decode; memory only, never
    compared, printed or stored. None when the scrub decoded nothing.
    `data` is bytes, except from `scrub_source`, where a JPEG's is a `Splice` (its clean bytes
    produced on demand from the original): read either with `open()`.
    """

    data: bytes | Splice
    media_type: str
    facts: PhotoFacts
    removed: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pixels_preserved: bool = True
    preview: Any = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        return self.data.size if isinstance(self.data, Splice) else len(self.data)

    def open(self) -> BinaryIO:
        """The clean image as a seekable binary file, read on demand (never a temp file)."""
        if isinstance(self.data, Splice):
            return SourceFile(self.data)
        return io.BytesIO(self.data)

    def sha256(self) -> str:
        """SHA-256 (hex) of the clean bytes, read in chunks."""
        if isinstance(self.data, Splice):
            return sha256_of(self.data)
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Redaction:
    """A rectangle in displayed (upright) image coordinates, in pixels."""

    x: int
    y: int
    w: int
    h: int
    mode: Literal["black", "blur"] = "black"


def kind_name(raw: bytes) -> str:
    """A chunk or box id as printable ASCII for audit keys ("XMP\\0", never raw bytes)."""
    text = "".join(
        "\\0" if b == 0 else chr(b) if 32 <= b < 127 and chr(b) not in "\\:" else "?" for b in raw
    )
    return text.strip() or "?"
