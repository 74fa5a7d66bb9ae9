"""Issue 16: the order/encounter context and the "identity not checked" flag — kept in the
encrypted consent record, and carried into DICOM (checked by dciodvfy and a real Orthanc),
FHIR (Medplum's engine) and the PDF (pdftotext)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import urllib.request

import pytest

from picsafe_desktop import consent as rules
from picsafe_desktop.consent_order import NOT_CHECKED_TEXT
from picsafe_desktop.export import dicom, fhir, pdf
from picsafe_desktop.model import IdentityCheck, OrderContext, Use
from tests import export_data as d
from tests.export_tools import AET, MedplumEngine, require

MRN_SYSTEM = "urn:oid:1.2.3.4.5.99"
ORDER = OrderContext(
    accession_number="ACC-2026-0001", accession_issuer="WARD-RIS", requested_procedure_id="RP1",
    requested_procedure="Wound photography", procedure_code="WOUNDPHOTO^99WARD^Wound photography",
    referring_physician="House, Gregory", admission_id="ADM-991", encounter_ref="Encounter/enc-1",
    study_uid="1.2.826.0.1.3680043.8.498.4711",
)  # fmt: skip


def _batch(**kw):
    kw.setdefault("order", ORDER)
    kw.setdefault("identity_check", IdentityCheck.NOT_CHECKED)
    return d.batch(photos=[d.photo("a", d.synthetic_jpeg())], **kw)


def test_consent_json_keeps_order_and_identity_check_through_the_stored_form():
    fields = {
        "patient": {"mrn": "MRN-4711", "name": "Jane Doe", "birth_date": "1980-02-14"},
        "capacity": "self", "uses": ["record"], "method": "verbal",
        "obtained_by": {"name": "Dr Jo Smith"}, "witness": {"name": "Nurse W"},
        "identity_check": "not_checked",
        "order": {"accession_number": "ACC-2026-0001", "encounter_ref": "Encounter/enc-1"},
    }  # fmt: skip
    record = rules.load_consent_json(fields)
    assert record.identity_check is IdentityCheck.NOT_CHECKED
    assert record.order.accession_number == "ACC-2026-0001"
    again = rules.record_from_dict(json.loads(json.dumps(rules.record_to_dict(record))))
    assert again.order == record.order and again.identity_check is IdentityCheck.NOT_CHECKED
    old = rules.record_to_dict(record)
    del old["order"], old["identity_check"]  # a record stored before issue 16
    assert rules.record_from_dict(old).order is None
    with pytest.raises(rules.ConsentError, match="Identity check"):
        rules.load_consent_json(dict(fields, identity_check="maybe"))
    with pytest.raises(rules.ConsentError, match="order"):
        rules.load_consent_json(dict(fields, order={"accession": "x"}))
    with pytest.raises(rules.ConsentError, match="not a DICOM UID"):
        rules.load_consent_json(dict(fields, order={"study_uid": "1.02.x"}))


def test_dicom_objects_carry_the_order_and_the_flag_and_pass_dciodvfy(tmp_path):
    (ds,) = dicom.build_datasets(_batch(), institution="St Example")
    assert ds.AccessionNumber == "ACC-2026-0001"
    assert ds.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "WARD-RIS"
    assert str(ds.ReferringPhysicianName) == "House^Gregory"
    assert ds.AdmissionID == "ADM-991"
    (request,) = ds.RequestAttributesSequence
    assert request.RequestedProcedureDescription == "Wound photography"
    assert request.RequestedProcedureCodeSequence[0].CodeValue == "WOUNDPHOTO"
    assert ds.PatientComments == NOT_CHECKED_TEXT
    assert ds.StudyInstanceUID == "1.2.826.0.1.3680043.8.498.4711"  # filed into the ordered study
    path = tmp_path / "order.dcm"
    path.write_bytes(dicom.to_bytes(ds))
    report = subprocess.run([require("dciodvfy"), str(path)], capture_output=True, text=True)
    errors = [ln for ln in (report.stdout + report.stderr).splitlines() if ln.startswith("Error")]
    assert errors == []


def test_teaching_copies_carry_no_order_nor_flag():
    batch = _batch(uses=(Use.RECORD, Use.TEACHING), use=Use.TEACHING)
    (ds,) = dicom.build_datasets(batch)
    assert ds.get("AccessionNumber", "") == "" and "RequestAttributesSequence" not in ds
    assert "AdmissionID" not in ds and "PatientComments" not in ds
    assert ds.StudyInstanceUID != ORDER.study_uid


def test_orthanc_stores_the_order_context(hospital_orthanc):
    hospital_orthanc.clear()
    target = dicom.PacsTarget(AET, "127.0.0.1", hospital_orthanc.dicom_port, timeout=20)
    dicom.send(_batch(), target)
    (instance,) = hospital_orthanc.get("/instances")
    tags = hospital_orthanc.get(f"/instances/{instance}/simplified-tags")
    assert tags["AccessionNumber"] == "ACC-2026-0001"
    assert tags["AdmissionID"] == "ADM-991"
    assert tags["RequestAttributesSequence"][0]["RequestedProcedureDescription"] == (
        "Wound photography"
    )
    assert tags["PatientComments"] == NOT_CHECKED_TEXT
    assert tags["StudyInstanceUID"] == ORDER.study_uid


def test_pdf_says_identity_not_checked_on_every_page_and_lists_the_order(tmp_path):
    batch = _batch()
    assert pdf.patient_header(batch).endswith("IDENTITY NOT CHECKED")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.render_report(batch))
    text = subprocess.run([require("pdftotext"), "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "NOT CHECKED against the hospital record" in text
    assert "ACC-2026-0001" in text and "Wound photography" in text
    assert text.count("IDENTITY NOT CHECKED") >= 2  # the header of each page
    checked = _batch(identity_check=IdentityCheck.CONFIRMED)
    assert "NOT CHECKED" not in pdf.patient_header(checked)


@pytest.fixture
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def test_fhir_media_points_at_the_encounter_and_the_order(engine):
    request = urllib.request.Request(
        f"{engine.base_url}/Encounter", method="POST",
        headers={"Content-Type": "application/fhir+json"},
        data=json.dumps({"resourceType": "Encounter", "status": "in-progress", "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}}).encode(),
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - loopback
        encounter = json.loads(r.read())
    order = dataclasses.replace(ORDER, encounter_ref=f"Encounter/{encounter['id']}")
    batch = _batch(order=order)
    bundle = fhir.build_bundle(batch, mrn_system=MRN_SYSTEM)
    (media,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    assert media["encounter"] == {"reference": f"Encounter/{encounter['id']}"}
    assert media["basedOn"][0]["identifier"]["value"] == "ACC-2026-0001"
    assert {"text": NOT_CHECKED_TEXT} in media["note"]
    issues = engine.validate([media])[0]
    assert [i for i in issues if i["severity"] in ("error", "fatal")] == []
    target = fhir.FhirTarget(engine.base_url, token="t", retries=0, timeout=60)
    fhir.send(batch, target, mrn_system=MRN_SYSTEM)
    (stored,) = engine.search(f"Media?encounter=Encounter/{encounter['id']}")
    assert stored["basedOn"][0]["identifier"]["value"] == "ACC-2026-0001"
