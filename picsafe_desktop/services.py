"""The API the window calls: import, consent, browse, view, redact, export, delete, audit.

Qt-free and synchronous: the UI runs these calls on worker threads. Every call that touches
patient data names the signed-in staff member, so the vault's audit log says who did it.
The CLI commands call the same core pieces directly (importer.pipeline, consent.store,
export.from_vault), so each rule has one implementation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from picsafe_desktop import consent as consent_rules
from picsafe_desktop import logsetup
from picsafe_desktop.model import ConsentRecord, ItemState, PhotoItem, Staff, Use
from picsafe_desktop.staff.roles import Permission
from picsafe_desktop.staff.session import DOING, Session, SignInError
from picsafe_desktop.staff.session import method_for as sign_in_method
from picsafe_desktop.vault import Vault
from picsafe_desktop.vault.errors import IntegrityError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "picsafe-desktop"
_ATNA_LOCK = threading.Lock()  # one ATNA forwarder per Services, made on first use


class NotSignedIn(Exception):
    """Patient data was asked for while nobody is signed in (the window is locked)."""


class NotPermitted(Exception):
    """The signed-in person's role does not allow this action (the message says which)."""


# Sign-in refused (the name older callers and tests use); the rules are in staff/session.py.
PinError = SignInError


class ReasonRequired(Exception):
    """An intimate photo is opened only with a reason, asked on every view (and audited)."""


@dataclass
class PatientSummary:
    mrn: str
    name: str
    birth_date: str
    consent_ids: list[str] = field(default_factory=list)
    photo_count: int = 0

    def matches(self, text: str) -> bool:
        text = text.strip().lower()
        return not text or text in self.mrn.lower() or text in self.name.lower()


@dataclass
class WaitingBatch:
    batch_id: str
    label: str
    item_ids: list[str]
    imported_by: str = ""  # the audited actor of the batch's import


@dataclass(frozen=True)
class PhoneCheck:
    """Photos on a phone: how many in all, and how many are (now) safely in the vault."""

    total: int
    in_vault: int


@dataclass
class IntakeBatch:
    """A waiting batch as the intake step shows it: suggested sets and their thumbnails."""

    batch_id: str
    label: str
    sets: list  # intake.SuggestedSet, oldest first
    thumbnails: dict[str, bytes]
    imported_by: str = ""  # the audited actor of the batch's import
    #: waiting photos left out because their vault copy cannot be read (what and what to do)
    unreadable: list[str] = field(default_factory=list)


def _capture_time(meta: dict):
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(meta["capture_time"]) if meta.get("capture_time") else None
    except (TypeError, ValueError):
        return None


def redacted_metadata(original: dict, result, original_id: str, boxes: int) -> dict:
    """A redacted copy's metadata: the original's clinical facts (capture time, body site),
    but its own bytes' hash and pixel size, upright, and a link back to the original."""
    import hashlib

    meta = dict(original)
    meta.update(
        clean_sha256=hashlib.sha256(result.data).hexdigest(),
        width=result.facts.width,
        height=result.facts.height,
        orientation=1,  # deid.redact re-encodes upright
        redacted_from=original_id,
        redactions=boxes,
        deid_notes=list(result.notes),
    )
    return meta


def vault_exists(path: str | os.PathLike[str]) -> bool:
    """True when the folder holds a vault (its header file), so first run can offer to create."""
    from picsafe_desktop.vault.header import HEADER_FILE

    return (Path(path) / HEADER_FILE).is_file()


