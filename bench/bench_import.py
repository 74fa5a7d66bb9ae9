"""Import benchmark: 200 twelve-megapixel phone JPEGs through the PicSafe pipeline, compared
with doing the same by hand with standard tools, one file at a time:

    exiftool -all= -overwrite_original F   (strip metadata)
    age -r RECIPIENT -o F.age F            (encrypt)
    shred -u F                             (wipe the plaintext)

PicSafe does more per photo than that baseline (thumbnail, read-back verification, journal,
fsync of every write, wipe with fsync), so a ratio above 1 means the extra safety costs less
than the tools' per-file start-up.

The photos are the corpus's 12 MP phone originals (with their GPS, maker notes, thumbnails),
each copy made unique by a JPEG comment so none is a duplicate.

Run (needs the OS keyring; the test harness provides one):
    scripts/with-test-services .venv/bin/python bench/bench_import.py [--count 200]
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
TWELVE_MP = (
    "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg",  # 4032x3024
    "google-pixel-gps-makernote__IMG_20180725_163423.jpg",  # 4048x3036
)


def unique_copy(base: bytes, tag: str) -> bytes:
    body = tag.encode()
    return base[:2] + b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body + base[2:]


def make_photos(folder: Path, count: int) -> int:
    folder.mkdir(parents=True)
    bases = [(CORPUS / name).read_bytes() for name in TWELVE_MP]
    total = 0
    for i in range(count):
        data = unique_copy(bases[i % len(bases)], f"bench-{i}")
        (folder / f"IMG_{i:04d}.jpg").write_bytes(data)
        total += len(data)
    return total


def bench_picsafe(work: Path, count: int) -> tuple[float, int, int]:
    sys.path.insert(0, str(REPO))
    from picsafe_desktop.importer.events import Outcome
    from picsafe_desktop.importer.pipeline import import_paths
    from picsafe_desktop.vault import KdfParams, Vault

    drop = work / "picsafe-drop"
    size = make_photos(drop, count)
    service = f"picsafe-bench-{time.time_ns()}"
    vault, _ = Vault.create(
        work / "vault", service, kdf=KdfParams(time_cost=1, memory_kib=8192, parallelism=1)
    )
    try:
        start = time.perf_counter()
        result = import_paths(vault, [drop], actor="bench")
        seconds = time.perf_counter() - start
        imported = result.count(Outcome.IMPORTED)
    finally:
        vault.close()
        import keyring

        for user in _keyring_users(service):
            keyring.delete_password(service, user)
    if imported != count or any(drop.iterdir()):
        raise SystemExit(f"PicSafe imported {imported} of {count}; results: {result.results[:3]}")
    return seconds, size, imported


def _keyring_users(service: str) -> list[str]:
    import secretstorage

    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        return [
            item.get_attributes().get("username", "")
            for item in collection.search_items({"service": service})
        ]


def bench_tools(work: Path, count: int) -> tuple[float, int]:
    folder = work / "tools"
    size = make_photos(folder, count)
    key = work / "age.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    start = time.perf_counter()
    for photo in sorted(folder.glob("*.jpg")):
        subprocess.run(
            ["exiftool", "-q", "-all=", "-overwrite_original", str(photo)],
            check=True,
            capture_output=True,
        )
        subprocess.run(["age", "-r", recipient, "-o", str(photo) + ".age", str(photo)], check=True)
        subprocess.run(["shred", "-u", str(photo)], check=True)
    seconds = time.perf_counter() - start
    if any(folder.glob("*.jpg")):
        raise SystemExit("baseline left plaintext files behind")
    return seconds, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="number of photos (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    missing = [n for n in TWELVE_MP if not (CORPUS / n).is_file()]
    if missing:
        raise SystemExit(f"corpus files missing in {CORPUS}: {', '.join(missing)}")
    for tool in ("exiftool", "age", "age-keygen", "shred"):
        if shutil.which(tool) is None:
            raise SystemExit(
                f"{tool} not found; install it (scripts/install-system-deps.sh --test)"
            )
    work = Path(tempfile.mkdtemp(prefix="picsafe-bench-"))
    try:
        ours, size, n = bench_picsafe(work, args.count)
        theirs, _ = bench_tools(work, args.count)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    mb = size / 1e6
    print(f"photos: {n} x 12 MP JPEG, {mb:.0f} MB of originals")
    print(f"PicSafe pipeline:  {ours:7.1f} s  {n / ours:6.2f} photos/s  {mb / ours:7.1f} MB/s")
    print(
        f"exiftool+age+shred:{theirs:7.1f} s  {n / theirs:6.2f} photos/s  {mb / theirs:7.1f} MB/s"
    )
    print(f"ratio (baseline time / PicSafe time): {theirs / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
