"""What a patient lookup returns, whichever source answered (worklist or FHIR)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    requested_procedure: str = ""  # Requested Procedure Description
    procedure_code: str = ""  # "value^scheme^meaning" of the first Requested Procedure Code
    referring_physician: str = ""
    admission_id: str = ""
    study_uid: str = ""  # Study Instance UID the order asks the images to go into
    encounter_ref: str = ""  # "Encounter/<id>" from a FHIR source

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def order(self) -> dict[str, str]:
        """The order/encounter context to keep (encrypted) in the consent record."""
        keys = ("accession_number", "accession_issuer", "requested_procedure", "procedure_code",
                "referring_physician", "admission_id", "study_uid", "encounter_ref")  # fmt: skip
        return {k: getattr(self, k) for k in keys if getattr(self, k)}


def agrees(matches: list[PatientMatch]) -> bool:
    """True when every source that answered names the same person (name and birth date)."""
    people = {(m.name.casefold(), m.birth_date) for m in matches}
    return len(people) <= 1
