"""Consent records: one rule set for the CLI JSON form and the consent dialog (no Qt).

The dialog and the CLI both build the same nested dict (the JSON form documented in
docs/consent.md); `validate` returns every problem with its field path so the dialog can mark
fields inline, and `load_consent_json` / `record_from_fields` raise `ConsentError` listing them.
Messages are whole sentences: they are shown next to a field and printed by the CLI.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image

from picsafe_desktop import consent_order  # issue 16's fields
from picsafe_desktop.consent_fields import (  # issue 15's fields, split out for size
    ADULT_AGE,
    LANGUAGE_RE,
    governance_fields,
)
from picsafe_desktop.model import (
    Assent,
    Capacity,
    ChaperonePreference,
    ChildDetails,
    Competence,
    ConsentRecord,
    Identifiability,
    InterpreterKind,
    IntimateDetails,
    ItemState,
    Method,
    Patient,
    SignedBy,
    Staff,
    Substitute,
    Use,
    Withdrawal,
    age_on,
)
from picsafe_desktop.model import Interpreter as InterpreterRecord

STORED_FORMAT = 2  # version of record_to_dict's output, kept in the vault (1 still read)
DEFAULT_REVIEW_AGE = 18
DEFAULT_WORDING_VERSION = "picsafe-default-1"
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MAX_SIGNATURE_SIDE = 4000
MAX_WORDING_CHARS = 50_000

_MRN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]*")
_MRN_MAX = 32
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_BASE64_PREFIX = "iVBORw0KGgo"  # base64 of the PNG magic: tells base64 from a path
_DATA_URI_PREFIX = "data:image/png;base64,"

_TOP_KEYS = (
    "patient",
    "capacity",
    "substitute",
    "uses",
    "publication",
    "method",
    "signature_png",
    "witness",
    "obtained_by",
    "body_site",
    "indication",
    "identifiable",
    "identifiability",
    "identifiable_publication",
    "child",
    "interpreter",
    "language",
    "intimate",
    "consented_at",
    "photographer",
    "signed_by",
    "identity_check",  # issue 16 (consent_order.py)
    "order",
)
_PATIENT_KEYS = ("mrn", "name", "birth_date", "under_18")
_SUBSTITUTE_KEYS = ("name", "relationship", "parental_responsibility")
_WITNESS_KEYS = ("name",)
_STAFF_KEYS = ("name", "role", "staff_id")


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path in the JSON form, e.g. "patient.mrn"; "" for the whole record
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ConsentError(Exception):
    """A consent record that cannot be accepted; `errors` lists every problem."""

    def __init__(self, errors: Sequence[FieldError]):
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        lines = [f"  - {error}" for error in self.errors]
        return "invalid consent record:\n" + "\n".join(lines)


@dataclass(frozen=True)
class ConsentWording:
    """The text shown to the patient; each record stores its version and SHA-256."""

    version: str
    text: str
    language: str = "en"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class WordingError(ValueError):
    """The site's consent wording file cannot be used (message names the file and the fix)."""


