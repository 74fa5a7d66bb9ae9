"""Photos as random-access sources rather than bytes, so a 500 MB photo is never held whole.

A *source* is anything with `size` and `read_at(offset, n) -> bytes` (fewer bytes only at the
end): `BytesSource` over bytes in memory, the import's file snapshot (importer/snapshot.py),
or a `Splice` - the clean file the JPEG scrubber describes as its own new segments plus
ranges of the original, produced on demand and never written anywhere. `SourceFile` turns any
source into a seekable read-only file object for Pillow and for the vault's encryption.
"""

from __future__ import annotations

import bisect
import hashlib
import io
from typing import Protocol

CHUNK = 1 << 20  # what sequential readers (hashing, materialising) take at a time


class Source(Protocol):
    size: int

    def read_at(self, offset: int, n: int) -> bytes: ...


class BytesSource:
    """Bytes already in memory (a photo downloaded whole from a phone, or small data)."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(bytes(data) if not isinstance(data, bytes) else data)
        self.size = len(self._view)

    def read_at(self, offset: int, n: int) -> bytes:
        return bytes(self._view[offset : offset + n])

    def sha256(self) -> str:
        return hashlib.sha256(self._view).hexdigest()

    def close(self) -> None:
        """Nothing to release (the photo sources share this interface)."""


def read_all(source: Source) -> bytes:
    """The whole source as bytes (only for formats and sizes that may be held in memory)."""
    return b"".join(iter_chunks(source))


def iter_chunks(source: Source, chunk: int = CHUNK):
    offset = 0
    while offset < source.size:
        data = source.read_at(offset, min(chunk, source.size - offset))
        if not data:
            raise EOFError("the source ended early")
        yield data
        offset += len(data)


def sha256_of(source: Source) -> str:
    digest = hashlib.sha256()
    for data in iter_chunks(source):
        digest.update(data)
    return digest.hexdigest()


class Splice:
    """A file made of literal byte strings and ranges of another source, in order.

    Adjacent ranges that are contiguous in the source are merged, so a JPEG's tables, frame
    header and entropy-coded data become one piece.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.size = 0
        self._starts: list[int] = []  # output offset of each piece
        self._pieces: list[bytes | tuple[int, int]] = []  # literal, or (source offset, length)

    def __len__(self) -> int:
        return len(self._pieces)

    def add_bytes(self, data: bytes) -> None:
        if data:
            self._starts.append(self.size)
            self._pieces.append(bytes(data))
            self.size += len(data)

    def add_range(self, offset: int, length: int) -> None:
        if length <= 0:
            return
        last = self._pieces[-1] if self._pieces else None
        if isinstance(last, tuple) and last[0] + last[1] == offset:
            self._pieces[-1] = (last[0], last[1] + length)
        else:
            self._starts.append(self.size)
            self._pieces.append((offset, length))
        self.size += length

    def read_at(self, offset: int, n: int) -> bytes:
        n = min(n, self.size - offset)
        if n <= 0 or offset < 0:
            return b""
        parts = []
        i = bisect.bisect_right(self._starts, offset) - 1
        while n > 0 and i < len(self._pieces):
            piece, start = self._pieces[i], self._starts[i]
            skip = offset - start
            if isinstance(piece, bytes):
                part = piece[skip : skip + n]
            else:
                src, length = piece
                part = self.source.read_at(src + skip, min(n, length - skip))
                if len(part) != min(n, length - skip):
                    raise EOFError("the original ended early")
            parts.append(part)
            offset += len(part)
            n -= len(part)
            i += 1
        return b"".join(parts)

    def to_bytes(self) -> bytes:
        return read_all(self)


class SourceFile(io.RawIOBase):
    """A seekable, read-only binary file over a source (for Pillow and sequential readers)."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self._source = source
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._source.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = max(0, self._source.size - self._pos)
        data = self._source.read_at(self._pos, n) if n else b""
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
