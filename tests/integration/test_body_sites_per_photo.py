"""One consent, two photos of two body sites (a wound and a lesion): each photo keeps its own
coded site, and FHIR Media.bodySite and DICOM Anatomic Region carry it per photo (issue 12)."""

from __future__ import annotations

import json

import pytest

from picsafe_desktop import body_sites, config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests import export_data as d
from tests.ui.journey_photos import phone_photo
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring]

NURSE = Staff("Sam Okafor", "Staff nurse", "N4411")
WOUND = body_sites.from_region("lower_leg", "right")
LESION = body_sites.from_region("forearm", "left")


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
def consented(services, tmp_path):
    """(consent id, {item id: expected site}): the lesion photo has its own site, the wound
    photo takes the form's (the set's default)."""
    src = tmp_path / "phone"
    src.mkdir()
    (src / "IMG_0001.JPG").write_bytes(phone_photo("2025:05:06 10:01:00", "#c0504d", "wound"))
    (src / "IMG_0002.JPG").write_bytes(phone_photo("2025:05:06 10:02:00", "#4f81bd", "lesion"))
    services.import_paths([src])
    [batch] = services.waiting_batches()
    wound, lesion = (i.item_id for i in services.vault.list_items(batch_id=batch.batch_id))
    consent_id = services.record_consent(
        batch.batch_id, d.consent(), [wound, lesion], WOUND, sites={lesion: LESION}
    )
    return consent_id, {wound: WOUND, lesion: LESION}


def test_each_photo_keeps_its_own_site(services, consented):
    _consent_id, expected = consented
    for item_id, site in expected.items():
        assert services.metadata(item_id)["body_site"] == site


def test_a_site_for_a_photo_outside_the_consent_is_refused(services, tmp_path):
    src = tmp_path / "phone"
    src.mkdir()
    (src / "IMG_0001.JPG").write_bytes(phone_photo("2025:05:06 10:01:00", "#c0504d", "wound"))
    services.import_paths([src])
    [batch] = services.waiting_batches()
    with pytest.raises(ValueError, match="does not cover"):
        services.record_consent(batch.batch_id, d.consent(), None, WOUND, sites={"x": LESION})
    assert services.waiting_batches(), "nothing was recorded"


def test_fhir_media_body_site_per_photo(services, consented):
    from tests.export_tools import FhirEndpoint, transaction_response

    consent_id, expected = consented
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
        services.export(consent_id, "fhir", "record", {})
        bundle = json.loads(endpoint.requests[0]["body"])
    finally:
        endpoint.close()
    media = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    codes = sorted(m["bodySite"]["coding"][0]["code"] for m in media)
    assert codes == ["14975008:272741003=7771000", "30021000:272741003=24028007"]
    assert sorted(m["bodySite"]["text"] for m in media) == ["left forearm", "right lower leg"]


def test_dicom_anatomic_region_per_photo(services, consented, orthanc):
    from tests.export_tools import AET

    consent_id, _expected = consented
    orthanc.clear()
    services.site = config.from_dict(
        {
            "vault": {"path": services.site.vault.path},
            "pacs": {"ae_title": AET, "host": "127.0.0.1", "port": orthanc.dicom_port},
        }
    )
    services.export(consent_id, "dicom", "record", {})
    regions = []
    for instance in orthanc.get("/instances"):
        tags = orthanc.get(f"/instances/{instance}/tags?simplify")
        [region] = tags["AnatomicRegionSequence"]
        [side] = region["AnatomicRegionModifierSequence"]
        regions.append((region["CodeValue"], side["CodeMeaning"], tags.get("ImageLaterality")))
    assert sorted(regions) == [("14975008", "Left", "L"), ("30021000", "Right", "R")]
