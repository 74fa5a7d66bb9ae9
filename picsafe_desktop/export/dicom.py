"""DICOM VL Photographic Image objects and sending them to the PACS.

Each scrubbed JPEG goes into the Pixel Data as it is (JPEG Baseline transfer syntax, one
fragment): no decoding, no re-encoding, so the PACS holds the same bytes as the vault (except
4:4:4 and CMYK JPEGs, which this IOD cannot carry as they are: see colour.py). A photo
stored on its side is turned upright losslessly in the DCT domain first (see upright.py).
Record UIDs are derived from the vault's batch and item ids under the UUID-derived root 2.25
(PS3.5 B.2), so sending any subset again names the same study, series and instances instead of
creating duplicates. Teaching/publication copies are new objects with UIDs of their own.
"""

from __future__ import annotations

import dataclasses
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
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    VLPhotographicImageStorage,
)
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from picsafe_desktop import __version__
from picsafe_desktop.export import anatomy, colour, jpeg, order_context, upright
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError, ExportPhoto
from picsafe_desktop.model import Identifiability

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
    # the time as the camera's clock showed it, in its own zone: DICOM TM carries no offset
    return value.strftime("%H%M%S") if value else ""


def _dt(value: dt.datetime) -> str:
    """DICOM DT; the UTC offset only when the photo recorded one (never the PC's zone)."""
    text = value.strftime("%Y%m%d%H%M%S")
    return text + value.strftime("%z") if value.tzinfo is not None else text


def _wall(value: dt.datetime) -> dt.datetime:
    """Sort key for capture times that mix offset-aware and naive values: the wall clock.

    DICOM Study Date/Time are local wall-clock values, and a naive time has nothing better.
    """
    return value.replace(tzinfo=None)


_PREFIXES = {
    "dr", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "sir", "dame", "rev", "sr",
    "sister", "nurse",
}  # fmt: skip


def _person_name(name: str) -> str:
    """Free-text name to DICOM PN `Family^Given^Middle^Prefix` (PS3.5 6.2): 'Dr Jo Smith' ->
    'Smith^Jo^^Dr', 'Smith, Jo' -> 'Smith^Jo'. A title never lands in the given name."""
    name = " ".join(name.replace("^", " ").split())
    if not name:
        return ""
    if "," in name:  # "Family, Given"
        family, _, rest = name.partition(",")
        words = rest.split()
    else:
        words = name.split(" ")
        family = words.pop() if len(words) > 1 else words.pop()
    prefix: list[str] = []
    while words and words[0].lower().rstrip(".") in _PREFIXES:
        prefix.append(words.pop(0))
    parts = _fit_pn([family.strip(), " ".join(words), "", " ".join(prefix)])
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


PN_GROUP_BYTES = 64


def _fit_pn(parts: list[str]) -> list[str]:
    """A component group holds at most 64 characters (PS3.5 6.2); dciodvfy and PACS database
    columns count the UTF-8 bytes, so a long or non-Latin name is shortened to 64 bytes:
    prefix first, then the given names, the family name last (whole characters only). The
    MRN identifies the patient; the PDF and FHIR copies keep the full name."""
    parts = list(parts)
    while len("^".join(parts).encode("utf-8")) > PN_GROUP_BYTES:
        i = next(i for i in (3, 2, 1, 0) if parts[i])
        parts[i] = parts[i][:-1].rstrip()
    return parts


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


def _needs_decoding(info: jpeg.JpegInfo) -> bool:
    """YBR_FULL is not allowed in a VL Photographic Image (PS3.3 C.8.12.2.1.1), and CMYK/YCCK
    has no DICOM Photometric Interpretation: both go out as decoded RGB (see colour.py)."""
    return info.components == 4 or _photometric(info) == "YBR_FULL"


def _study_datetime(batch: ExportBatch) -> dt.datetime | None:
    """The earliest capture of the whole import batch (loaded from the vault), so any subset
    names the same study time; naive and offset-aware times compare by their wall clock."""
    if batch.deidentified:
        return None
    if batch.study_time is not None:
        return batch.study_time
    times = [p.facts.capture_time for p in batch.photos if p.facts.capture_time]
    return min(times, key=_wall) if times else batch.consent.obtained_at


# PS3.15 Annex E, CID 7050: the options a de-identified copy was made with.
_DEID_METHODS = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113105", "Clean Descriptors Option"),
)


