"""Which photos the PACS has committed to keeping, kept as audit rows, and the site policy
`[retention] after_commit_days` built on it (issue 16).

A photo is "in the PACS" only after a storage commitment report named it: the row
`pacs_committed` (subject = the photo's vault id; the SOP Instance UID, transaction and PACS in
the encrypted details). Sent but unconfirmed photos get `pacs_not_committed`. Policy disposal
is a person's audited action and only ever touches committed photos.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydicom.uid import VLPhotographicImageStorage

from picsafe_desktop.export import dicom
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError
from picsafe_desktop.model import ItemState

COMMITTED, NOT_COMMITTED = "pacs_committed", "pacs_not_committed"


def instances(batch: ExportBatch) -> dict[str, str]:
    """SOP Instance UID -> vault item id for the objects dicom.py builds from `batch`."""
    batch = gate(batch)
    return {str(dicom._uids(batch, p)[2]): p.item_id for p in batch.photos}  # noqa: SLF001


def commit_and_record(vault, batch: ExportBatch, commit, *, actor: str) -> str:  # noqa: ANN001
    """After a send: ask the PACS to commit the batch (`commit(pairs) -> CommitResult`, e.g.
    commitment.request bound to the site's PACS), record the answer per photo, and say what
    happened. The photos are stored either way: a failed request is "not committed", not a
    failed export."""
    from picsafe_desktop.export.commitment import CommitResult

    by_uid = instances(batch)
    try:
        result = commit([(VLPhotographicImageStorage, uid) for uid in by_uid])
    except DeliveryError as exc:
        result = CommitResult("", (), tuple(by_uid), f"not asked: {exc}")
    for uid in result.committed:
        vault.audit(COMMITTED, actor=actor, subject=by_uid[uid], details={
            "sop_instance_uid": uid, "transaction_uid": result.transaction_uid,
            "destination": result.destination})  # fmt: skip
    for uid in result.failed:
        vault.audit(NOT_COMMITTED, actor=actor, subject=by_uid[uid], details={
            "sop_instance_uid": uid, "transaction_uid": result.transaction_uid,
            "destination": result.destination})  # fmt: skip
    if not result.failed:
        return f"the PACS committed all {len(result.committed)} photos"
    return (f"the PACS committed {len(result.committed)} of {len(by_uid)} photos; the others "
            "are kept here until it does")  # fmt: skip


def committed_at(vault) -> dict[str, dt.datetime]:
    """When the PACS first committed each photo."""
    first: dict[str, dt.datetime] = {}
    for row in vault.audit_rows():
        if row.event == COMMITTED:
            first.setdefault(row.subject, row.at)
    return first


def status(vault, item_id: str) -> str:
    """One line for the details pane: committed (when), sent but not confirmed, or ''."""
    state = ""
    for row in vault.audit_rows(subject=item_id):
        if row.event == COMMITTED:
            return f"In the PACS (committed {row.at:%Y-%m-%d %H:%M} UTC)"
        if row.event == NOT_COMMITTED:
            state = "Sent to the PACS, not confirmed: keep the local copy"
    return state


def due(vault, after_days: int, *, now: dt.datetime | None = None) -> list[dict]:
    """Photos committed at least `after_days` ago (0: no policy, nothing is due)."""
    if after_days <= 0:
        return []
    now = now or dt.datetime.now(dt.UTC)
    at = committed_at(vault)
    return [
        {"photo": item.item_id, "consent_id": item.consent_id, "committed": str(at[item.item_id])}
        for item in vault.list_items(state=ItemState.ACTIVE)
        if item.item_id in at and at[item.item_id] + dt.timedelta(days=after_days) <= now
    ]


def dispose(
    vault, item_ids: Iterable[str], *, actor: str, after_days: int, now: dt.datetime | None = None
) -> int:
    """Crypto-shred local copies past the policy; each is checked again first, and a photo
    the PACS has not committed is refused: nothing at all is destroyed then."""
    ok = {row["photo"] for row in due(vault, after_days, now=now)}
    ids = list(item_ids)
    refused = [i for i in ids if i not in ok]
    if refused:
        raise ExportError(
            f"{len(refused)} photo(s) are not committed by the PACS for {after_days} days "
            f"(first: {refused[0]}); nothing was destroyed"
        )
    for item_id in ids:
        reason = f"retention: {after_days} days after the PACS committed it"
        vault.delete(item_id, actor=actor, reason=reason)
    return len(ids)
