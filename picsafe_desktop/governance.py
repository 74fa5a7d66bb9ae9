"""Consent governance on a vault: identifiability answers, amendments, withdrawal, retention.

Qt-free; `services.py` (the window) and `consent_commands.py` (the CLI) both call these, so
each rule has one implementation. Every change is audited with the staff member who made it.
Consent records are never edited: an amendment or a withdrawal is a new record that names the
one it replaces (`amends`), and the photos move to it; the old record stays, readable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from picsafe_desktop import consent as rules
from picsafe_desktop.model import ConsentRecord, Identifiability, ItemState, Use, Withdrawal

WITHDRAWAL_POLICIES = ("keep_record_copies", "remove_record_copies")


class GovernanceError(ValueError):
    """The change cannot be made; the message says why and what to do instead."""


# -- identifiability ----------------------------------------------------------------------------


def set_identifiability(
    vault, item_id: str, answer: Identifiability | str, *, actor: str, reason: str
) -> None:
    """A clinician's answer for one photo, after looking at it: it replaces the answer given at
    consent and counts as confirmed, so the export face check no longer stops it."""
    answer = Identifiability(answer)
    if answer is Identifiability.UNKNOWN:
        raise GovernanceError("answer identifiable or not_identifiable; 'unknown' is no answer")
    if not reason.strip():
        raise GovernanceError("give the reason for the answer (e.g. 'face not in frame')")
    meta = dict(vault.read_metadata(item_id))
    before = meta.get("identifiability") or "unknown"
    meta["identifiability"] = answer.value
    meta["identifiability_confirmed_by"] = actor
    vault.update_metadata(item_id, meta, actor=actor)
    vault.audit(
        "identifiability",
        actor=actor,
        subject=item_id,
        details={"from": before, "to": answer.value, "reason": reason.strip()},
    )


# -- amendment and withdrawal -------------------------------------------------------------------


def read(vault, consent_id: str, *, actor: str) -> ConsentRecord:
    return rules.record_from_dict(vault.read_consent(consent_id, actor=actor))


def _replace(
    vault,
    consent_id: str,
    new: ConsentRecord,
    *,
    actor: str,
    event: str,
    details: Mapping[str, Any],
    item_ids: Sequence[str] | None = None,
) -> str:
    """Store `new` (linked to `consent_id`) and move the photos to it; both records kept."""
    batch_id = vault.consent_batch(consent_id)
    if item_ids is None:
        item_ids = [i.item_id for i in vault.list_items(consent_id=consent_id)]
    new_id = vault.put_consent(
        batch_id, rules.record_to_dict(new), mrn=new.patient.mrn, actor=actor
    )
    if item_ids:
        vault.set_state(list(item_ids), ItemState.ACTIVE, consent_id=new_id, actor=actor)
    vault.audit(event, actor=actor, subject=consent_id, details=dict(details, new_consent=new_id))
    return new_id


def _current(vault, consent_id: str, actor: str) -> ConsentRecord:
    record = read(vault, consent_id, actor=actor)
    if record.withdrawn is Withdrawal.FULL:
        raise GovernanceError(f"consent {consent_id} was withdrawn; record a new consent instead")
    later = [c for c in superseded_by(vault, record, actor=actor) if c != consent_id]
    if later:
        raise GovernanceError(
            f"consent {consent_id} was already amended by {later[0]}; amend that one"
        )
    return record


def amend(
    vault,
    consent_id: str,
    fields: Mapping[str, Any] | ConsentRecord,
    *,
    actor: str,
    reason: str,
    wording: rules.Wordings | None = None,
    review_at_age: int = rules.DEFAULT_REVIEW_AGE,
    now: dt.datetime | None = None,
) -> str:
    """See _amend; one user action, one vault transaction (all of it or nothing)."""
    with vault.transaction():
        return _amend(
            vault,
            consent_id,
            fields,
            actor=actor,
            reason=reason,
            wording=wording,
            review_at_age=review_at_age,
            now=now,
        )


def _amend(
    vault,
    consent_id: str,
    fields: Mapping[str, Any] | ConsentRecord,
    *,
    actor: str,
    reason: str,
    wording: rules.Wordings | None = None,
    review_at_age: int = rules.DEFAULT_REVIEW_AGE,
    now: dt.datetime | None = None,
) -> str:
    """A new consent conversation (widen or narrow uses, correct identifiability...): `fields`
    is a complete JSON form (or a record `load_consent_json` made from one), checked by the
    same rules as any consent, for the same patient. Answers the new form gives for
    identifiability replace the photos' answers (unconfirmed again: the face check reruns)."""
    if not reason.strip():
        raise GovernanceError("give the reason for the amendment")
    old = _current(vault, consent_id, actor)
    if isinstance(fields, ConsentRecord):
        new = fields
    else:
        new = rules.record_from_fields(
            fields, wording=wording or rules.default_wording(), now=now, review_at_age=review_at_age
        )
    if new.patient.mrn != old.patient.mrn:
        raise GovernanceError("an amendment must be for the same patient (MRN)")
    new = dataclasses.replace(new, amends=consent_id, amendment_reason=reason.strip())
    items = [i.item_id for i in vault.list_items(consent_id=consent_id)]
    answers = new.photo_identifiability
    if answers and len(answers) != len(items):
        raise GovernanceError(
            f"{len(answers)} identifiability answers for {len(items)} photos; give one per photo"
        )
    if answers or new.identifiability is not Identifiability.UNKNOWN:
        for index, item_id in enumerate(items):
            meta = dict(vault.read_metadata(item_id))
            meta["identifiability"] = new.identifiability_of(index).value
            meta.pop("identifiability_confirmed_by", None)  # a new answer is checked afresh
            vault.update_metadata(item_id, meta, actor=actor)
    added = sorted(u.value for u in new.uses - old.uses)
    removed = sorted(u.value for u in old.uses - new.uses)
    return _replace(
        vault,
        consent_id,
        new,
        actor=actor,
        event="consent_amended",
        details={"reason": reason.strip(), "uses_added": added, "uses_removed": removed},
        item_ids=items,
    )


