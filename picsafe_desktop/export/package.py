"""Encrypted package: one `age` file holding the JPEGs, the PDF report and the FHIR JSON.

The ZIP is assembled in memory and encrypted with pyrage (the `age` format: X25519 or SSH
recipients, or a scrypt passphrase), so no plaintext copy ever touches the disk. A recipient
opens it with the standard `age` tool (`age -d -i key.txt pkg.age > pkg.zip`) and any unzip:
nothing of ours is needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence

import pyrage

from picsafe_desktop import APP_NAME, __version__
from picsafe_desktop.export import fhir, pdf
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import ExportBatch, ExportError

MIN_PASSPHRASE = 12


def parse_recipient(text: str) -> object:
    """An age X25519 public key (age1...) or an SSH public key (ssh-ed25519 / ssh-rsa)."""
    text = text.strip()
    try:
        if text.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(text)
        if text.startswith(("ssh-ed25519 ", "ssh-rsa ")):
            return pyrage.ssh.Recipient.from_str(text)
    except pyrage.RecipientError as exc:
        raise ExportError(f"the recipient key is not valid: {exc}") from None
    raise ExportError(
        "a recipient must be an age public key (age1...) or an SSH public key "
        "(ssh-ed25519 ... / ssh-rsa ...)"
    )


def _zip_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = when.astimezone()
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


def build_zip(
    batch: ExportBatch, *, mrn_system: str = "", site_name: str = "", id_system: str = ""
) -> bytes:
    """The package's plaintext: a ZIP in memory (never written to disk)."""
    batch = gate(batch)
    report = pdf.render_report(batch, site_name=site_name)
    bundle = fhir.build_bundle(
        batch, mrn_system=mrn_system, report_pdf=report, site_name=site_name, id_system=id_system
    )
    files: list[tuple[str, bytes, int]] = [("report.pdf", report, zipfile.ZIP_STORED)]
    files.append(
        (
            "fhir-bundle.json",
            json.dumps(bundle, ensure_ascii=False, indent=1).encode(),
            zipfile.ZIP_DEFLATED,
        )
    )
    width = max(2, len(str(len(batch.photos))))
    for n, photo in enumerate(batch.photos, start=1):
        files.append((f"photos/photo-{n:0{width}d}.jpg", photo.jpeg, zipfile.ZIP_STORED))
    manifest = {
        "format": "picsafe-export-package",
        "version": 1,
        "created_by": f"{APP_NAME} {__version__}",
        "report_id": batch.report_id,
        "use": batch.use.value,
        "deidentified": batch.deidentified,
        "files": [
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data, _ in files
        ],
        "photos": [
            {
                "file": f"photos/photo-{n:0{width}d}.jpg",
                "photo_id": fhir.photo_identifier(batch, p),  # as in the bundle's Media
                "body_site": p.body_site,
                "sha256": p.sha256,
            }
            for n, p in enumerate(batch.photos, start=1)
        ],
    }
    files.append(("manifest.json", json.dumps(manifest, indent=1).encode(), zipfile.ZIP_DEFLATED))
    out = io.BytesIO()
    stamp = _zip_time(batch.created_at)
    with zipfile.ZipFile(out, "w") as zf:
        for name, data, method in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            info.external_attr = 0o600 << 16  # owner-only once unpacked
            zf.writestr(info, data)
    return out.getvalue()


def _one_lock(passphrase: str | None, recipients: Sequence[str]) -> None:
    if passphrase and recipients:
        raise ExportError("give either a passphrase or recipient keys, not both")
    if not passphrase and not recipients:
        raise ExportError("give a passphrase (not empty) or at least one recipient key")


def encrypt(
    plaintext: bytes, *, passphrase: str | None = None, recipients: Sequence[str] = ()
) -> bytes:
    """age-encrypt for recipients' public keys, or with a passphrase (scrypt) — exactly one."""
    _one_lock(passphrase, recipients)
    if passphrase is not None and passphrase:
        if len(passphrase) < MIN_PASSPHRASE:
            raise ExportError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
        return pyrage.passphrase.encrypt(plaintext, passphrase)
    parsed = [parse_recipient(r) for r in recipients]
    try:
        return pyrage.encrypt(plaintext, parsed)
    except pyrage.EncryptError as exc:
        raise ExportError(f"encryption failed: {exc}") from None


def build_package(
    batch: ExportBatch,
    *,
    passphrase: str | None = None,
    recipients: Sequence[str] = (),
    mrn_system: str = "",
    site_name: str = "",
    id_system: str = "",
) -> bytes:
    """The encrypted package bytes."""
    _one_lock(passphrase, recipients)  # checked before the slow part
    plaintext = build_zip(batch, mrn_system=mrn_system, site_name=site_name, id_system=id_system)
    return encrypt(plaintext, passphrase=passphrase, recipients=recipients)
