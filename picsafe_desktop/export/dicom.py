"""DICOM VL Photographic Image objects and sending them to the PACS.

Each scrubbed JPEG goes into the Pixel Data as it is (JPEG Baseline transfer syntax, one
fragment): no decoding, no re-encoding, so the PACS holds the same bytes as the vault.
UIDs are derived from the batch id under the UUID-derived root 2.25 (PS3.5 B.2), so sending a
batch again updates the same study, series and instances instead of creating duplicates.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    JPEGBaseline8Bit,
    VLPhotographicImageStorage,
)
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from picsafe_desktop import __version__
from picsafe_desktop.export import anatomy, jpeg
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError, ExportPhoto

log = logging.getLogger(__name__)

_UID_NAMESPACE = uuid.UUID("5f0c7a52-3b53-4f0e-9a43-6f1d2e8c9b10")  # fixed for PicSafe
IMPLEMENTATION_UID = UID("2.25." + str(uuid.uuid5(_UID_NAMESPACE, "implementation").int))
IMPLEMENTATION_VERSION = "PICSAFE_" + __version__.replace(".", "")[:8]
MANUFACTURER = "PicSafe"
MODEL_NAME = "PicSafe Desktop"


def stable_uid(batch_id: str, *parts: str) -> UID:
    """2.25.<decimal of a name-based UUID>: the same inputs always give the same UID."""
    name = "\x1f".join(("picsafe", batch_id, *parts))
    return UID("2.25." + str(uuid.uuid5(_UID_NAMESPACE, name).int))


def study_uid(batch_id: str) -> UID:
    return stable_uid(batch_id, "study")


def series_uid(batch_id: str) -> UID:
    return stable_uid(batch_id, "series")


def instance_uid(batch_id: str, item_id: str) -> UID:
    return stable_uid(batch_id, "instance", item_id)


# -- building objects --------------------------------------------------------------------------


def _da(value: dt.date | dt.datetime | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def _tm(value: dt.datetime | None) -> str:
    return value.strftime("%H%M%S") if value else ""


def _person_name(name: str) -> str:
    """Free-text name to DICOM PN: 'Given Family' -> 'Family^Given' (best effort)."""
    name = " ".join(name.replace("^", " ").split())
    if not name:
        return ""
    if "," in name:  # "Family, Given"
        family, _, given = name.partition(",")
        return f"{family.strip()}^{given.strip()}"
    parts = name.split(" ")
    return parts[-1] if len(parts) == 1 else f"{parts[-1]}^{' '.join(parts[:-1])}"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning[:64]
    return item


def _photometric(info: jpeg.JpegInfo) -> str:
    if info.components == 1:
        return "MONOCHROME2"
    if info.adobe_transform == 0:  # Adobe marker says the components are R, G, B
        return "RGB"
    # PS3.5 8.2.1: YCbCr JPEG is YBR_FULL_422 when chroma is subsampled, else YBR_FULL
    return "YBR_FULL_422" if info.chroma_subsampled else "YBR_FULL"


_TURN_WORDS = {
    2: "Stored mirrored: flip left-right to view upright (EXIF orientation 2)",
    3: "Stored upside down: rotate 180 degrees to view upright (EXIF orientation 3)",
    4: "Stored mirrored: flip top-bottom to view upright (EXIF orientation 4)",
    5: "Stored transposed: mirror and rotate 90 degrees anticlockwise (EXIF orientation 5)",
    6: "Stored on its side: rotate 90 degrees clockwise to view upright (EXIF orientation 6)",
    7: "Stored transposed: mirror and rotate 90 degrees clockwise (EXIF orientation 7)",
    8: "Stored on its side: rotate 90 degrees anticlockwise to view upright (EXIF orientation 8)",
}


def _study_datetime(batch: ExportBatch) -> dt.datetime | None:
    if batch.deidentified:
        return None
    times = [p.facts.capture_time for p in batch.photos if p.facts.capture_time]
    return min(times) if times else batch.consent.obtained_at


def build_dataset(
    batch: ExportBatch,
    photo: ExportPhoto,
    number: int,
    *,
    institution: str = "",
    issuer_of_patient_id: str = "",
) -> Dataset:
    """One VL Photographic Image object for `photo`; `batch` must already be gated."""
    label = f"photo {number} ({photo.item_id})"
    info = jpeg.read_info(photo.jpeg, label)
    if not info.baseline:
        raise ExportError(
            f"{label} is not a baseline 8-bit JPEG (it is a progressive or extended JPEG); "
            "DICOM JPEG Baseline needs the bytes as they are, so it cannot be sent"
        )
    if info.components not in (1, 3):
        raise ExportError(f"{label} has {info.components} colour components; DICOM needs 1 or 3")
    consent = batch.consent
    patient = consent.patient
    now = dt.datetime.now(dt.UTC)
    sop_uid = instance_uid(batch.batch_id, photo.item_id)
    study_time = _study_datetime(batch)
    content_time = photo.facts.capture_time

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = VLPhotographicImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION

    ds = Dataset()
    ds.file_meta = meta
    # SOP Common
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names are not always Latin-1
    ds.SOPClassUID = VLPhotographicImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.InstanceCreationDate = _da(now)
    ds.InstanceCreationTime = _tm(now)
    # Patient
    ds.PatientName = "" if batch.deidentified else _person_name(patient.name)
    ds.PatientID = patient.mrn
    if issuer_of_patient_id and not batch.deidentified:
        ds.IssuerOfPatientID = issuer_of_patient_id
    ds.PatientBirthDate = "" if batch.deidentified else _da(patient.birth_date)
    ds.PatientSex = ""
    if batch.deidentified:
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = f"PicSafe {batch.use.value} export: identifiers removed"
    # General Study
    ds.StudyInstanceUID = study_uid(batch.batch_id)
    ds.StudyDate = _da(study_time)
    ds.StudyTime = _tm(study_time)
    ds.ReferringPhysicianName = ""
    ds.StudyID = batch.batch_id[-16:]
    ds.AccessionNumber = ""
    ds.StudyDescription = "Clinical photography"
    # General Series
    ds.Modality = "XC"
    ds.SeriesInstanceUID = series_uid(batch.batch_id)
    ds.SeriesNumber = 1
    ds.SeriesDescription = "Clinical photographs"
    ds.OperatorsName = _person_name(consent.obtained_by.name)
    # General Equipment
    ds.Manufacturer = MANUFACTURER
    if institution:
        ds.InstitutionName = institution
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = __version__
    # General Image + VL Image
    ds.InstanceNumber = number
    ds.PatientOrientation = ""
    if content_time is not None:  # VL Image: Content Time is 1C, so absent rather than empty
        ds.ContentDate = _da(content_time)
        ds.ContentTime = _tm(content_time)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    if info.orientation != 1:
        # Pixels stay as stored (no re-encode); DICOM viewers ignore EXIF, so say it in words.
        ds.ImageComments = _TURN_WORDS[info.orientation]
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "YES" if consent.identifiable else "NO"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    site = anatomy.lookup(photo.body_site or consent.body_site)
    if site is not None:
        region = _code(site.code, site.scheme, site.meaning)
        if site.laterality:
            code, meaning, _ = site.laterality
            region.AnatomicRegionModifierSequence = [_code(code, anatomy.SCT, meaning)]
        ds.AnatomicRegionSequence = [region]
        if not site.coded:  # declare the private scheme so receivers know what it is
            scheme = Dataset()
            scheme.CodingSchemeDesignator = anatomy.LOCAL_SCHEME
            scheme.CodingSchemeName = "PicSafe free-text body site"
            scheme.CodingSchemeResponsibleOrganization = MANUFACTURER
            ds.CodingSchemeIdentificationSequence = [scheme]
    if site is not None and site.laterality:
        ds.ImageLaterality = site.laterality[2]
    else:
        ds.Laterality = ""  # Type 2C (paired structure, no Image Laterality): unknown
    # Acquisition Context: nothing structured to say, the sequence is Type 2
    ds.AcquisitionContextSequence = []
    # Image Pixel: geometry comes from the JPEG frame header, never from metadata
    ds.SamplesPerPixel = info.components
    ds.PhotometricInterpretation = _photometric(info)
    if info.components == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = info.height
    ds.Columns = info.width
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate([photo.jpeg])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True  # encapsulated data must use undefined length
    return ds


def build_datasets(batch: ExportBatch, **kwargs: str) -> list[Dataset]:
    """All objects of a batch, after the consent gate."""
    batch = gate(batch)
    return [build_dataset(batch, p, n, **kwargs) for n, p in enumerate(batch.photos, start=1)]


def to_bytes(ds: Dataset) -> bytes:
    """Part 10 file bytes (for saving or for dciodvfy)."""
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


# -- network -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PacsTarget:
    """Where the PACS listens (site config). TLS is used when `tls` is true."""

    ae_title: str
    host: str
    port: int
    calling_ae_title: str = "PICSAFE"
    tls: bool = False
    tls_ca_file: str = ""  # empty: the system's trusted certificates
    tls_cert_file: str = ""  # client certificate, when the PACS asks for one
    tls_key_file: str = ""
    timeout: float = 30.0

    def describe(self) -> str:
        scheme = "dicom-tls" if self.tls else "dicom"
        return f"{scheme}://{self.ae_title}@{self.host}:{self.port}"


@dataclass(frozen=True)
class SendResult:
    destination: str
    study_uid: str
    sent: tuple[str, ...]  # SOP Instance UIDs accepted by the PACS


def _tls_args(target: PacsTarget) -> tuple[ssl.SSLContext, str] | None:
    if not target.tls:
        return None
    try:
        ctx = ssl.create_default_context(cafile=target.tls_ca_file or None)
        if target.tls_cert_file:
            ctx.load_cert_chain(target.tls_cert_file, target.tls_key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ExportError(f"cannot set up TLS for the PACS: {exc}") from exc
    return ctx, target.host


def _ae(target: PacsTarget) -> AE:
    ae = AE(ae_title=target.calling_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = target.timeout
    return ae


def _probe(target: PacsTarget) -> None:
    """Plain TCP connect first: a clear message when nobody listens, and it avoids pynetdicom
    3.0 leaking its socket (a ResourceWarning) when the connection is refused."""
    try:
        with socket.create_connection((target.host, target.port), timeout=target.timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DeliveryError(
            f"cannot reach the PACS at {target.describe()} ({reason}); check host and port "
            "and whether the PACS is running"
        ) from None


def _associate(ae: AE, target: PacsTarget):  # noqa: ANN202 - pynetdicom's Association
    _probe(target)
    try:
        assoc = ae.associate(
            target.host,
            target.port,
            ae_title=target.ae_title,
            tls_args=_tls_args(target),
        )
    except OSError as exc:
        raise DeliveryError(f"cannot reach the PACS at {target.describe()}: {exc}") from exc
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise DeliveryError(
            f"the PACS at {target.describe()} rejected the connection; check that it knows "
            f"the calling AE title {target.calling_ae_title!r} and the called AE title"
        )
    raise DeliveryError(
        f"no DICOM connection to {target.describe()}: check host, port and whether the "
        "PACS is running (and TLS matches its settings)"
    )


def echo(target: PacsTarget) -> None:
    """C-ECHO ("test connection"); raises ExportError with the reason when it fails."""
    ae = _ae(target)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, target)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or status.Status != 0x0000:
        raise DeliveryError(f"the PACS at {target.describe()} did not answer the echo")


def send(
    batch: ExportBatch,
    target: PacsTarget,
    *,
    institution: str = "",
    issuer_of_patient_id: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> SendResult:
    """C-STORE every photo of the batch; all objects are built before anything is sent."""
    datasets = build_datasets(
        batch, institution=institution, issuer_of_patient_id=issuer_of_patient_id
    )
    ae = _ae(target)
    ae.add_requested_context(VLPhotographicImageStorage, [JPEGBaseline8Bit])
    assoc = _associate(ae, target)
    sent: list[str] = []
    try:
        for n, ds in enumerate(datasets, start=1):
            status = assoc.send_c_store(ds)
            code = getattr(status, "Status", None)
            if code is None:
                raise DeliveryError(
                    f"the PACS at {target.describe()} stopped answering after "
                    f"{len(sent)} of {len(datasets)} photos"
                )
            # 0x0000 success; 0xB000/0xB007/0xB006 are warnings (stored, with coercion)
            if code != 0x0000 and code not in (0xB000, 0xB006, 0xB007):
                raise DeliveryError(
                    f"the PACS refused photo {n} of {len(datasets)} "
                    f"(DICOM status 0x{code:04X}); {len(sent)} were stored before it"
                )
            sent.append(str(ds.SOPInstanceUID))
            if progress:
                progress(n, len(datasets))
    finally:
        assoc.release()
    log.info("sent %d DICOM objects to %s", len(sent), target.describe())
    return SendResult(target.describe(), str(datasets[0].StudyInstanceUID), tuple(sent))
