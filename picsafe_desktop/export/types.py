"""Plain inputs shared by every exporter, so exporters never depend on the vault."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field

from picsafe_desktop.model import ConsentRecord, Identifiability, PhotoFacts, Staff, Use


class ExportError(Exception):
    """An export could not be completed; the message is safe to show to the user."""


class ExportRefused(ExportError):
    """The consent on record does not cover this export."""


class DeliveryError(ExportError):
    """The PACS or FHIR server could not be reached or did not accept the export."""

    # False when the server answered and refused this content: sending it again will not help,
    # so the outbox holds it for a person instead of retrying (export/outbox.py).
    retry = True


@dataclass(frozen=True)
class ExportPhoto:
    """One scrubbed JPEG ready to leave the vault."""

    item_id: str
    jpeg: bytes
    facts: PhotoFacts
    body_site: str = ""
    sha256: str = ""  # hex digest of `jpeg`; checked so a mix-up fails before anything is sent
    # Position of the photo in its import batch (1, 2, ...), fixed by the vault's order, so a
    # subset export numbers its instances as the whole batch would; 0 = position in this export.
    number: int = 0
    # Coded body site from the ward's picker: {"code", "display", "laterality", "text"};
    # None when only the free-text `body_site` is known.
    site: dict | None = None
    # Consent governance (issue 15), from the item's encrypted metadata; checked by the gate.
    identifiability: Identifiability = Identifiability.UNKNOWN
    identifiability_confirmed: bool = False  # a clinician confirmed the answer after looking
    redacted: bool = False  # a redacted version the clinician saved
    intimate: bool = False
    taken_before_consent: bool = False  # captured before the bedside consent time

    def __post_init__(self) -> None:
        actual = hashlib.sha256(self.jpeg).hexdigest()
        if not self.sha256:
            object.__setattr__(self, "sha256", actual)
        elif self.sha256.lower() != actual:
            raise ExportError(f"photo {self.item_id}: bytes do not match their SHA-256")


def _new_report_id() -> str:
    return "PSR-" + uuid.uuid4().hex[:12].upper()


@dataclass(frozen=True)
class ExportBatch:
    """Photos of one import batch, their consent, the exporting staff member and the use."""

    batch_id: str
    consent: ConsentRecord
    photos: tuple[ExportPhoto, ...]
    staff: Staff  # who runs the export: named in the report and the audit log
    use: Use = Use.RECORD
    report_id: str = field(default_factory=_new_report_id)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # Set by consent_gate.gate() for teaching/publication: identifiers already removed.
    deidentified: bool = False
    # Earliest capture time of the whole import batch (not only of the photos exported), so
    # Study Date/Time do not depend on the subset; None: computed from `photos`.
    study_time: dt.datetime | None = None
    # Random per de-identified copy (set by the gate): the seed of the copy's own UIDs,
    # identifiers and pseudonym, so nothing in it can be derived from the record copy.
    copy_id: str = ""

    def __post_init__(self) -> None:
        if not self.photos:
            raise ExportError("nothing to export: the batch has no photos")
        object.__setattr__(self, "photos", tuple(self.photos))
