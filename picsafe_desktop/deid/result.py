"""Result and request types of the de-identification API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    """

    data: bytes
    media_type: str
    facts: PhotoFacts
    removed: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pixels_preserved: bool = True
    preview: Any = field(default=None, compare=False, repr=False)


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
