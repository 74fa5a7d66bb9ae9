"""FHIR export judged by a real FHIR engine: Medplum's fhir-router with validateResource
against the R4 definitions (tests/fhir_engine), on loopback."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import time

import pytest

from picsafe_desktop.export import fhir
from picsafe_desktop.model import Use
from tests import export_data as d
from tests.export_tools import MedplumEngine

MRN_SYSTEM = "urn:oid:1.2.826.0.1.999.1"
ID_SYSTEM = "urn:oid:1.2.826.0.1.999.2"

pytestmark = pytest.mark.corpus


@pytest.fixture
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def _target(engine):
    return fhir.FhirTarget(engine.base_url, token="engine-token", retries=0, timeout=60)


def _send(engine, batch):
    return fhir.send(batch, _target(engine), mrn_system=MRN_SYSTEM, id_system=ID_SYSTEM)


def _again(batch):
    """The same photos exported again later: a new report id and export time."""
    return dataclasses.replace(
        batch, report_id="PSR-TEST000002", created_at=dt.datetime.now(dt.UTC)
    )


def test_every_resource_of_the_record_bundle_validates_in_medplum(engine):
    bundle = fhir.build_bundle(d.mixed_batch(), mrn_system=MRN_SYSTEM, id_system=ID_SYSTEM)
    resources = [e["resource"] for e in bundle["entry"]]
    # Binary bytes go to the server on their own (native content type), not as JSON strings
    shaped = [{k: v for k, v in r.items() if k != "data"} for r in resources]
    # errors only: its warnings are about bundle-internal urn:uuid references, which the
    # engine resolves when it stores the transaction (and then validates again, see below)
    issues = [
        [i for i in found if i["severity"] in ("error", "fatal")]
        for found in engine.validate(shaped)
    ]
    assert all(found == [] for found in issues), [
        (r["resourceType"], i) for r, i in zip(resources, issues, strict=True) if i
    ]
    for resource in resources:  # was: up to 11 MB of base64 inline in one resource
        if resource["resourceType"] != "Binary":
            assert len(json.dumps(resource)) < 64 * 1024, resource["resourceType"]
    media = [r for r in resources if r["resourceType"] == "Media"]
    assert {m["bodySite"]["coding"][0]["code"] for m in media} == {"14975008:272741003=7771000"}
    assert media[0]["bodySite"]["coding"][0]["system"] == "http://snomed.info/sct"


def test_record_bundle_is_accepted_and_a_resend_creates_nothing(engine):
    batch = d.mixed_batch()
    first = _send(engine, batch)
    # 5 photo Binaries + consent and report PDFs, Patient, Consent, 5 Media, DocumentReference
    assert (first.created, first.present) == (7 + 1 + 1 + 5 + 1, 0)
    log_before = engine.log()
    second = _send(engine, _again(batch))
    assert (second.created, second.present) == (0, 15)
    new = engine.log()[len(log_before) :]
    assert [e for e in new if e["method"] == "PUT"] == []  # no Binary stored twice
    (patient,) = engine.search(f"Patient?identifier={MRN_SYSTEM}|MRN-4401927")
    media = engine.search(f"Media?subject=Patient/{patient['id']}")
    assert sorted(m["identifier"][0]["value"] for m in media) == sorted(d.MIXED)
    assert len(engine.search("DocumentReference")) == 1
    assert len(engine.search("Consent")) == 1
    for m in media:  # each attachment points at a Binary holding exactly the photo
        photo = next(p for p in batch.photos if p.item_id == m["identifier"][0]["value"])
        content_type, data = engine.raw(m["content"]["url"])
        assert content_type.startswith("image/jpeg") and data == photo.jpeg
        assert "data" not in m["content"] and m["content"]["size"] == len(photo.jpeg)


def test_teaching_copy_shares_nothing_with_the_record(engine):
    record = d.mixed_batch()
    _send(engine, record)
    teaching = d.mixed_batch(Use.TEACHING)
    result = _send(engine, teaching)
    assert result.present == 0  # nothing of the teaching copy resolved to a record resource
    (patient,) = engine.search(f"Patient?identifier={MRN_SYSTEM}|MRN-4401927")
    media = engine.search(f"Media?subject=Patient/{patient['id']}")
    assert sorted(m["identifier"][0]["value"] for m in media) == sorted(d.MIXED)
    patients = engine.search("Patient")
    assert len(patients) == 2
    (pseudo,) = [p for p in patients if p["id"] != patient["id"]]
    assert pseudo["identifier"][0]["value"].startswith("ANON-") and "name" not in pseudo
    consents = engine.search("Consent")
    assert len(consents) == 2
    values = [c["identifier"][0]["value"] for c in consents]
    assert len(set(values)) == 2 and "cons-0001" in values
    teaching_media = engine.search(f"Media?subject=Patient/{pseudo['id']}")
    assert len(teaching_media) == 5
    assert not {m["identifier"][0]["value"] for m in teaching_media} & set(d.MIXED)
    assert all("createdDateTime" not in m and "operator" not in m for m in teaching_media)
    urls = {m["content"]["url"] for m in media}
    assert urls.isdisjoint(m["content"]["url"] for m in teaching_media)


def test_inline_megabytes_are_refused_and_named_as_validation(engine):
    """What the old exporter sent (11 MB base64 inside Media): the engine's validator refuses
    it, and the message says so instead of 'could not read the request'."""
    bundle = fhir.build_bundle(d.mixed_batch(), mrn_system=MRN_SYSTEM, id_system=ID_SYSTEM)
    entries = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Binary"]
    media = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Media")
    big = max(d.mixed_batch().photos, key=lambda p: len(p.jpeg)).jpeg
    assert len(big) > 1024 * 1024
    media["content"] = {"contentType": "image/jpeg", "data": base64.b64encode(big).decode()}
    with pytest.raises(fhir.FhirError) as err:
        fhir.post_bundle(dict(bundle, entry=entries), _target(engine))
    message = str(err.value)
    assert "HTTP 400" in message and "FHIR validation refused the data" in message
    assert "String cannot be larger than 1 MB" in message
    assert "could not read the request" not in message


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Adelaide"])
def test_capture_times_keep_their_own_offset_under_any_pc_time_zone(monkeypatch, tz):
    """Was: a time without an offset went out in the PC's zone (+00:00, -05:00, +09:00...)."""
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        bundle = fhir.build_bundle(d.mixed_batch(), mrn_system=MRN_SYSTEM)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    media = {
        e["resource"]["identifier"][0]["value"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Media"
    }
    assert media["heic-offset"]["createdDateTime"] == "2021-04-11T15:47:53-05:00"
    assert media["jpeg-naive"]["createdDateTime"] == "2011-01-13"  # no zone known: the date
    assert "2011-01-13 14:33:39" in media["jpeg-naive"]["note"][1]["text"]
    assert "createdDateTime" not in media["png"]  # a screenshot records no capture time


def test_coded_body_site_from_the_ward_keeps_its_side():
    coded = {"code": "40983000", "display": "Upper arm", "laterality": "right", "text": ""}
    photo = dataclasses.replace(d.photo("a", d.synthetic_jpeg()), site=coded)
    site = fhir.body_site(photo, "left forearm")
    assert site == {
        "text": "right upper arm",
        "coding": [
            {
                "system": "http://snomed.info/sct",
                "code": "40983000:272741003=24028007",
                "display": "Right upper arm",
            }
        ],
    }
    unsided = fhir.body_site(dataclasses.replace(photo, site=None, body_site="chest"), "")
    assert unsided["coding"][0]["code"] == "51185008"
