"""Withdrawal and identifiable publication reach the record: FHIR Consent judged by Medplum's
FHIR engine (R4 definitions), DICOM by dciodvfy.

Before, every FHIR Consent said `"status": "active"` with the uses as purposes, whatever had
happened since, and nothing said whether publication could identify the patient; DICOM marked
every object of a batch recognizable when one photo was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess

import pytest

from picsafe_desktop.export import dicom, fhir
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import ExportRefused
from picsafe_desktop.model import Use, Withdrawal
from tests import export_data as d
from tests.export_tools import MedplumEngine, require

MRN_SYSTEM = "urn:oid:1.2.826.0.1.999.1"
WITHDRAWN_AT = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def _errors(engine, resource):
    (found,) = engine.validate([resource])
    return [i for i in found if i["severity"] in ("error", "fatal")]


def _withdrawn(scope, **kw):
    """What governance.withdraw stores: a linked record whose uses are what is left."""
    uses = (Use.RECORD,) if scope is Withdrawal.SECONDARY else ()
    return d.batch(
        uses=uses,
        withdrawn=scope,
        amends="cons-0000",
        obtained_at=WITHDRAWN_AT,
        **kw,
    )


def _consent(bundle):
    (consent,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent"
    ]
    return consent


def test_a_secondary_withdrawal_says_from_when_teaching_and_publication_ended(engine):
    batch = _withdrawn(Withdrawal.SECONDARY)
    consent = _consent(fhir.build_bundle(batch, mrn_system=MRN_SYSTEM))
    assert _errors(engine, consent) == []
    assert consent["status"] == "active"  # the clinical record use goes on
    assert [p["code"] for p in consent["provision"]["purpose"]] == ["record"]
    (ended,) = consent["provision"]["provision"]
    assert ended["type"] == "deny"
    assert ended["period"]["start"].startswith("2025-07-01T09:30")
    assert [p["code"] for p in ended["purpose"]] == ["teaching", "publication"]
    with pytest.raises(ExportRefused, match="withdrawn"):
        gate(dataclasses.replace(batch, use=Use.TEACHING))


def test_a_full_withdrawal_is_inactive_with_its_date_and_exports_are_refused(engine):
    batch = _withdrawn(Withdrawal.FULL)
    for use in Use:
        with pytest.raises(ExportRefused, match="withdrawn"):
            fhir.build_bundle(dataclasses.replace(batch, use=use), mrn_system=MRN_SYSTEM)
    blob = fhir._Blob("consent-pdf", b"%PDF-1.7 withdrawn", "application/pdf")
    systems = fhir.IdSystems(fhir.DEFAULT_ID_SYSTEM)
    consent = fhir._consent(batch, "Patient/example", blob, systems)
    consent["patient"] = {"reference": "Patient/example"}
    assert _errors(engine, consent) == []
    assert consent["status"] == "inactive"
    assert consent["provision"]["period"]["end"].startswith("2025-07-01T09:30")
    assert "purpose" not in consent["provision"]


@pytest.mark.parametrize("identifiable", [True, False])
def test_identifiable_publication_is_a_provision_of_its_own(engine, identifiable):
    batch = d.batch(
        uses=(Use.RECORD, Use.PUBLICATION),
        publication="Journal of Wound Care",
        identifiable_publication=identifiable,
    )
    consent = _consent(fhir.build_bundle(batch, mrn_system=MRN_SYSTEM))
    assert _errors(engine, consent) == []
    (nested,) = consent["provision"]["provision"]
    assert nested["type"] == ("permit" if identifiable else "deny")
    assert nested["purpose"][0]["code"] == fhir.IDENTIFIABLE_PUBLICATION


def test_dicom_recognizable_features_follow_each_photos_answer():
    from picsafe_desktop.model import Identifiability

    photos = [
        d.photo("a", d.synthetic_jpeg(), identifiability=Identifiability.IDENTIFIABLE),
        d.photo("b", d.synthetic_jpeg(), identifiability=Identifiability.NOT_IDENTIFIABLE),
    ]
    got = [ds.RecognizableVisualFeatures for ds in dicom.build_datasets(d.batch(photos=photos))]
    assert got == ["YES", "NO"]  # was YES, YES: the batch's summary on every object


def test_dicom_after_a_secondary_withdrawal_is_record_only_and_valid(tmp_path):
    tool = require("dciodvfy")
    batch = _withdrawn(Withdrawal.SECONDARY)
    with pytest.raises(ExportRefused, match="withdrawn"):
        dicom.build_datasets(dataclasses.replace(batch, use=Use.TEACHING))
    for n, ds in enumerate(dicom.build_datasets(batch, institution="St Example")):
        path = tmp_path / f"withdrawn-{n}.dcm"
        path.write_bytes(dicom.to_bytes(ds))
        report = subprocess.run([tool, str(path)], capture_output=True, text=True)
        lines = (report.stdout + report.stderr).splitlines()
        assert "VLPhotographicImage" in lines
        assert [ln for ln in lines if ln.startswith("Error")] == []
