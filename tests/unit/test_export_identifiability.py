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

BOTH = (Use.RECORD, Use.TEACHING, Use.PUBLICATION)


def batch_of(*photos, use=Use.TEACHING, **consent_kw):
    return d.batch(photos=list(photos), use=use, uses=consent_kw.pop("uses", BOTH), **consent_kw)


def test_photo_with_unknown_identifiability_cannot_leave_as_a_teaching_copy():
    unknown = d.photo("a", d.synthetic_jpeg(), identifiability=Identifiability.UNKNOWN)
    with pytest.raises(ExportRefused, match="identifiable or not identifiable"):
        gate(batch_of(unknown))
    assert gate(batch_of(unknown, use=Use.RECORD)).photos == (unknown,)  # record is fine


def test_face_photo_marked_not_identifiable_stops_until_redacted_or_confirmed():
    """The gate's rule, with a stand-in detector that always sees a face (the real detector
    is exercised on a real portrait below)."""
    face = d.synthetic_jpeg()
    always = lambda jpeg: [(10, 10, 50, 50)]  # noqa: E731
    with pytest.raises(ExportRefused, match="face was detected"):
        gate(batch_of(d.photo("a", face, confirmed=False)), find_faces=always)
    # a clinician looked and confirmed it (audited in services), or it is a redacted version
    assert gate(batch_of(d.photo("a", face, confirmed=True)), find_faces=always).deidentified
    redacted = dataclasses.replace(d.photo("a", face, confirmed=False), redacted=True)
    assert gate(batch_of(redacted), find_faces=always).deidentified
    # the real detector finds no face in the synthetic photo: the answer stands
    assert gate(batch_of(d.photo("b", face, confirmed=False))).deidentified


def test_face_check_fails_closed_when_no_detector_can_run():
    from picsafe_desktop.deid.errors import FaceDetectionUnavailable

    def broken(jpeg):
        raise FaceDetectionUnavailable("no detector")

    with pytest.raises(ExportRefused, match="could not be checked for faces"):
        gate(batch_of(d.photo("a", d.synthetic_jpeg(), confirmed=False)), find_faces=broken)


def test_identifiable_photo_goes_only_to_publication_agreed_as_identifiable():
    face = d.photo("a", d.synthetic_jpeg(), identifiability=Identifiability.IDENTIFIABLE)
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


PERSON = "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg"


@pytest.mark.corpus
@pytest.mark.parametrize("turned", [0, 90])
def test_real_face_marked_not_identifiable_is_stopped_even_lying_down(turned):
    """The corpus portrait, as taken and turned on its side (a patient lying down)."""
    from picsafe_desktop.deid import scrub

    data = d.scrubbed_corpus_jpeg(PERSON)
    if data is None:
        pytest.skip("photo corpus not found")
    if turned:
        out = io.BytesIO()
        Image.open(io.BytesIO(data)).rotate(turned, expand=True).save(out, "JPEG", quality=90)
        data = scrub(out.getvalue()).data
    with pytest.raises(ExportRefused, match="face was detected"):
        gate(batch_of(d.photo("a", data, confirmed=False)))


def test_face_detector_ships_its_model_and_needs_no_download():
    from picsafe_desktop.deid import faces

    detector = faces._mtcnn()  # loads the ONNX models from inside the installed package
    assert detector is not None
    assert faces.find_faces(d.synthetic_jpeg()) == []
