"""A 200 MB photo streams in and out of the vault in bounded memory."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.vault_support import new_vault

pytestmark = [pytest.mark.keyring, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
SIZE = 200 * 1024 * 1024

# Runs in its own process so its peak RSS measures only this: a source that makes the bytes as
# they are read (never the whole file in memory), put, then open_stream hashed chunk by chunk.
CHILD = textwrap.dedent("""
    import hashlib, io, json, sys
    from picsafe_desktop.vault import Vault

    def peak_kib():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's)
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))

    root, service, batch, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    class Source(io.RawIOBase):
        def __init__(self):
            self.left, self.sha, self.block = size, hashlib.sha256(), bytes(range(256)) * 4096
        def readable(self):
            return True
        def readinto(self, buf):
            n = min(len(buf), self.left, len(self.block))
            piece = self.block[:n]
            self.block = self.block[1:] + self.block[:1]  # vary the data between reads
            buf[:n] = piece
            self.sha.update(piece)
            self.left -= n
            return n

    rss_before = peak_kib()
    with Vault.open(root, service) as vault:
        source = Source()
        item = vault.put(io.BufferedReader(source, 1 << 16), batch_id=batch,
                         media_type="image/tiff", thumbnail=b"t", metadata={}, actor="t")
        out_sha, got = hashlib.sha256(), 0
        for chunk in vault.open_stream(item):
            out_sha.update(chunk)
            got += len(chunk)
        listed = vault.get_item(item).size
    print(json.dumps({
        "same": out_sha.digest() == source.sha.digest(), "got": got, "listed": listed,
        "rss_before_kib": rss_before,
        "rss_peak_kib": peak_kib(),
    }))
""")


def test_200_mb_round_trip_streams_in_bounded_memory(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("scanner", actor="t")
    vault.close()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(vault.path), keyring_service, batch, str(SIZE)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    print(result)
    assert result["same"] and result["got"] == SIZE and result["listed"] == SIZE
    # Holding the file would add 200 MB; streaming adds a few 64 KiB chunks and buffers.
    grown_mib = (result["rss_peak_kib"] - result["rss_before_kib"]) / 1024
    assert grown_mib < 32, f"memory grew by {grown_mib:.0f} MiB while streaming 200 MiB"
    blob = next((vault.path / "blobs").rglob("*.psv"))
    assert blob.stat().st_size == SIZE + 40 + 16 * (SIZE // 65536)
