"""The API the window calls: import, consent, browse, view, redact, export, delete, audit.

Qt-free and synchronous: the UI runs these calls on worker threads. Every call that touches
patient data names the signed-in staff member, so the vault's audit log says who did it.
The CLI commands call the same core pieces directly (importer.pipeline, consent.store,
export.from_vault), so each rule has one implementation.
"""

from __future__ import annotations

import contextlib
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
        self._staff: Staff | None = None
        self._import_lock = threading.Lock()
        self._consents_seen: dict[str, dict] = {}  # consent id -> record, this sign-in only
        # batch id -> {wristband photo id: (capture time, MRN)}: each batch is scanned once
        self._wristbands: dict[str, dict] = {}

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
        self._consents_seen = {}
        self.vault.audit("sign_in", actor=self.actor, subject="session")

    def sign_out(self, reason: str = "lock") -> None:
        if self._staff is not None:
            self.vault.audit(
                "sign_out", actor=self.actor, subject="session", details={"reason": reason}
            )
        self._staff = None
        self._consents_seen = {}

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

    def prepare_intake(self, batch: WaitingBatch) -> IntakeBatch:
        """The batch sorted into suggested sets (by capture time), with its thumbnails.

        A photo of the patient's wristband barcode identifies the patient and is not
        clinical: its MRN goes to the set it was taken in and the photo itself is
        crypto-shredded, so it never reaches the record. Scanned once per batch (the intake
        reopens after a lock): decoding every full-size photo again would find nothing new.
        """
        from picsafe_desktop import intake
        from picsafe_desktop.wristband import read_wristband_mrn

        actor = self.actor
        bands = self._wristbands.get(batch.batch_id)
        scan = bands is None
        bands = {} if bands is None else bands
        photos = [intake.IntakePhoto(i, taken) for i, (taken, _mrn) in bands.items()]
        for item_id in batch.item_ids:
            taken = _capture_time(self.vault.read_metadata(item_id))
            mrn = None
            if scan:
                data = self.vault.read(item_id, actor=actor, purpose="wristband scan")
                try:
                    mrn = read_wristband_mrn(data)
                except ValueError:
                    mrn = None
            if mrn:
                self.vault.delete(item_id, actor=actor, reason="wristband photo used for MRN")
                bands[item_id] = (taken, mrn)
            photos.append(intake.IntakePhoto(item_id, taken))
        self._wristbands[batch.batch_id] = bands
        sets = intake.place_wristbands(
            intake.suggest_sets(photos), {i: mrn for i, (_t, mrn) in bands.items()}
        )
        ids = [i for s in sets for i in s.item_ids]
        return IntakeBatch(
            batch.batch_id, batch.label, sets, {i: self.vault.read_thumbnail(i) for i in ids}
        )

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
    ) -> str:
        """Consent for the batch's waiting photos, or for the subset one patient's are.
        `body_site` (see `body_sites`: coded from the body map, or free text) goes into
        each photo's encrypted metadata, where the exports read it."""
        actor = self.actor
        logsetup.register_sensitive(record.patient.mrn, record.patient.name)
        ids = self._waiting_in(batch_id, item_ids)
        consent_id = consent_rules.store(self.vault, batch_id, record, actor=actor, item_ids=ids)
        if body_site:
            for item_id in ids:
                meta = dict(self.vault.read_metadata(item_id), body_site=body_site)
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
        actor = self.actor
        ids = self._waiting_in(batch_id, item_ids)
        self.delete_photos(ids, "consent refused")
        details: dict = {"photos_destroyed": len(ids)}
        if mrn.strip():
            logsetup.register_sensitive(mrn.strip())
            details["mrn"] = mrn.strip()
        if reason.strip():
            details["reason"] = reason.strip()
        self.vault.audit("consent_refused", actor=actor, subject=batch_id, details=details)
        log.info("consent refused: %d photos destroyed", len(ids))
        return len(ids)

    def destroy_not_clinical(self, batch_id: str, item_ids: Iterable[str]) -> int:
        """Photos marked "not clinical / not this patient" at intake: crypto-shredded."""
        ids = self._waiting_in(batch_id, item_ids)
        return self.delete_photos(ids, "not clinical / not this patient")

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
        return consent_rules.record_from_dict(self._consent_dict(consent_id))

    def _consent_dict(self, consent_id: str) -> dict:
        """A consent record, decrypted and audited once per sign-in: the audit says who saw
        it, without a row for every click on one of its photos."""
        actor = self.actor
        record = self._consents_seen.get(consent_id)
        if record is None:
            record = self.vault.read_consent(consent_id, actor=actor)
            self._consents_seen[consent_id] = record
        return record

    def withdraw_consent(self, consent_id: str) -> list[dict]:
        """Shred the consent's photos; return the exports already made, for staff follow-up."""
        actor = self.actor
        exported = [
            row
            for row in self.vault.audit_rows()
            if row.event == "export" and row.details.get("consent_id") == consent_id
        ]
        ids = [i.item_id for i in self.vault.list_items(consent_id=consent_id)]
        self.delete_photos(ids, "consent withdrawn")
        self.vault.audit(
            "consent_withdrawn",
            actor=actor,
            subject=consent_id,
            details={"photos_destroyed": len(ids), "exports": len(exported)},
        )
        return [dict(row.details, at=str(row.at)) for row in exported]

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
            record = self._consent_dict(consent_id)
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
        return self.vault.read_thumbnail(item_id)

    def metadata(self, item_id: str) -> dict:
        self._require_staff()
        return self.vault.read_metadata(item_id)

    def view(self, item_id: str) -> bytes:
        """Full-size photo bytes; audited as a view by the signed-in staff member."""
        return self.vault.read(item_id, actor=self.actor, purpose="view")

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
        meta = redacted_metadata(self.vault.read_metadata(item_id), result, item_id, len(boxes))
        new_id = self.vault.put(
            result.data,
            batch_id=row.batch_id,
            media_type=result.media_type,
            thumbnail=deid.make_thumbnail(result.data),
            metadata=meta,
            actor=actor,
            state=row.state,  # covered by the same consent, atomically: never re-asked
            consent_id=row.consent_id,
            # In the item's own transaction: the copy never appears without its audit row.
            also_audit=(
                "redact",
                {"original": item_id, "boxes": len(boxes), "original_kept": not replace},
            ),
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
        """How many photos the phone holds and how many of them are already in the vault."""
        self._require_staff()
        with self._phone_photos(source, delete=False) as candidates:
            stored = 0
            for cand in candidates:
                try:
                    stored += self._in_vault(cand)
                except Exception:  # noqa: BLE001 - unreadable now: counts as not stored
                    log.info("a photo on the phone could not be read back")
            return PhoneCheck(len(candidates), stored)

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
