"""Photos kept as PNG or WebP (screenshots, some camera apps) still reach the record as JPEG."""

from __future__ import annotations

import io
import shutil

import pydicom
import pytest
from PIL import Image
from pydicom.encaps import generate_frames

from picsafe_desktop import config
from picsafe_desktop.export.from_vault import ExportOptions, export_from_vault
from picsafe_desktop.model import Capacity, ConsentRecord, Method, Patient, Staff, Use
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

SOURCES = (
    "png-exif-gps-text-xmp__png_with_exif_and_gps.png",
    "iphonex-gps-orient6__Issue-473-Java.webp",
)


@pytest.mark.parametrize("name", SOURCES)
def test_png_and_webp_export_as_jpeg(tmp_path, corpus, keyring_service, name):
    import datetime as dt

    site = config.from_dict(
        {"vault": {"path": str(tmp_path / "vault")}, "staff": {"allow_unverified_names": True}}
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    staff = Staff("Dr A", "Registrar", "S1")
    services.sign_in(staff)
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus / name, src / name)
    report = services.import_paths([src])
    [item_id] = report.item_ids
    stored = vault.get_item(item_id).media_type
    assert stored != "image/jpeg", "the vault keeps the lossless original format"
    record = ConsentRecord(
        consent_id="",
        patient=Patient("RX55"),
        capacity=Capacity.SELF,
        uses=frozenset({Use.RECORD}),
        method=Method.VERBAL,
        obtained_by=staff,
        obtained_at=dt.datetime.now(dt.UTC),
        witness_name="W",
    )
    consent_id = services.record_consent(report.batch_id, record)
    try:
        out = tmp_path / "dicom"
        out.mkdir()
        export_from_vault(
            vault, consent_id, "dicom", ExportOptions(out=out), actor="t", staff=staff
        )
        ds = pydicom.dcmread(next(out.glob("*.dcm")))
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        assert frame.startswith(b"\xff\xd8")
        with Image.open(io.BytesIO(frame)) as im:
            assert im.format == "JPEG" and im.size == (ds.Columns, ds.Rows)
        pdf = tmp_path / "report.pdf"
        export_from_vault(vault, consent_id, "pdf", ExportOptions(out=pdf), actor="t", staff=staff)
        assert pdf.read_bytes().startswith(b"%PDF")
    finally:
        services.close()