def _uids(batch: ExportBatch, photo: ExportPhoto) -> tuple[UID, UID, UID]:
    """(study, series, instance). Record copies: derived from the vault's batch and item ids,
    so every export of any subset gives the same UIDs; the study is the order's when the
    consent record holds one from the worklist (issue 16, IHE Encounter-Based Workflow).
    De-identified copies: seeded by the copy's random id, so nothing about them can be
    computed from the record copy."""
    if batch.deidentified:
        seed = "copy:" + batch.copy_id
        return (
            stable_uid(seed, "study"),
            stable_uid(seed, "series"),
            stable_uid(seed, "instance", photo.item_id),
        )
    order = batch.consent.order  # issue 16: the ordered study, when a worklist named one
    return (
        UID(order.study_uid) if order and order.study_uid else study_uid(batch.batch_id),
        series_uid(batch.batch_id),
        instance_uid(batch.batch_id, photo.item_id),
    )


def _deidentified(ds: Dataset, batch: ExportBatch) -> None:
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = (
        f"PicSafe {batch.use.value} copy: " + ", ".join(m for _, m in _DEID_METHODS)
    )[:64]
    ds.DeidentificationMethodCodeSequence = [_code(c, "DCM", m) for c, m in _DEID_METHODS]
    ds.LongitudinalTemporalInformationModified = "REMOVED"


def _recognizable(photo: ExportPhoto) -> str:
    """Recognizable Visual Features from the photo's own answer (issue 15: identifiability is
    per photo); unknown counts as YES. It was the batch's summary, so one identifiable photo
    marked every object of the batch recognizable, and the answer changed later was lost.

    DICOM's only consent attribute, Consent for Clinical Trial Use Sequence (0012,0083), is
    not used: it describes distribution for clinical trials, and dciodvfy rejects every item
    whose Distribution Type is not NAMED_PROTOCOL. What a withdrawal ends (teaching and
    publication) never reaches DICOM: those exports are refused (docs/export.md)."""
    return "NO" if photo.identifiability is Identifiability.NOT_IDENTIFIABLE else "YES"


