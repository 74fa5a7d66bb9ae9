"""The API the window calls: import, consent, browse, view, redact, export, delete, audit.

Qt-free and synchronous: the UI runs these calls on worker threads. Every call that touches
patient data names the signed-in staff member, so the vault's audit log says who did it.
The CLI commands call the same core pieces directly (importer.pipeline, consent.store,
export.from_vault), so each rule has one implementation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from picsafe_desktop import consent as consent_rules
from picsafe_desktop import logsetup
from picsafe_desktop.atomic import write_atomically
from picsafe_desktop.model import ConsentRecord, ItemState, PhotoItem, Staff, Use
from picsafe_desktop.vault import Vault

log = logging.getLogger(__name__)

KEYRING_SERVICE = "picsafe-desktop"


class NotSignedIn(Exception):
    """Patient data was asked for while nobody is signed in (the window is locked)."""


class PinError(Exception):
    """The PIN is missing, too short or wrong."""


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


def vault_exists(path: str | os.PathLike[str]) -> bool:
    """True when the folder holds a vault (its header file), so first run can offer to create."""
    from picsafe_desktop.vault.header import HEADER_FILE

    return (Path(path) / HEADER_FILE).is_file()


class Services:
    def __init__(self, site, vault: Vault) -> None:
        self.site = site
        self.vault = vault
        self._staff: Staff | None = None
        self._import_lock = threading.Lock()
        self._wristband_mrn: dict[str, str | None] = {}  # batch id -> MRN read from it
        self._opened_intimate: set[str] = set()  # shown in the grid once opened this session

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create_vault(cls, site, keyring_service: str = KEYRING_SERVICE) -> tuple[Services, str]:
        vault, code = Vault.create(site.vault.path, keyring_service=keyring_service)
        return cls(site, vault), code

    @classmethod
    def open_vault(cls, site, keyring_service: str = KEYRING_SERVICE) -> Services:
        return cls(site, Vault.open(site.vault.path, keyring_service=keyring_service))

    @staticmethod
    def recover_vault(site, code: str, keyring_service: str = KEYRING_SERVICE) -> None:
        Vault.recover(site.vault.path, code, keyring_service=keyring_service)

    def close(self) -> None:
        self.vault.close()

    # -- staff -----------------------------------------------------------------------------
    @property
    def staff(self) -> Staff | None:
        return self._staff

    @property
    def actor(self) -> str:
        self._require_staff()
        name, staff_id = self._staff.name, self._staff.staff_id
        return f"{name} ({staff_id})" if staff_id else name

    def _require_staff(self) -> None:
        """Patient data is only for a signed-in person: raise while the window is locked."""
        if self._staff is None:
            raise NotSignedIn("sign in first")

    def sign_in(self, staff: Staff, pin: str = "") -> None:
        if not staff.name.strip():
            raise PinError("Enter your name.")
        if self.site.security.require_pin:
            self._check_pin(staff, pin)
        self._staff = staff
        self.vault.audit("sign_in", actor=self.actor, subject="session")

    def sign_out(self, reason: str = "lock") -> None:
        if self._staff is not None:
            self.vault.audit(
                "sign_out", actor=self.actor, subject="session", details={"reason": reason}
            )
        self._staff = None
        self._opened_intimate.clear()

    def _pin_file(self) -> Path:
        return Path(self.site.vault.path) / "staff-pins.json"

    def _check_pin(self, staff: Staff, pin: str) -> None:
        """First sign-in of a staff ID sets its PIN; later ones must match. Argon2 hashes only."""
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        if len(pin) < 4 or not pin.isdigit():
            raise PinError("The PIN must be at least 4 digits.")
        key = staff.staff_id.strip() or staff.name.strip().lower()
        path = self._pin_file()
        pins = json.loads(path.read_text()) if path.exists() else {}
        hasher = PasswordHasher()
        if key in pins:
            try:
                hasher.verify(pins[key], pin)
            except VerificationError as exc:
                raise PinError("Wrong PIN.") from exc
            return
        pins[key] = hasher.hash(pin)
        write_atomically(path, json.dumps(pins).encode())

    # -- consent ---------------------------------------------------------------------------
    def waiting_batches(self) -> list[WaitingBatch]:
        """Batches with photos still waiting for consent, oldest first."""
        waiting: dict[str, list[str]] = {}
        for item in self.vault.list_items(state=ItemState.AWAITING_CONSENT):
            waiting.setdefault(item.batch_id, []).append(item.item_id)
        return [WaitingBatch(b, self.vault.batch_label(b), ids) for b, ids in waiting.items()]

    def prepare_consent(self, batch: WaitingBatch) -> tuple[WaitingBatch, str | None]:
        """Look for a photo of the patient's wristband barcode in the batch.

        A wristband photo identifies the patient and is not clinical: its MRN prefills the
        consent form and the photo itself is crypto-shredded, so it never reaches the record.
        """
        from picsafe_desktop.wristband import read_wristband_mrn

        if batch.batch_id in self._wristband_mrn:
            # Already scanned (the dialog reopens after a lock): decrypting and decoding every
            # full-size photo again would find nothing new.
            return batch, self._wristband_mrn[batch.batch_id]
        actor = self.actor
        found: str | None = None
        keep = []
        for item_id in batch.item_ids:
            try:
                mrn = read_wristband_mrn(
                    self.vault.read(item_id, actor=actor, purpose="wristband scan")
                )
            except ValueError:
                mrn = None
            if mrn and found in (None, mrn):
                found = mrn
                self.vault.delete(item_id, actor=actor, reason="wristband photo used for MRN")
            else:
                keep.append(item_id)
        self._wristband_mrn[batch.batch_id] = found
        return WaitingBatch(batch.batch_id, batch.label, keep), found

    def record_consent(self, batch_id: str, record: ConsentRecord) -> str:
        actor = self.actor
        logsetup.register_sensitive(record.patient.mrn, record.patient.name)
        consent_id = consent_rules.store(self.vault, batch_id, record, actor=actor)
        count = len(self.vault.list_items(consent_id=consent_id))
        log.info("consent recorded for a batch of %d photos", count)
        return consent_id

    def refuse_consent(self, batch_id: str) -> int:
        """Consent refused: crypto-shred every photo of the batch waiting for it."""
        actor = self.actor
        ids = [
            i.item_id
            for i in self.vault.list_items(batch_id=batch_id, state=ItemState.AWAITING_CONSENT)
        ]
        self.delete_photos(ids, "consent refused")
        self.vault.audit(
            "consent_refused", actor=actor, subject=batch_id, details={"photos_destroyed": len(ids)}
        )
        log.info("consent refused: %d photos destroyed", len(ids))
        return len(ids)

    def read_consent(self, consent_id: str) -> ConsentRecord:
        return consent_rules.record_from_dict(self.vault.read_consent(consent_id, actor=self.actor))

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
            actor=self.actor,
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
            actor=self.actor,
            reason=reason,
            wording=consent_rules.site_wordings(self.site),
            review_at_age=self.site.consent.review_at_age,
        )

    def set_identifiability(self, item_id: str, answer: str, reason: str) -> None:
        """A clinician's answer for one photo after looking at it (audited)."""
        from picsafe_desktop import governance

        governance.set_identifiability(self.vault, item_id, answer, actor=self.actor, reason=reason)

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
        return bool(self.metadata(item_id).get("intimate"))

    def patient_copy(self, consent_id: str, out: str | os.PathLike[str]) -> Path:
        """The patient's own PDF of the consent (wording and how to withdraw; no staff PINs,
        ids or audit data); writing it is audited."""
        from picsafe_desktop import governance

        return governance.write_patient_copy(
            self.vault, consent_id, Path(out), actor=self.actor, site=self.site
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
            actor=self.actor,
            keep_days=self.site.retention.keep_days_after_record,
        )

    def disposal_report(self) -> list[dict]:
        from picsafe_desktop import governance

        self._require_staff()
        return governance.disposal_report(self.vault)

    # -- browsing --------------------------------------------------------------------------
    def patients(self) -> list[PatientSummary]:
        """One entry per patient (by MRN) with consent and photo counts."""
        self._require_staff()
        by_mrn: dict[str, PatientSummary] = {}
        counts: dict[str, int] = {}
        for item in self.vault.list_items(state=ItemState.ACTIVE):
            if item.consent_id:
                counts[item.consent_id] = counts.get(item.consent_id, 0) + 1
        for consent_id in counts:
            record = self.vault.read_consent(consent_id, actor=self.actor)
            patient = record["patient"]
            summary = by_mrn.setdefault(
                patient["mrn"],
                PatientSummary(
                    patient["mrn"], patient.get("name", ""), patient.get("birth_date") or ""
                ),
            )
            summary.consent_ids.append(consent_id)
            summary.photo_count += counts[consent_id]
        return sorted(by_mrn.values(), key=lambda p: (p.name.lower(), p.mrn))

    def photos(self, consent_ids: Iterable[str] | None = None) -> list[PhotoItem]:
        self._require_staff()
        if consent_ids is None:
            return self.vault.list_items(state=ItemState.ACTIVE)
        return [i for c in consent_ids for i in self.vault.list_items(consent_id=c)]

    def thumbnail(self, item_id: str) -> bytes:
        self._require_staff()
        if item_id not in self._opened_intimate and self.is_intimate(item_id):
            from picsafe_desktop import governance

            return governance.intimate_placeholder()  # never in the grid until opened
        return self.vault.read_thumbnail(item_id)

    def metadata(self, item_id: str) -> dict:
        self._require_staff()
        return self.vault.read_metadata(item_id)

    def view(self, item_id: str, reason: str = "") -> bytes:
        """Full-size photo bytes; audited as a view by the signed-in staff member.
        An intimate photo needs a reason every time; the reason is audited with the view."""
        actor = self.actor
        if self.is_intimate(item_id):
            if not reason.strip():
                raise ReasonRequired("Give the reason for viewing this intimate image.")
            data = self.vault.read(item_id, actor=actor, purpose=f"view intimate: {reason.strip()}")
            self._opened_intimate.add(item_id)
            return data
        return self.vault.read(item_id, actor=actor, purpose="view")

    def delete_photos(self, item_ids: Iterable[str], reason: str) -> int:
        """Crypto-shred photos (each deletion audited with `reason`); returns how many."""
        actor = self.actor
        ids = list(item_ids)
        for item_id in ids:
            self.vault.delete(item_id, actor=actor, reason=reason)
        return len(ids)

    def redact(self, item_id: str, boxes: list, replace: bool) -> str:
        """Save a redacted version; keep or crypto-shred the original as the user chose."""
        from picsafe_desktop import deid

        actor = self.actor
        original = self.vault.read(item_id, actor=actor, purpose="redact")
        result = deid.redact(original, boxes)
        row = self.vault.get_item(item_id)
        meta = dict(self.vault.read_metadata(item_id), redacted_from=item_id, redactions=len(boxes))
        # A redaction the clinician saved is their confirmation: the new item is not
        # identifiable (issue 15); the original keeps its own answer.
        meta.update(identifiability="not_identifiable", identifiability_confirmed_by=actor)
        # The copied metadata carried the original's hash: every export of a redacted copy
        # then failed its integrity check. The redacted bytes have their own.
        meta["clean_sha256"] = hashlib.sha256(result.data).hexdigest()
        new_id = self.vault.put(
            result.data,
            batch_id=row.batch_id,
            media_type=result.media_type,
            thumbnail=deid.make_thumbnail(result.data),
            metadata=meta,
            actor=actor,
            state=row.state,  # covered by the same consent, atomically: never re-asked
            consent_id=row.consent_id,
        )
        self.vault.audit(
            "redact",
            actor=actor,
            subject=new_id,
            details={"original": item_id, "boxes": len(boxes), "original_kept": not replace},
        )
        if replace:
            self.vault.delete(item_id, actor=actor, reason="replaced by redacted version")
        return new_id

    # -- export ----------------------------------------------------------------------------
    def export_destinations(self) -> dict[str, str]:
        """Where each export kind goes; a leading "!" says why it is unavailable."""
        from picsafe_desktop.export import targets

        pacs, fhir = targets.pacs_target(self.site), targets.fhir_target(self.site)
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

        if choices.get("out"):
            choices = dict(choices, out=Path(choices["out"]).expanduser())
        options = targets.site_options(self.site, **choices)
        report = (lambda done, total: progress((done, total))) if progress else None
        return from_vault.export_from_vault(
            self.vault,
            consent_id,
            kind,
            options,
            actor=self.actor,
            staff=self._staff,
            use=Use(use),
            item_ids=item_ids,
            progress=report,
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
        self._require_staff()
        return self.vault.audit_rows(subject=subject)

    def patient_audit_rows(self, patient: PatientSummary):
        """The audit entries about one patient: their consents, batches and photos."""
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

    def verify_audit(self):
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

        with self._import_lock:
            return pipeline.import_paths(
                self.vault,
                paths,
                actor=self.actor,
                progress=progress,
                source_label="Imported files",
                cancel=cancel,
            )

    def usb_devices(self) -> tuple[list, str]:
        """Cameras and phones on USB (PTP/MTP through libgphoto2), or why none can be used."""
        from picsafe_desktop.importer import gphoto

        available, reason = gphoto.status()
        if not available:
            return [], reason
        return gphoto.list_devices(), ""

    def import_device(self, info, cancel=None, progress: Callable | None = None):
        """All photos of one USB camera/phone; deleted on it afterwards if the site says so."""
        from picsafe_desktop.importer import gphoto

        with gphoto.Device(info.model, info.port) as device:
            candidates = device.photos(delete_after_import=self.site_import.delete_from_device)
            return self._import(candidates, (), info.label, self.actor, cancel, progress)

    def import_volume(self, volume, cancel=None, progress: Callable | None = None):
        """A phone or card that appeared with a DCIM folder."""
        scan = volume.scan(delete_after_import=self.site_import.delete_from_device)
        return self._import(
            scan.candidates, scan.refusals, volume.label, self.actor, cancel, progress
        )

    def import_dropped(self, folder, candidates, progress: Callable | None = None):
        """Files that settled in a watched drop folder.

        Taken even while the window is locked: every minute a photo waits there it sits in
        the clear on disk. The consent dialog then waits for the next person to sign in.
        """
        actor = self.actor if self._staff else "drop folder watcher"
        return self._import(
            candidates, (), f"Drop folder {Path(folder).name}", actor, None, progress
        )

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
