"""Exporter building blocks: JPEG headers, body-site codes, UIDs, FHIR bundle and outcomes."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import pyrage
import pytest
from fhir.resources.R4B.bundle import Bundle
from PIL import Image

from picsafe_desktop.export import anatomy, dicom, fhir, jpeg, package
from picsafe_desktop.export.types import ExportError
from picsafe_desktop.model import Use
from tests import export_data as d


def test_jpeg_header_gives_geometry_and_orientation():
    info = jpeg.read_info(d.synthetic_jpeg(320, 200, orientation=6))
    assert (info.width, info.height, info.components) == (320, 200, 3)
    assert info.baseline and info.chroma_subsampled and info.orientation == 6


def test_progressive_jpeg_is_not_baseline_and_dicom_refuses_it():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "JPEG", progressive=True)
    assert not jpeg.read_info(out.getvalue()).baseline
    batch = d.batch(photos=[d.photo("p", out.getvalue())])
    with pytest.raises(ExportError, match="not a baseline"):
        dicom.build_datasets(batch)


def test_non_jpeg_is_refused():
    with pytest.raises(ExportError, match="not a JPEG"):
        jpeg.read_info(b"\x89PNG\r\n\x1a\n....")


@pytest.mark.parametrize(
    ("text", "code", "side"),
    [
        ("left forearm", "14975008", "L"),
        ("Right lower leg", "30021000", "R"),
        ("dorsum of hand", "85562004", None),
        ("both knees", "72696002", "B"),
        ("sacral pressure area", "54735007", None),
    ],
)
def test_body_sites_map_to_snomed(text, code, side):
    site = anatomy.lookup(text)
    assert site.coded and site.code == code
    assert (site.laterality[2] if site.laterality else None) == side


def test_unknown_body_site_keeps_its_text_under_a_local_code():
    site = anatomy.lookup("behind the pinna")
    assert not site.coded and site.scheme == anatomy.LOCAL_SCHEME
    assert site.meaning == "behind the pinna" and len(site.code) <= 16
    assert anatomy.lookup("   ") is None


def test_uids_are_stable_per_batch_and_valid():
    a, b = dicom.study_uid("batch-1"), dicom.study_uid("batch-1")
    assert a == b != dicom.study_uid("batch-2")
    assert dicom.instance_uid("batch-1", "x") != dicom.instance_uid("batch-1", "y")
    for uid in (a, dicom.series_uid("batch-1"), dicom.instance_uid("batch-1", "x")):
        assert uid.startswith("2.25.") and len(uid) <= 64 and uid.is_valid


def test_fhir_bundle_has_the_issue_shape_and_validates():
    batch = d.batch()
    bundle = fhir.build_bundle(batch, mrn_system="urn:oid:1.2.826.0.1.999")
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Consent", "Media", "Media", "DocumentReference"] + ["Binary"] * 4
    assert bundle["type"] == "transaction"
    patient, consent, media, _, doc = (e["resource"] for e in bundle["entry"][:5])
    binaries = {
        f"Binary/{e['resource']['id']}": base64.b64decode(e["resource"]["data"])
        for e in bundle["entry"][5:]
    }
    assert all(e["request"]["method"] == "PUT" for e in bundle["entry"][5:])
    assert patient["identifier"][0]["value"] == "MRN-4401927"
    assert bundle["entry"][0]["request"]["ifNoneExist"].startswith("identifier=urn%3Aoid")
    patient_ref = bundle["entry"][0]["fullUrl"]
    assert consent["patient"]["reference"] == patient_ref
    assert {p["code"] for p in consent["provision"]["purpose"]} == {"record"}
    assert consent["sourceAttachment"]["contentType"] == "application/pdf"
    photo = batch.photos[0]
    assert media["subject"]["reference"] == patient_ref
    assert media["content"]["size"] == len(photo.jpeg)
    assert "data" not in media["content"] and binaries[media["content"]["url"]] == photo.jpeg
    assert media["content"]["hash"] == base64.b64encode(hashlib.sha1(photo.jpeg).digest()).decode()
    assert media["bodySite"]["coding"][0]["code"] == "14975008:272741003=7771000"  # left
    assert media["operator"]["display"] == "Dr Priya Natarajan"
    assert media["createdDateTime"].startswith("2025-05-06T10:55")
    assert doc["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert binaries[doc["content"][0]["attachment"]["url"]].startswith(b"%PDF")


def test_teaching_bundle_carries_no_identifiers():
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    text = json.dumps(fhir.build_bundle(batch, mrn_system=""))
    for secret in ("MRN-4401927", "Zo\\u00eb", "Ångström", "1961", "Nurse Ada", "10:55"):
        assert secret not in text


def test_sending_a_record_bundle_needs_the_mrn_system():
    target = fhir.FhirTarget("https://fhir.example.org/r4", token="t")
    with pytest.raises(ExportError, match="MRN identifier system"):
        fhir.send(d.batch(), target, mrn_system="")
    # a file copy may carry the MRN without a system
    bundle = fhir.build_bundle(d.batch(), mrn_system="")
    assert bundle["entry"][0]["resource"]["identifier"][0] == {
        "use": "usual",
        "type": bundle["entry"][0]["resource"]["identifier"][0]["type"],
        "value": "MRN-4401927",
    }


def test_invalid_resource_is_caught_by_validation():
    bundle = fhir.build_bundle(d.batch(), mrn_system="urn:oid:1.2.3")
    bundle["entry"][2]["resource"]["createdDateTime"] = "yesterday"
    with pytest.raises(ExportError, match="Media resource is not valid FHIR: createdDateTime"):
        fhir.validate(bundle)


def test_operation_outcome_in_plain_words():
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "required", "expression": ["Patient.identifier"]},
            {"severity": "warning", "code": "processing", "diagnostics": "Unknown code 'xyz'."},
            {"severity": "error", "code": "invalid", "details": {"text": "Bad date"}},
        ],
    }
    assert fhir.outcome_text(outcome) == (
        "Error: a required element was missing (at Patient.identifier). "
        "Warning: Unknown code 'xyz'. Error: Bad date."
    )
    assert fhir.outcome_text({"resourceType": "Patient"}) == ""


def test_fhir_target_repr_hides_the_token():
    target = fhir.FhirTarget("https://fhir.example.org/r4", token="s3cret-token")
    assert "s3cret" not in repr(target) and "s3cret" not in target.describe()


@pytest.mark.parametrize("url", ["http://fhir.example.org/r4", "ftp://x/", "fhir.example.org"])
def test_plain_http_to_a_remote_host_is_refused(url):
    with pytest.raises(ExportError, match="https|http"):
        fhir.post_bundle({"entry": []}, fhir.FhirTarget(url, token="t"))


def test_package_passphrase_round_trip_with_pyrage():
    batch = d.batch()
    plain = package.build_zip(batch, mrn_system="urn:oid:1.2.3")
    sealed = package.encrypt(plain, passphrase="a long test passphrase")
    assert sealed.startswith(b"age-encryption.org/v1")
    assert pyrage.passphrase.decrypt(sealed, "a long test passphrase") == plain
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(sealed, "the wrong passphrase!")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"passphrase": "short"}, "at least 12"),
        ({}, "give a passphrase \\(not empty\\) or at least one recipient"),
        ({"passphrase": ""}, "not empty"),
        ({"passphrase": "a long test passphrase", "recipients": ["age1x"]}, "either"),
        ({"recipients": ["not a key"]}, "must be an age public key"),
        ({"recipients": ["age1notreallyakey"]}, "not valid"),
    ],
)
def test_package_encryption_settings_fail_closed(kwargs, message):
    with pytest.raises(ExportError, match=message):
        package.encrypt(b"data", **kwargs)
