"""Plain data shared by every layer: no Qt, no I/O.

Validation of user input (consent JSON, dialog fields) lives in `consent.py`; these classes
only describe the shape of the data once it is valid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class ItemState(StrEnum):
    """Life cycle of a photo in the vault (see ARCHITECTURE.md, "Life of a photo")."""

    AWAITING_CONSENT = "awaiting_consent"  # stored and verified, unusable until consent
    ACTIVE = "active"  # consent recorded; may be viewed and exported within its uses


class Capacity(StrEnum):
    SELF = "self"
    SUBSTITUTE = "substitute"
    LACKS_CAPACITY = "lacks_capacity"


class Use(StrEnum):
    RECORD = "record"  # always allowed once consent (or best interests) is recorded
    TEACHING = "teaching"
    PUBLICATION = "publication"


class Method(StrEnum):
    WRITTEN = "written"
    VERBAL = "verbal"


class Identifiability(StrEnum):
    """Per photo. Unknown until someone answers; secondary exports wait for an answer."""

    UNKNOWN = "unknown"
    IDENTIFIABLE = "identifiable"
    NOT_IDENTIFIABLE = "not_identifiable"


class Assent(StrEnum):
    """A child's own view when someone else decides (GMC 0-18 years, paras 34-35)."""

    ASSENTS = "assents"
    OBJECTS = "objects"
    NOT_ABLE = "not_able"  # too young or too unwell to express a view


class InterpreterKind(StrEnum):
    PROFESSIONAL = "professional"
    TELEPHONE = "telephone"
    FAMILY = "family"


class ChaperonePreference(StrEnum):
    WANTED = "wanted"
    DECLINED = "declined"
    NO_PREFERENCE = "no_preference"


class SignedBy(StrEnum):
    PATIENT = "patient"
    SUBSTITUTE = "substitute"
    CLINICIAN = "clinician"  # verbal consent or a best-interests decision


class Withdrawal(StrEnum):
    SECONDARY = "secondary"  # teaching and publication withdrawn; the clinical record stays
    FULL = "full"


@dataclass(frozen=True)
class Patient:
    mrn: str
    name: str = ""
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class Staff:
    name: str
    role: str = ""
    staff_id: str = ""


@dataclass(frozen=True)
class Substitute:
    name: str
    relationship: str
    parental_responsibility: bool = False


@dataclass(frozen=True)
class Competence:
    """A recorded assessment that a child under 16 can consent for themselves (Gillick)."""

    assessed_by: str
    competent: bool
    parental_involvement: str  # how the parents were involved, or why they were not


@dataclass(frozen=True)
class ChildDetails:
    competence: Competence | None = None
    assent: Assent | None = None
    urgent: bool = False  # photography needed for care although the child objects


@dataclass(frozen=True)
class Interpreter:
    name: str
    language: str
    kind: InterpreterKind


@dataclass(frozen=True)
class IntimateDetails:
    """Breasts, genitalia, perineum, anus (IMI chaperone guidance)."""

    preference: ChaperonePreference
    chaperone_name: str = ""
    chaperone_role: str = ""
    secondary_agreed: bool = False  # teaching/publication expressly agreed for intimate photos


class IdentityCheck(StrEnum):
    """Issue 16: whether the patient was checked against the hospital's record at consent."""

    CONFIRMED = "confirmed"  # looked up (worklist/FHIR); name and birth date confirmed
    NOT_CHECKED = "not_checked"  # typed while no lookup could answer: flagged in every export


@dataclass(frozen=True)
class OrderContext:
    """Issue 16: the order and encounter a lookup returned; kept only in the encrypted record."""

    accession_number: str = ""
    accession_issuer: str = ""  # Issuer of Accession Number: Local Namespace Entity ID
    requested_procedure_id: str = ""
    requested_procedure: str = ""
    procedure_code: str = ""  # "value^scheme^meaning"
    referring_physician: str = ""  # "Family, Given"
    admission_id: str = ""
    encounter_ref: str = ""  # "Encounter/<id>" on the FHIR server
    study_uid: str = ""  # the order's Study Instance UID: record copies are filed into it


@dataclass(frozen=True)
class ConsentRecord:
    """One consent decision covering every photo of an import batch."""

    consent_id: str
    patient: Patient
    capacity: Capacity
    uses: frozenset[Use]
    method: Method
    obtained_by: Staff
    obtained_at: dt.datetime
    body_site: str = ""
    indication: str = ""
    substitute: Substitute | None = None
    publication: str = ""
    signature_png: bytes | None = None
    witness_name: str = ""
    wording_version: str = ""
    wording_sha256: str = ""
    wording_language: str = "en"
    wording_text: str = ""  # the exact text shown (its SHA-256 is wording_sha256)
    # Issue 15: identifiability answered per photo (batch order); one answer covers them all.
    identifiability: Identifiability = Identifiability.UNKNOWN
    photo_identifiability: tuple[Identifiability, ...] = ()
    identifiable_publication: bool = False  # identifiable photos may be published
    child: ChildDetails | None = None
    review_on: dt.date | None = None  # the child reaches the site's review age
    interpreter: Interpreter | None = None
    intimate: IntimateDetails | None = None
    consented_at: dt.datetime | None = None  # at the bedside; obtained_at is when keyed in
    photographer: str = ""
    signed_by: SignedBy | None = None
    amends: str = ""  # the consent id this record replaces (amendment or withdrawal)
    amendment_reason: str = ""
    withdrawn: Withdrawal | None = None
    # Issue 16 (docs/hospital.md): patient lookup and the order/encounter context
    identity_check: IdentityCheck | None = None  # None: not recorded (records before issue 16)
    order: OrderContext | None = None

    def allows(self, use: Use) -> bool:
        return use in self.uses

    def identifiability_of(self, index: int) -> Identifiability:
        """The answer for the batch's photo number `index` (0-based, batch order)."""
        if 0 <= index < len(self.photo_identifiability):
            return self.photo_identifiability[index]
        return self.identifiability

    @property
    def identifiable(self) -> bool:
        """Fail-safe summary for formats with one yes/no flag (DICOM): yes unless every
        photo was answered "not identifiable"."""
        answers = set(self.photo_identifiability) or {self.identifiability}
        return answers != {Identifiability.NOT_IDENTIFIABLE}

    @property
    def decision(self) -> str:
        """The decision as it was made, in words for reports."""
        if self.withdrawn is Withdrawal.FULL:
            return "consent withdrawn"
        if self.capacity is Capacity.LACKS_CAPACITY:
            return "best-interests decision (the patient lacks capacity; no consent given)"
        if self.capacity is Capacity.SUBSTITUTE:
            return "consent given by a substitute on the patient's behalf"
        return "consent given by the patient"

    def age_at_consent(self) -> int | None:
        born = self.patient.birth_date
        return age_on(born, self.obtained_at.date()) if born else None


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years from `born` to `day` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class PhotoFacts:
    """Clinically useful facts read from a photo before scrubbing (never GPS, serials, names)."""

    width: int
    height: int
    orientation: int = 1
    capture_time: dt.datetime | None = None  # aware when the photo recorded its UTC offset


@dataclass(frozen=True)
class PhotoItem:
    """A photo as listed from the vault index: plain columns only, nothing identifying."""

    item_id: str
    batch_id: str
    state: ItemState
    size: int
    media_type: str
    created_at: dt.datetime
    consent_id: str | None = None


@dataclass
class ImportBatch:
    """Photos that arrived together (one phone, one drop); one consent covers them all."""

    batch_id: str
    source_label: str
    created_at: dt.datetime
    item_ids: list[str] = field(default_factory=list)
