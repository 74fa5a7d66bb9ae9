"""Vault benchmark: storing and reading photos, and listing a large vault.

1. Throughput: N random 12 MB "photos" stored with Vault.put (encrypt, fsync, rename, fsync
   dir, read-back verification, index commit, audit row) and read back with open_stream,
   against `age -r KEY` encrypting the same files and `age -d` decrypting them, one process
   per file (how a script would do it). age does not fsync and verifies nothing after
   writing; the vault does both. Raw in-memory AES-256-GCM is printed for context.
2. Listing: a vault with --items small items; list_items() (index only, no decryption)
   against verify() (decrypts every item), to show listing cost does not grow with blob size.

Run (needs the OS keyring; the test harness provides one):
    scripts/with-test-services .venv/bin/python bench/bench_vault.py [--photos 20] [--items 10000]
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from picsafe_desktop.vault import KdfParams, Vault  # noqa: E402

SERVICE = "picsafe-bench"
PHOTO = 12 * 1024 * 1024


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def throughput(root: Path, photos: list[bytes]) -> None:
    total_mb = len(photos) * PHOTO / 1e6
    vault, _ = Vault.create(root / "vault", SERVICE, kdf=KdfParams(1, 8192, 1))
    try:
        batch = vault.create_batch("bench", actor="bench")
        put_s, items = timed(
            lambda: [
                vault.put(
                    p,
                    batch_id=batch,
                    media_type="image/jpeg",
                    thumbnail=b"t",
                    metadata={},
                    actor="bench",
                )
                for p in photos
            ]
        )
        read_s, _ = timed(lambda: [sum(map(len, vault.open_stream(i))) for i in items])
    finally:
        vault_id = vault.vault_id
        vault.close()
        import keyring

        keyring.delete_password(SERVICE, vault_id)

    if not shutil.which("age"):
        print("age not installed: no baseline")
        return
    key = root / "age.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ")[1] for line in key.read_text().splitlines() if "public key" in line
    )
    plain_dir = root / "plain"
    plain_dir.mkdir()
    files = []
    for n, p in enumerate(photos):
        f = plain_dir / f"{n}.bin"
        f.write_bytes(p)
        files.append(f)

    def age_encrypt():
        for f in files:
            subprocess.run(["age", "-r", recipient, "-o", f"{f}.age", str(f)], check=True)

    def age_decrypt():
        for f in files:
            subprocess.run(["age", "-d", "-i", str(key), "-o", os.devnull, f"{f}.age"], check=True)

    age_enc_s, _ = timed(age_encrypt)
    age_dec_s, _ = timed(age_decrypt)
    aead = AESGCM(os.urandom(32))
    chunk = os.urandom(1 << 16)
    raw_s, _ = timed(
        lambda: [aead.encrypt(bytes(12), chunk, None) for _ in range(len(photos) * PHOTO >> 16)]
    )
    print(f"{len(photos)} x 12 MB photos ({total_mb:.0f} MB)")
    print(
        f"  vault put   {total_mb / put_s:8.1f} MB/s   age encrypt {total_mb / age_enc_s:8.1f} MB/s"
        f"   ratio {age_enc_s / put_s:.2f}  (>1: vault faster)"
    )
    print(
        f"  vault read  {total_mb / read_s:8.1f} MB/s   "
        f"age decrypt {total_mb / age_dec_s:8.1f} MB/s"
        f"   ratio {age_dec_s / read_s:.2f}"
    )
    print(f"  raw AES-256-GCM encryption in memory, no I/O: {total_mb / raw_s:8.1f} MB/s")


def listing(root: Path, count: int) -> None:
    vault, _ = Vault.create(root / "list-vault", SERVICE, kdf=KdfParams(1, 8192, 1))
    try:
        batch = vault.create_batch("bench", actor="bench")
        photo = os.urandom(50_000)
        fill_s, _ = timed(
            lambda: [
                vault.put(
                    photo,
                    batch_id=batch,
                    media_type="image/jpeg",
                    thumbnail=b"t" * 5000,
                    metadata={"n": n},
                    actor="bench",
                )
                for n in range(count)
            ]
        )
        list_s, items = timed(vault.list_items)
        verify_s, report = timed(vault.verify)
        assert len(items) == count and report.ok
    finally:
        vault_id = vault.vault_id
        vault.close()
        import keyring

        keyring.delete_password(SERVICE, vault_id)
    print(f"{count} items of 50 kB (stored in {fill_s:.1f} s, {fill_s / count * 1000:.1f} ms each)")
    print(
        f"  list_items {list_s * 1000:8.1f} ms ({list_s / count * 1e6:.1f} us/item)   "
        f"verify (decrypts all) {verify_s:.1f} s   ratio {verify_s / list_s:.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        throughput(root, [os.urandom(PHOTO) for _ in range(args.photos)])
        listing(root, args.items)


if __name__ == "__main__":
    main()
