"""The vault keeps HEIC; PDF and DICOM exports convert it to JPEG in memory, upright.

Before the lossless HEIC scrub the vault only ever held JPEG/PNG/WebP, so this path
(`deid.to_jpeg` on HEIC in export/from_vault.py) was never exercised.
"""

from __future__ import annotations

import io
import json
import shutil

import pydicom
import pytest
from PIL import Image

from picsafe_desktop import cli
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

NAME = "iphone13promax-orient6-thumb__iphone_13_pro_max.HEIC"  # stored 4032x3024, irot 270
CONSENT = {
    "patient": {"mrn": "RX0099887", "name": "Ada Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record", "teaching"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
    "indication": "wound review",
}


@pytest.fixture
def heic_vault(tmp_path, keyring_service, corpus):
    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, keyring_service).close()
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(CONSENT))
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(corpus / NAME, photos / "IMG_0001.HEIC")
    base = ["--vault", str(vault_dir), "--keyring-service", keyring_service]
    assert cli.main(["import", "--consent", str(consent), *base, "-q", str(photos)]) == 0
    with Vault.open(vault_dir, keyring_service) as vault:
        (item,) = vault.list_items()
        assert item.media_type == "image/heic"  # kept losslessly, not re-encoded
        consent_id = item.consent_id
    return base, consent_id


def test_dicom_export_of_a_heic_is_an_upright_jpeg(heic_vault, tmp_path):
    base, consent_id = heic_vault
    out = tmp_path / "dcm"
    out.mkdir()
    assert cli.main(["export", "dicom", "--consent", consent_id, *base, "--out", str(out)]) == 0
    (path,) = sorted(out.glob("*.dcm"))
    ds = pydicom.dcmread(path)
    assert (ds.Columns, ds.Rows) == (3024, 4032)  # portrait: the container's turn applied once
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    assert Image.open(io.BytesIO(frame)).size == (3024, 4032)


def test_pdf_export_of_a_heic_succeeds(heic_vault, tmp_path):
    base, consent_id = heic_vault
    out = tmp_path / "report.pdf"
    assert cli.main(["export", "pdf", "--consent", consent_id, *base, "--out", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and b"/DCTDecode" in pdf  # the photo went in as JPEG
