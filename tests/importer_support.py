"""Helpers shared by the importer tests (read-only folders, small corpus photos)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# Small, valid JPEGs from the corpus (different phones), used wherever a test needs photos.
SMALL_JPEGS = (
    "iphone4-gps__Apple-iPhone-4.jpg",
    "nokia-n70-iptc-exifthumb__iptc.jpg",
    "motorola-moto-g9plus-emptygps__empty_gps.jpg",
    "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg",
    "broken-exif-canon-eos30d-gps-serial__broken1.jpg",
    "sony-dsc-hx5v-gps-exifthumb-ifd1make__Sony-DSC-HX5V-2.jpg",
)
# Cheap recovery-code KDF for test vaults (the product keeps PRODUCTION_KDF).
TEST_KDF_ARGS = {"time_cost": 1, "memory_kib": 8 * 1024, "parallelism": 1}


def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"photo corpus not found at {CORPUS} (it lives beside the repository)")
    return CORPUS


def small_jpegs() -> list[Path]:
    root = corpus_dir()
    paths = [root / name for name in SMALL_JPEGS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"corpus files missing: {', '.join(missing)}")
    return paths


@contextlib.contextmanager
def read_only_folder(files: dict[str, bytes]):
    """A folder holding `files` that this process cannot change.

    As a normal user: permission bits. As root (permission bits do not stop root): a tmpfs
    remounted read-only, like a write-protected SD card. Skips if neither is possible.
    """
    if os.geteuid() != 0:
        folder = Path(tempfile.mkdtemp(prefix="picsafe-ro-"))
        for name, data in files.items():
            (folder / name).write_bytes(data)
            (folder / name).chmod(0o444)
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
            shutil.rmtree(folder)
        return
    folder = Path(tempfile.mkdtemp(prefix="picsafe-ro-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"running as root but cannot mount a tmpfs: {mounted.stderr.decode()}")
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def run_unprivileged(func) -> str:
    """Call `func()` in a forked child as a user whom permission bits apply to; its result.

    As root (permission bits do not stop root) the child switches to `nobody` first. The
    child's return value (a string) or exception text comes back through a pipe.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                out = str(func())
            except Exception as exc:  # noqa: BLE001 - reported to the parent
                out = f"{type(exc).__name__}: {exc}"
            os.write(write_end, out.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read().decode()
    os.waitpid(pid, 0)
    return out


@contextlib.contextmanager
def open_folder():
    """A world-traversable temporary folder (pytest's tmp_path is private to the test user)."""
    folder = Path(tempfile.mkdtemp(prefix="picsafe-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def make_vault(path: Path, keyring_service: str):
    """A new vault (real keyring, cheap recovery KDF); the caller closes it."""
    from picsafe_desktop.vault import KdfParams, Vault

    vault, _code = Vault.create(path, keyring_service, kdf=KdfParams(**TEST_KDF_ARGS))
    return vault


def unique_jpeg(base: bytes, tag: str) -> bytes:
    """`base` with a JPEG comment after SOI: a different original (hash) with the same picture.

    Scrubbing drops the comment, so two of these store the same clean pixels under different
    original hashes - exactly what distinct files from one camera look like to the importer.
    """
    assert base[:2] == b"\xff\xd8"
    body = tag.encode()
    return base[:2] + b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body + base[2:]


def import_consented(vault_dir: Path, scratch: Path, keyring_service: str, consent: dict, tag: str):
    """A new vault at `vault_dir` holding two small corpus photos imported with `consent`
    through the CLI (as on a ward PC), each marked not identifiable by a clinician (the face
    check's false alarms cleared). Returns the CLI's vault arguments and the items."""
    import json

    from picsafe_desktop import cli, governance
    from picsafe_desktop.vault import Vault

    make_vault(vault_dir, keyring_service).close()
    consent_file = scratch / "consent.json"
    consent_file.write_text(json.dumps(consent))
    photos = scratch / "photos"
    photos.mkdir()
    for i, src in enumerate(small_jpegs()[:2]):
        (photos / f"IMG_{i}.jpg").write_bytes(unique_jpeg(src.read_bytes(), f"{tag}{i}"))
    base = ["--vault", str(vault_dir), "--keyring-service", keyring_service]
    assert cli.main(["import", "--consent", str(consent_file), *base, "-q", str(photos)]) == 0
    with Vault.open(vault_dir, keyring_service) as vault:
        items = vault.list_items()
        for item in items:
            governance.set_identifiability(
                vault, item.item_id, "not_identifiable", actor="test", reason="no face in view"
            )
    return base, items
