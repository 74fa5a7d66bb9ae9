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


# -- issue 14: a mixed batch judged by dciodvfy, dcentvfy, dcmj2pnm and Orthanc -----------------


def _pnm_grey(tool: str, path, tmp_path) -> Image.Image:
    """The picture as DCMTK's dcmj2pnm decodes it (an independent JPEG/DICOM decoder)."""
    out = tmp_path / (path.stem + ".png")
    subprocess.run([tool, "+on", str(path), str(out)], check=True, capture_output=True)
    with Image.open(out) as img:
        return img.convert("L")


def _upright_grey(data: bytes) -> Image.Image:
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as img:
        return ImageOps.exif_transpose(img).convert("L")


def _difference(a: Image.Image, b: Image.Image) -> float:
    from PIL import ImageChops, ImageStat

    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def _write(datasets, folder, prefix):
    folder.mkdir(exist_ok=True)
    paths = []
    for n, ds in enumerate(datasets, start=1):
        path = folder / f"{prefix}-{n}.dcm"
        path.write_bytes(dicom.to_bytes(ds))
        paths.append(path)
    return paths


@pytest.mark.corpus
def test_mixed_batch_exports_valid_and_upright(tmp_path):
    """Was: TypeError comparing offset-naive and offset-aware times; sideways pixels."""
    dciodvfy, dcmj2pnm = require("dciodvfy"), require("dcmj2pnm")
    batch = d.mixed_batch()
    datasets = dicom.build_datasets(batch, institution="St Example")
    paths = _write(datasets, tmp_path / "record", "record")
    for path, photo in zip(paths, batch.photos, strict=True):
        report = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
        errors = [ln for ln in (report.stdout + report.stderr).splitlines() if "Error" in ln]
        assert errors == [], (photo.item_id, errors)
        shown = _pnm_grey(dcmj2pnm, path, tmp_path)
        expected = _upright_grey(photo.jpeg)
        assert shown.size == expected.size, photo.item_id
        assert _difference(shown, expected) < 3.0, photo.item_id
        if photo.item_id.startswith("jpeg-orient"):  # stored turned: DICOM shows it upright
            with Image.open(io.BytesIO(photo.jpeg)) as stored:
                sideways = stored.convert("L")
            assert sideways.size != shown.size or _difference(shown, sideways) > 10
        else:  # nothing to turn: the vault's bytes, bit-exact
            frame = next(generate_frames(pydicom.dcmread(path).PixelData, number_of_frames=1))
            assert frame[: len(photo.jpeg)] == photo.jpeg
    by_key = {p.item_id: ds for p, ds in zip(batch.photos, datasets, strict=True)}
    heic = by_key["heic-offset"]
    assert heic.AcquisitionDateTime == "20210411154753-0500"  # its own offset, not the PC's
    assert heic.ICCProfile[36:40] == b"acsp"  # the embedded Display P3 profile travels along
    assert by_key["jpeg-naive"].AcquisitionDateTime == "20110113143339"  # no zone: none given
    assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3, 4, 5]
    assert all(ds.LossyImageCompression == "01" and float(ds.LossyImageCompressionRatio) > 1
               for ds in datasets)  # fmt: skip


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Adelaide"])
def test_capture_times_do_not_depend_on_the_pcs_time_zone(monkeypatch, tz):
    import time

    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        naive = dataclasses.replace(
            d.photo("n", d.synthetic_jpeg()),
            facts=dataclasses.replace(
                d.photo("n", d.synthetic_jpeg()).facts,
                capture_time=__import__("datetime").datetime(2024, 2, 1, 9, 30),
            ),
        )
        ds = dicom.build_datasets(d.batch(photos=[naive]))[0]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert (ds.ContentDate, ds.ContentTime, ds.AcquisitionDateTime) == (
        "20240201", "093000", "20240201093000"
    )  # fmt: skip
    assert (ds.StudyDate, ds.StudyTime) == ("20240201", "093000")


def test_partial_edge_blocks_are_trimmed_and_said(tmp_path):
    """300 x 301 with 4:2:0 chroma is not a whole number of MCUs: -perfect refuses, -trim."""
    photo = d.photo("odd", d.synthetic_jpeg(300, 301, orientation=6))
    (ds,) = dicom.build_datasets(d.batch(photos=[photo]))
    # the stored picture's partial bottom MCU row (rows 288-300) would become the left edge
    assert (ds.Rows, ds.Columns) == (300, 288)
    assert "trimmed" in ds.ImageComments
    dcmj2pnm = require("dcmj2pnm")
    (path,) = _write([ds], tmp_path, "odd")
    shown = _pnm_grey(dcmj2pnm, path, tmp_path)
    expected = _upright_grey(photo.jpeg).crop((13, 0, 301, 300))
    assert shown.size == expected.size and _difference(shown, expected) < 3.0


def test_operator_is_a_proper_person_name():
    assert dicom._person_name("Dr Jo Smith") == "Smith^Jo^^Dr"
    assert dicom._person_name("Prof. Ann Marie Lee") == "Lee^Ann Marie^^Prof."
    assert dicom._person_name("Smith, Jo") == "Smith^Jo"
    assert dicom._person_name("Nurse Ada Witness") == "Witness^Ada^^Nurse"
    assert dicom._person_name("Cher") == "Cher"
    (ds,) = dicom.build_datasets(d.batch(photos=[d.photo("a", d.synthetic_jpeg())]))
    assert ds.OperatorsName == "Natarajan^Priya^^Dr"


