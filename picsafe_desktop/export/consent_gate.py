"""Every export passes here first: the consent on record must cover the chosen use.

Teaching and publication exports leave the hospital's record, so they never carry patient
identifiers and never carry photos the clinician marked as identifiable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

from picsafe_desktop.export.types import ExportBatch, ExportRefused
from picsafe_desktop.model import ConsentRecord, Patient, Use

_SECONDARY_USES = frozenset({Use.TEACHING, Use.PUBLICATION})


def check_allowed(consent: ConsentRecord | None, use: Use) -> None:
    """Raise ExportRefused unless `consent` covers `use`.

    The record use needs a consent decision on file (the model treats it as always granted
    once recorded); teaching and publication need that use ticked and a non-identifiable photo.
    """
    if consent is None:
        raise ExportRefused("no consent is recorded for these photos; nothing may be exported")
    use = Use(use)
    if use is Use.RECORD:
        return
    if not consent.allows(use):
        raise ExportRefused(
            f"the patient's consent does not cover {use.value}; "
            f"it allows: {', '.join(sorted(u.value for u in consent.uses)) or 'nothing'}"
        )
    if consent.identifiable:
        raise ExportRefused(
            f"these photos are marked identifiable, so they cannot be exported for {use.value}"
        )


def pseudonym(copy_id: str) -> str:
    """The stand-in for the patient in one de-identified copy.

    Derived from the copy's random id, never from the MRN or the batch id (which the record
    copy shows), so a teaching copy cannot be linked back to the record by recomputing it.
    """
    return "ANON-" + hashlib.sha256(("picsafe-pseudonym:" + copy_id).encode()).hexdigest()[:12]


def _strip_consent(consent: ConsentRecord, copy_id: str) -> ConsentRecord:
    return dataclasses.replace(
        consent,
        patient=Patient(mrn=pseudonym(copy_id)),
        substitute=None,
        signature_png=None,
        witness_name="",
    )


def gate(batch: ExportBatch) -> ExportBatch:
    """Check the batch against its consent; for secondary uses return a de-identified copy."""
    check_allowed(batch.consent, batch.use)
    if batch.use not in _SECONDARY_USES or batch.deidentified:
        return batch
    # A new object: numbered by its own order, no dates, seeded by a fresh random copy id.
    photos = tuple(
        dataclasses.replace(p, facts=dataclasses.replace(p.facts, capture_time=None), number=n)
        for n, p in enumerate(batch.photos, start=1)
    )
    copy_id = secrets.token_hex(16)
    return dataclasses.replace(
        batch,
        consent=_strip_consent(batch.consent, copy_id),
        photos=photos,
        deidentified=True,
        study_time=None,
        copy_id=copy_id,
    )
