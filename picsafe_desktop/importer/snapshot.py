"""A large source file read in place, several times, as if it had been read once.

The import reads a photo more than once: hashing the original, the scrub's parse, its check
decode, hashing the clean copy, encrypting it. A small photo is simply read into memory. A
large one (hundreds of MB) is not: it stays in its file, and this snapshot guarantees that
every later read returns exactly the bytes the first pass hashed. The first pass records a
SHA-256 of every 1 MiB block; each later read verifies the blocks it touches, so a file
rewritten mid-import (a copy still running, a sync client, anyone) fails the photo with a
clear message instead of storing bytes the scrubber never examined. Nothing is written to
disk: the only copies are the source, a block or two in memory, and the vault's ciphertext.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from picsafe_desktop.importer.source import SourceError

BLOCK = 1 << 20
_PREAD = getattr(os, "pread", None)  # not on Windows: seek and read under the lock there


class SourceChanged(SourceError):
    """The source file no longer holds what was first read: nothing of it is stored."""


class FileSnapshot:
    """Random access (`size`, `read_at`) to an open regular file, verified block by block."""

    def __init__(self, fd: int, path: Path, size: int) -> None:
        self._fd: int | None = fd
        self.path = path
        self.size = size
        self._lock = threading.Lock()
        self._digests: list[bytes] = []
        self._cache: dict[int, bytes] = {}  # the last two verified blocks
        self._sha256 = ""

    @classmethod
    def take(cls, fd: int, path: Path, size: int) -> FileSnapshot:
        """Read the whole file once: the SHA-256 of the original and of each block.
        The descriptor is owned by the snapshot from here on (closed by `close`)."""
        snap = cls(fd, path, size)
        whole = hashlib.sha256()
        try:
            for index in range(-(-size // BLOCK)):
                block = snap._pread(index)
                whole.update(block)
                snap._digests.append(hashlib.sha256(block).digest())
        except BaseException:
            snap.close()
            raise
        snap._sha256 = whole.hexdigest()
        return snap

    def sha256(self) -> str:
        return self._sha256

    def _pread(self, index: int) -> bytes:
        offset = index * BLOCK
        want = min(BLOCK, self.size - offset)
        if self._fd is None:
            raise SourceError(f"{self.path}: the import closed this file already")
        parts, got = [], 0
        try:
            while got < want:
                if _PREAD is not None:
                    part = _PREAD(self._fd, want - got, offset + got)
                else:
                    os.lseek(self._fd, offset + got, os.SEEK_SET)
                    part = os.read(self._fd, want - got)
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except OSError as exc:
            raise SourceError(
                f"{self.path}: could not be read ({exc.strerror}); it was left in place and "
                "nothing was stored"
            ) from exc
        if got != want:
            raise self._changed()
        return b"".join(parts)

    def _block(self, index: int) -> bytes:
        block = self._cache.get(index)
        if block is None:
            block = self._pread(index)
            if hashlib.sha256(block).digest() != self._digests[index]:
                raise self._changed()
            if len(self._cache) >= 2:
                self._cache.pop(next(iter(self._cache)))
            self._cache[index] = block
        return block

    def read_at(self, offset: int, n: int) -> bytes:
        n = min(n, self.size - offset)
        if n <= 0 or offset < 0:
            return b""
        parts = []
        with self._lock:
            while n > 0:
                index, skip = divmod(offset, BLOCK)
                part = self._block(index)[skip : skip + n]
                parts.append(part)
                offset += len(part)
                n -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _changed(self) -> SourceChanged:
        return SourceChanged(
            f"{self.path}: changed while it was being imported (still being copied?); it was "
            "left in place and nothing of it was stored - it is picked up again once complete"
        )

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
            self._cache.clear()
        if fd is not None:
            os.close(fd)
