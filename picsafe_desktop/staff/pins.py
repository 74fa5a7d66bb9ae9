"""Local staff PINs, enrolled by IT (`picsafe-desktop staff add`), never at first sign-in.

The store is `staff.json` in the vault folder. Its entries (name, roles, Argon2id PIN hash,
failure count, back-off deadline) are sealed together with AES-256-GCM under the vault's staff
key (HKDF of the master key in the OS keyring, label "staff"): an entry edited, deleted or added
outside PicSafe fails authentication and every PIN sign-in is refused until IT re-enrols staff,
and without the keyring the PIN hashes cannot even be read, so there is nothing to guess at
offline. Online guessing meets an exponential back-off kept in the same sealed file, so it
survives a restart. (docs/security.md, "Sign-in".)
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from picsafe_desktop.atomic import write_atomically
from picsafe_desktop.staff import roles as role_rules
from picsafe_desktop.vault.crypto import encode_fields, open_field, seal_field
from picsafe_desktop.vault.errors import IntegrityError, UnknownFormat

STAFF_FILE = "staff.json"
LEGACY_FILE = "staff-pins.json"  # PINs set at first use, no MAC: never trusted again
FORMAT = "picsafe-staff"
VERSION = 1

FREE_FAILURES = 3  # typos; the back-off starts at the next wrong PIN
BASE_DELAY = 15.0  # seconds after the first counted failure, doubling each time
MAX_DELAY = 3600.0

MIN_PIN, MAX_PIN = 4, 12
STAFF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class StaffError(Exception):
    """The message says what happened and what to do; it never holds a PIN."""


class SignInRefused(StaffError):
    """Wrong staff ID or PIN, or a back-off is running."""


class StoreTampered(StaffError):
    """staff.json does not authenticate (edited, truncated, swapped or rolled to another vault)."""


@dataclass
class Enrolled:
    staff_id: str
    name: str
    roles: tuple[str, ...]
    title: str = ""
    added_at: str = ""
    added_by: str = ""
    failures: int = 0
    not_before: float = 0.0  # epoch seconds; no PIN is checked before then
    pin_hash: str = field(default="", repr=False)

    def public(self) -> dict:
        """What `staff list` shows: no hash."""
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "title": self.title,
            "roles": list(self.roles),
            "added_at": self.added_at,
            "added_by": self.added_by,
            "failures": self.failures,
        }


def check_staff_id(staff_id: str) -> str:
    staff_id = (staff_id or "").strip()
    if not STAFF_ID.fullmatch(staff_id):
        raise StaffError(
            "a staff ID is 1-64 letters, digits or _.:- (starting with a letter or digit)"
        )
    return staff_id


def check_pin(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit() and MIN_PIN <= len(pin) <= MAX_PIN):
        raise StaffError(f"The PIN must be {MIN_PIN} to {MAX_PIN} digits.")
    return pin


def backoff_seconds(failures: int) -> float:
    """Wait imposed after `failures` wrong PINs in a row."""
    if failures <= FREE_FAILURES:
        return 0.0
    doublings = min(failures - FREE_FAILURES - 1, 32)  # capped long before; no float overflow
    return min(MAX_DELAY, BASE_DELAY * 2**doublings)


def _aad(vault_id: str, generation: int) -> bytes:
    return encode_fields(("picsafe-vault/v1/staff", vault_id, generation))


ANCHOR_SUBJECT = "staff-list"
ANCHOR_EVENT = "staff_list_saved"


class AuditAnchor:
    """Each write of the staff list is recorded in the vault's audit log with its write count,
    so an older copy put back in the folder (a removed person back in, a back-off undone) is
    told apart from the latest: it authenticates, but its count is lower than the log's. The
    audit chain itself is what `audit verify` (and the vault's anchor) keeps honest."""

    def __init__(self, vault) -> None:
        self._vault = vault

    def latest(self) -> int:
        rows = self._vault.audit_rows(subject=ANCHOR_SUBJECT)
        return max((int(r.details.get("generation", 0)) for r in rows), default=0)

    def record(self, generation: int) -> None:
        self._vault.audit(
            ANCHOR_EVENT,
            actor="staff list",
            subject=ANCHOR_SUBJECT,
            details={"generation": generation},
        )


class StaffStore:
    """The sealed store of one vault. Every call reads the file afresh; one lock per store
    object serialises this process's writers (the vault's folder lock keeps other processes
    out while it is open)."""

    def __init__(self, root: Path, vault_id: str, key: bytes, anchor=None) -> None:
        self.path = Path(root) / STAFF_FILE
        self._anchor = anchor
        self.legacy_path = Path(root) / LEGACY_FILE
        self._vault_id = vault_id
        self._key = key
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()

    @classmethod
    def for_vault(cls, vault) -> StaffStore:
        return cls(vault.path, vault.vault_id, vault.staff_key(), AuditAnchor(vault))

    # -- file ------------------------------------------------------------------------------
    def _load(self) -> tuple[int, dict[str, Enrolled]]:
        generation, entries = self._read()
        recorded = self._anchor.latest() if self._anchor else 0
        if generation < recorded:
            what = (
                "is missing"
                if not self.path.exists()
                else f"is an older copy (write {generation}; the audit log records {recorded})"
            )
            raise StoreTampered(
                f"{self.path}: the staff list {what}, put back or removed outside PicSafe; PIN "
                "sign-in is refused. IT: `picsafe-desktop staff reset`, then enrol staff again"
            )
        return generation, entries

    def _read(self) -> tuple[int, dict[str, Enrolled]]:
        if not self.path.exists():
            return 0, {}
        where = str(self.path)
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError("not a PicSafe staff file")
            if doc.get("version") != VERSION:
                raise UnknownFormat(
                    f"{where}: staff file version {doc.get('version')} is not supported by this "
                    f"program (it reads version {VERSION}); update PicSafe Desktop"
                )
            generation = doc["generation"]
            if not isinstance(generation, int) or isinstance(generation, bool):
                raise ValueError("bad generation")
            sealed = base64.b64decode(doc["sealed"], validate=True)
            plain = open_field(self._key, sealed, _aad(self._vault_id, generation), where)
            rows = json.loads(plain)
        except UnknownFormat as exc:
            raise StoreTampered(str(exc)) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IntegrityError) as exc:
            raise StoreTampered(
                f"{where}: the staff list was changed outside PicSafe or is damaged ({exc}); "
                "PIN sign-in is refused. IT: check `picsafe-desktop staff list`, then "
                "`picsafe-desktop staff reset` and enrol staff again"
            ) from None
        entries = {}
        for row in rows:
            entry = Enrolled(**row)
            entry.roles = tuple(entry.roles)
            entries[entry.staff_id] = entry
        return generation, entries

    def _save(self, generation: int, entries: dict[str, Enrolled]) -> None:
        generation += 1
        rows = [vars(e) | {"roles": list(e.roles)} for e in entries.values()]
        plain = json.dumps(rows, sort_keys=True).encode()
        sealed = seal_field(self._key, plain, _aad(self._vault_id, generation))
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "generation": generation,
            "sealed": base64.b64encode(sealed).decode("ascii"),
        }
        write_atomically(self.path, json.dumps(doc, indent=1).encode())
        if self._anchor is not None:
            self._anchor.record(generation)  # after the write: a crash leaves the file ahead

    # -- admin -----------------------------------------------------------------------------
    def list(self) -> list[Enrolled]:
        with self._lock:
            return sorted(self._load()[1].values(), key=lambda e: e.staff_id)

    def add(
        self,
        staff_id: str,
        name: str,
        roles,
        pin: str,
        *,
        title: str = "",
        actor: str = "",
        replace: bool = False,
    ) -> Enrolled:
        """Enrol (or with `replace`, re-enrol: new PIN, cleared back-off) one staff member."""
        staff_id = check_staff_id(staff_id)
        name = " ".join((name or "").split())
        if not name or len(name) > 100:
            raise StaffError("a name of 1-100 characters is required (--name)")
        checked = role_rules.check_roles(roles)
        check_pin(pin)
        with self._lock:
            generation, entries = self._load()
            if staff_id in entries and not replace:
                raise StaffError(
                    f"staff ID {staff_id} is already enrolled; use --replace to set a new PIN"
                )
            entry = Enrolled(
                staff_id=staff_id,
                name=name,
                roles=checked,
                title=" ".join(title.split())[:100],
                added_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                added_by=actor,
                pin_hash=self._hasher.hash(pin),
            )
            entries[staff_id] = entry
            self._save(generation, entries)
            return entry

    def remove(self, staff_id: str) -> None:
        with self._lock:
            generation, entries = self._load()
            if entries.pop(staff_id, None) is None:
                raise StaffError(f"staff ID {staff_id} is not enrolled (see `staff list`)")
            self._save(generation, entries)

    def reset(self) -> Path | None:
        """Set a store that fails its checks aside (kept, never deleted) and start an empty
        one that carries the write count on, so it is the newest the audit log knows."""
        with self._lock:
            kept = None
            if self.path.exists():
                stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
                kept = self.path.with_name(f"{STAFF_FILE}.rejected-{stamp}")
                self.path.rename(kept)
            recorded = self._anchor.latest() if self._anchor else 0
            self._save(recorded, {})
            return kept

    # -- sign-in ---------------------------------------------------------------------------
    def verify(self, staff_id: str, pin: str, now: float | None = None) -> Enrolled:
        """The enrolled entry for a right PIN; SignInRefused otherwise (the failure counted)."""
        now = time.time() if now is None else now
        _dummy_hash()  # made before any branch: unknown IDs cost the same as known ones
        staff_id = (staff_id or "").strip()
        if not staff_id:
            raise SignInRefused("Enter your staff ID.")
        with self._lock:
            generation, entries = self._load()
            entry = entries.get(staff_id)
            if entry is None:
                self._burn(pin)
                raise SignInRefused("Wrong staff ID or PIN.")
            if now < entry.not_before:
                raise SignInRefused(_wait_message(entry.not_before - now))
            try:
                self._hasher.verify(entry.pin_hash, pin)
            except (VerificationError, InvalidHashError):
                entry.failures += 1
                entry.not_before = now + backoff_seconds(entry.failures)
                self._save(generation, entries)
                wait = backoff_seconds(entry.failures)
                raise SignInRefused(
                    "Wrong staff ID or PIN." + (f" {_wait_message(wait)}" if wait else "")
                ) from None
            if entry.failures or entry.not_before:
                entry.failures, entry.not_before = 0, 0.0
                self._save(generation, entries)
            return entry

    def _burn(self, pin: str) -> None:
        try:
            self._hasher.verify(_dummy_hash(), pin or "x")
        except (VerificationError, InvalidHashError):
            pass


@functools.cache
def _dummy_hash() -> str:
    """Made once per process, at the first PIN check (before it branches on the staff ID): a
    store is made for every sign-in and every lock-screen check, and a fresh Argon2 hash each
    time cost as much as a PIN check, on the GUI thread for the lock screen."""
    return PasswordHasher().hash("0000")


def _wait_message(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds >= 120:
        when = f"{-(-seconds // 60)} minutes"
    else:
        when = f"{seconds} seconds"
    return (
        f"Too many wrong PINs: try again in {when}, or ask IT to set a new PIN "
        "(`picsafe-desktop staff add --replace`)."
    )