def _normalise_wording(raw: bytes, source: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WordingError(f"{source}: consent wording must be UTF-8 text ({exc})") from None
    # Same text, same hash, whichever line endings a Windows checkout or editor gave it.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise WordingError(f"{source}: consent wording is empty")
    if len(text) > MAX_WORDING_CHARS:
        raise WordingError(
            f"{source}: consent wording is longer than {MAX_WORDING_CHARS} characters"
        )
    return text


def default_wording() -> ConsentWording:
    """The wording shipped with the app (resources/consent_wording.txt)."""
    resource = resources.files("picsafe_desktop").joinpath("resources/consent_wording.txt")
    text = _normalise_wording(resource.read_bytes(), "consent_wording.txt")
    return ConsentWording(DEFAULT_WORDING_VERSION, text)


def load_wording(path: Path | str | None = None, version: str | None = None) -> ConsentWording:
    """The site's wording (`[consent] wording_file` / `wording_version`) or the default one.

    Empty strings (the config defaults) mean "not set". A site file must come with its
    version: the version is what staff and auditors read, the hash proves which exact text.
    """
    version = (version or "").strip()
    if not path:
        if version:
            raise WordingError(
                "[consent] wording_version is set but wording_file is not; "
                "set wording_file to the site's wording or remove wording_version"
            )
        return default_wording()
    path = Path(path).expanduser()
    if not version:
        raise WordingError(f"{path}: set [consent] wording_version for this wording file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WordingError(f"{path}: cannot read the consent wording ({exc.strerror})") from None
    return ConsentWording(version, _normalise_wording(raw, str(path)))


def retention_text(keep_days: int, review_months: int) -> str:
    """The paragraph the site's `[retention]` settings add to every wording (GMC para 25)."""
    if keep_days:
        kept = (
            f"The photographs are kept in this system for {keep_days} days after they are "
            "added to your health record, then securely destroyed; the copies in your health "
            "record are kept for as long as the record itself."
        )
    else:
        kept = (
            "The photographs are kept in this system until staff add them to your health "
            "record and then securely destroy them; the copies in your health record are kept "
            "for as long as the record itself."
        )
    review = (
        f" We will review this consent with you after {review_months} months."
        if review_months
        else ""
    )
    return f"How long we keep the photographs. {kept}{review}"


def with_retention(wording: ConsentWording, keep_days: int, review_months: int) -> ConsentWording:
    """The wording as shown: the site's text plus the retention paragraph (hashed together)."""
    text = wording.text.rstrip("\n") + "\n\n" + retention_text(keep_days, review_months) + "\n"
    return dataclasses.replace(wording, text=text)


def site_wordings(site) -> dict[str, ConsentWording]:
    """Every wording the site offers, by language; the main one first.

    `[consent] wording_file`/`wording_version` (or the default) in `wording_language`, then
    each `[consent.wordings] LANG = {file = "...", version = "..."}`. Raises WordingError.
    """
    cfg = site.consent
    retention = getattr(site, "retention", None)
    keep = getattr(retention, "keep_days_after_record", 0)
    months = getattr(retention, "consent_review_months", 0)
    main = dataclasses.replace(
        load_wording(cfg.wording_file or None, cfg.wording_version or None),
        language=getattr(cfg, "wording_language", "en"),
    )
    found = {main.language: with_retention(main, keep, months)}
    for language, entry in (getattr(cfg, "wordings", None) or {}).items():
        where = f"[consent.wordings] {language}"
        if not LANGUAGE_RE.fullmatch(str(language)):
            raise WordingError(f"{where}: the key must be a language code such as cy or pl")
        if not isinstance(entry, Mapping) or set(entry) != {"file", "version"}:
            raise WordingError(f'{where}: write it as {{file = "...", version = "..."}}')
        if not entry["file"] or not entry["version"]:
            raise WordingError(f"{where}: both file and version are required")
        loaded = load_wording(str(entry["file"]), str(entry["version"]))
        found[language] = with_retention(
            dataclasses.replace(loaded, language=language), keep, months
        )
    return found


def mrn_problem(mrn: str) -> str | None:
    """Why `mrn` (already trimmed) is not a usable MRN, or None when it is."""
    if not mrn:
        return "MRN is required."
    if len(mrn) > _MRN_MAX:
        return f"MRN is too long ({len(mrn)} characters, at most {_MRN_MAX})."
    if not _MRN_RE.fullmatch(mrn):
        return "MRN may contain only letters, digits, '-', '/' and '.' (no spaces)."
    return None


def signature_problem(png: bytes) -> str | None:
    """Why `png` is not a usable drawn signature, or None when it is."""
    if len(png) > MAX_SIGNATURE_BYTES:
        return f"The signature image is too large (at most {MAX_SIGNATURE_BYTES // 1024} KiB)."
    if not png.startswith(_PNG_MAGIC):
        return "The signature is not a PNG image."
    try:
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
            if max(width, height) > MAX_SIGNATURE_SIDE or min(width, height) < 16:
                return (
                    f"The signature image is {width}x{height} pixels; "
                    f"it must be 16 to {MAX_SIGNATURE_SIDE} pixels a side."
                )
            image.load()
            rgba = image.convert("RGBA")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return "The signature is not a readable PNG image."
    # Ink is whatever is dark once the image sits on white paper (handles transparency).
    paper = Image.new("RGBA", rgba.size, "white")
    paper.alpha_composite(rgba)
    ink = paper.convert("L").point(lambda v: 255 if v < 160 else 0)
    box = ink.getbbox()
    if box is None:
        return "The signature is blank; it must be drawn on the signature pad."
    if box[2] - box[0] < 8 and box[3] - box[1] < 8:
        return "The signature is only a dot; it must be drawn on the signature pad."
    if ink.histogram()[255] > width * height // 2:
        return "The signature image is mostly dark; it does not look like a signature."
    return None


class _Checker:
    """Collects FieldErrors while reading the nested dict; one instance per validation."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def unknown_keys(self, obj: Mapping[str, Any], known: Sequence[str], prefix: str) -> None:
        for key in obj:
            if key not in known:
                path = f"{prefix}.{key}" if prefix else str(key)
                self.add(path, f"Unknown field '{key}'; expected one of: {', '.join(known)}.")

    def obj(self, value: Any, path: str, known: Sequence[str], example: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, f"'{path}' must be an object like {example}.")
            return {}
        self.unknown_keys(value, known, path)
        return value

    def text(
        self,
        value: Any,
        path: str,
        label: str,
        *,
        max_len: int,
        required: str = "",
        multiline: bool = False,
    ) -> str:
        """A trimmed string; `required` is the message to give when it is missing."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(path, f"{label} must be text (a JSON string in quotes).")
            return ""
        value = value.strip()
        if not value:
            if required:
                self.add(path, required)
            return ""
        if len(value) > max_len:
            self.add(path, f"{label} is too long ({len(value)} characters, at most {max_len}).")
        control = _CONTROL_EXCEPT_NEWLINE_RE if multiline else _CONTROL_RE
        if control.search(value):
            self.add(path, f"{label} contains control characters.")
        elif hidden := _hidden_character(value):
            self.add(
                path,
                f"{label} contains an invisible or direction-changing character ({hidden}); "
                "type it again without it.",
            )
        if not _is_utf8_text(value):
            # A JSON escape such as "\ud800" decodes to half a UTF-16 pair: no real character,
            # and the vault (UTF-8) could not store the record after the photos were imported.
            self.add(path, f"{label} contains an invalid character (a broken \\u escape).")
        return value

    def choice(self, value: Any, path: str, enum: type, missing: str, label: str) -> Any:
        options = ", ".join(member.value for member in enum)
        if value is None or value == "":
            self.add(path, missing)
            return None
        try:
            return enum(value)
        except ValueError:
            # The value is not repeated back: a misplaced field could hold patient data.
            self.add(path, f"{label} must be one of {options}.")
            return None


def _hidden_character(value: str) -> str | None:
    """The first character that would make a name display as something it is not.

    Right-to-left overrides and isolates reorder what is shown, zero-width characters make
    two different records look identical, line separators split one line in two (Unicode
    categories Cf, Zl, Zp and the C1 controls). Returns it as "U+202E", or None.
    """
    for char in value:
        if unicodedata.category(char) in ("Cf", "Zl", "Zp") or "\x80" <= char <= "\x9f":
            return f"U+{ord(char):04X}"
    return None


def _is_utf8_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _birth_date(check: _Checker, value: Any, today: dt.date) -> dt.date | None:
    path = "patient.birth_date"
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value.strip()):
        check.add(path, "Date of birth must be a date written YYYY-MM-DD.")
        return None
    try:
        born = dt.date.fromisoformat(value.strip())
    except ValueError:
        check.add(path, "Date of birth is not a real date (check the month and day).")
        return None
    if born > today:
        check.add(path, "Date of birth is in the future.")
        return None
    if born.year < today.year - 130:
        check.add(path, "Date of birth is more than 130 years ago; check the year.")
        return None
    return born


def _uses(check: _Checker, value: Any, capacity: Capacity | None) -> frozenset[Use]:
    if value is None:
        value = [Use.RECORD.value]  # the default: record only
    if not isinstance(value, list | tuple | set | frozenset):
        check.add("uses", 'Uses must be a list, e.g. ["record", "teaching"].')
        return frozenset()
    uses: set[Use] = set()
    for item in value:
        try:
            uses.add(Use(item))
        except ValueError:
            names = ", ".join(use.value for use in Use)
            check.add("uses", f"Unknown use in the list; uses are {names}.")
    if Use.RECORD not in uses:
        check.add("uses", "Uses must include 'record' (the clinical record).")
    if capacity is Capacity.LACKS_CAPACITY and uses - {Use.RECORD}:
        check.add(
            "uses",
            "Only 'record' is allowed when the patient lacks capacity (best-interests decision).",
        )
    return frozenset(uses)


def _parse(
    fields: Any, when: dt.datetime, *, skip_signature: bool = False
) -> tuple[dict[str, Any], list[FieldError]]:
    """Read the JSON-form dict into typed values, collecting every problem."""
    today = when.date()
    check = _Checker()
    if not isinstance(fields, Mapping):
        check.add("", "The consent record must be a JSON object ({...}).")
        return {}, check.errors
    check.unknown_keys(fields, _TOP_KEYS, "")

    patient = check.obj(fields.get("patient"), "patient", _PATIENT_KEYS, '{"mrn": "..."}')
    mrn_value = patient.get("mrn")
    mrn = ""
    if mrn_value is not None and not isinstance(mrn_value, str):
        check.add("patient.mrn", "MRN must be text (a JSON string in quotes, keeping zeros).")
    else:
        mrn = (mrn_value or "").strip()
        problem = mrn_problem(mrn)
        if problem:
            check.add("patient.mrn", problem)
    name = check.text(patient.get("name"), "patient.name", "Patient name", max_len=200)
    born = _birth_date(check, patient.get("birth_date"), today)

    capacity = check.choice(
        fields.get("capacity"),
        "capacity",
        Capacity,
        "Choose who consents: the patient (self), a substitute, or lacks_capacity "
        "(best-interests decision).",
        "Capacity",
    )
    sub = check.obj(
        fields.get("substitute"),
        "substitute",
        _SUBSTITUTE_KEYS,
        '{"name": "...", "relationship": "..."}',
    )
    substitute = None
    if capacity is Capacity.SUBSTITUTE:
        sub_name = check.text(
            sub.get("name"),
            "substitute.name",
            "Substitute's name",
            max_len=200,
            required="The substitute's name is required when a substitute consents.",
        )
        relationship = check.text(
            sub.get("relationship"),
            "substitute.relationship",
            "Relationship",
            max_len=100,
            required="The substitute's relationship to the patient is required "
            "(e.g. parent, guardian, legal representative).",
        )
        parental = sub.get("parental_responsibility", False)
        if not isinstance(parental, bool):
            check.add(
                "substitute.parental_responsibility",
                "Parental responsibility must be true or false.",
            )
            parental = False
        substitute = Substitute(sub_name, relationship, parental)
    elif any(isinstance(v, str) and v.strip() for v in sub.values()):
        check.add(
            "substitute",
            f"A substitute is given but capacity is '{capacity or 'unset'}'; "
            "set capacity to 'substitute' or remove the substitute.",
        )

    uses = _uses(check, fields.get("uses"), capacity)
    publication = check.text(
        fields.get("publication"), "publication", "Journal or website", max_len=300
    )
    if Use.PUBLICATION in uses and not publication:
        check.add("publication", "Name the journal or website where the photos may be published.")
    elif publication and Use.PUBLICATION not in uses:
        check.add(
            "publication",
            "A journal or website is named but 'publication' is not among the uses; "
            "add the use or remove the name.",
        )

    method = check.choice(
        fields.get("method"),
        "method",
        Method,
        "Choose how consent was given: written (signature) or verbal (witnessed).",
        "Method",
    )
    signature = fields.get("signature_png")
    if signature is not None and not isinstance(signature, bytes | bytearray):
        if not skip_signature:
            check.add("signature_png", "The signature must be PNG image data.")
    elif not skip_signature:
        signature = signature or None
        if method is Method.WRITTEN:
            if signature is None:
                check.add("signature_png", "A signature is required for written consent.")
            else:
                problem = signature_problem(bytes(signature))
                if problem:
                    check.add("signature_png", problem)
        elif method is Method.VERBAL and signature is not None:
            check.add(
                "signature_png",
                "A signature is given but consent is verbal; "
                "choose written consent or remove the signature.",
            )
    signature_bytes = bytes(signature) if isinstance(signature, bytes | bytearray) else None

    witness = check.obj(fields.get("witness"), "witness", _WITNESS_KEYS, '{"name": "..."}')
    witness_name = check.text(
        witness.get("name"),
        "witness.name",
        "Witness name",
        max_len=200,
        required="A witness name is required for verbal consent."
        if method is Method.VERBAL
        else "",
    )

    staff = check.obj(
        fields.get("obtained_by"),
        "obtained_by",
        _STAFF_KEYS,
        '{"name": "...", "role": "...", "staff_id": "..."}',
    )
    staff_name = check.text(
        staff.get("name"),
        "obtained_by.name",
        "Staff name",
        max_len=200,
        required="The name of the staff member who obtained consent is required.",
    )
    role = check.text(staff.get("role"), "obtained_by.role", "Staff role", max_len=100)
    staff_id = check.text(staff.get("staff_id"), "obtained_by.staff_id", "Staff ID", max_len=64)

    body_site = check.text(fields.get("body_site"), "body_site", "Body site", max_len=200)
    indication = check.text(
        fields.get("indication"),
        "indication",
        "Clinical indication",
        max_len=2000,
        multiline=True,
        required="Record the clinical indication for the best-interests decision."
        if capacity is Capacity.LACKS_CAPACITY
        else "",
    )
    values = {
        "patient": Patient(mrn, name, born),
        "capacity": capacity,
        "substitute": substitute,
        "uses": uses,
        "publication": publication,
        "method": method,
        "signature_png": signature_bytes if method is Method.WRITTEN else None,
        "witness_name": witness_name,
        "obtained_by": Staff(staff_name, role, staff_id),
        "body_site": body_site,
        "indication": indication,
    }
    values.update(governance_fields(check, fields, values, patient, when))
    values.update(consent_order.parse(check, fields))  # issue 16
    return values, check.errors


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now().astimezone()


Wordings = ConsentWording | Mapping[str, ConsentWording]


def _pick_wording(
    wording: Wordings | None, fields: Mapping[str, Any], errors: list[FieldError]
) -> ConsentWording:
    """The wording in the language the form names (`language`), else the site's first one."""
    if wording is None:
        return default_wording()
    if isinstance(wording, ConsentWording):
        choices = {wording.language: wording}
    else:
        choices = dict(wording)
    language = fields.get("language") if isinstance(fields, Mapping) else None
    if isinstance(language, str) and language.strip():
        chosen = choices.get(language.strip())
        if chosen is None:
            errors.append(
                FieldError(
                    "language",
                    "No consent wording is configured in that language; the site has: "
                    f"{', '.join(sorted(choices))}. Ask IT to add it ([consent.wordings]).",
                )
            )
            return next(iter(choices.values()))
        return chosen
    return next(iter(choices.values()))


def validate(
    fields: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    wording: Wordings | None = None,
) -> list[FieldError]:
    """Every problem in a JSON-form dict whose `signature_png` is PNG bytes or None."""
    errors = _parse(fields, _now(now))[1]
    if wording is not None:
        _pick_wording(wording, fields, errors)
    return errors


def _build(
    values: dict[str, Any],
    wording: ConsentWording,
    when: dt.datetime,
    consent_id: str | None,
    review_at_age: int = DEFAULT_REVIEW_AGE,
) -> ConsentRecord:
    values = dict(values)
    review_on = None
    born = values["patient"].birth_date
    # Any child's consent gets the review date, even one already past (a 14-year-old with a
    # review age of 13 is due at once); adults get none.
    if born is not None and age_on(born, when.date()) < max(review_at_age, ADULT_AGE):
        review_on = _add_years(born, review_at_age)
    return ConsentRecord(
        consent_id=consent_id or uuid.uuid4().hex,
        obtained_at=when,
        wording_version=wording.version,
        wording_sha256=wording.sha256,
        wording_language=wording.language,
        wording_text=wording.text,
        review_on=review_on,
        **values,
    )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year: the birthday is kept on 1 March
        return dt.date(day.year + years, 3, 1)


def record_from_fields(
    fields: Mapping[str, Any],
    *,
    wording: Wordings,
    now: dt.datetime | None = None,
    consent_id: str | None = None,
    review_at_age: int = DEFAULT_REVIEW_AGE,
) -> ConsentRecord:
    """The dialog's path: same dict as `validate`; raises ConsentError if it is not valid."""
    when = _now(now)
    values, errors = _parse(fields, when)
    chosen = _pick_wording(wording, fields, errors)
    if errors:
        raise ConsentError(errors)
    return _build(values, chosen, when, consent_id, review_at_age)


def _resolve_signature(value: str, base_dir: Path) -> tuple[bytes | None, str | None]:
    """PNG bytes from base64 (optionally a data: URI) or from a file path."""
    text = value.strip()
    if text.startswith(_DATA_URI_PREFIX) or text.startswith(_PNG_BASE64_PREFIX):
        encoded = "".join(text.removeprefix(_DATA_URI_PREFIX).split())
        if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
            return None, f"The signature is too large (at most {MAX_SIGNATURE_BYTES // 1024} KiB)."
        try:
            return base64.b64decode(encoded, validate=True), None
        except (binascii.Error, ValueError):
            return None, "The signature looks like base64 PNG data but does not decode."
    if not text:
        return None, None
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        if not path.is_file():  # a folder, device or pipe would fail or never end
            if path.exists():
                return None, f"The signature path {path} is not a regular file."
            raise FileNotFoundError(path)
        if path.stat().st_size > MAX_SIGNATURE_BYTES:
            kib = MAX_SIGNATURE_BYTES // 1024
            return None, f"The signature file {path} is too large (at most {kib} KiB)."
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, (
            f"The signature file {path} does not exist; give a PNG file path "
            "(relative to the JSON file) or base64 PNG data."
        )
    except OSError as exc:
        return None, f"The signature file {path} cannot be read ({exc.strerror})."
    except ValueError:  # e.g. a NUL character, which no file name can hold
        return None, "The signature path is not a usable file name."


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def load_consent_json(
    source: Path | str | Mapping[str, Any],
    *,
    wording: Wordings | None = None,
    now: dt.datetime | None = None,
    review_at_age: int = DEFAULT_REVIEW_AGE,
) -> ConsentRecord:
    """A ConsentRecord from the CLI JSON form (a file or an already parsed dict).

    `signature_png` is base64 PNG data (optionally a `data:image/png;base64,` URI) or a path to
    a PNG file, relative to the JSON file's folder. Raises ConsentError listing every problem.
    """
    base_dir = Path.cwd()
    if isinstance(source, str | os.PathLike):
        source = Path(source)
    if isinstance(source, Path):
        base_dir = source.parent
        if source.exists() and not source.is_file():  # a FIFO or device would block forever
            raise ConsentError([FieldError("", f"{source} is not a regular file.")])
        try:
            text = source.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConsentError([FieldError("", f"Cannot read {source}: {exc.strerror}.")]) from None
        except UnicodeDecodeError:
            raise ConsentError([FieldError("", f"{source} is not UTF-8 text.")]) from None
        except ValueError:  # a NUL in the name
            raise ConsentError([FieldError("", "The consent file name is not usable.")]) from None
        try:
            data = json.loads(text, object_pairs_hook=_without_duplicate_keys)
        except _DuplicateKey as exc:
            # JSON lets the last of two equal keys win silently: an MRN given twice was stored
            # under the second. A consent record must say each thing once.
            message = (
                f"{source}: the field '{exc.key}' appears twice in the same object; remove one "
                "of them so the record says each thing once."
            )
            raise ConsentError([FieldError(exc.key, message)]) from None
        except json.JSONDecodeError as exc:
            message = (
                f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            )
            raise ConsentError([FieldError("", message)]) from None
        except RecursionError:  # thousands of nested [ or {: no consent record looks like that
            message = f"{source} is not a consent record: its JSON is nested too deeply."
            raise ConsentError([FieldError("", message)]) from None
    else:
        data = source
    when = _now(now)
    if not isinstance(data, Mapping):
        raise ConsentError([FieldError("", "The consent record must be a JSON object ({...}).")])

    fields = dict(data)
    signature_error = None
    raw_signature = fields.get("signature_png")
    if isinstance(raw_signature, str):
        fields["signature_png"], signature_error = _resolve_signature(raw_signature, base_dir)
    elif raw_signature is not None:
        signature_error = "signature_png must be a file path or base64 PNG data (a string)."
    values, errors = _parse(fields, when, skip_signature=signature_error is not None)
    if signature_error:
        errors.append(FieldError("signature_png", signature_error))
    chosen = _pick_wording(wording, fields, errors)
    if errors:
        raise ConsentError(errors)
    return _build(values, chosen, when, None, review_at_age)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def record_to_dict(record: ConsentRecord) -> dict[str, Any]:
    """JSON-able stored form (base64 signature) for the vault's encrypted metadata."""
    substitute = record.substitute
    child = record.child
    competence = child.competence if child else None
    interpreter = record.interpreter
    intimate = record.intimate
    return {
        "format": STORED_FORMAT,
        "consent_id": record.consent_id,
        "obtained_at": record.obtained_at.isoformat(),
        "patient": {
            "mrn": record.patient.mrn,
            "name": record.patient.name,
            "birth_date": _iso(record.patient.birth_date),
        },
        "capacity": record.capacity.value,
        "substitute": {
            "name": substitute.name,
            "relationship": substitute.relationship,
            "parental_responsibility": substitute.parental_responsibility,
        }
        if substitute
        else None,
        "uses": [use.value for use in Use if use in record.uses],
        "publication": record.publication,
        "method": record.method.value,
        "signature_png": base64.b64encode(record.signature_png).decode("ascii")
        if record.signature_png is not None
        else None,
        "witness": {"name": record.witness_name},
        "obtained_by": {
            "name": record.obtained_by.name,
            "role": record.obtained_by.role,
            "staff_id": record.obtained_by.staff_id,
        },
        "body_site": record.body_site,
        "indication": record.indication,
        "identifiability": record.identifiability.value,
        "photo_identifiability": [a.value for a in record.photo_identifiability],
        "identifiable_publication": record.identifiable_publication,
        "child": {
            "competence": {
                "assessed_by": competence.assessed_by,
                "competent": competence.competent,
                "parental_involvement": competence.parental_involvement,
            }
            if competence
            else None,
            "assent": child.assent.value if child.assent else None,
            "urgent": child.urgent,
        }
        if child
        else None,
        "review_on": _iso(record.review_on),
        "interpreter": {
            "name": interpreter.name,
            "language": interpreter.language,
            "kind": interpreter.kind.value,
        }
        if interpreter
        else None,
        "intimate": {
            "preference": intimate.preference.value,
            "chaperone": {"name": intimate.chaperone_name, "role": intimate.chaperone_role},
            "secondary_agreed": intimate.secondary_agreed,
        }
        if intimate
        else None,
        "consented_at": _iso(record.consented_at),
        "photographer": record.photographer,
        "signed_by": record.signed_by.value if record.signed_by else None,
        "amends": record.amends,
        "amendment_reason": record.amendment_reason,
        "withdrawn": record.withdrawn.value if record.withdrawn else None,
        "wording": {
            "version": record.wording_version,
            "sha256": record.wording_sha256,
            "language": record.wording_language,
            "text": record.wording_text,
        },
        **consent_order.to_dict(record),  # issue 16
    }


def _stored_governance(d: Mapping[str, Any]) -> dict[str, Any]:
    """Issue 15's fields of a stored record; format 1 records have none of them."""
    if d.get("format") == 1:
        # Format 1 had one yes/no tick defaulting to "no" without anyone looking: "no" becomes
        # "unknown", so such photos need a clinician's answer before any secondary use.
        answer = Identifiability.IDENTIFIABLE if d.get("identifiable") else Identifiability.UNKNOWN
        return {"identifiability": answer}
    child = d.get("child")
    competence = (child or {}).get("competence")
    interpreter = d.get("interpreter")
    intimate = d.get("intimate")
    review = d.get("review_on")
    at = d.get("consented_at")
    return {
        "identifiability": Identifiability(d["identifiability"]),
        "photo_identifiability": tuple(
            Identifiability(a) for a in d.get("photo_identifiability") or ()
        ),
        "identifiable_publication": bool(d.get("identifiable_publication")),
        "child": ChildDetails(
            Competence(
                str(competence["assessed_by"]),
                bool(competence["competent"]),
                str(competence["parental_involvement"]),
            )
            if competence
            else None,
            Assent(child["assent"]) if child.get("assent") else None,
            bool(child.get("urgent")),
        )
        if child
        else None,
        "review_on": dt.date.fromisoformat(review) if review else None,
        "interpreter": InterpreterRecord(
            str(interpreter["name"]),
            str(interpreter["language"]),
            InterpreterKind(interpreter["kind"]),
        )
        if interpreter
        else None,
        "intimate": IntimateDetails(
            ChaperonePreference(intimate["preference"]),
            str(intimate["chaperone"]["name"]),
            str(intimate["chaperone"]["role"]),
            bool(intimate.get("secondary_agreed")),
        )
        if intimate
        else None,
        "consented_at": dt.datetime.fromisoformat(at) if at else None,
        "photographer": str(d.get("photographer") or ""),
        "signed_by": SignedBy(d["signed_by"]) if d.get("signed_by") else None,
        "amends": str(d.get("amends") or ""),
        "amendment_reason": str(d.get("amendment_reason") or ""),
        "withdrawn": Withdrawal(d["withdrawn"]) if d.get("withdrawn") else None,
        "wording_language": str(d["wording"].get("language") or "en"),
        "wording_text": str(d["wording"].get("text") or ""),
    }


def record_from_dict(d: Mapping[str, Any]) -> ConsentRecord:
    """Inverse of record_to_dict. Checks structure only: a record valid when it was taken
    stays readable even if the rules get stricter later."""
    try:
        if d.get("format") not in (1, STORED_FORMAT):
            raise ConsentError(
                [FieldError("format", f"Unknown stored consent format {d.get('format')!r}.")]
            )
        patient = d["patient"]
        substitute = d.get("substitute")
        staff = d["obtained_by"]
        signature = d.get("signature_png")
        born = patient.get("birth_date")
        obtained_at = dt.datetime.fromisoformat(d["obtained_at"])
        return ConsentRecord(
            consent_id=str(d["consent_id"]),
            patient=Patient(
                str(patient["mrn"]),
                str(patient.get("name", "")),
                dt.date.fromisoformat(born) if born else None,
            ),
            capacity=Capacity(d["capacity"]),
            uses=frozenset(Use(use) for use in d["uses"]),
            method=Method(d["method"]),
            obtained_by=Staff(
                str(staff["name"]), str(staff.get("role", "")), str(staff.get("staff_id", ""))
            ),
            obtained_at=obtained_at,
            body_site=str(d.get("body_site", "")),
            indication=str(d.get("indication", "")),
            substitute=Substitute(
                str(substitute["name"]),
                str(substitute["relationship"]),
                bool(substitute.get("parental_responsibility")),
            )
            if substitute
            else None,
            publication=str(d.get("publication", "")),
            signature_png=base64.b64decode(signature, validate=True) if signature else None,
            witness_name=str((d.get("witness") or {}).get("name", "")),
            wording_version=str(d["wording"]["version"]),
            wording_sha256=str(d["wording"]["sha256"]),
            **_stored_governance(d),
            **consent_order.from_dict(d),  # issue 16
        )
    except KeyError as exc:
        message = f"Stored consent record is malformed (missing {exc})."
        raise ConsentError([FieldError("", message)]) from None
    except (TypeError, ValueError, AttributeError, binascii.Error) as exc:
        # The exception text may quote a value (a birth date): name only its type.
        message = f"Stored consent record is malformed ({type(exc).__name__})."
        raise ConsentError([FieldError("", message)]) from None


def photo_governance(meta: Mapping[str, Any], record: ConsentRecord) -> dict[str, Any]:
    """A photo's identifiability, confirmation, redaction and intimacy from its metadata
    (written by `store`, a clinician's answer or a redaction); the export gate checks them.
    A photo stored before these existed takes the record's one answer, else "unknown"."""
    try:
        answer = Identifiability(meta.get("identifiability") or "")
    except ValueError:
        answer = Identifiability.UNKNOWN if record.photo_identifiability else record.identifiability
    return {
        "identifiability": answer,
        "identifiability_confirmed": bool(meta.get("identifiability_confirmed_by")),
        "redacted": bool(meta.get("redacted_from")),
        "intimate": bool(meta.get("intimate")) or record.intimate is not None,
        "taken_before_consent": bool(meta.get("taken_before_consent")),
    }


def _capture_time(meta: Mapping[str, Any]) -> dt.datetime | None:
    taken = meta.get("capture_time")
    try:
        when = dt.datetime.fromisoformat(taken) if isinstance(taken, str) else None
    except ValueError:
        return None
    if when is not None and when.tzinfo is None:
        when = when.astimezone()  # phones without an offset record the ward's local time
    return when


def store(
    vault,
    batch_id: str,
    record: ConsentRecord,
    *,
    actor: str,
    item_ids: Sequence[str] | None = None,
) -> str:
    """See _store: the photos' answers, the record and their activation are one transaction."""
    with vault.transaction():
        return _store(vault, batch_id, record, actor=actor, item_ids=item_ids)


def _store(
    vault,
    batch_id: str,
    record: ConsentRecord,
    *,
    actor: str,
    item_ids: Sequence[str] | None = None,
) -> str:
    """Store the consent (encrypted) and make the batch's waiting photos usable.

    The one place this happens, for the consent dialog and `import --consent` alike.
    `item_ids` defaults to every photo of the batch still waiting for consent, in batch order
    (the order the dialog shows them and per-photo answers follow). Each photo's metadata gets
    its identifiability answer, the intimate flag and whether it was taken before the bedside
    consent time, before the photos become usable.
    """
    if item_ids is None:
        item_ids = [
            i.item_id for i in vault.list_items(batch_id=batch_id, state=ItemState.AWAITING_CONSENT)
        ]
    answers = record.photo_identifiability
    if answers and len(answers) != len(item_ids):
        raise ConsentError(
            [
                FieldError(
                    "identifiability",
                    f"{len(answers)} identifiability answers were given for {len(item_ids)} "
                    "photos; give one per photo in batch order, or one answer for all.",
                )
            ]
        )
    for index, item_id in enumerate(item_ids):
        meta = dict(vault.read_metadata(item_id))
        meta["identifiability"] = record.identifiability_of(index).value
        meta["intimate"] = record.intimate is not None
        taken = _capture_time(meta)
        meta["taken_before_consent"] = bool(
            record.consented_at and taken and taken < record.consented_at
        )
        vault.update_metadata(item_id, meta, actor=actor)
    if not re.fullmatch(r"[0-9a-f]{32}", record.consent_id or ""):
        # The record's own id is the vault's, so exports and the audit log name the same one.
        record = dataclasses.replace(record, consent_id=uuid.uuid4().hex)
    consent_id = vault.put_consent(
        batch_id,
        record_to_dict(record),
        mrn=record.patient.mrn,
        actor=actor,
        consent_id=record.consent_id,
    )
    vault.set_state(list(item_ids), ItemState.ACTIVE, consent_id=consent_id, actor=actor)
    return consent_id