class Services:
    def __init__(self, site, vault: Vault) -> None:
        self.site = site
        self.vault = vault
        # Written by sign-in/lock on the GUI thread, read by workers: each action reads it once
        # (self.require) and uses that snapshot throughout, so a lock or a switch of user
        # mid-action can neither mix two names in one action nor crash it.
        self._session_lock = threading.Lock()
        self._session: Session | None = None
        self._created_here = False  # set by create_vault: the first staff member may enrol
        self._import_lock = threading.Lock()
        self._opened_intimate: set[str] = set()  # shown in the grid once opened this session
        self._consents_seen: dict[str, dict] = {}  # consent id -> record, this sign-in only
        self._patient_list_audited = False  # the patient list was shown in this sign-in
        # batch id -> {wristband photo id: (capture time, MRN)}: each batch is scanned once
        self._wristbands: dict[str, dict] = {}
        # phone photo (device path + size + mtime) -> SHA-256 of its bytes, for this run:
        # a phone check reads only photos it has not hashed before (issue 12)
        self._phone_hashes: dict[str, str] = {}

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create_vault(cls, site, keyring_service: str = KEYRING_SERVICE) -> tuple[Services, str]:
        vault, code = Vault.create(site.vault.path, keyring_service=keyring_service)
        services = cls(site, vault)
        services._created_here = True  # only this run may enrol the first staff member
        return services, code

    @classmethod
    def open_vault(cls, site, keyring_service: str = KEYRING_SERVICE) -> Services:
        return cls(site, Vault.open(site.vault.path, keyring_service=keyring_service))

    @staticmethod
    def recover_vault(site, code: str, keyring_service: str = KEYRING_SERVICE) -> None:
        Vault.recover(site.vault.path, code, keyring_service=keyring_service)

    def close(self) -> None:
        self.vault.close()

    def keyring_trouble(self) -> bool:
        """The OS keyring stopped answering this session (issue 13): the window shows a banner
        until the vault's retried keyring write succeeds."""
        return self.vault.keyring_trouble

    # -- staff -----------------------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        with self._session_lock:
            return self._session

    @property
    def staff(self) -> Staff | None:
        session = self.session
        return session.staff if session else None

    @property
    def actor(self) -> str:
        return self._current().actor

    def can(self, permission: Permission) -> bool:
        """For the UI: enable an action only if the signed-in role allows it."""
        session = self.session
        return session is not None and session.can(permission)

    def _current(self) -> Session:
        session = self.session
        if session is None:
            raise NotSignedIn("sign in first")
        return session

    def require(self, permission: Permission) -> Session:
        """The signed-in session if its roles allow `permission`; read once per action."""
        session = self._current()
        if not session.can(permission):
            raise NotPermitted(
                f"{session.staff.name} ({session.role_label}) may not "
                f"{DOING.get(permission, permission.value)}."
            )
        return session

    def _require_staff(self) -> None:
        self._current()

    @property
    def sign_in_method(self) -> str:
        return sign_in_method(self.site)

    def enrol_first_staff(self, staff_id: str, name: str, roles, pin: str, title: str = ""):
        """First run: enrol the person who just created the vault (audited, `first`). Only in
        the run that created it and while nobody is enrolled: a later "enrol yourself" would
        let anyone at the PC make themselves a clinician."""
        from picsafe_desktop.staff import pins
        from picsafe_desktop.staff.enrol import enrol

        if not self._created_here or pins.StaffStore.for_vault(self.vault).list():
            raise pins.StaffError(
                "Staff are enrolled by IT: `picsafe-desktop staff add` (see the security guide)."
            )
        actor = f"{' '.join(name.split())} ({staff_id.strip()})"
        return enrol(self.vault, staff_id, name, roles, pin, title=title, actor=actor, first=True)

    def sign_in_notice(self) -> str:
        """For the lock screen: why nobody can sign in and what IT must run ("" when someone
        can), e.g. a vault with no staff enrolled and no directory (staff/session.py)."""
        from picsafe_desktop.staff.session import nobody_enrolled_message

        return nobody_enrolled_message(self.site, self.vault)

    def sign_in(self, staff: Staff, pin: str = "") -> Session:
        """Authenticate (directory bind, enrolled PIN, or a typed name where neither is set
        up), then start the session. `pin` is the PIN or the directory password; never logged."""
        from picsafe_desktop.staff import session as sign_in_rules

        method = self.sign_in_method
        try:
            session = sign_in_rules.authenticate(self.site, self.vault, staff, pin)
        except SignInError as exc:
            log.info("sign-in refused (%s)", method)  # never the PIN or password
            self._audit_refusal((staff.staff_id or staff.name).strip(), method, str(exc))
            raise
        with self._session_lock:
            self._session = session
            self._consents_seen = {}
            self._patient_list_audited = False
        log.info("signed in (%s, %s)", method, ", ".join(session.roles))
        self.vault.audit(
            "sign_in",
            actor=session.actor,
            subject="session",
            details={"method": session.method, "roles": list(session.roles)},
        )
        return session

    def _audit_refusal(self, claimed: str, method: str, reason: str) -> None:
        from picsafe_desktop.staff.pins import STAFF_ID

        subject = claimed if STAFF_ID.fullmatch(claimed) else "session"
        self.vault.audit(
            "sign_in_refused",
            actor="sign-in screen",
            subject=subject,
            details={"method": method, "reason": reason},
        )

    def sign_out(self, reason: str = "lock") -> None:
        with self._session_lock:
            session, self._session = self._session, None
            self._patient_list_audited = False
        if session is not None:
            self.vault.audit(
                "sign_out", actor=session.actor, subject="session", details={"reason": reason}
            )
        self._opened_intimate.clear()
        self._consents_seen = {}

    # -- consent ---------------------------------------------------------------------------
    def waiting_batches(self) -> list[WaitingBatch]:
        """Batches with photos still waiting for consent, oldest first."""
        self.require(Permission.CONSENT)
        waiting: dict[str, list[str]] = {}
        for item in self.vault.list_items(state=ItemState.AWAITING_CONSENT):
            waiting.setdefault(item.batch_id, []).append(item.item_id)
        return [
            WaitingBatch(b, self.vault.batch_label(b), ids, self._imported_by(b))
            for b, ids in waiting.items()
        ]

    def _imported_by(self, batch_id: str) -> str:
        """Who brought the batch in, as the audit log says (a person or the drop folder)."""
        for row in self.vault.audit_rows(subject=batch_id):
            if row.event == "batch_create":
                return row.actor or ""
        return ""

    def prepare_intake(self, batch: WaitingBatch, scan: bool = True) -> IntakeBatch:
        """The batch sorted into suggested sets (by capture time), with its thumbnails.

        A photo of the patient's wristband barcode identifies the patient and is not
        clinical: its MRN goes to the set it was taken in and the photo itself is
        crypto-shredded, so it never reaches the record. Scanned once per batch (the intake
        reopens after a lock): decoding every full-size photo again would find nothing new.
        `scan=False` (the window): the sets come back at once and the caller runs
        `scan_wristbands` and `settle_wristbands` itself, without holding the dialog back.
        """
        from picsafe_desktop import intake

        self.require(Permission.CONSENT)
        if scan and self.wristband_scan_needed(batch.batch_id):
            self.settle_wristbands(
                batch.batch_id, self.scan_wristbands(batch.batch_id, batch.item_ids)
            )
        bands = self._wristbands.get(batch.batch_id, {})
        thumbnails: dict[str, bytes] = {}
        photos = [intake.IntakePhoto(i, taken) for i, (taken, _mrn) in bands.items()]
        unreadable = []
        for item_id in batch.item_ids:
            if item_id in bands:
                continue
            try:
                self.vault.check_file(item_id)  # the background scan reads it; name it now
                taken = _capture_time(self.vault.read_metadata(item_id))
                thumbnails[item_id] = self.vault.read_thumbnail(item_id)
            except IntegrityError as exc:
                # One damaged or missing file must not hide its batch-mates (or every later
                # batch) from consent; it stays waiting, untouched, and is named.
                log.error("a waiting photo cannot be read (%s)", type(exc).__name__)
                unreadable.append(str(exc))
                continue
            photos.append(intake.IntakePhoto(item_id, taken))
        sets = intake.place_wristbands(
            intake.suggest_sets(photos), {i: mrn for i, (_t, mrn) in bands.items()}
        )
        ids = [i for s in sets for i in s.item_ids]
        return IntakeBatch(
            batch.batch_id,
            batch.label,
            sets,
            {i: thumbnails.get(i) or self.vault.read_thumbnail(i) for i in ids},
            batch.imported_by,
            unreadable,
        )

    def wristband_scan_needed(self, batch_id: str) -> bool:
        return batch_id not in self._wristbands

    def scan_wristbands(
        self,
        batch_id: str,
        item_ids: Iterable[str],
        progress: Callable[[tuple[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """{photo id: MRN} of the photos that show a wristband barcode. Two photos at a time
        (the decoders run outside the GIL), each decoded reduced; `progress((id, mrn))` as
        each band is found, so a window can use it before the scan ends. Deletes nothing."""
        from concurrent.futures import ThreadPoolExecutor

        from picsafe_desktop.wristband import read_wristband_mrn

        actor = self.require(Permission.CONSENT).actor

        def scan(item_id: str) -> tuple[str, str | None]:
            try:
                data = self.vault.read(item_id, actor=actor, purpose="wristband scan")
            except IntegrityError:  # named by prepare_intake; no band to find in it
                return item_id, None
            try:
                return item_id, read_wristband_mrn(data)
            except ValueError:
                return item_id, None

        found: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="wristband") as pool:
            for item_id, mrn in pool.map(scan, list(item_ids)):
                if mrn:
                    found[item_id] = mrn
                    if progress is not None:
                        progress((item_id, mrn))
        return found

    def settle_wristbands(self, batch_id: str, bands: dict[str, str]) -> list[str]:
        """Crypto-shred the wristband photos (each audited) that still wait for consent in
        the batch, and remember their MRNs for the batch's sets; returns the ids shredded.
        A photo already decided (consent recorded by someone who chose it) is left alone."""
        actor = self.require(Permission.CONSENT).actor
        known = self._wristbands.setdefault(batch_id, {})
        waiting = set(self._waiting_in(batch_id, None))
        shredded = []
        for item_id, mrn in bands.items():
            if item_id not in waiting:
                continue
            taken = _capture_time(self.vault.read_metadata(item_id))
            self.vault.delete(item_id, actor=actor, reason="wristband photo used for MRN")
            known[item_id] = (taken, mrn)
            shredded.append(item_id)
        return shredded

    def _waiting_in(self, batch_id: str, item_ids: Iterable[str] | None) -> list[str]:
        """`item_ids` (default: all) of the batch's photos still waiting for consent; refuses
        any other photo, so a decision can never reach photos it was not made for."""
        waiting = [
            i.item_id
            for i in self.vault.list_items(batch_id=batch_id, state=ItemState.AWAITING_CONSENT)
        ]
        if item_ids is None:
            return waiting
        wanted = list(item_ids)
        stray = set(wanted) - set(waiting)
        if stray:
            raise ValueError(f"{len(stray)} photo(s) are not waiting for consent in this batch")
        return wanted

    def record_consent(
        self,
        batch_id: str,
        record: ConsentRecord,
        item_ids: Iterable[str] | None = None,
        body_site: dict | None = None,
        sites: dict[str, dict] | None = None,
    ) -> str:
        """Consent for the batch's waiting photos, or for the subset one patient's are.
        `body_site` (see `body_sites`: coded from the body map, or free text) goes into
        each photo's encrypted metadata, where the exports read it; `sites` gives some
        photos a site of their own (item id -> site: a wound and a lesion in one set)."""
        actor = self.require(Permission.CONSENT).actor
        logsetup.register_sensitive(record.patient.mrn, record.patient.name)
        ids = self._waiting_in(batch_id, item_ids)
        sites = dict(sites or {})
        if set(sites) - set(ids):
            raise ValueError("a body site was given for a photo this consent does not cover")
        consent_id = consent_rules.store(self.vault, batch_id, record, actor=actor, item_ids=ids)
        for item_id in ids:
            site = sites.get(item_id) or body_site
            if site:
                meta = dict(self.vault.read_metadata(item_id), body_site=site)
                self.vault.update_metadata(item_id, meta, actor=actor)
        log.info("consent recorded for %d photos", len(ids))
        return consent_id

    def refuse_consent(
        self,
        batch_id: str,
        item_ids: Iterable[str] | None = None,
        *,
        mrn: str = "",
        reason: str = "",
    ) -> int:
        """Consent refused: crypto-shred the photos it was asked for (default: the whole
        waiting batch). The patient's MRN and the reason, when given, go into the
        (encrypted) audit row."""
        actor = self.require(Permission.CONSENT).actor
        ids = self._waiting_in(batch_id, item_ids)
        details: dict = {}
        if mrn.strip():
            logsetup.register_sensitive(mrn.strip())
            details["mrn"] = mrn.strip()
        if reason.strip():
            details["reason"] = reason.strip()
        # Shred and audit in one transaction.
        count = self.vault.refuse_batch(batch_id, actor=actor, item_ids=ids, details=details)
        log.info("consent refused: %d photos destroyed", count)
        return count

    def destroy_not_clinical(self, batch_id: str, item_ids: Iterable[str]) -> int:
        """Photos marked "not clinical / not this patient" at intake: crypto-shredded."""
        actor = self.require(Permission.CONSENT).actor  # part of sorting the intake
        ids = self._waiting_in(batch_id, item_ids)
        return self.vault.delete_items(ids, actor=actor, reason="not clinical / not this patient")

    def discard_consent_draft(self, batch_id: str, drafted_by: str) -> None:
        """A half-filled consent form was dropped because someone else signed in; the
        photos keep waiting. The form never left memory: this row says it existed."""
        self.vault.audit(
            "consent_draft_discarded",
            actor=self.actor,
            subject=batch_id,
            details={"drafted_by": drafted_by},
        )

    def read_consent(self, consent_id: str) -> ConsentRecord:
        actor = self.require(Permission.VIEW).actor
        return consent_rules.record_from_dict(
            self._consent_dict(consent_id, actor, self._consents_seen)
        )

    def _consent_dict(self, consent_id: str, actor: str, seen: dict) -> dict:
        """A consent record, decrypted and audited once per sign-in: the audit says who saw
        it, without a row for every click on one of its photos. `actor` and `seen` (that
        sign-in's cache) are taken once per action: a switch of user midway changes neither."""
        record = seen.get(consent_id)
        if record is None:
            record = self.vault.read_consent(consent_id, actor=actor)
            seen[consent_id] = record
        return record

    def withdraw_consent(
        self, consent_id: str, scope: str = "full", reason: str = "withdrawn by the patient"
    ) -> list[dict]:
        """Withdraw (see `withdraw`); return the exports already made, for staff follow-up."""
        result = self.withdraw(consent_id, scope, reason)
        return result.secondary_exports + result.record_exports

    # -- consent governance (issue 15; rules in governance.py, shared with the CLI) ---------
    def withdraw(self, consent_id: str, scope: str, reason: str):
        """Teaching/publication only ("secondary": photos kept for the record) or "full"
        (photos destroyed; record copies follow `[consent] withdrawal_policy`)."""
        from picsafe_desktop import governance

        return governance.withdraw(
            self.vault,
            consent_id,
            scope,
            actor=self.require(Permission.DELETE).actor,
            reason=reason,
            policy=self.site.consent.withdrawal_policy,
        )

    def amend_consent(self, consent_id: str, fields: dict, reason: str) -> str:
        """A new consent record (complete form, same rules) linked to the old one."""
        from picsafe_desktop import governance

        return governance.amend(
            self.vault,
            consent_id,
            fields,
            actor=self.require(Permission.CONSENT).actor,
            reason=reason,
            wording=consent_rules.site_wordings(self.site),
            review_at_age=self.site.consent.review_at_age,
        )

    def amend_consent_uses(self, consent_id: str, change, reason: str) -> str:
        """The window's amendment (consent_amend.py): add or remove a use, correct the body
        site; a new record linked to the old one, both kept, audited (`consent_amended`)."""
        from picsafe_desktop import consent_amend, governance

        session = self.require(Permission.CONSENT)
        with self.vault.transaction():  # read, check and replace as one action
            old = governance._current(self.vault, consent_id, session.actor)
            new = consent_amend.amended_record(old, change, clinician=session.staff)
            return governance.amend(self.vault, consent_id, new, actor=session.actor, reason=reason)

    def set_identifiability(self, item_id: str, answer: str, reason: str) -> None:
        """A clinician's answer for one photo after looking at it (audited)."""
        from picsafe_desktop import governance

        actor = self.require(Permission.REDACT).actor  # a clinician's judgement
        governance.set_identifiability(self.vault, item_id, answer, actor=actor, reason=reason)

    def photo_flags(self, item_id: str) -> dict:
        """Identifiability, intimate and taken-before-consent, for the details pane."""
        meta = self.metadata(item_id)
        return {
            "identifiability": meta.get("identifiability") or "unknown",
            "confirmed_by": meta.get("identifiability_confirmed_by") or "",
            "intimate": bool(meta.get("intimate")),
            "taken_before_consent": bool(meta.get("taken_before_consent")),
        }

    def is_intimate(self, item_id: str) -> bool:
        # Internal check (no permission of its own): the caller's action was checked already.
        return bool(self.vault.read_metadata(item_id).get("intimate"))

    def patient_copy(self, consent_id: str, out: str | os.PathLike[str]) -> Path:
        """The patient's own PDF of the consent (wording and how to withdraw; no staff PINs,
        ids or audit data); writing it is audited."""
        from picsafe_desktop import governance

        return governance.write_patient_copy(
            self.vault,
            consent_id,
            Path(out),
            actor=self.require(Permission.CONSENT).actor,
            site=self.site,
        )

    def retention_due(self) -> list[dict]:
        from picsafe_desktop import governance

        self._require_staff()
        return governance.retention_due(self.vault, self.site.retention.keep_days_after_record)

    def dispose_due(self, item_ids: Iterable[str]) -> int:
        """Shred photos past their retention period (a person's audited action)."""
        from picsafe_desktop import governance

        return governance.dispose(
            self.vault,
            item_ids,
            actor=self.require(Permission.DELETE).actor,
            keep_days=self.site.retention.keep_days_after_record,
        )

    def disposal_report(self) -> list[dict]:
        from picsafe_desktop import governance

        self._require_staff()
        return governance.disposal_report(self.vault)

    # -- hospital connections (issue 16, docs/hospital.md) ---------------------------------
    def lookup_configured(self) -> bool:
        from picsafe_desktop.hospital import patients

        return bool(patients.configured_sources(self.site))

    def lookup_patient(self, mrn: str):
        """Ask the worklist and the FHIR server who `mrn` is (hospital/patients.py); audited as
        a query. Raises hospital.lookup.LookupError when no source is configured."""
        from picsafe_desktop.hospital import patients

        actor = self.require(Permission.CONSENT).actor
        result = patients.lookup(self.site, mrn)
        self.vault.audit("patient_query", actor=actor, subject="patient-lookup", details={
            "mrn": result.mrn, "sources": result.asked, "found": len(result.matches)})  # fmt: skip
        return result

    def pacs_status(self, item_id: str) -> str:
        """Whether the PACS has committed to keeping this photo (details pane)."""
        from picsafe_desktop.export import committed

        self.require(Permission.VIEW)
        return committed.status(self.vault, item_id)

    def commit_disposal_due(self) -> list[dict]:
        from picsafe_desktop.export import committed

        self._require_staff()
        return committed.due(self.vault, self.site.retention.after_commit_days)

    def dispose_committed(self, item_ids: Iterable[str]) -> int:
        """Shred local copies `[retention] after_commit_days` after the PACS committed them (a
        person's audited action; uncommitted photos are refused)."""
        from picsafe_desktop.export import committed

        return committed.dispose(
            self.vault,
            item_ids,
            actor=self.require(Permission.DELETE).actor,
            after_days=self.site.retention.after_commit_days,
        )

    # -- browsing --------------------------------------------------------------------------
    def patients(self) -> list[PatientSummary]:
        """One entry per patient (by MRN) with consent and photo counts. Read from the vault's
        sealed patient index (vault/patients.py), not from every consent record; the first
        list of a sign-in is audited once ("patient_list_view"), refreshes are not."""
        session = self.require(Permission.VIEW)
        with self._session_lock:
            first = self._session is session and not self._patient_list_audited
            if first:
                self._patient_list_audited = True
        listed = []
        try:
            listed = self.vault.patient_list(actor=session.actor, audit=first)
        finally:
            if first and not listed:  # failed, or showed nobody (not audited): the next one is
                with self._session_lock:
                    if self._session is session:
                        self._patient_list_audited = False
        by_mrn: dict[str, PatientSummary] = {}
        for consent_id, patient, count in listed:
            summary = by_mrn.setdefault(
                patient["mrn"],
                PatientSummary(patient["mrn"], patient["name"], patient["birth_date"]),
            )
            summary.consent_ids.append(consent_id)
            summary.photo_count += count
        return sorted(by_mrn.values(), key=lambda p: (p.name.lower(), p.mrn))

    def photos(self, consent_ids: Iterable[str] | None = None) -> list[PhotoItem]:
        self.require(Permission.VIEW)
        if consent_ids is None:
            return self.vault.list_items(state=ItemState.ACTIVE)
        return [i for c in consent_ids for i in self.vault.list_items(consent_id=c)]

    def thumbnail(self, item_id: str) -> bytes:
        """Any photo's thumbnail for who may view; a waiting one's for who records consent."""
        session = self._current()
        if not session.can(Permission.VIEW):
            self.require(Permission.CONSENT)
            if self.vault.get_item(item_id).state is not ItemState.AWAITING_CONSENT:
                self.require(Permission.VIEW)
        if item_id not in self._opened_intimate and self.is_intimate(item_id):
            from picsafe_desktop import governance

            return governance.intimate_placeholder()  # never in the grid until opened
        return self.vault.read_thumbnail(item_id)

    def metadata(self, item_id: str) -> dict:
        self.require(Permission.VIEW)
        return self.vault.read_metadata(item_id)

    def view(self, item_id: str, reason: str = "") -> bytes:
        """Full-size photo bytes; audited as a view by the signed-in staff member.
        An intimate photo needs a reason every time; the reason is audited with the view."""
        actor = self.require(Permission.VIEW).actor
        if self.is_intimate(item_id):
            if not reason.strip():
                raise ReasonRequired("Give the reason for viewing this intimate image.")
            data = self.vault.read(item_id, actor=actor, purpose=f"view intimate: {reason.strip()}")
            self._opened_intimate.add(item_id)
            return data
        return self.vault.read(item_id, actor=actor, purpose="view")

    def delete_photos(self, item_ids: Iterable[str], reason: str) -> int:
        """Crypto-shred photos (each deletion audited with `reason`); returns how many."""
        actor = self.require(Permission.DELETE).actor
        return self.vault.delete_items(list(item_ids), actor=actor, reason=reason)

    def redact(self, item_id: str, boxes: list, replace: bool) -> str:
        """Save a redacted version; keep or crypto-shred the original as the user chose."""
        from picsafe_desktop import deid

        actor = self.require(Permission.REDACT).actor
        original = self.vault.read(item_id, actor=actor, purpose="redact")
        result = deid.redact(original, boxes)
        meta = redacted_metadata(self.vault.read_metadata(item_id), result, item_id, len(boxes))
        # A redaction the clinician saved is their confirmation: the new item is not
        # identifiable (issue 15); the original keeps its own answer.
        meta.update(identifiability="not_identifiable", identifiability_confirmed_by=actor)
        return self.vault.put_redacted(  # store, audit and (replace) shred in one transaction
            item_id,
            result.data,
            media_type=result.media_type,
            thumbnail=deid.make_thumbnail(result.data),
            metadata=meta,
            actor=actor,
            boxes=len(boxes),
            replace=replace,
        )

    # -- export ----------------------------------------------------------------------------
    def export_destinations(self) -> dict[str, str]:
        """Where each export kind goes; a leading "!" says why it is unavailable."""
        from picsafe_desktop.export import targets

        pacs, fhir = targets.pacs_target(self.site), targets.fhir_target(self.site)
        pacs = targets.stow_target(self.site) or pacs  # issue 16: `[pacs] transport = "stow"`
        return {
            "pdf": "a PDF file you choose",
            "package": "an encrypted file you choose",
            "fhir": fhir.describe() if fhir else "!no FHIR server configured",
            "dicom": pacs.describe() if pacs else "!no PACS configured",
        }

    def export(
        self,
        consent_id: str,
        kind: str,
        use,
        choices: dict,
        item_ids: list[str] | None = None,
        progress: Callable | None = None,
    ):
        """One export within the consent's uses; refused or done, it is audited."""
        from picsafe_desktop.export import from_vault, targets

        session = self.require(Permission.EXPORT)
        if choices.get("out"):
            choices = dict(choices, out=Path(choices["out"]).expanduser())
        options = targets.site_options(self.site, **choices)
        report = (lambda done, total: progress((done, total))) if progress else None
        if kind in ("dicom", "fhir") and Use(use) is Use.RECORD and options.out is None:
            return self._send_via_outbox(consent_id, kind, options, session, item_ids)
        return from_vault.export_from_vault(
            self.vault,
            consent_id,
            kind,
            options,
            actor=session.actor,
            staff=session.staff,
            use=Use(use),
            item_ids=item_ids,
            progress=report,
        )

    # -- outbox (export/outbox.py) ----------------------------------------------------------
    def _send_via_outbox(self, consent_id, kind, options, session, item_ids):
        """Record copies for the PACS/FHIR server: queued in the vault, then attempted; raises
        outbox.Queued when they wait for the server (the sender worker retries them)."""
        from picsafe_desktop.export import outbox, targets

        return outbox.send(
            self.vault,
            consent_id,
            kind,
            options,
            staff=session.staff,
            actor=session.actor,
            item_ids=item_ids,
            **targets.outbox_settings(self.site),
        )

    def outbox_in_use(self) -> bool:
        """A PACS, FHIR server or audit repository is configured: the window runs the sender."""
        from picsafe_desktop.export import atna, targets

        return bool(
            targets.pacs_target(self.site)
            or targets.fhir_target(self.site)
            or atna.target_from_site(self.site)
        )

    def atna_pass(self) -> str:
        """Forward new audit events to the audit repository ([audit] syslog_url) through the
        vault's spool; "" when sent or not configured, else why they wait."""
        forwarder = self._atna_forwarder()
        return forwarder.run_once()[1] if forwarder is not None else ""

    def _atna_forwarder(self):
        """The ATNA forwarder, made on first use (None while [audit] syslog_url is empty)."""
        from picsafe_desktop.export import atna

        with _ATNA_LOCK:
            if getattr(self, "_atna", None) is None:
                target = atna.target_from_site(self.site)
                if target is None:
                    return None
                forwarder = atna.Forwarder(self.vault, target, atna.source_from_site(self.site))
                forwarder.check_vault()  # tamper or rollback found at open: a Security Alert
                if not self.vault.read_only:
                    forwarder.announce("application_start")
                self._atna = forwarder
            return self._atna

    def _audit_log_used(self, actor: str) -> None:
        """Reading the audit log is reported to the audit repository (110101 Audit Log Used);
        the vault's own log is not grown by every look at it."""
        forwarder = self._atna_forwarder()
        if forwarder is not None:
            forwarder.announce("audit_read", actor=actor)

    def outbox_banner(self) -> str:
        """ "3 photos waiting for the PACS", or "" (counts only: no patient data)."""
        from picsafe_desktop.export import outbox

        return outbox.banner(outbox.waiting(self.vault))

    def outbox_deliver(self, force: bool = False) -> list:
        """Attempt what is due (everything with `force`); for the sender worker and "Retry"."""
        from picsafe_desktop.export import outbox, targets

        if self.vault.read_only:
            return []
        return outbox.deliver(
            self.vault,
            targets.site_options(self.site),
            force=force,
            **targets.outbox_settings(self.site),
        )

    def pacs_echo(self) -> tuple[bool, str]:
        """Settings' "Test connection": a DICOM C-ECHO to the configured PACS."""
        from picsafe_desktop.export import dicom, targets

        target = targets.pacs_target(self.site)
        if target is None:
            return False, "No PACS is configured ([pacs] ae_title and host)."
        try:
            dicom.echo(target)
        except Exception as exc:  # noqa: BLE001 - any failure is the answer to show
            return False, f"{target.describe()}: {exc}"
        return True, f"{target.describe()} answered the echo."

    # -- audit -----------------------------------------------------------------------------
    def audit_rows(self, subject: str | None = None):
        session = self.require(Permission.AUDIT)
        rows = self.vault.audit_rows(subject=subject)
        self._audit_log_used(session.actor)
        return rows

    def patient_audit_rows(self, patient: PatientSummary):
        """The audit entries about one patient: their consents, batches and photos."""
        self.require(Permission.VIEW)
        subjects = set(patient.consent_ids)
        for consent_id in patient.consent_ids:
            subjects.add(self.vault.consent_batch(consent_id))
        for item in self.photos(patient.consent_ids):
            subjects.add(item.item_id)
        rows = self.audit_rows()
        # Photos already destroyed are no longer listed; their rows name the batch or consent.
        for row in rows:
            if row.event == "put" and row.details.get("batch_id") in subjects:
                subjects.add(row.subject)
        return [row for row in rows if row.subject in subjects]

    def audit_names(self) -> tuple[dict[str, str], list[str]]:
        """What the audit log's subject ids are, by patient, for signed-in staff: photo,
        consent and import ids -> "photo — Name, MRN …"; and the patients, for a filter."""
        names: dict[str, str] = {"session": "session", "device": "a phone or camera"}
        for item in self.vault.list_items(state=ItemState.AWAITING_CONSENT):
            names[item.item_id] = "photo — waiting for consent"
        patients = []
        for patient in self.patients():
            who = f"{patient.name or '(no name)'}, MRN {patient.mrn}"
            patients.append(who)
            for consent_id in patient.consent_ids:
                names[consent_id] = f"consent — {who}"
                batch = self.vault.consent_batch(consent_id)
                known = names.get(batch)
                names[batch] = (
                    f"import — {who}"
                    if known in (None, f"import — {who}")
                    else ("import — several patients")
                )
                for item in self.vault.list_items(consent_id=consent_id):
                    names[item.item_id] = f"photo — {who}"
        return names, patients

    def verify_audit(self):
        session = self._current()
        if not session.can(Permission.VERIFY):
            self.require(Permission.AUDIT)
        return self.vault.verify_audit()

    # -- import ----------------------------------------------------------------------------
    def import_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        cancel=None,
        progress: Callable | None = None,
    ):
        """Drag-and-drop and the Import button: the same pipeline as every other source."""
        from picsafe_desktop.importer import pipeline

        actor = self.require(Permission.IMPORT).actor
        with self._import_lock:
            return pipeline.import_paths(
                self.vault,
                paths,
                actor=actor,
                progress=progress,
                source_label="Imported files",
                cancel=cancel,
            )

    def usb_devices(self) -> tuple[list, str]:
        """Cameras and phones on USB (PTP/MTP through libgphoto2), or why none can be used."""
        from picsafe_desktop.importer import gphoto

        self.require(Permission.IMPORT)
        gphoto = _phone_module(gphoto)  # Windows: Windows Portable Devices instead

        available, reason = gphoto.status()
        if not available:
            return [], reason
        return gphoto.list_devices(), ""

    def import_device(self, info, cancel=None, progress: Callable | None = None):
        """All photos of one USB camera/phone; deleted on it afterwards if the site says so."""
        from picsafe_desktop.importer import gphoto, wpd

        actor = self.require(Permission.IMPORT).actor
        wpd_phone = getattr(info, "kind", "") == "wpd"
        device = wpd.Device(info) if wpd_phone else gphoto.Device(info.model, info.port)
        with device:
            candidates = device.photos(delete_after_import=self.site_import.delete_from_device)
            return self._import(candidates, (), info.label, actor, cancel, progress)

    def import_volume(self, volume, cancel=None, progress: Callable | None = None):
        """A phone or card that appeared with a DCIM folder."""
        actor = self.require(Permission.IMPORT).actor
        scan = volume.scan(delete_after_import=self.site_import.delete_from_device)
        return self._import(scan.candidates, scan.refusals, volume.label, actor, cancel, progress)

    # -- what is left on a phone ------------------------------------------------------------
    @contextlib.contextmanager
    def _phone_photos(self, source, *, delete: bool):
        """The photos on a phone/card (`Volume`) or USB camera (`gphoto.DeviceInfo`), as
        the same candidates the importer reads; `delete` makes `remove()` delete them."""
        if hasattr(source, "dcim"):
            yield source.scan(delete_after_import=delete).candidates
            return
        from picsafe_desktop.importer import gphoto

        with gphoto.Device(source.model, source.port) as device:
            yield device.photos(delete_after_import=delete)

    def _in_vault(self, candidate) -> bool:
        """Read back from the phone and looked up by the hash of the original: the vault
        holds this very photo (stored, verified, not destroyed since)."""
        import hashlib

        return self.vault.find_original(hashlib.sha256(candidate.read()).hexdigest()) is not None

    def check_phone(self, source) -> PhoneCheck:
        """How many photos the phone holds and how many of them are already in the vault.

        Each photo is read and hashed once per run: a photo listed again with the same device
        path, size and modification time is looked up by the hash remembered for it (a phone
        holds thousands of photos; a check runs on every banner refresh). Deleting from the
        phone never trusts this memory: `delete_from_phone` reads every photo back.
        """
        self._require_staff()
        with self._phone_photos(source, delete=False) as candidates:
            stored = 0
            for cand in candidates:
                try:
                    digest = self._phone_hash(cand)
                except Exception:  # noqa: BLE001 - unreadable now: counts as not stored
                    log.info("a photo on the phone could not be read back")
                    continue
                stored += self.vault.find_original(digest) is not None
            return PhoneCheck(len(candidates), stored)

    def _phone_hash(self, candidate) -> str:
        import hashlib

        key = phone_photo_key(candidate)
        digest = self._phone_hashes.get(key)
        if digest is None:
            digest = hashlib.sha256(candidate.read()).hexdigest()
            self._phone_hashes[key] = digest
        return digest

    def delete_from_phone(self, source) -> tuple[int, int]:
        """Delete from the phone the photos that are safely in the vault, and only those
        (each is read back and found by its hash first); returns (deleted, left)."""
        import secrets

        actor = self.actor
        deleted = left = 0
        with self._phone_photos(source, delete=True) as candidates:
            for cand in candidates:
                try:
                    if not self._in_vault(cand):
                        left += 1
                        continue
                    cand.remove(secrets.token_hex(8))
                    deleted += 1
                except Exception:  # noqa: BLE001 - left on the phone; counted and reported
                    left += 1
        self.vault.audit(
            "device_delete",
            actor=actor,
            subject="device",
            details={"deleted": deleted, "left_on_device": left},
        )
        return deleted, left

    def import_dropped(self, folder, candidates, progress: Callable | None = None):
        """Files that settled in a watched drop folder.

        Taken even while the window is locked: every minute a photo waits there it sits in
        the clear on disk. The consent dialog then waits for the next person to sign in.
        """
        session = self.session
        # Taken whoever is (or is not) signed in: plaintext must not wait on disk.
        if session is not None and session.can(Permission.IMPORT):
            actor = session.actor
        else:
            actor = "drop folder watcher"
        report = self._import(
            candidates, (), f"Drop folder {Path(folder).name}", actor, None, progress
        )
        # Subfolders (often named after the patient) the import emptied go, as for an import
        # of named folders: the watcher's own pruning runs before the import has wiped them.
        from picsafe_desktop.importer.files import prune_emptied_sources

        prune_emptied_sources([folder], candidates)
        return report

    def resume_imports(self):
        """After a crash: finish or roll back every half-imported photo (call at start-up)."""
        from picsafe_desktop.importer.pipeline import Importer

        with self._import_lock:
            return Importer(self.vault, actor="start-up recovery").resume()

    @property
    def site_import(self):
        return getattr(self.site, "import")

    def _import(self, candidates, refusals, label, actor, cancel, progress):
        from picsafe_desktop.importer.pipeline import Importer

        # One batch at a time per vault, whichever source it came from.
        with self._import_lock:
            return Importer(self.vault, actor=actor).run(
                candidates,
                source_label=label,
                refusals=refusals,
                on_event=progress,
                cancel=cancel,
            )


def phone_photo_key(candidate) -> str:
    """Where a photo sits on its device and its listed size and modification time (the
    candidate's journal locator without how it would be removed): the same key means the
    same bytes for the phone check's memory."""
    import json

    where = {k: v for k, v in candidate.locator().items() if k not in ("removal", "links")}
    return json.dumps(where, sort_keys=True)


def _phone_module(gphoto):
    """The phone source of this platform: libgphoto2, or WPD on Windows (no libgphoto2 there)."""
    if os.name == "nt":
        from picsafe_desktop.importer import wpd

        return wpd
    return gphoto
