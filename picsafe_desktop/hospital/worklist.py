"""DICOM Modality Worklist C-FIND (IHE RAD-5 query) by patient ID: who, and which order."""

from __future__ import annotations

import logging

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom.sop_class import ModalityWorklistInformationFind

from picsafe_desktop.hospital.dimse import DicomPeer, DimseError, associate, make_ae
from picsafe_desktop.hospital.lookup import LookupError, PatientMatch

log = logging.getLogger(__name__)

_SEX = {"M": "male", "F": "female", "O": "other"}
_PENDING = (0xFF00, 0xFF01)


def query(mrn: str) -> Dataset:
    """The C-FIND identifier: match on Patient ID, ask for the patient and the order."""
    ds = Dataset()
    ds.PatientID = mrn
    ds.PatientName = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.IssuerOfPatientID = ""
    ds.AccessionNumber = ""
    ds.IssuerOfAccessionNumberSequence = Sequence()
    ds.ReferringPhysicianName = ""
    ds.RequestedProcedureDescription = ""
    ds.RequestedProcedureCodeSequence = Sequence()
    ds.RequestedProcedureID = ""
    ds.AdmissionID = ""
    ds.StudyInstanceUID = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = ""
    step.ScheduledProcedureStepDescription = ""
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def _date(value: object) -> str:
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else ""


def _name(value: object) -> str:
    """DICOM PN "Family^Given^Middle" as "Family, Given Middle"."""
    parts = [p.strip() for p in str(value or "").split("=")[0].split("^")]
    family, rest = (parts[0], " ".join(p for p in parts[1:3] if p)) if parts else ("", "")
    return f"{family}, {rest}" if family and rest else family or rest


def _first(ds: Dataset, keyword: str) -> Dataset | None:
    seq = ds.get(keyword)
    return seq[0] if seq else None


def to_match(ds: Dataset) -> PatientMatch:
    code = _first(ds, "RequestedProcedureCodeSequence")
    issuer = _first(ds, "IssuerOfAccessionNumberSequence")
    return PatientMatch(
        source="worklist",
        mrn=str(ds.get("PatientID", "")),
        name=_name(ds.get("PatientName")),
        birth_date=_date(ds.get("PatientBirthDate")),
        sex=_SEX.get(str(ds.get("PatientSex", "")).upper(), ""),
        issuer_of_patient_id=str(ds.get("IssuerOfPatientID", "")),
        accession_number=str(ds.get("AccessionNumber", "")),
        accession_issuer=str(issuer.get("LocalNamespaceEntityID", "")) if issuer else "",
        requested_procedure_id=str(ds.get("RequestedProcedureID", "")),
        requested_procedure=str(ds.get("RequestedProcedureDescription", "")),
        procedure_code="^".join(
            str(code.get(k, "")) for k in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning")
        )
        if code
        else "",  # fmt: skip
        referring_physician=_name(ds.get("ReferringPhysicianName")),
        admission_id=str(ds.get("AdmissionID", "")),
        study_uid=str(ds.get("StudyInstanceUID", "")),
    )


def find(peer: DicomPeer, mrn: str) -> list[PatientMatch]:
    """Every worklist entry for `mrn` (an empty list when there is none)."""
    if not mrn.strip() or any(c in mrn for c in "*?\\"):
        raise LookupError(f"{mrn!r} is not an MRN (wildcards and backslashes are not allowed)")
    ae = make_ae(peer)
    ae.add_requested_context(ModalityWorklistInformationFind)
    try:
        assoc = associate(ae, peer)
    except DimseError as exc:
        raise LookupError(str(exc)) from None
    found: list[PatientMatch] = []
    try:
        for status, identifier in assoc.send_c_find(query(mrn), ModalityWorklistInformationFind):
            code = getattr(status, "Status", None)
            if code is None:
                raise LookupError(f"the worklist at {peer.describe()} stopped answering")
            if code in _PENDING and identifier is not None:
                found.append(to_match(identifier))
            elif code != 0x0000:
                raise LookupError(
                    f"the worklist at {peer.describe()} refused the query "
                    f"(DICOM status 0x{code:04X})"
                )
    finally:
        assoc.release()
    log.info("worklist query answered with %d entries", len(found))  # no identifiers logged
    return found
