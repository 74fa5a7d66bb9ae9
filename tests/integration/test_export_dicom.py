"""DICOM export against a real Orthanc on loopback, and dciodvfy on the objects we make."""

from __future__ import annotations

import dataclasses
import io
import subprocess

import pydicom
import pytest
from PIL import Image
from pydicom.encaps import generate_frames

from picsafe_desktop.export import dicom
from picsafe_desktop.export.types import ExportError, ExportRefused
from picsafe_desktop.model import Use
from tests import export_data as d
from tests.export_tools import AET, free_port, require


@pytest.fixture
def pacs(orthanc):
    orthanc.clear()
    return dicom.PacsTarget(AET, "127.0.0.1", orthanc.dicom_port, timeout=20)


def _photos():
    """Scrubbed corpus JPEGs when available (one odd, one even length), else synthetic ones."""
    photos = []
    for n, name in enumerate(d.CORPUS_PHOTOS):
        data = d.scrubbed_corpus_jpeg(name)
        if data is not None:
            photos.append(d.photo(f"corpus-{n}", data, body_site="right hand"))
    if not photos:
        photos = [
            d.photo("syn-0", d.synthetic_jpeg()),
            d.photo("syn-1", d.synthetic_jpeg(300, 301)),
        ]
    return photos


def test_c_echo_succeeds_and_failures_are_explained(orthanc, pacs):
    dicom.echo(pacs)
    wrong_ae = dicom.PacsTarget("NOT_ORTHANC", "127.0.0.1", orthanc.dicom_port, timeout=10)
    with pytest.raises(ExportError, match="rejected|no DICOM connection"):
        dicom.echo(wrong_ae)
    closed = dicom.PacsTarget(AET, "127.0.0.1", free_port(), timeout=5)
    with pytest.raises(ExportError, match="no DICOM connection|cannot reach"):
        dicom.echo(closed)


def test_photos_arrive_with_the_right_tags_and_identical_pixel_data(orthanc, pacs):
    batch = d.batch(photos=_photos())
    result = dicom.send(batch, pacs)
    assert len(result.sent) == len(batch.photos)

    studies = orthanc.get("/studies?expand")
    assert len(studies) == 1
    study = studies[0]
    assert study["MainDicomTags"]["StudyInstanceUID"] == str(dicom.study_uid(batch.batch_id))
    assert study["MainDicomTags"]["StudyDescription"] == "Clinical photography"
    assert study["PatientMainDicomTags"]["PatientID"] == "MRN-4401927"
    assert study["PatientMainDicomTags"]["PatientName"] == "Ångström-Test^Zoë"
    assert study["PatientMainDicomTags"]["PatientBirthDate"] == "19610314"

    by_uid = {
        orthanc.get(f"/instances/{i}/simplified-tags")["SOPInstanceUID"]: i
        for i in orthanc.get("/instances")
    }
    for photo in batch.photos:
        orthanc_id = by_uid[str(dicom.instance_uid(batch.batch_id, photo.item_id))]
        tags = orthanc.get(f"/instances/{orthanc_id}/simplified-tags")
        assert tags["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.77.1.4"
        assert tags["Modality"] == "XC"
        assert tags["RecognizableVisualFeatures"] == "NO"
        assert tags["ImageLaterality"] == "R"
        assert tags["AnatomicRegionSequence"][0]["CodeValue"] == "85562004"
        stored = pydicom.dcmread(
            __import__("io").BytesIO(orthanc.get(f"/instances/{orthanc_id}/file"))
        )
        assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
        frames = list(generate_frames(stored.PixelData, number_of_frames=1))
        # DICOM pads an odd-length fragment with one zero byte; the JPEG itself is untouched
        padded = photo.jpeg + (b"\x00" if len(photo.jpeg) % 2 else b"")
        assert frames[0] == padded
        raw = orthanc.get(f"/instances/{orthanc_id}/frames/0/raw")
        assert raw in (photo.jpeg, padded)
        assert raw[: len(photo.jpeg)] == photo.jpeg


def test_resending_a_batch_does_not_duplicate_the_study(orthanc, pacs):
    batch = d.batch(photos=_photos())
    dicom.send(batch, pacs)
    before = sorted(orthanc.get("/instances"))
    again = d.batch(photos=_photos())  # a new export of the same batch (new report id)
    dicom.send(again, pacs)
    assert sorted(orthanc.get("/instances")) == before
    assert len(orthanc.get("/studies")) == 1


def test_teaching_export_reaches_the_pacs_without_identifiers(orthanc, pacs):
    batch = d.batch(photos=_photos()[:1], use=Use.TEACHING, uses=(Use.RECORD, Use.TEACHING))
    dicom.send(batch, pacs)
    (study,) = orthanc.get("/studies?expand")
    patient = study["PatientMainDicomTags"]
    assert patient["PatientID"].startswith("ANON-")
    assert patient.get("PatientName", "") == "" and patient.get("PatientBirthDate", "") == ""
    (instance,) = orthanc.get("/instances")
    assert orthanc.get(f"/instances/{instance}/simplified-tags")["PatientIdentityRemoved"] == "YES"


def test_refused_consent_sends_nothing(orthanc, pacs):
    batch = d.batch(use=Use.PUBLICATION, uses=(Use.RECORD, Use.PUBLICATION), identifiable=True)
    with pytest.raises(ExportRefused):
        dicom.send(batch, pacs)
    assert orthanc.get("/instances") == []


@pytest.mark.parametrize(
    "variant",
    ["record", "teaching", "unmapped-site", "no-site", "grey", "corpus", "turned"],
)
def test_dciodvfy_finds_no_errors(tmp_path, variant):
    tool = require("dciodvfy")
    photos = [d.photo("a", d.synthetic_jpeg())]
    use, uses = Use.RECORD, (Use.RECORD,)
    if variant == "teaching":
        use, uses = Use.TEACHING, (Use.RECORD, Use.TEACHING)
    elif variant == "unmapped-site":
        photos = [d.photo("a", d.synthetic_jpeg(), body_site="behind the pinna")]
    elif variant == "no-site":
        photos = [d.photo("a", d.synthetic_jpeg(), body_site="")]
    elif variant == "grey":
        out = io.BytesIO()
        Image.new("L", (200, 150), 128).save(out, "JPEG")
        photos = [d.photo("a", out.getvalue())]
    elif variant == "turned":
        photos = [d.photo("a", d.synthetic_jpeg(orientation=6))]
    elif variant == "corpus":
        photos = _photos()
    batch = d.batch(photos=photos, use=use, uses=uses)
    if variant == "no-site":
        batch = dataclasses.replace(batch, consent=dataclasses.replace(batch.consent, body_site=""))
    for n, ds in enumerate(dicom.build_datasets(batch, institution="St Example")):
        path = tmp_path / f"{variant}-{n}.dcm"
        path.write_bytes(dicom.to_bytes(ds))
        report = subprocess.run([tool, str(path)], capture_output=True, text=True)
        lines = (report.stdout + report.stderr).splitlines()
        assert "VLPhotographicImage" in lines
        errors = [ln for ln in lines if ln.startswith("Error")]
        assert errors == [], errors
