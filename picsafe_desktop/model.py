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
    identifiable: bool = False
    substitute: Substitute | None = None
    publication: str = ""
    signature_png: bytes | None = None
    witness_name: str = ""
    wording_version: str = ""
    wording_sha256: str = ""

    def allows(self, use: Use) -> bool:
        return use in self.uses


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
