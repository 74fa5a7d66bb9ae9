"""The durable outbox: record copies for the PACS and the FHIR server wait here until delivered.

A send is first written to the vault (sealed, see vault/outbox_store.py), then attempted.
When the network or the server is down the entry stays and is tried again with exponential
back-off - by the window's sender worker, or by `picsafe-desktop outbox retry` - across
restarts and a killed process. The entry keeps only references (consent, photos, use, the
staff member who sent it); the photos are read from the vault and the consent is checked again
at each attempt, so a consent withdrawn meanwhile stops the send.

Exactly once: an entry is removed only after the server acknowledged everything. If the
process dies between the server's store and that removal, the next attempt sends again under
the same identifiers - the stable SOP Instance UIDs (dicom.instance_uid) and the FHIR
conditional creates - so the PACS and the FHIR server keep one copy.

Only record copies go through the outbox: a teaching copy gets a fresh random identity on every
export (consent_gate), so it is sent at once or not at all.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from picsafe_desktop.export import from_vault
from picsafe_desktop.export.types import DeliveryError, ExportError
from picsafe_desktop.model import Staff, Use

log = logging.getLogger(__name__)

# Outbox kind ("pacs"/"fhir": the destination) for each export kind that sends.
DESTINATIONS = {"dicom": "pacs", "fhir": "fhir"}
NAMES = {"pacs": "the PACS", "fhir": "the FHIR server"}
WAITING, HELD = "waiting", "held"
DEFAULT_FIRST_RETRY = 30.0
DEFAULT_MAX_RETRY = 3600.0

# One delivery at a time per process: the window's worker and a "Retry now" click must not
# send one entry twice at once (another process cannot: the vault's lock keeps it out).
_delivering = threading.Lock()


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt of one entry did."""

    entry_id: str
    kind: str
    photos: int
    delivered: bool
    message: str  # safe to show: no patient data
    outcome: from_vault.ExportOutcome | None = None  # when delivered


class Queued(ExportError):
    """Not delivered yet: the send waits in the outbox and is retried automatically."""


def backoff(attempts: int, first: float = DEFAULT_FIRST_RETRY, most: float = DEFAULT_MAX_RETRY):
    """Seconds to wait after `attempts` failed attempts: first, 2x, 4x ... capped at `most`."""
    return min(most, first * (2 ** max(0, attempts - 1)))


def queue(
    vault: Any,
    consent_id: str,
    kind: str,
    *,
    staff: Staff,
    actor: str,
    item_ids: Sequence[str] | None = None,
    now: float | None = None,
) -> str:
    """Put a record copy for the PACS (`kind` "dicom") or the FHIR server ("fhir") in the
    outbox; returns the entry id. Nothing is sent yet (see `deliver`)."""
    if kind not in DESTINATIONS:
        raise ExportError(f"only PACS and FHIR sends go through the outbox, not {kind!r}")
    # Loading checks the consent and the photos now, so a queued entry is one that may be sent.
    try:
        batch = from_vault.load_batch(
            vault, consent_id, actor=actor, staff=staff, item_ids=item_ids
        )
    except ExportError as exc:  # refused before queueing: audited like any refused export
        vault.audit(
            "export_failed",
            actor=actor,
            subject=consent_id,
            details={
                "kind": kind,
                "use": Use.RECORD.value,
                "consent_id": consent_id,
                "reason": type(exc).__name__,
            },
        )
        raise
    entry_id = uuid.uuid4().hex
    payload = {
        "export": kind,
        "consent_id": consent_id,
        "item_ids": sorted(p.item_id for p in batch.photos),
        "staff": dataclasses.asdict(staff),
        "actor": actor,
        "report_id": batch.report_id,
        "last_error": "",
    }
    destination = DESTINATIONS[kind]
    vault.outbox_put(entry_id, destination, len(batch.photos), payload, now or time.time())
    vault.audit(
        "outbox_queued",
        actor=actor,
        subject=consent_id,
        details={"entry": entry_id, "kind": kind, "photos": len(batch.photos)},
    )
    return entry_id


def waiting(vault: Any) -> dict[str, int]:
    """Photos waiting per destination ("pacs", "fhir"), held ones included."""
    return waiting_in(vault.outbox_entries())


