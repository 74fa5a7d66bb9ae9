"""Scrubbing a photo read piece by piece (deid/stream.py, scrub_source) and the import's
block-verified snapshot of a large file (importer/snapshot.py)."""

from __future__ import annotations

import os

import pytest

from picsafe_desktop.deid import (
    BytesSource,
    ImageTooLarge,
    Splice,
    UnsupportedFormat,
    scrub,
    scrub_source,
)
from picsafe_desktop.deid.limits import MAX_BUFFERED_BYTES
from picsafe_desktop.importer.snapshot import BLOCK, FileSnapshot, SourceChanged
from tests.unit.deid_synthetic import big_noise_jpeg
from tests.unit.test_deid_jpeg import loaded_jpeg


class CountingSource(BytesSource):
    """Bytes that record the largest single read asked of them."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest = 0
        self.total = 0

    def read_at(self, offset: int, n: int) -> bytes:
        self.largest = max(self.largest, n)
        self.total += min(n, max(0, self.size - offset))
        return super().read_at(offset, n)


def test_streamed_scrub_is_the_in_memory_scrub_without_ever_holding_the_file():
    data = loaded_jpeg(orientation=6)
    src = CountingSource(data)
    streamed = scrub_source(src)
    whole = scrub(data)
    assert isinstance(streamed.data, Splice)  # the clean file is produced on demand
    assert streamed.data.to_bytes() == whole.data
    assert streamed.open().read() == whole.data
    assert streamed.size == len(whole.data)
    assert streamed.sha256() == scrub(data).sha256()
    assert (streamed.facts, streamed.removed, streamed.notes) == (
        whole.facts,
        whole.removed,
        whole.notes,
    )
    assert src.largest <= 1 << 20


def test_a_large_jpeg_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "big.jpg"
    big_noise_jpeg(path, 10, width=2048)
    data = path.read_bytes()
    src = CountingSource(data)
    result = scrub_source(src)
    assert src.largest <= 1 << 20  # never the whole file in one read
    assert result.open().read() == scrub(data).data
    assert result.preview.size[0] == 2048 // 8  # the check decode is at 1/8 scale


class HeadOnly:
    """A source claiming `size` bytes that answers only reads of its first 4 KiB."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.size = head, size

    def read_at(self, offset: int, n: int) -> bytes:
        assert offset + n <= 4096, "read past the header of a file that must be refused"
        return self.head[offset : offset + n]


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(4088), "PNG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(4080), "WEBP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4072), "HEIC/HEIF"),
    ],
)
def test_formats_that_cannot_stream_are_refused_above_their_limit_before_reading(head, name):
    with pytest.raises(ImageTooLarge) as err:
        scrub_source(HeadOnly(head, MAX_BUFFERED_BYTES + 1))
    message = str(err.value)
    assert name in message and "in memory" in message and "save it as JPEG" in message


def test_an_unknown_large_file_is_named_without_being_read():
    with pytest.raises(UnsupportedFormat, match="PDF"):
        scrub_source(HeadOnly(b"%PDF-1.7\n" + bytes(4087), 500_000_000))


def _snapshot(path):
    size = path.stat().st_size
    return FileSnapshot.take(os.open(path, os.O_RDONLY), path, size)


def test_snapshot_reads_what_the_first_pass_hashed(tmp_path):
    path = tmp_path / "photo.jpg"
    data = os.urandom(3 * BLOCK + 123)
    path.write_bytes(data)
    snap = _snapshot(path)
    try:
        import hashlib

        assert snap.sha256() == hashlib.sha256(data).hexdigest()
        for offset, n in [
            (0, 10),
            (BLOCK - 5, 10),
            (BLOCK, 2 * BLOCK),
            (3 * BLOCK, 500),
            (0, 9 << 20),
        ]:
            assert snap.read_at(offset, n) == data[offset : offset + n]
    finally:
        snap.close()


def test_snapshot_refuses_a_file_rewritten_after_the_first_pass(tmp_path):
    path = tmp_path / "photo.jpg"
    data = os.urandom(2 * BLOCK)
    path.write_bytes(data)
    st = path.stat()
    snap = _snapshot(path)
    try:
        with open(path, "r+b") as f:  # same size, same time: only the content differs
            f.seek(BLOCK + 7)
            f.write(bytes([data[BLOCK + 7] ^ 1]))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert snap.read_at(0, 100) == data[:100]  # the untouched block still reads
        with pytest.raises(SourceChanged, match="changed while it was being imported"):
            snap.read_at(BLOCK, 100)
    finally:
        snap.close()


def test_snapshot_refuses_a_file_cut_short(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(os.urandom(2 * BLOCK))
    snap = _snapshot(path)
    try:
        os.truncate(path, BLOCK + 10)
        with pytest.raises(SourceChanged):
            snap.read_at(BLOCK, 100)
    finally:
        snap.close()
