"""The consent-use gate every export passes through."""

from __future__ import annotations

import sys

import pytest

from picsafe_desktop.export.consent_gate import check_allowed, gate, pseudonym
from picsafe_desktop.export.types import ExportError, ExportPhoto, ExportRefused
from picsafe_desktop.model import Use
from tests import export_data as d


def test_record_use_needs_only_a_consent_on_file():
    check_allowed(d.consent(uses=(Use.RECORD,)), Use.RECORD)
    with pytest.raises(ExportRefused, match="no consent"):
        check_allowed(None, Use.RECORD)


@pytest.mark.parametrize("use", [Use.TEACHING, Use.PUBLICATION])
def test_secondary_use_refused_when_not_consented(use):
    with pytest.raises(ExportRefused, match=f"does not cover {use.value}"):
        check_allowed(d.consent(uses=(Use.RECORD,)), use)


@pytest.mark.parametrize("use", [Use.TEACHING, Use.PUBLICATION])
def test_identifiable_photos_refused_for_secondary_use_even_with_consent(use):
    uses = (Use.RECORD, Use.TEACHING, Use.PUBLICATION)
    with pytest.raises(ExportRefused, match="identifiable"):
        gate(d.batch(use=use, uses=uses, identifiable=True))
    gate(d.batch(use=Use.RECORD, uses=uses, identifiable=True))  # the record copy is fine


def test_record_batch_passes_through_unchanged():
    batch = d.batch()
    assert gate(batch) is batch


def test_teaching_batch_loses_every_identifier():
    batch = d.batch(use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING), substitute=True)
    clean = gate(batch)
    assert clean.deidentified
    patient = clean.consent.patient
    assert patient.mrn == pseudonym(clean.copy_id) != batch.consent.patient.mrn
    # the pseudonym comes from a random copy id: not recomputable from what the record shows
    assert patient.mrn != pseudonym(batch.batch_id)
    assert gate(batch).consent.patient.mrn != patient.mrn and len(clean.copy_id) == 32
    assert patient.name == "" and patient.birth_date is None
    assert clean.consent.substitute is None
    assert clean.consent.signature_png is None
    assert clean.consent.witness_name == ""
    assert all(p.facts.capture_time is None for p in clean.photos)
    assert [p.jpeg for p in clean.photos] == [p.jpeg for p in batch.photos]
    assert gate(clean) is clean  # idempotent


def test_exporters_refuse_before_doing_anything():
    from picsafe_desktop.export import dicom, fhir, package, pdf

    batch = d.batch(use=Use.PUBLICATION, uses=(Use.RECORD,))
    for call in (
        lambda: pdf.render_report(batch),
        lambda: fhir.build_bundle(batch, mrn_system="urn:oid:1.2.3"),
        lambda: dicom.build_datasets(batch),
        lambda: package.build_zip(batch),
    ):
        with pytest.raises(ExportRefused):
            call()


def test_photo_hash_mismatch_is_caught():
    data = d.synthetic_jpeg()
    with pytest.raises(ExportError, match="do not match"):
        ExportPhoto("x", data, d.photo("x", data).facts, sha256="00" * 32)


def test_empty_batch_is_refused():
    with pytest.raises(ExportError, match="no photos"):
        d.batch(photos=[])


def test_missing_jpegtran_is_a_clear_message(monkeypatch):
    from picsafe_desktop.export import upright

    monkeypatch.setattr(upright.shutil, "which", lambda name: None)
    # the hint names the Debian package on Linux and the installer on Windows
    hint = "reinstall PicSafe Desktop" if sys.platform == "win32" else "libjpeg-turbo-progs"
    with pytest.raises(ExportError, match=hint):
        upright.make_upright(d.synthetic_jpeg(orientation=6), 6)
    data = d.synthetic_jpeg()
    assert upright.make_upright(data, 1).jpeg is data  # upright photos never need the tool
