"""Every export passes here first: the consent on record must cover the chosen use.

Teaching and publication exports leave the hospital's record, so they never carry patient
identifiers, names of staff or relatives, full dates or unscreened free text, and each photo
must have an identifiability answer: identifiable photos only go to publication when the
patient agreed to identifiable publication, and a photo answered "not identifiable" still
stops at a detected face unless it was redacted or a clinician confirmed the answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable

from picsafe_desktop.export import anatomy
from picsafe_desktop.export.types import ExportBatch, ExportPhoto, ExportRefused
from picsafe_desktop.model import ConsentRecord, Identifiability, Patient, Use

_SECONDARY_USES = frozenset({Use.TEACHING, Use.PUBLICATION})

FaceFinder = Callable[[bytes], list]


def check_allowed(consent: ConsentRecord | None, use: Use) -> None:
    """Raise ExportRefused unless `consent` covers `use`.

    The record use needs a consent decision on file (the model treats it as always granted
    once recorded); teaching and publication need that use ticked. Each photo is then checked
    by `check_photos`.
    """
    if consent is None:
        raise ExportRefused("no consent is recorded for these photos; nothing may be exported")
    use = Use(use)
    if not consent.uses or (consent.withdrawn is not None and use is not Use.RECORD):
        raise ExportRefused(f"the patient's consent was withdrawn; nothing may go to {use.value}")
    if use is Use.RECORD:
        return
    if not consent.allows(use):
        raise ExportRefused(
            f"the patient's consent does not cover {use.value}; "
            f"it allows: {', '.join(sorted(u.value for u in consent.uses)) or 'nothing'}"
        )


def _find_faces(jpeg: bytes) -> list:
    from picsafe_desktop.deid import faces

    return faces.find_faces(jpeg)


def check_photos(batch: ExportBatch, find_faces: FaceFinder | None = None) -> None:
    """Per-photo checks for teaching and publication (see the module docstring)."""
    use = Use(batch.use)
    if use not in _SECONDARY_USES:
        return
    consent = batch.consent
    for number, photo in enumerate(batch.photos, start=1):
        which = f"photo {number} of {len(batch.photos)}"
        if photo.intimate and not (consent.intimate and consent.intimate.secondary_agreed):
            raise ExportRefused(
                f"{which} is an intimate image: intimate photos are for the clinical record "
                f"only unless the patient expressly agreed to {use.value}"
            )
        state = photo.identifiability
        if state is Identifiability.UNKNOWN:
            raise ExportRefused(
                f"{which}: nobody has said whether it is identifiable; a clinician must answer "
                f"(identifiable or not identifiable) before it can be exported for {use.value}"
            )
        if state is Identifiability.IDENTIFIABLE:
            if use is Use.PUBLICATION and consent.identifiable_publication:
                continue
            raise ExportRefused(
                f"{which} is identifiable: redact it first"
                + (
                    ", or record the patient's consent to identifiable publication"
                    if use is Use.PUBLICATION
                    else " (teaching copies must not identify the patient)"
                )
            )
        if photo.redacted or photo.identifiability_confirmed:
            continue
        _face_stop(photo, which, use, find_faces or _find_faces)


def _face_stop(photo: ExportPhoto, which: str, use: Use, find_faces: FaceFinder) -> None:
    from picsafe_desktop.deid.errors import DeidError

    try:
        faces = find_faces(photo.jpeg)
    except DeidError as exc:  # no detector, or an image it cannot read: fail closed
        raise ExportRefused(
            f"{which}: it could not be checked for faces ({exc}); a clinician must confirm "
            f"it is not identifiable before a {use.value} export"
        ) from None
    if faces:
        raise ExportRefused(
            f"{which} is marked not identifiable but a face was detected: redact it, or a "
            f"clinician must confirm it is not identifiable, before a {use.value} export"
        )


def pseudonym(copy_id: str) -> str:
    """The stand-in for the patient in one de-identified copy.

    Derived from the copy's random id, never from the MRN or the batch id (which the record
    copy shows), so a teaching copy cannot be linked back to the record by recomputing it.
    """
    return "ANON-" + hashlib.sha256(("picsafe-pseudonym:" + copy_id).encode()).hexdigest()[:12]


def screened_body_site(text: str) -> str:
    """A body site for de-identified copies: only a coded anatomical region (with its side)
    survives; free text that matches no region is withheld, since it could name anything."""
    site = anatomy.lookup(text or "")
    if site is None or not site.coded:
        return ""
    side = f"{site.laterality[1].lower()} " if site.laterality else ""
    return side + site.meaning.lower()


def _strip_consent(consent: ConsentRecord, copy_id: str) -> ConsentRecord:
    return dataclasses.replace(
        consent,
        patient=Patient(mrn=pseudonym(copy_id)),
        substitute=None,
        signature_png=None,
        witness_name="",
        body_site=screened_body_site(consent.body_site),
        indication="",  # free text: may name the patient, a relative or a place
        child=None,
        review_on=None,
        interpreter=None,
        intimate=None,
        consented_at=None,
        photographer="",
        amends="",
        amendment_reason="",
    )


def gate(batch: ExportBatch, find_faces: FaceFinder | None = None) -> ExportBatch:
    """Check the batch against its consent; for secondary uses return a de-identified copy."""
    check_allowed(batch.consent, batch.use)
    if batch.use not in _SECONDARY_USES or batch.deidentified:
        return batch
    check_photos(batch, find_faces)
    # A new object: numbered by its own order, no dates, seeded by a fresh random copy id.
    photos = tuple(
        dataclasses.replace(
            p,
            facts=dataclasses.replace(p.facts, capture_time=None),
            body_site=screened_body_site(p.body_site),
            number=n,
        )
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