@dataclass
class WithdrawalResult:
    new_consent_id: str
    photos_destroyed: int
    photos_kept: int
    secondary_exports: list[dict]  # teaching/publication copies to recall
    record_exports: list[dict]  # copies in the medical record
    record_copies_action: str  # what the site's policy says to do with them


def _exports(vault, item_ids: Iterable[str], consent_ids: set[str]) -> list[dict]:
    ids = set(item_ids)
    found = []
    for row in vault.audit_rows():
        if row.event != "export":
            continue
        if row.subject in ids or row.details.get("consent_id") in consent_ids:
            found.append(dict(row.details, photo=row.subject, at=str(row.at)))
    return found


def withdraw(
    vault,
    consent_id: str,
    scope: Withdrawal | str,
    *,
    actor: str,
    reason: str,
    policy: str = "keep_record_copies",
    now: dt.datetime | None = None,
) -> WithdrawalResult:
    """See _withdraw; one user action, one vault transaction (all of it or nothing)."""
    with vault.transaction():
        return _withdraw(
            vault, consent_id, scope, actor=actor, reason=reason, policy=policy, now=now
        )


def _withdraw(
    vault,
    consent_id: str,
    scope: Withdrawal | str,
    *,
    actor: str,
    reason: str,
    policy: str = "keep_record_copies",
    now: dt.datetime | None = None,
) -> WithdrawalResult:
    """Withdraw teaching and publication (the clinical record stays), or everything.

    The consent is marked withdrawn by a new linked record, so the history shows what was
    agreed and when it ended. A full withdrawal destroys the vault's photos; copies already in
    the medical record are part of it (GMC) and, by `[consent] withdrawal_policy`, are either
    kept ("keep_record_copies") or listed for the records team to remove
    ("remove_record_copies"). Copies shared for teaching or publication are listed for recall.
    """
    scope = Withdrawal(scope)
    if policy not in WITHDRAWAL_POLICIES:
        raise GovernanceError(f"unknown withdrawal policy {policy!r}")
    if not reason.strip():
        raise GovernanceError("give the reason for the withdrawal")
    old = _current(vault, consent_id, actor)
    items = [i.item_id for i in vault.list_items(consent_id=consent_id)]
    chain = {consent_id, *history_ids(vault, old, actor=actor)}
    exports = _exports(vault, items, chain)
    secondary = [e for e in exports if e.get("use") != Use.RECORD.value]
    record = [e for e in exports if e.get("use") == Use.RECORD.value]
    when = now or dt.datetime.now().astimezone()
    marked = dataclasses.replace(
        old,
        consent_id=uuid.uuid4().hex,
        obtained_at=when,
        uses=frozenset({Use.RECORD}) if scope is Withdrawal.SECONDARY else frozenset(),
        publication="",
        identifiable_publication=False,
        amends=consent_id,
        amendment_reason=reason.strip(),
        withdrawn=scope,
        signature_png=None,  # the withdrawal is not a new signature
    )
    destroyed = 0
    if scope is Withdrawal.FULL:
        # All of the photos or none, in one transaction.
        destroyed = vault.delete_items(sorted(items), actor=actor, reason=reason.strip())
        items = []
    action = "kept: they form part of the medical record"
    if policy == "remove_record_copies":
        action = "to be removed from the medical record by the records team"
    new_id = _replace(
        vault,
        consent_id,
        marked,
        actor=actor,
        event="consent_withdrawn",
        details={
            "scope": scope.value,
            "reason": reason.strip(),
            "photos_destroyed": destroyed,
            "exports": len(exports),
            "policy": policy,
        },
        item_ids=items,
    )
    return WithdrawalResult(
        new_id,
        destroyed,
        len(items),
        secondary,
        record if scope is Withdrawal.FULL else [],
        action if scope is Withdrawal.FULL else "kept (only teaching and publication ended)",
    )


