"""ATNA: every vault audit event also goes to the hospital's audit record repository.

Store and forward: `collect` turns the vault's audit rows after the spool's cursor into RFC 5424
frames carrying DICOM audit messages and seals them into the vault's ATNA spool (one
transaction with the cursor); `flush` sends the spool in order and removes what was handed
over. While the repository is unreachable the frames wait, encrypted, in the vault, and go out
when it answers. Syslog has no application acknowledgement, so a process killed between
handing frames to the network and removing them sends them again: at least once, never lost.

A vault that opened read-only because it differs from its authenticated state (tamper or
rollback) cannot spool: its Security Alert is sent at once, and kept in memory for the next
pass if the repository is down.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from picsafe_desktop.export import atna_message, dicom, syslog_sender
from picsafe_desktop.export.atna_message import Event, Source
from picsafe_desktop.export.types import DeliveryError

log = logging.getLogger(__name__)

BATCH = 200  # frames per connection


def target_from_site(site) -> syslog_sender.SyslogTarget | None:
    """`[audit] syslog_url` and its TLS files, or None while no repository is configured."""
    audit = getattr(site, "audit", None)
    url = getattr(audit, "syslog_url", "") if audit is not None else ""
    if not url:
        return None
    return syslog_sender.parse_url(
        url,
        ca_file=getattr(audit, "syslog_ca_file", ""),
        cert_file=getattr(audit, "syslog_cert_file", ""),
        key_file=getattr(audit, "syslog_key_file", ""),
    )


def source_from_site(site) -> Source:
    audit = getattr(site, "audit", None)
    source_id = getattr(audit, "source_id", "") if audit is not None else ""
    site_id = getattr(audit, "enterprise_site_id", "") if audit is not None else ""
    return Source(source_id=source_id, site_id=site_id) if source_id else Source(site_id=site_id)


class Forwarder:
    def __init__(self, vault: Any, target: syslog_sender.SyslogTarget, source: Source) -> None:
        self.vault = vault
        self.target = target
        self.source = source
        self._lock = threading.Lock()
        self._unspooled: list[bytes] = []  # alerts of a vault that cannot be written

    # -- building ----------------------------------------------------------------------------
    def _consent_of(self, row) -> str:
        details = row.details or {}
        if details.get("consent_id"):
            return str(details["consent_id"])
        subject = row.subject
        if not subject:
            return ""
        for find in (
            lambda: self.vault.get_item(subject).consent_id,
            lambda: self.vault.consent_batch(subject) and subject,
            lambda: next(
                (i.consent_id for i in self.vault.list_items(batch_id=subject) if i.consent_id),
                "",
            ),
        ):
            try:
                found = find()
            except Exception:  # noqa: BLE001, S112 - not this kind of id: try the next
                continue
            if found:
                return str(found)
        return ""

    def event_of(self, row) -> Event:
        """The audit row as an Event: patient from its consent, PACS study for DICOM sends."""
        patient: dict = {}
        consent_id = self._consent_of(row)
        if consent_id:
            try:
                patient = self.vault.consent_patient(consent_id)
            except Exception:  # noqa: BLE001 - shredded or withdrawn: no patient object
                patient = {}
        details = row.details or {}
        study, instances = "", ()
        if row.event == "export" and details.get("kind") == "dicom":
            try:
                item = self.vault.get_item(row.subject)
                study = str(dicom.study_uid(item.batch_id))
                instances = (str(dicom.instance_uid(item.batch_id, item.item_id)),)
            except Exception:  # noqa: BLE001 - the photo was deleted since
                study, instances = "", ()
        return Event(
            event=row.event,
            at=row.at,
            actor=row.actor,
            subject=row.subject,
            patient_id=str(patient.get("mrn") or ""),
            patient_name=str(patient.get("name") or ""),
            destination=str(details.get("destination") or ""),
            study_uid=study,
            instances=instances,
            photos=len(instances) or int(details.get("photos") or 0),
            failed=row.event.endswith("_failed") or row.event.endswith("_refused"),
            details={"kind": details.get("kind", "")},
        )

    def frames_of(self, event: Event) -> list[bytes]:
        return [
            syslog_sender.frame(
                atna_message.build(event, self.source, mapped),
                app_name=self.source.app_name,
                at=event.at,
                hostname=self.source.source_id,
            )
            for mapped in atna_message.dicom_events(event)
        ]

    # -- store and forward -------------------------------------------------------------------
    def collect(self) -> int:
        """Spool the frames of every audit row after the cursor; returns how many rows."""
        if self.vault.read_only:
            return 0
        with self._lock:
            total = 0
            while rows := self.vault.audit_rows_after(self.vault.atna_cursor() or 0):
                frames = [f for row in rows for f in self.frames_of(self.event_of(row))]
                self.vault.atna_spool(frames, cursor=rows[-1].seq)
                total += len(rows)
            return total

    def flush(self) -> int:
        """Send what is spooled, oldest first; returns how many frames went. Raises
        DeliveryError when the repository cannot be reached (everything stays spooled)."""
        with self._lock:
            sent = 0
            if self._unspooled:
                syslog_sender.send(self.target, self._unspooled)
                sent, self._unspooled = len(self._unspooled), []
            if self.vault.read_only:
                return sent
            while waiting := self.vault.atna_waiting(BATCH):
                syslog_sender.send(self.target, [m for _n, m in waiting])
                self.vault.atna_sent([n for n, _m in waiting])
                sent += len(waiting)
            return sent

    def run_once(self) -> tuple[int, str]:
        """collect + flush for the window's worker and the CLI: (frames sent, problem or "")."""
        try:
            self.collect()
            return self.flush(), ""
        except DeliveryError as exc:
            log.info("audit repository unreachable; %d messages spooled", self.vault.atna_count())
            return 0, str(exc)

    def announce(self, kind: str, actor: str = "system", subject: str = "") -> None:
        """An event that is not a vault audit row: the application starting or stopping
        ("application_start"/"application_stop", Application Activity 110100), or a Security
        Alert (110113, "tamper") when the vault opened read-only because it was changed outside
        PicSafe or rolled back. Spooled; for a read-only vault kept in memory until sent."""
        event = Event(event=kind, at=dt.datetime.now(dt.UTC), actor=actor, subject=subject)
        frames = self.frames_of(event)
        if self.vault.read_only:
            with self._lock:
                self._unspooled.extend(frames)
        else:
            self.vault.atna_spool(frames)

    def check_vault(self) -> None:
        """Alert on what the vault found at open: an index changed outside PicSafe or older
        than its anchor (rollback). Only the fact goes out, not the paths or details."""
        if self.vault.trust_problems:
            self.announce("tamper", subject=self.vault.vault_id)
