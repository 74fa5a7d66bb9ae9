"""The window's consent amendment: add or remove a use, correct the body site (issue 15).

`governance.amend` takes a complete consent form (the CLI's JSON); the window changes only
what a clinician may change after the fact, and these rules say what such a change needs. The
uses, publication and text rules are consent.py's own (one rule, one implementation). The new
record is linked to the old one by `governance.amend`, which keeps both and audits it.

- Removing a use, or correcting the body site, needs a reason only: what the patient agreed to
  still covers less.
- Adding a use is a new agreement: the patient (or the substitute) agreed to it now, in a
  conversation a witness heard; the record then says so (verbal, with that witness, taken by
  the clinician making the amendment, at this time). Nobody can widen a best-interests
  decision (lacks capacity: record only).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from picsafe_desktop.consent import ConsentError, FieldError, _Checker, _uses
from picsafe_desktop.model import (
    ConsentRecord,
    Identifiability,
    Method,
    SignedBy,
    Staff,
    Use,
    Withdrawal,
)


@dataclass(frozen=True)
class UseChange:
    """What the window's amendment form asks for."""

    uses: frozenset[Use]
    publication: str = ""  # journal or website, for the publication use
    identifiable_publication: bool = False
    body_site: str = ""
    witness: str = ""  # who heard the patient agree to an added use


def amended_record(
    old: ConsentRecord,
    change: UseChange,
    *,
    clinician: Staff,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """The new consent record for `change`, or ConsentError naming each field at fault."""
    when = now or dt.datetime.now().astimezone()
    check = _Checker()
    if old.withdrawn is Withdrawal.FULL:
        check.add("", "This consent was withdrawn; record a new consent instead.")
    uses = _uses(check, sorted(u.value for u in change.uses), old.capacity)
    publication = check.text(change.publication, "publication", "Journal or website", max_len=300)
    if Use.PUBLICATION in uses and not publication:
        check.add("publication", "Name the journal or website where the photos may be published.")
    if Use.PUBLICATION not in uses:
        publication = ""
    identifiable_publication = change.identifiable_publication and Use.PUBLICATION in uses
    if change.identifiable_publication and Use.PUBLICATION not in uses:
        check.add(
            "identifiable_publication", "Identifiable publication needs the 'publication' use."
        )
    body_site = check.text(change.body_site, "body_site", "Body site", max_len=200)
    witness = check.text(change.witness, "witness", "Witness", max_len=200)
    added = uses - old.uses
    widened = bool(added) or (identifiable_publication and not old.identifiable_publication)
    if widened and not witness:
        check.add(
            "witness",
            "Adding a use is a new agreement: name the witness who heard the patient agree "
            "(or remove the added use).",
        )
    if old.withdrawn is Withdrawal.SECONDARY and added:
        check.add(
            "uses",
            "The patient withdrew teaching and publication; record a new consent with the "
            "patient to allow them again.",
        )
    if not (
        widened
        or uses != old.uses
        or body_site != old.body_site
        or publication != old.publication
        or identifiable_publication != old.identifiable_publication
    ):
        check.add("", "Nothing was changed.")
    if check.errors:
        raise ConsentError(check.errors)
    new = dataclasses.replace(
        old,
        consent_id=uuid.uuid4().hex,
        uses=uses,
        publication=publication,
        identifiable_publication=identifiable_publication,
        body_site=body_site,
        obtained_at=when,
        # Left to each photo's own answer (its metadata): governance.amend would otherwise
        # overwrite every photo's answer, confirmed ones too, with the first form's.
        identifiability=Identifiability.UNKNOWN,
        photo_identifiability=(),
    )
    if widened:
        # The added use rests on today's verbal agreement, not on the first signature.
        new = dataclasses.replace(
            new,
            method=Method.VERBAL,
            witness_name=witness,
            signature_png=None,
            signed_by=SignedBy.CLINICIAN,
            obtained_by=clinician,
            consented_at=when,
        )
    return new


def describe(errors: list[FieldError]) -> str:
    return "\n".join(str(e) for e in errors)