# -- history -----------------------------------------------------------------------------------


def history_ids(vault, record: ConsentRecord, *, actor: str) -> list[str]:
    """Ids of every consent of this patient linked to `record`, oldest first."""
    return [cid for cid, _ in _chain(vault, record, actor)]


def _chain(vault, record: ConsentRecord, actor: str) -> list[tuple[str, ConsentRecord]]:
    by_id = {cid: read(vault, cid, actor=actor) for cid in vault.find_by_mrn(record.patient.mrn)}
    links: dict[str, str] = {cid: r.amends for cid, r in by_id.items() if r.amends}
    start = next((cid for cid, r in by_id.items() if r.consent_id == record.consent_id), None)
    if start is None:
        return []
    root = start
    while links.get(root) in by_id:
        root = links[root]
    chain, frontier = [], [root]
    while frontier:
        cid = frontier.pop(0)
        chain.append((cid, by_id[cid]))
        frontier += [c for c, parent in links.items() if parent == cid]
    return chain


def superseded_by(vault, record: ConsentRecord, *, actor: str) -> list[str]:
    """Consents that amend `record` (directly or later in its chain)."""
    chain = _chain(vault, record, actor)
    ids = [cid for cid, _ in chain]
    mine = next((cid for cid, r in chain if r.consent_id == record.consent_id), None)
    return ids[ids.index(mine) + 1 :] if mine in ids else []


# -- the patient's copy -------------------------------------------------------------------------


