"""A redacted copy is a photo of its own: its own hash and size, exportable by every kind."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pyrage
import pytest

from picsafe_desktop import config
from picsafe_desktop.deid import Redaction
from picsafe_desktop.model import ItemState, Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests import export_data as d
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

NURSE = Staff("Sam Okafor", "Staff nurse", "N4411")
# Stored rotated (EXIF orientation 6): the redacted copy is re-encoded upright.
ROTATED = "canon-powershot-sx60-orient6-xmp-iptc__canon_hdr_NO.jpg"


@pytest.fixture
def services(tmp_path, keyring_service):
    site = config.from_dict(
        {"vault": {"path": str(tmp_path / "vault")}, "staff": {"allow_unverified_names": True}}
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    svc = Services(site, vault)
    svc.sign_in(NURSE)
    yield svc
    svc.close()


@pytest.fixture
def redacted(services, tmp_path, corpus):
    """(consent id, original id, redacted copy id) for one consented, redacted photo."""
    src = tmp_path / "phone"
    src.mkdir()
    shutil.copy(corpus / ROTATED, src / "IMG_0001.jpg")
    services.import_paths([src])
    [batch] = services.waiting_batches()
    consent_id = services.record_consent(batch.batch_id, d.consent())
    [original] = services.photos([consent_id])
    copy = services.redact(original.item_id, [Redaction(0, 0, 60, 60, "black")], replace=False)
    return consent_id, original.item_id, copy


def test_redacted_copy_has_its_own_hash_size_and_link(services, redacted):
    _consent_id, original, copy = redacted
    data = services.vault.read(copy, actor="test", purpose="check")
    meta = services.metadata(copy)
    assert meta["clean_sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["clean_sha256"] != services.metadata(original)["clean_sha256"]
    assert meta["redacted_from"] == original and meta["orientation"] == 1
    original_meta = services.metadata(original)
    assert original_meta["orientation"] == 6
    # Stored sideways, redacted upright: the copy's stored size is the original's turned.
    assert (meta["width"], meta["height"]) == (original_meta["height"], original_meta["width"])
    assert meta["capture_time"] == original_meta["capture_time"]


@pytest.mark.parametrize("kind", ["pdf", "package"])
def test_redacted_copy_exports_to_a_file(services, redacted, tmp_path, kind):
    consent_id, _original, copy = redacted
    out = tmp_path / f"out.{kind}"
    choices = {"out": out}
    if kind == "package":
        choices["recipients"] = (str(pyrage.x25519.Identity.generate().to_public()),)
    outcome = services.export(consent_id, kind, "record", choices, item_ids=[copy])
    assert outcome.photos == 1 and out.stat().st_size > 0


def test_redacted_copy_exports_to_fhir(services, redacted):
    from tests.export_tools import FhirEndpoint, transaction_response

    consent_id, _original, copy = redacted
    endpoint = FhirEndpoint()
    try:
        endpoint.script = [(200, transaction_response, {})]
        services.site = config.from_dict(
            {
                "vault": {"path": services.site.vault.path},
                "fhir": {
                    "base_url": endpoint.base_url,
                    "token": "tok-test",
                    "mrn_system": "urn:oid:1.2.3",
                },
            }
        )
        services.export(consent_id, "fhir", "record", {}, item_ids=[copy])
        bundle = json.loads(endpoint.requests[0]["body"])
        [media] = [
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"
        ]
        digest = services.metadata(copy)["clean_sha256"]
        assert digest in json.dumps(media)
    finally:
        endpoint.close()


def test_redacted_copy_exports_to_the_pacs(services, redacted, orthanc):
    from tests.export_tools import AET

    consent_id, _original, copy = redacted
    orthanc.clear()
    services.site = config.from_dict(
        {
            "vault": {"path": services.site.vault.path},
            "pacs": {"ae_title": AET, "host": "127.0.0.1", "port": orthanc.dicom_port},
        }
    )
    services.export(consent_id, "dicom", "record", {}, item_ids=[copy])
    assert len(orthanc.get("/instances")) == 1


def test_redaction_and_its_audit_row_are_one_step(services, redacted, monkeypatch):
    """The copy must never be visible without its "redact" audit row (the flaky UI test):
    even if appending a separate audit row fails, no unaudited copy is left behind."""
    _consent_id, original, copy = redacted
    rows = [r for r in services.vault.audit_rows() if r.event == "redact"]
    assert [r.subject for r in rows] == [copy]

    def broken_audit(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(services.vault, "audit", broken_audit)
    before = {i.item_id for i in services.vault.list_items(state=ItemState.ACTIVE)}
    try:
        services.redact(original, [Redaction(0, 0, 30, 30, "blur")], replace=False)
    except OSError:
        pass
    new = {i.item_id for i in services.vault.list_items(state=ItemState.ACTIVE)} - before
    audited = {r.subject for r in services.vault.audit_rows() if r.event == "redact"}
    assert new <= audited


def test_pdf_shows_the_displayed_size_of_a_rotated_photo(services, redacted, tmp_path):
    """The PDF states the size people see (upright), not the stored sideways pixel size."""
    consent_id, original, _copy = redacted
    out = tmp_path / "rotated.pdf"
    services.export(consent_id, "pdf", "record", {"out": out}, item_ids=[original])
    meta = services.metadata(original)
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=False
    ).stdout
    if not text:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    upright = f"{meta['height']} × {meta['width']}"
    assert upright in text or upright.replace(" × ", " x ") in text, text
