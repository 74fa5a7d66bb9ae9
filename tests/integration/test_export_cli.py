"""`picsafe-desktop export ...` end to end: real vault, real import, real tools."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pydicom
import pyrage
import pytest

from picsafe_desktop import cli, deid
from picsafe_desktop.vault import Vault
from tests.export_tools import FhirEndpoint, require, transaction_response
from tests.importer_support import (
    import_consented,
    make_vault,
    read_only_folder,
)

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

CONSENT = {
    "patient": {"mrn": "RX0099887", "name": "Ada Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record", "teaching"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
    "indication": "wound review",
    "identifiability": "not_identifiable",  # teaching exports need an answer (issue 15)
}


@pytest.fixture
def setup(tmp_path, keyring_service):
    vault_dir = tmp_path / "vault"
    base, items = import_consented(vault_dir, tmp_path, keyring_service, CONSENT, "exp")
    consent_id = items[0].consent_id
    with Vault.open(vault_dir, keyring_service) as vault:
        stored = {i.item_id: vault.read(i.item_id, actor="test", purpose="check") for i in items}

    def export(kind, *args, config=None):
        pre = ["--config", str(config)] if config else []
        return cli.main([*pre, "export", kind, "--consent", consent_id, *base, *args])

    def audit(event):
        with Vault.open(vault_dir, keyring_service) as vault:
            return [r for r in vault.audit_rows() if r.event == event]

    return export, audit, stored, tmp_path


def test_package_for_a_recipient_opens_with_age(setup, capsys):
    export, audit, stored, tmp = setup
    ident = pyrage.x25519.Identity.generate()
    out = tmp / "case.age"
    assert export("package", "--out", str(out), "--recipient", str(ident.to_public())) == 0
    assert "Exported 2 photo(s) as package" in capsys.readouterr().out
    (tmp / "key.txt").write_text(str(ident) + "\n")
    plain = subprocess.run([require("age"), "-d", "-i", str(tmp / "key.txt"), str(out)],
                           check=True, capture_output=True).stdout  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        jpegs = {zf.read(n) for n in zf.namelist() if n.startswith("photos/")}
    assert jpegs == set(stored.values())
    rows = audit("export")
    assert {r.subject for r in rows} == set(stored)
    assert all(r.details["kind"] == "package" and r.details["destination"] == str(out)
               for r in rows)  # fmt: skip


def test_password_pdf_from_stdin(setup, monkeypatch):
    export, audit, stored, tmp = setup
    out = tmp / "report.pdf"
    monkeypatch.setattr(sys, "stdin", io.StringIO("clinic-pass-2025\n"))
    assert export("pdf", "--out", str(out), "--password", "--staff-name", "Sam Photo") == 0
    qpdf = require("qpdf")
    assert subprocess.run([qpdf, "--requires-password", str(out)]).returncode == 0
    assert subprocess.run([qpdf, "--password=clinic-pass-2025", "--check", str(out)],
                          capture_output=True).returncode == 0  # fmt: skip


def test_dicom_files_and_teaching_use(setup):
    export, audit, stored, tmp = setup
    folder = tmp / "dcm"
    folder.mkdir()
    assert export("dicom", "--out", str(folder), "--use", "teaching") == 0
    objects = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    assert len(objects) == 2
    assert all(o.PatientID.startswith("ANON-") and o.PatientName == "" for o in objects)
    assert all(o.PatientIdentityRemoved == "YES" for o in objects)


def test_use_outside_the_consent_is_refused_and_audited(setup, capsys):
    export, audit, stored, tmp = setup
    assert (
        export(
            "package",
            "--out",
            str(tmp / "x.age"),
            "--use",
            "publication",
            "--recipient",
            str(pyrage.x25519.Identity.generate().to_public()),
        )
        == 1
    )
    assert "export refused" in capsys.readouterr().err
    assert not (tmp / "x.age").exists()
    (failed,) = audit("export_failed")
    assert failed.details["reason"] == "ExportRefused" and audit("export") == []


def test_fhir_to_the_configured_server(setup, capsys):
    export, audit, stored, tmp = setup
    server = FhirEndpoint()
    try:
        server.script = [(200, transaction_response, {})]
        config = tmp / "site.toml"
        config.write_text(
            f'[fhir]\nbase_url = "{server.base_url}"\ntoken = "cli-token-xyz"\n'
            'mrn_system = "urn:oid:1.2.826.0.1.999.1"\n'
        )
        assert export("fhir", config=config) == 0
    finally:
        server.close()
    (req,) = server.requests
    assert {k.lower(): v for k, v in req["headers"].items()}["authorization"] == (
        "Bearer cli-token-xyz"
    )
    captured = capsys.readouterr()
    assert "cli-token-xyz" not in captured.out + captured.err
    assert "5 resources created, 0 already present" not in captured.out
    assert "9 resources created, 0 already present" in captured.out  # 4 Binaries + 5


def test_missing_configuration_is_a_usage_error(setup, capsys):
    export, *_ = setup
    assert export("dicom") == 2
    assert "no PACS is configured" in capsys.readouterr().err


def test_unreachable_pacs_fails_the_check_and_is_audited(setup, capsys):
    export, audit, stored, tmp = setup
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp / "site.toml"
    config.write_text(f'[pacs]\nae_title = "PACS"\nhost = "127.0.0.1"\nport = {port}\n')
    assert export("dicom", config=config) == 1
    assert "cannot reach the PACS" in capsys.readouterr().err
    (failed,) = audit("export_failed")
    assert failed.details["reason"] == "DeliveryError" and failed.details["kind"] == "dicom"


@contextlib.contextmanager
def _full_disk(size: int = 64 * 1024):
    """A tmpfs of `size` bytes, by default too small for any export (as root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="picsafe-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


@pytest.mark.parametrize("where", ["read-only folder", "full disk"])
@pytest.mark.parametrize("kind", ["pdf", "dicom"])
def test_unwritable_destination_is_a_clear_error_and_audited(setup, capsys, where, kind):
    """Was an OSError traceback (exit 1) with the failure missing from the audit log."""
    export, audit, stored, tmp = setup
    folder_cm = read_only_folder({}) if where == "read-only folder" else _full_disk()
    with folder_cm as folder:
        out = folder / "report.pdf" if kind == "pdf" else folder
        assert export(kind, "--out", str(out)) == 2
        err = capsys.readouterr().err
        assert list(folder.iterdir()) == []  # no half file, no temp file
    assert "Traceback" not in err and f"{folder}/" in err and "cannot be written" in err
    fix = "free space" if where == "full disk" else "choose a folder you can write to"
    assert fix in err
    (failed,) = audit("export_failed")
    assert failed.details["reason"] == "ExportError" and audit("export") == []


def test_dicom_files_are_all_or_nothing_when_the_disk_fills(setup, capsys):
    """The first photo fits, the second does not: no half study is left behind."""
    export, audit, stored, tmp = setup
    full = tmp / "dicom"
    full.mkdir()
    assert export("dicom", "--out", str(full)) == 0
    sizes = [p.stat().st_size for p in sorted(full.iterdir())]
    assert len(sizes) == 2
    room = -(-(sizes[0] + 8192) // 4096) * 4096  # the first file and a little, in pages
    assert room < sizes[0] + sizes[1]
    with _full_disk(room) as folder:
        assert export("dicom", "--out", str(folder)) == 2
        assert list(folder.iterdir()) == []
    assert "photo-02.dcm: cannot be written" in capsys.readouterr().err


def test_subset_export_names_the_same_study_numbers_and_times(setup):
    """Was: Study Date/Time depended on the photos sent, and a subset renumbered from 1."""
    from pydicom.encaps import generate_frames

    export, audit, stored, tmp = setup
    whole, part = tmp / "whole", tmp / "part"
    whole.mkdir()
    part.mkdir()
    assert export("dicom", "--out", str(whole)) == 0
    objects = [pydicom.dcmread(p) for p in sorted(whole.glob("*.dcm"))]
    assert sorted(o.InstanceNumber for o in objects) == [1, 2]
    last = max(objects, key=lambda o: o.InstanceNumber)
    frame = next(generate_frames(last.PixelData, number_of_frames=1))
    (item,) = [i for i, data in stored.items() if frame[: len(data)] == data]
    assert export("dicom", "--out", str(part), "--item", item) == 0
    (alone,) = [pydicom.dcmread(p) for p in part.glob("*.dcm")]
    assert alone.InstanceNumber == 2
    for tag in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "StudyDate",
                "StudyTime"):  # fmt: skip
        assert alone[tag].value == last[tag].value, tag


def test_fhir_resend_through_the_cli_reports_created_and_already_present(setup, capsys):
    """Was: every re-send created another DocumentReference and the CLI said "4 resources
    stored" when one was new. Judged by Medplum's FHIR engine."""
    from tests.export_tools import MedplumEngine

    export, audit, stored, tmp = setup
    engine = MedplumEngine()
    try:
        config = tmp / "site.toml"
        config.write_text(
            f'[fhir]\nbase_url = "{engine.base_url}"\ntoken = "cli-token-xyz"\n'
            'mrn_system = "urn:oid:1.2.826.0.1.999.1"\n'
            'identifier_system = "urn:oid:1.2.826.0.1.999.2"\n'
        )
        assert export("fhir", config=config) == 0
        # Patient, Consent, 2 Media, DocumentReference + 4 Binaries (2 photos, 2 PDFs)
        assert "9 resources created, 0 already present" in capsys.readouterr().out
        assert export("fhir", config=config) == 0
        assert "0 resources created, 9 already present" in capsys.readouterr().out
        assert len(engine.search("DocumentReference")) == 1
        media = engine.search("Media")
        assert sorted(m["identifier"][0]["value"] for m in media) == sorted(stored)
        assert {m["identifier"][0]["system"] for m in media} == {"urn:oid:1.2.826.0.1.999.2:photo"}
    finally:
        engine.stop()


def test_the_issues_mixed_batch_end_to_end(tmp_path, keyring_service, capsys):
    """Issue 14 "done when", through the real import and the CLI: HEIC with an offset time,
    JPEG without, EXIF-rotated JPEGs and a PNG -> DICOM without dciodvfy errors and upright
    (dcmj2pnm), FHIR accepted by Medplum's engine with a re-send creating nothing, and a PDF
    naming the patient on every page."""
    from PIL import Image, ImageChops, ImageStat

    from tests.export_data import CORPUS, MIXED
    from tests.export_tools import MedplumEngine

    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, keyring_service).close()
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(CONSENT))
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in MIXED.values():
        if not (CORPUS / name).is_file():
            pytest.skip(f"photo corpus not found at {CORPUS}")
        (photos / name).write_bytes((CORPUS / name).read_bytes())
    base = ["--vault", str(vault_dir), "--keyring-service", keyring_service]
    assert cli.main(["import", "--consent", str(consent), *base, "-q", str(photos)]) == 0
    with Vault.open(vault_dir, keyring_service) as vault:
        items = vault.list_items()
        consent_id = items[0].consent_id
        stored = {i.item_id: vault.read(i.item_id, actor="test", purpose="check") for i in items}
    assert len(stored) == len(MIXED)

    def export(kind, *args, config=None):
        pre = ["--config", str(config)] if config else []
        return cli.main([*pre, "export", kind, "--consent", consent_id, *base, *args])

    folder = tmp_path / "dcm"
    folder.mkdir()
    assert export("dicom", "--out", str(folder)) == 0
    dciodvfy, dcmj2pnm = require("dciodvfy"), require("dcmj2pnm")
    for path in sorted(folder.glob("*.dcm")):
        report = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
        errors = [ln for ln in (report.stdout + report.stderr).splitlines() if "Error" in ln]
        assert errors == [], (path.name, errors)
        png = tmp_path / (path.stem + ".png")
        subprocess.run([dcmj2pnm, "+on", str(path), str(png)], check=True, capture_output=True)
        with Image.open(png) as shown:
            shown_grey = shown.convert("L")
        # the vault's copy as displayed (orientation applied; the vault keeps HEIC as HEIC,
        # PNG as PNG: both go out as upright JPEG)
        candidates = []
        for data in stored.values():
            upright = deid.decode_upright(data).convert("L")
            if upright.size == shown_grey.size:
                diff = ImageStat.Stat(ImageChops.difference(upright, shown_grey)).mean[0]
                candidates.append(diff)
        assert candidates and min(candidates) < 3.0, path.name

    engine = MedplumEngine()
    try:
        config = tmp_path / "site.toml"
        config.write_text(
            f'[fhir]\nbase_url = "{engine.base_url}"\ntoken = "t"\n'
            'mrn_system = "urn:oid:1.2.826.0.1.999.1"\n'
        )
        capsys.readouterr()
        assert export("fhir", config=config) == 0
        assert ", 0 already present" in capsys.readouterr().out
        assert export("fhir", config=config) == 0
        assert "0 resources created" in capsys.readouterr().out
        (patient,) = engine.search("Patient?identifier=urn:oid:1.2.826.0.1.999.1|RX0099887")
        media = engine.search(f"Media?subject=Patient/{patient['id']}")
        assert sorted(m["identifier"][0]["value"] for m in media) == sorted(stored)
    finally:
        engine.stop()

    out = tmp_path / "report.pdf"
    assert export("pdf", "--out", str(out)) == 0
    text = subprocess.run([require("pdftotext"), str(out), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    pages = text.split("\f")[:-1]
    assert len(pages) >= 1 + len(MIXED)  # photos, consent, and the wording the patient saw
    assert all("Ada Example · MRN RX0099887 · Born 02 Jan 1970" in page for page in pages)