def waiting_in(entries: Sequence[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + entry.photos
    return counts


def banner(counts: dict[str, int]) -> str:
    """Like "3 photos waiting for the PACS" (and the FHIR server); "" when nothing waits."""
    parts = [
        f"{n} photo{'s' if n != 1 else ''} waiting for {NAMES.get(kind, kind)}"
        for kind, n in sorted(counts.items())
        if n
    ]
    return "; ".join(parts)


def _attempt(vault: Any, entry: Any, options: from_vault.ExportOptions) -> from_vault.ExportOutcome:
    """Load, send and audit one entry; raises ExportError (DeliveryError: try again later)."""
    p = entry.payload
    staff = Staff(**p["staff"])
    batch = from_vault.load_batch(
        vault, p["consent_id"], actor=p["actor"], staff=staff, item_ids=p["item_ids"]
    )
    batch = dataclasses.replace(batch, report_id=p["report_id"])
    outcome = from_vault.send(vault, batch, p["export"], options, actor=p["actor"])
    base = {"kind": p["export"], "use": Use.RECORD.value, "consent_id": p["consent_id"]}
    for photo in batch.photos:
        vault.audit(
            "export",
            actor=p["actor"],
            subject=photo.item_id,
            details=dict(
                base,
                destination=outcome.destination,
                report_id=outcome.report_id,
                outbox=entry.entry_id,
            ),
        )
    return outcome


def deliver(
    vault: Any,
    options: from_vault.ExportOptions,
    *,
    force: bool = False,
    now: Callable[[], float] = time.time,
    first_retry: float = DEFAULT_FIRST_RETRY,
    max_retry: float = DEFAULT_MAX_RETRY,
    after_send: Callable[[str], None] | None = None,
    only: str | None = None,
) -> list[Attempt]:
    """Attempt every entry that is due (all waiting and held ones with `force`, as
    `outbox retry` does). A delivered entry is removed; a failed one waits for its next time."""
    with _delivering:
        return _deliver(vault, options, force, now, first_retry, max_retry, after_send, only)


def _deliver(vault, options, force, now, first_retry, max_retry, after_send, only):  # noqa: ANN001, ANN202, PLR0913
    """`deliver` without taking the lock: the caller holds _delivering."""
    results: list[Attempt] = []
    for entry in vault.outbox_entries():
        if only is not None and entry.entry_id != only:
            continue
        if not force and (entry.state == HELD or entry.next_at > now()):
            continue
        kind = entry.payload["export"]
        if (kind == "dicom" and options.pacs is None) or (
            kind == "fhir" and options.fhir_target is None
        ):
            continue  # the destination is not configured on this PC: leave it waiting
        attempts = entry.attempts + 1
        try:
            outcome = _attempt(vault, entry, options)
        except DeliveryError as exc:  # unreachable or busy: try again later
            if not exc.retry:  # the server refused this content: a person must look
                _failed(vault, entry, attempts, HELD, now(), exc)
                results.append(Attempt(entry.entry_id, entry.kind, entry.photos, False, str(exc)))
                continue
            # +-10 %: PCs that lost the PACS at the same moment drift apart
            wait = backoff(attempts, first_retry, max_retry) * random.uniform(0.9, 1.1)  # noqa: S311
            _failed(vault, entry, attempts, WAITING, now() + wait, exc)
            results.append(Attempt(entry.entry_id, entry.kind, entry.photos, False, str(exc)))
            continue
        except ExportError as exc:  # consent withdrawn, photo gone: a person must look
            _failed(vault, entry, attempts, HELD, now(), exc)
            results.append(Attempt(entry.entry_id, entry.kind, entry.photos, False, str(exc)))
            continue
        if after_send is not None:
            after_send(entry.entry_id)  # tests: the moment between the server's ack and ours
        vault.outbox_remove(entry.entry_id)
        log.info("outbox entry %s delivered (%d photos)", entry.entry_id, entry.photos)
        results.append(
            Attempt(entry.entry_id, entry.kind, entry.photos, True, "delivered", outcome)
        )
    return results


def _failed(vault: Any, entry: Any, attempts: int, state: str, next_at: float, exc) -> None:
    payload = dict(entry.payload, last_error=str(exc)[:500])
    vault.outbox_update(
        entry.entry_id, state=state, attempts=attempts, next_at=next_at, payload=payload
    )
    vault.audit(
        "export_failed",
        actor=entry.payload["actor"],
        subject=entry.payload["consent_id"],
        details={
            "kind": entry.payload["export"],
            "use": Use.RECORD.value,
            "consent_id": entry.payload["consent_id"],
            "reason": type(exc).__name__,
            "outbox": entry.entry_id,
            "attempt": attempts,
        },
    )
    log.info("outbox entry %s not delivered (attempt %d, %s)", entry.entry_id, attempts, state)


def send(
    vault: Any,
    consent_id: str,
    kind: str,
    options: from_vault.ExportOptions,
    *,
    staff: Staff,
    actor: str,
    item_ids: Sequence[str] | None = None,
    first_retry: float = DEFAULT_FIRST_RETRY,
    max_retry: float = DEFAULT_MAX_RETRY,
) -> from_vault.ExportOutcome:
    """Queue a record copy and attempt it at once: the outcome when the server acknowledged
    it; `Queued` (with the reason) when it waits in the outbox; ExportError when refused."""
    # Queued and attempted under the delivery lock, so the window's sender cannot take the
    # entry in between (it would send it and leave this call without its outcome).
    with _delivering:
        entry_id = queue(vault, consent_id, kind, staff=staff, actor=actor, item_ids=item_ids)
        [result] = _deliver(
            vault, options, True, time.time, first_retry, max_retry, None, entry_id
        ) or [None]
    if result is not None and result.outcome is not None:
        return result.outcome
    if result is not None and not _still(vault, entry_id, WAITING):
        refused = DeliveryError(result.message)  # held: refused for a reason a person must fix
        refused.retry = False
        raise refused
    reason = (
        result.message.rstrip(".") if result is not None else "the destination is not configured"
    )
    raise Queued(
        f"Not sent yet: {reason}. The photos wait in the outbox"
        f" and are sent automatically when {NAMES[DESTINATIONS[kind]]} answers."
    )


def _still(vault: Any, entry_id: str, state: str) -> bool:
    return any(e.entry_id == entry_id and e.state == state for e in vault.outbox_entries())
