"""Issue 16: the order/encounter context and the identity-check flag, into every export.

DICOM (record copies only): Accession Number with its issuer, Referring Physician, Admission ID,
and the Request Attributes Sequence (requested procedure, its code, the accession) in the
General Series module, as IHE Encounter-Based Imaging Workflow and Web Image Capture expect.
A record typed offline carries Patient Comments saying the identity was not checked.
FHIR Media: `encounter`, `basedOn` the order (a logical ServiceRequest reference by accession),
and a note for the unchecked identity. The PDF adds rows to its patient section.
De-identified copies carry none of it: every element here would identify the patient.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from picsafe_desktop.consent_order import NOT_CHECKED_TEXT
from picsafe_desktop.model import ConsentRecord, IdentityCheck

_ACSN = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}


def not_checked(consent: ConsentRecord) -> bool:
    return consent.identity_check is IdentityCheck.NOT_CHECKED


def _pn(name: str) -> str:
    family, _, given = name.partition(",")
    return f"{family.strip()}^{given.strip()}" if given else family.strip()


def _issuer(value: str) -> list[Dataset]:
    item = Dataset()
    item.LocalNamespaceEntityID = value
    return [item]


def apply_dicom(ds: Dataset, consent: ConsentRecord, *, deidentified: bool) -> None:
    if deidentified:
        return
    if not_checked(consent):
        ds.PatientComments = NOT_CHECKED_TEXT
    order = consent.order
    if order is None:
        return
    ds.AccessionNumber = order.accession_number[:16]
    if order.accession_number and order.accession_issuer:
        ds.IssuerOfAccessionNumberSequence = _issuer(order.accession_issuer)
    ds.ReferringPhysicianName = _pn(order.referring_physician)
    if order.admission_id:
        ds.AdmissionID = order.admission_id[:64]
    if order.requested_procedure or order.procedure_code or order.accession_number:
        request = Dataset()
        if order.accession_number:
            request.AccessionNumber = order.accession_number[:16]
            if order.accession_issuer:
                request.IssuerOfAccessionNumberSequence = _issuer(order.accession_issuer)
        if order.requested_procedure_id:
            request.RequestedProcedureID = order.requested_procedure_id[:16]
        if order.requested_procedure:
            request.RequestedProcedureDescription = order.requested_procedure[:64]
        value, scheme, meaning = (order.procedure_code.split("^") + ["", "", ""])[:3]
        if value and scheme:
            code = Dataset()
            code.CodeValue = value
            code.CodingSchemeDesignator = scheme
            code.CodeMeaning = meaning or order.requested_procedure or value
            request.RequestedProcedureCodeSequence = [code]
        ds.RequestAttributesSequence = [request]


def apply_media(resource: dict, consent: ConsentRecord, *, deidentified: bool) -> None:
    if deidentified:
        return
    if not_checked(consent):
        resource.setdefault("note", []).append({"text": NOT_CHECKED_TEXT})
    order = consent.order
    if order is None:
        return
    if order.encounter_ref:
        resource["encounter"] = {"reference": order.encounter_ref}
    if order.accession_number:
        identifier: dict = {"type": {"coding": [_ACSN]}, "value": order.accession_number}
        if order.accession_issuer:
            identifier["assigner"] = {"display": order.accession_issuer}
        based = {"type": "ServiceRequest", "identifier": identifier}
        if order.requested_procedure:
            based["display"] = order.requested_procedure
        resource["basedOn"] = [based]


def pdf_rows(consent: ConsentRecord, *, deidentified: bool) -> list[tuple[str, str]]:
    if deidentified:
        return []
    rows = []
    if not_checked(consent):
        rows.append(("Identity check", NOT_CHECKED_TEXT))
    elif consent.identity_check is IdentityCheck.CONFIRMED:
        rows.append(("Identity check", "confirmed against the hospital record (name, birth date)"))
    order = consent.order
    if order is not None:
        pairs = [("Accession number", order.accession_number),
                 ("Requested procedure", order.requested_procedure),
                 ("Referring physician", order.referring_physician),
                 ("Admission", order.admission_id), ("Encounter", order.encounter_ref)]  # fmt: skip
        rows += [(k, v) for k, v in pairs if v]
    return rows
