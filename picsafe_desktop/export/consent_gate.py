"""Every export passes here first: the consent on record must cover the chosen use.

Teaching and publication exports leave the hospital's record, so they never carry patient
identifiers and never carry photos the clinician marked as identifiable.
"""

from __future__ import annotations

import dataclasses
import hashlib

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


def pseudonym(batch_id: str) -> str:
    """A stable stand-in for the patient in de-identified exports (not derived from the MRN)."""
    return "ANON-" + hashlib.sha256(("picsafe-pseudonym:" + batch_id).encode()).hexdigest()[:12]


def _strip_consent(consent: ConsentRecord, batch_id: str) -> ConsentRecord:
    return dataclasses.replace(
        consent,
        patient=Patient(mrn=pseudonym(batch_id)),
        substitute=None,
        signature_png=None,
        witness_name="",
    )


def gate(batch: ExportBatch) -> ExportBatch:
    """Check the batch against its consent; for secondary uses return a de-identified copy."""
    check_allowed(batch.consent, batch.use)
    if batch.use not in _SECONDARY_USES or batch.deidentified:
        return batch
    photos = tuple(
        dataclasses.replace(p, facts=dataclasses.replace(p.facts, capture_time=None))
        for p in batch.photos
    )
    return dataclasses.replace(
        batch,
        consent=_strip_consent(batch.consent, batch.batch_id),
        photos=photos,
        deidentified=True,
    )
