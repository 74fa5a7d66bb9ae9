"""Shared helpers of the benchmarks (not a benchmark itself: `make bench` runs bench_*.py).

Every figure is a ratio against a baseline measured in the same run on the same files, so
results from a loaded or slow machine still compare: never an absolute time in a test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# The corpus's 13 readable phone/camera JPEGs (23 MB): the "CLI import" set.
PHONE_JPEGS = (
    "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg",
    "canon-powershot-sx60-orient6-xmp-iptc__canon_hdr_NO.jpg",
    "google-pixel-gps-makernote__IMG_20180725_163423.jpg",
    "iphone4-gps__Apple-iPhone-4.jpg",
    "iphone5-gps-orient3__Apple-iPhone-5.jpg",
    "iphone6-gps-exifthumb__iphone_hdr_YES.jpg",
    "lg-nexus4-gps-exifthumb__Nexus-4.jpg",
    "motorola-moto-g9plus-emptygps__empty_gps.jpg",
    "nokia-n70-iptc-exifthumb__iptc.jpg",
    "samsung-galaxy-s4-GT-I9505__Samsung-GT-I9505-Galaxy-S4.jpg",
    "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg",
    "sony-dsc-hx5v-gps-exifthumb-ifd1make__Sony-DSC-HX5V-2.jpg",
    "sony-xperia-z2-D6503-xmp-iptc__Sony-D5403-Xperia-Z2.jpg",
)
TWELVE_MP = (
    "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg",  # 4032x3024
    "google-pixel-gps-makernote__IMG_20180725_163423.jpg",  # 4048x3036
)
CONSENT = {
    "patient": {"mrn": "BENCH0001", "name": "Bench Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Bench Witness"},
    "obtained_by": {"name": "Bench Clinician", "role": "Registrar"},
    "body_site": "left forearm",
    "indication": "benchmark",
}


def corpus_files(names) -> list[Path]:
    paths = [CORPUS / n for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"corpus files missing in {CORPUS}: {', '.join(missing)}")
    return paths


def unique_copy(base: bytes, tag: str) -> bytes:
    """The same JPEG with a COM segment naming `tag`, so no two copies are duplicates."""
    body = tag.encode()
    return base[:2] + b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body + base[2:]


def write_copies(folder: Path, bases: list[bytes], count: int, tag: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(count):
        data = unique_copy(bases[i % len(bases)], f"{tag}-{i}")
        (folder / f"IMG_{i:05d}.jpg").write_bytes(data)
        total += len(data)
    return total


def floor(folder: Path, out: Path) -> float:
    """What any tool must at least do per photo: copy it durably and shred the source.
    `dd conv=fsync` then `shred -u`, one file at a time (the issue's floor)."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for src in sorted(folder.iterdir()):
        dst = out / src.name
        subprocess.run(
            ["dd", f"if={src}", f"of={dst}", "bs=1M", "conv=fsync", "status=none"], check=True
        )
        subprocess.run(["shred", "-u", str(src)], check=True)
    return time.perf_counter() - start


def new_vault(folder: Path) -> tuple[Path, str]:
    """A fresh vault with a cheap recovery KDF; returns (folder, keyring service)."""
    from picsafe_desktop.vault import KdfParams, Vault

    service = f"picsafe-bench-{time.time_ns()}"
    vault, _ = Vault.create(
        folder, service, kdf=KdfParams(time_cost=1, memory_kib=8192, parallelism=1)
    )
    vault.close()
    return folder, service


def forget_keys(service: str) -> None:
    """Remove the bench vault's keys from the (test) keyring."""
    try:
        import keyring
        import secretstorage

        with secretstorage.dbus_init() as conn:
            collection = secretstorage.get_default_collection(conn)
            users = [
                i.get_attributes().get("username", "")
                for i in collection.search_items({"service": service})
            ]
        for user in users:
            keyring.delete_password(service, user)
    except Exception:  # noqa: BLE001 - cleanup of a throwaway test keyring only
        pass


def consent_file(folder: Path) -> Path:
    path = folder / "consent.json"
    path.write_text(json.dumps(CONSENT))
    return path


def cli() -> list[str]:
    script = Path(sys.executable).with_name("picsafe-desktop")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "picsafe_desktop"]


def median(values) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def child_peak_rss_mb(code: str, env: dict | None = None) -> tuple[float, str]:
    """Run `code` in a fresh interpreter; its peak resident memory (MB) and its stdout."""
    wrapped = (
        code + "\nimport resource, sys\nprint('PEAK', resource.getrusage("
        "resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapped],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr[-2000:]}")
    lines = out.stdout.splitlines()
    peak = next(int(line.split()[1]) for line in lines if line.startswith("PEAK "))
    return peak / 1024, "\n".join(line for line in lines if not line.startswith("PEAK "))


def ratio_line(label: str, ours: float, base: float, target: float | None = None) -> str:
    verdict = ""
    if target is not None:
        met = "met" if ours / base <= target else "NOT met"
        verdict = f"  target <= {target:.2f}x: {met}"
    return f"{label}: {ours:.2f} s vs {base:.2f} s  ratio {ours / base:.2f}x{verdict}"
