"""What a patient lookup returns, whichever source answered (worklist or FHIR)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from picsafe_desktop.model import OrderContext


class LookupError(Exception):  # noqa: A001 - our own, distinct from the builtin on purpose
    """A source could not be asked (not configured, unreachable, refused); the message says why."""


@dataclass(frozen=True)
class PatientMatch:
    """One answer. Worklist entries also carry the order; FHIR answers may carry an Encounter."""

    source: str  # "worklist" or "fhir"
    mrn: str
    name: str = ""  # display form "Family, Given"
    birth_date: str = ""  # ISO YYYY-MM-DD or ""
    sex: str = ""  # "male" / "female" / "other" / "unknown" / ""
    issuer_of_patient_id: str = ""
    accession_number: str = ""
    accession_issuer: str = ""  # Issuer of Accession Number: Local Namespace Entity ID
    requested_procedure_id: str = ""
    requested_procedure: str = ""  # Requested Procedure Description
    procedure_code: str = ""  # "value^scheme^meaning" of the first Requested Procedure Code
    referring_physician: str = ""
    admission_id: str = ""
    study_uid: str = ""  # Study Instance UID the order asks the images to go into
    encounter_ref: str = ""  # "Encounter/<id>" from a FHIR source

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def order(self) -> OrderContext | None:
        """The order/encounter context to keep (encrypted) in the consent record."""
        from picsafe_desktop.consent_order import is_uid

        values = {f.name: getattr(self, f.name) for f in fields(OrderContext)}
        if not is_uid(values["study_uid"]):
            values["study_uid"] = ""  # a RIS's malformed UID is dropped, not carried along
        return OrderContext(**values) if any(values.values()) else None


def merged_order(matches: list[PatientMatch]) -> OrderContext | None:
    """The worklist's order with the FHIR server's encounter, when they name one person."""
    import dataclasses

    orders = [m.order() for m in matches if m.order() is not None]
    if not orders:
        return None
    merged = orders[0]
    for other in orders[1:]:
        fill = {k: v for k, v in dataclasses.asdict(other).items() if v and not getattr(merged, k)}
        merged = dataclasses.replace(merged, **fill)
    return merged


def agrees(matches: list[PatientMatch]) -> bool:
    """True when every source that answered names the same person (name and birth date)."""
    people = {(m.name.casefold(), m.birth_date) for m in matches}
    return len(people) <= 1