def write_patient_copy(vault, consent_id: str, out, *, actor: str, site=None):
    """Write the patient's PDF (export/patient_copy.py) atomically; audited as an export."""
    from pathlib import Path

    from picsafe_desktop.export import files, patient_copy

    record = read(vault, consent_id, actor=actor)
    site_name = getattr(getattr(site, "export", None), "institution_name", "") or ""
    data = patient_copy.render(record, consent_id[:8].upper(), site_name=site_name)
    out = Path(out)
    files.write_file(out, data)
    vault.audit("patient_copy", actor=actor, subject=consent_id, details={"destination": str(out)})
    return out


# -- intimate images ----------------------------------------------------------------------------


def intimate_placeholder() -> bytes:
    """The grid's stand-in for an intimate photo that has not been opened (no pixels of it)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 192), (96, 96, 110))
    pen = ImageDraw.Draw(image)
    pen.text((20, 80), "Intimate image", fill="white")
    pen.text((20, 100), "open it to view (reason asked)", fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


# -- retention ----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reached_record(vault) -> dict[str, dt.datetime]:
    """When each photo first reached the medical record (its first record-use export)."""
    first: dict[str, dt.datetime] = {}
    for row in vault.audit_rows():
        if row.event == "export" and row.details.get("use") == Use.RECORD.value:
            first.setdefault(row.subject, row.at)
    return first


def retention_due(vault, keep_days: int, *, now: dt.datetime | None = None) -> list[dict]:
    """Photos kept `keep_days` since they reached the record: due for disposal by a person.
    Nothing is ever shredded here; 0 days means no retention limit is configured."""
    if keep_days <= 0:
        return []
    now = now or _now()
    reached = _reached_record(vault)
    due = []
    for item in vault.list_items(state=ItemState.ACTIVE):
        at = reached.get(item.item_id)
        if at is not None and at + dt.timedelta(days=keep_days) <= now:
            due.append(
                {"photo": item.item_id, "consent_id": item.consent_id, "reached_record": str(at)}
            )
    return due


def dispose(
    vault,
    item_ids: Iterable[str],
    *,
    actor: str,
    keep_days: int,
    now: dt.datetime | None = None,
) -> int:
    """Shred photos past retention, each checked again first; audited with the reason."""
    due = {row["photo"] for row in retention_due(vault, keep_days, now=now)}
    ids = list(item_ids)
    not_due = [i for i in ids if i not in due]
    if not_due:
        raise GovernanceError(
            f"{len(not_due)} photo(s) are not past their retention period "
            f"(first: {not_due[0]}); nothing was destroyed"
        )
    for item_id in ids:
        vault.delete(
            item_id,
            actor=actor,
            reason=f"retention: kept {keep_days} days after reaching the medical record",
        )
    return len(ids)


def disposal_report(vault) -> list[dict]:
    """What was shredded, when, by whom and why, from the tamper-evident audit log."""
    return [
        {
            "at": str(row.at),
            "photo": row.subject,
            "by": row.actor,
            "reason": str(row.details.get("reason", "")),
        }
        for row in vault.audit_rows()
        if row.event == "delete"
    ]


def review_due(vault, *, actor: str, review_months: int, today: dt.date | None = None) -> list:
    """Current consents whose review date has come: a child reaching the site's review age,
    or `[retention] consent_review_months` after consent. (consent id, why) pairs."""
    today = today or dt.date.today()
    found = []
    consent_ids = {i.consent_id for i in vault.list_items(state=ItemState.ACTIVE) if i.consent_id}
    for consent_id in sorted(consent_ids):
        record = read(vault, consent_id, actor=actor)
        if record.review_on is not None and record.review_on <= today:
            found.append((consent_id, f"the patient reached the review age on {record.review_on}"))
        elif review_months:
            start = record.obtained_at.date()
            months = start.month - 1 + review_months
            year, month = start.year + months // 12, months % 12 + 1
            due = dt.date(year, month, min(start.day, 28))
            if due <= today:
                found.append((consent_id, f"routine review due on {due}"))
    return found