@pytest.mark.corpus
def test_teaching_copies_are_new_objects(tmp_path, orthanc, pacs):
    """Was: teaching objects reused the record's UIDs, operator, institution and Study ID."""
    dcentvfy = require("dcentvfy")
    record = dicom.build_datasets(d.mixed_batch(), institution="St Example")
    teaching = dicom.build_datasets(d.mixed_batch(Use.TEACHING), institution="St Example")
    again = dicom.build_datasets(d.mixed_batch(Use.TEACHING), institution="St Example")

    def uids(objects):
        return {str(ds[t].value) for ds in objects
                for t in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")}  # fmt: skip

    assert uids(record).isdisjoint(uids(teaching)) and uids(teaching).isdisjoint(uids(again))
    for ds in teaching:
        assert "OperatorsName" not in ds and "InstitutionName" not in ds
        assert ds.StudyID == "" and ds.StudyDate == "" and "InstanceCreationDate" not in ds
        assert "ContentDate" not in ds and "AcquisitionDateTime" not in ds
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.LongitudinalTemporalInformationModified == "REMOVED"
        codes = [(c.CodeValue, c.CodingSchemeDesignator) for c in
                 ds.DeidentificationMethodCodeSequence]  # fmt: skip
        assert codes == [("113100", "DCM"), ("113105", "DCM")]
        assert ds.PatientID not in {r.PatientID for r in record}
    paths = _write(record, tmp_path / "r", "record") + _write(teaching, tmp_path / "t", "teach")
    report = subprocess.run([dcentvfy, *map(str, paths)], capture_output=True, text=True)
    problems = [ln for ln in (report.stdout + report.stderr).splitlines()
                if ln.startswith(("Error", "Warning"))]  # fmt: skip
    assert problems == [], problems

    record_batch, teaching_batch = d.mixed_batch(), d.mixed_batch(Use.TEACHING)
    dicom.send(record_batch, pacs)
    dicom.send(teaching_batch, pacs)
    studies = orthanc.get("/studies?expand")
    assert len(studies) == 2 and len(orthanc.get("/patients")) == 2
    owners = {s["MainDicomTags"]["StudyInstanceUID"]: s["PatientMainDicomTags"]["PatientID"]
              for s in studies}  # fmt: skip
    assert owners[str(dicom.study_uid(record_batch.batch_id))] == "MRN-4401927"
    assert sorted(owners.values())[0].startswith("ANON-")


def test_subset_gets_the_numbers_and_study_time_of_the_whole_batch():
    import datetime as dt

    photos = [
        dataclasses.replace(d.photo(f"p{n}", d.synthetic_jpeg()), number=n) for n in (1, 2, 3)
    ]
    full = d.batch(photos=photos)
    subset = dataclasses.replace(
        full, photos=(photos[2],), study_time=dt.datetime(2025, 5, 6, 10, 55, tzinfo=dt.UTC)
    )
    whole = dicom.build_datasets(full)
    (part,) = dicom.build_datasets(subset)
    assert part.InstanceNumber == 3 and part.SOPInstanceUID == whole[2].SOPInstanceUID
    assert (part.StudyInstanceUID, part.SeriesInstanceUID) == (
        whole[0].StudyInstanceUID, whole[0].SeriesInstanceUID
    )  # fmt: skip
    assert (part.StudyDate, part.StudyTime) == (whole[0].StudyDate, whole[0].StudyTime)


def test_coded_body_site_from_the_ward_gives_anatomy_and_laterality():
    coded = {"code": "40983000", "display": "Upper arm", "laterality": "right", "text": ""}
    photo = dataclasses.replace(d.photo("a", d.synthetic_jpeg(), body_site="elbow"), site=coded)
    (ds,) = dicom.build_datasets(d.batch(photos=[photo]))
    (region,) = ds.AnatomicRegionSequence
    assert (region.CodeValue, region.CodingSchemeDesignator) == ("40983000", "SCT")
    assert region.AnatomicRegionModifierSequence[0].CodeValue == "24028007"
    assert ds.ImageLaterality == "R"


@pytest.mark.corpus
def test_orthanc_accepts_the_mixed_batch_and_previews_it_upright(orthanc, pacs):
    """Was: EXIF-rotated photos reached the PACS sideways or upside down (Orthanc's preview)."""
    batch = d.mixed_batch()
    result = dicom.send(batch, pacs)
    assert len(result.sent) == len(batch.photos)
    by_uid = {
        orthanc.get(f"/instances/{i}/simplified-tags")["SOPInstanceUID"]: i
        for i in orthanc.get("/instances")
    }
    for photo in batch.photos:
        if not photo.item_id.startswith("jpeg-orient"):
            continue
        orthanc_id = by_uid[str(dicom.instance_uid(batch.batch_id, photo.item_id))]
        preview = orthanc.get(f"/instances/{orthanc_id}/preview", timeout=180)
        with Image.open(io.BytesIO(preview)) as img:
            shown = img.convert("L")
        expected = _upright_grey(photo.jpeg)
        if shown.size != expected.size:  # Orthanc may scale its preview
            expected = expected.resize(shown.size)
        assert shown.size[0] / shown.size[1] == pytest.approx(
            expected.size[0] / expected.size[1], rel=0.02
        )
        assert _difference(shown, expected) < 6.0, photo.item_id