def build_dataset(
    batch: ExportBatch,
    photo: ExportPhoto,
    number: int,
    *,
    institution: str = "",
    issuer_of_patient_id: str = "",
) -> Dataset:
    """One VL Photographic Image object for `photo`; `batch` must already be gated."""
    number = photo.number or number
    label = f"photo {number} ({photo.item_id})"
    info = jpeg.read_info(photo.jpeg, label)
    if not info.baseline:
        raise ExportError(
            f"{label} is not a baseline 8-bit JPEG (it is a progressive or extended JPEG); "
            "DICOM JPEG Baseline needs the bytes as they are, so it cannot be sent"
        )
    if info.components not in (1, 3, 4):
        raise ExportError(
            f"{label} has {info.components} colour components, which no DICOM viewer shows; "
            "export it as a PDF or a package instead"
        )
    turned = upright.make_upright(photo.jpeg, info.orientation, label)
    pixels = photo.jpeg
    if turned.turned:
        pixels = turned.jpeg
        info = dataclasses.replace(jpeg.read_info(pixels, label), orientation=1)
    consent = batch.consent
    patient = consent.patient
    deid = batch.deidentified
    now = dt.datetime.now(dt.UTC)
    study, series, sop_uid = _uids(batch, photo)
    study_time = _study_datetime(batch)
    content_time = photo.facts.capture_time

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = VLPhotographicImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    decoded = colour.decode_rgb(pixels, info.icc_profile, label) if _needs_decoding(info) else None
    meta.TransferSyntaxUID = ExplicitVRLittleEndian if decoded else JPEGBaseline8Bit
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION

    ds = Dataset()
    ds.file_meta = meta
    # SOP Common
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names are not always Latin-1
    ds.SOPClassUID = VLPhotographicImageStorage
    ds.SOPInstanceUID = sop_uid
    if not deid:  # Annex E: instance creation date/time are removed from de-identified copies
        ds.InstanceCreationDate = _da(now)
        ds.InstanceCreationTime = _tm(now)
    # Patient
    ds.PatientName = "" if deid else _person_name(patient.name)
    ds.PatientID = patient.mrn
    if issuer_of_patient_id and not deid:
        ds.IssuerOfPatientID = issuer_of_patient_id
    ds.PatientBirthDate = "" if deid else _da(patient.birth_date)
    ds.PatientSex = ""
    if deid:
        _deidentified(ds, batch)
    # General Study
    ds.StudyInstanceUID = study
    ds.StudyDate = _da(study_time)
    ds.StudyTime = _tm(study_time)
    ds.ReferringPhysicianName = ""
    ds.StudyID = "" if deid else batch.batch_id[-16:]
    ds.AccessionNumber = ""
    ds.StudyDescription = "Clinical photography"
    # General Series
    ds.Modality = "XC"
    ds.SeriesInstanceUID = series
    ds.SeriesNumber = 1
    ds.SeriesDescription = "Clinical photographs"
    if not deid:
        ds.OperatorsName = _person_name(consent.obtained_by.name)
    # General Equipment
    ds.Manufacturer = MANUFACTURER
    if institution and not deid:
        ds.InstitutionName = institution
    ds.ManufacturerModelName = MODEL_NAME
    if not deid:  # Annex E: Software Versions go unless the device identity is retained
        ds.SoftwareVersions = __version__
    # General Image + VL Image
    ds.InstanceNumber = number
    ds.PatientOrientation = ""
    if content_time is not None:  # VL Image: Content Time is 1C, so absent rather than empty
        ds.ContentDate = _da(content_time)
        ds.ContentTime = _tm(content_time)
        ds.AcquisitionDateTime = _dt(content_time)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    if turned.trimmed:
        ds.ImageComments = (
            "Turned upright losslessly; the partial edge block (under 16 pixels) was trimmed"
        )
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = _recognizable(photo)
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    raw_size = info.width * info.height * info.components
    ds.LossyImageCompressionRatio = f"{raw_size / max(len(pixels), 1):.2f}"
    site = anatomy.resolve(photo.site, photo.body_site or consent.body_site)
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
    ds.SamplesPerPixel = 3 if decoded else info.components
    ds.PhotometricInterpretation = "RGB" if decoded else _photometric(info)
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = decoded.height if decoded else info.height
    ds.Columns = decoded.width if decoded else info.width
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    icc_profile = decoded.icc_profile if decoded else info.icc_profile
    if icc_profile:  # ICC Profile Module: the colours the camera meant (e.g. Display P3)
        ds.ICCProfile = icc_profile
    order_context.apply_dicom(ds, consent, deidentified=deid)  # issue 16
    if decoded:  # native pixels; pydicom pads an odd length with one zero byte
        ds.PixelData = decoded.data
        ds["PixelData"].VR = "OB"
        return ds
    ds.PixelData = encapsulate([pixels])
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


def tls_args(peer, what: str = "the PACS", error: type[Exception] = ExportError):  # noqa: ANN001, ANN201
    """pynetdicom's `tls_args` for any DICOM peer (PACS, worklist): None without TLS.
    `what` and `error` say, in the caller's terms, that TLS could not be set up."""
    if not peer.tls:
        return None
    try:
        ctx = ssl.create_default_context(cafile=peer.tls_ca_file or None)
        if peer.tls_cert_file:
            ctx.load_cert_chain(peer.tls_cert_file, peer.tls_key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise error(f"cannot set up TLS for {what}: {exc}") from exc
    return ctx, peer.host


def make_ae(peer) -> AE:  # noqa: ANN001 - a PacsTarget or a hospital DicomPeer
    ae = AE(ae_title=peer.calling_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.timeout
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
            tls_args=tls_args(target),
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
    ae = make_ae(target)
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
    ae = make_ae(target)
    ae.add_requested_context(VLPhotographicImageStorage, [JPEGBaseline8Bit])
    # decoded RGB objects (colour.py) travel uncompressed, in a context of their own
    ae.add_requested_context(VLPhotographicImageStorage, [ExplicitVRLittleEndian])
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
                refused = DeliveryError(
                    f"the PACS refused photo {n} of {len(datasets)} "
                    f"(DICOM status 0x{code:04X}); {len(sent)} were stored before it"
                )
                refused.retry = code & 0xFF00 == 0xA700  # only "out of resources" may pass
                raise refused
            sent.append(str(ds.SOPInstanceUID))
            if progress:
                progress(n, len(datasets))
    finally:
        assoc.release()
    log.info("sent %d DICOM objects to %s", len(sent), target.describe())
    return SendResult(target.describe(), str(datasets[0].StudyInstanceUID), tuple(sent))
