"""Issue 15, finding 1 and 8 at the export gate: per-photo identifiability, the face stop,
identifiable publication, intimate images, and screened free text in de-identified copies."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import ExportRefused
from picsafe_desktop.model import Identifiability, IntimateDetails, Use
from tests import export_data as d
from tests.unit.test_deid_visual import drawn_face

BOTH = (Use.RECORD, Use.TEACHING, Use.PUBLICATION)


def face_jpeg() -> bytes:
    from picsafe_desktop.deid import scrub

    canvas = Image.new("RGB", (1200, 900), (200, 190, 180))
    canvas.paste(drawn_face(200).convert("RGB"), (300, 150))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return scrub(out.getvalue()).data


def batch_of(*photos, use=Use.TEACHING, **consent_kw):
    return d.batch(photos=list(photos), use=use, uses=consent_kw.pop("uses", BOTH), **consent_kw)


def test_photo_with_unknown_identifiability_cannot_leave_as_a_teaching_copy():
    unknown = d.photo("a", d.synthetic_jpeg(), identifiability=Identifiability.UNKNOWN)
    with pytest.raises(ExportRefused, match="identifiable or not identifiable"):
        gate(batch_of(unknown))
    assert gate(batch_of(unknown, use=Use.RECORD)).photos == (unknown,)  # record is fine


def test_face_photo_marked_not_identifiable_stops_until_redacted_or_confirmed():
    face = face_jpeg()
    answered = d.photo("a", face, confirmed=False)
    with pytest.raises(ExportRefused, match="face was detected"):
        gate(batch_of(answered))
    # a clinician looked and confirmed it (audited in services), or it is a redacted version
    assert gate(batch_of(d.photo("a", face, confirmed=True))).deidentified
    redacted = dataclasses.replace(d.photo("a", face, confirmed=False), redacted=True)
    assert gate(batch_of(redacted)).deidentified
    # no face found and no confirmation: the answer stands
    assert gate(batch_of(d.photo("b", d.synthetic_jpeg(), confirmed=False))).deidentified


def test_identifiable_photo_goes_only_to_publication_agreed_as_identifiable():
    face = d.photo("a", face_jpeg(), identifiability=Identifiability.IDENTIFIABLE)
    with pytest.raises(ExportRefused, match="teaching copies must not identify"):
        gate(batch_of(face))
    with pytest.raises(ExportRefused, match="identifiable publication"):
        gate(batch_of(face, use=Use.PUBLICATION))
    allowed = gate(batch_of(face, use=Use.PUBLICATION, identifiable_publication=True))
    assert allowed.deidentified and allowed.consent.patient.name == ""


def test_intimate_photo_is_record_only_unless_agreed():
    intimate = dataclasses.replace(d.photo("a", d.synthetic_jpeg()), intimate=True)
    with pytest.raises(ExportRefused, match="intimate"):
        gate(batch_of(intimate))
    assert gate(batch_of(intimate, use=Use.RECORD)).photos == (intimate,)


def test_deidentified_copy_has_no_unscreened_free_text():
    photo = d.photo("a", d.synthetic_jpeg(), body_site="left forearm, near Mrs Jones's tattoo")
    odd = d.photo("b", d.synthetic_jpeg(), body_site="lesion seen at St Mary's")
    clean = gate(batch_of(photo, odd))
    assert clean.consent.indication == ""
    assert [p.body_site for p in clean.photos] == ["left forearm", ""]
    assert clean.consent.body_site == "left forearm"


def test_consent_option_objects_are_stripped():
    intimate = IntimateDetails(preference="wanted", chaperone_name="Nurse Kay")
    clean = gate(batch_of(d.photo("a", d.synthetic_jpeg()), intimate=intimate))
    assert clean.consent.intimate is None
