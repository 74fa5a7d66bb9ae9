"""Read what the exporters need from a JPEG header without decoding or re-encoding it."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from picsafe_desktop.export.types import ExportError

# Start-of-frame markers that carry image geometry (C4 DHT, C8 JPG, CC DAC are not frames).
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


@dataclass(frozen=True)
class JpegInfo:
    sof: int  # 0xC0 = baseline sequential DCT
    precision: int
    width: int
    height: int
    components: int
    chroma_subsampled: bool
    adobe_transform: int | None  # APP14 "Adobe" colour transform flag, None when absent
    orientation: int  # EXIF Orientation tag, 1 when absent
    icc_profile: bytes | None = None  # APP2 ICC_PROFILE chunks joined, None when absent

    @property
    def baseline(self) -> bool:
        return self.sof == 0xC0 and self.precision == 8


def read_info(data: bytes, label: str = "photo") -> JpegInfo:
    """Parse the markers before the first scan; raise ExportError if this is not a JPEG."""
    if data[:2] != b"\xff\xd8":
        raise ExportError(f"{label} is not a JPEG file")
    pos = 2
    adobe: int | None = None
    icc_chunks: dict[int, bytes] = {}
    frame: tuple[int, int, int, int, int, bool] | None = None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ExportError(f"{label}: damaged JPEG header at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        if len(body) != length - 2:
            raise ExportError(f"{label}: truncated JPEG header")
        if marker in _SOF_MARKERS and frame is None:
            precision, height, width, ncomp = struct.unpack(">BHHB", body[:6])
            factors = [body[6 + 3 * i + 1] for i in range(ncomp)]
            subsampled = ncomp == 3 and any(f != factors[0] for f in factors[1:])
            frame = (marker, precision, width, height, ncomp, subsampled)
        elif marker == 0xEE and body[:5] == b"Adobe" and len(body) >= 12:
            adobe = body[11]
        elif marker == 0xE2 and body[:12] == b"ICC_PROFILE\x00" and len(body) > 14:
            icc_chunks[body[12]] = body[14:]  # ICC.1 B.4: sequence number, count, data
        elif marker == 0xDA:  # start of scan: the header is over
            break
        pos += 2 + length
    if frame is None:
        raise ExportError(f"{label}: JPEG has no frame header")
    marker, precision, width, height, ncomp, subsampled = frame
    return JpegInfo(
        sof=marker,
        precision=precision,
        width=width,
        height=height,
        components=ncomp,
        chroma_subsampled=subsampled,
        adobe_transform=adobe,
        orientation=_orientation(data),
        icc_profile=b"".join(icc_chunks[k] for k in sorted(icc_chunks)) or None,
    )


def _orientation(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as img:
            value = img.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
