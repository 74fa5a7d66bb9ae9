"""Cheap synthetic huge images (200 MP and more) for limit and memory tests and the bench.

Nothing is encoded pixel by pixel: the JPEG's entropy-coded data is a repeated 3-byte
pattern (four flat 8x8 blocks with the standard Huffman tables), and the PNG's image data
is a streamed zlib stream of zero rows.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

# Four blocks, each "DC difference 0" (code 00) + "end of block" (code 1010): 24 bits.
_FOUR_FLAT_BLOCKS = bytes((0x28, 0xA2, 0x8A))


def huge_gray_jpeg(width: int, height: int) -> bytes:
    """A valid baseline grayscale JPEG of any size, mid-grey everywhere."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    if blocks % 4:
        raise ValueError("choose a size whose 8x8 block count is a multiple of 4")
    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "JPEG", quality=75)  # standard tables
    small = buf.getvalue()
    sos = small.index(b"\xff\xda")
    header = bytearray(small[: sos + 2 + struct.unpack_from(">H", small, sos + 2)[0]])
    sof = header.index(b"\xff\xc0")
    header[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(header) + _FOUR_FLAT_BLOCKS * (blocks // 4) + b"\xff\xd9"


def huge_gray_png(width: int, height: int) -> bytes:
    """A valid 8-bit grayscale PNG of any size, black everywhere."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    z = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    rows_per_step = max(1, (8 << 20) // len(row))
    parts = []
    done = 0
    while done < height:
        n = min(rows_per_step, height - done)
        parts.append(z.compress(row * n))
        done += n
    parts.append(z.flush())
    stream = b"".join(parts)
    idats = [chunk(b"IDAT", stream[i : i + (1 << 20)]) for i in range(0, len(stream), 1 << 20)]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(idats) + chunk(b"IEND", b"")


def big_noise_jpeg(path, megabytes: float, width: int = 8192) -> int:
    """Write a valid baseline grayscale JPEG of about `megabytes` MB of noise to `path`, in
    pieces (never held whole): 64 rows of noise are encoded once with a restart marker after
    every MCU row, and that byte-aligned strip is repeated with the restart numbers cycling.
    Returns the file's size."""
    strip = Image.effect_noise((width, 64), 90)
    buf = io.BytesIO()
    strip.save(buf, "JPEG", quality=100, restart_marker_rows=1)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    scan_start = sos + 2 + struct.unpack_from(">H", data, sos + 2)[0]
    scan = data[scan_start:-2]  # rows 0-7 with RST0..RST6 between them
    assert scan.count(b"\xff\xd7") == 0 and data.endswith(b"\xff\xd9")
    strips = max(1, round(megabytes * 1e6 / (len(scan) + 2)))
    header = bytearray(data[:scan_start])
    sof = header.index(b"\xff\xc0")
    header[sof + 5 : sof + 7] = struct.pack(">H", 64 * strips)
    with open(path, "wb") as out:
        out.write(header)
        for i in range(strips):
            out.write(scan)
            out.write(b"\xff\xd7" if i < strips - 1 else b"\xff\xd9")
    return Path(path).stat().st_size
