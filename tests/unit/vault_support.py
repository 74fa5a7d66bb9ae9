"""Helpers shared by the vault tests (not a test module)."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from picsafe_desktop.vault import KdfParams, Vault

# Cheap Argon2id so tests stay fast; the product always uses PRODUCTION_KDF (see
# docs/vault-format.md, "Recovery"). Passed explicitly, never picked up from the environment.
TEST_KDF = KdfParams(time_cost=1, memory_kib=8192, parallelism=1)
PATIENT_NAME = "Zebedee Quillfeather"
MRN = "MRN-7734109"


def new_vault(tmp_path: Path, service: str, name: str = "vault") -> tuple[Vault, str]:
    return Vault.create(tmp_path / name, service, kdf=TEST_KDF, actor="tester")


def jpeg_with_exif(text: str = PATIENT_NAME, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG whose EXIF names the patient (ImageDescription, Artist)."""
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010E] = text  # ImageDescription
    exif[0x013B] = text  # Artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def put_photo(vault: Vault, batch_id: str, data: bytes, **extra) -> str:
    args = dict(
        batch_id=batch_id,
        media_type="image/jpeg",
        thumbnail=b"thumb",
        metadata={"note": "left forearm"},
        actor="tester",
    )
    args.update(extra)
    return vault.put(data, **args)


@contextlib.contextmanager
def db(vault_dir: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection to the index, for tampering as an attacker with file access would."""
    conn = sqlite3.connect(vault_dir / "index.sqlite3", isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def folder_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
