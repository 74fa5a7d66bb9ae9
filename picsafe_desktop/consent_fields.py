"""Consent rules for issue 15's fields: identifiability, children, interpreter and wording
language, intimate images, and when and by whom.

Called by `consent._parse` with its checker, so the CLI JSON form and the dialog share every
rule and every message; docs/consent.md lists the fields and the guidance each one serves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from picsafe_desktop.model import (
    Assent,
    Capacity,
    ChaperonePreference,
    ChildDetails,
    Competence,
    Identifiability,
    InterpreterKind,
    IntimateDetails,
    Method,
    SignedBy,
    Use,
    age_on,
)
from picsafe_desktop.model import Interpreter as InterpreterRecord

if TYPE_CHECKING:
    from picsafe_desktop.consent import _Checker

ADULT_AGE = 18
GILLICK_AGE = 16  # under this a child's own consent needs a recorded competence assessment
MAX_BEDSIDE_LAG = dt.timedelta(days=14)  # consent keyed in later than this is a mistake
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")

_CHILD_KEYS = ("competence", "assent", "urgent")
_COMPETENCE_KEYS = ("assessed_by", "competent", "parental_involvement")
_INTERPRETER_KEYS = ("name", "language", "kind")
_INTIMATE_KEYS = ("chaperone", "preference", "secondary_agreed")
_CHAPERONE_KEYS = ("name", "role")


_IDENTIFIABILITY_HELP = (
    "Identifiability must be 'unknown', 'identifiable' or 'not_identifiable', "
    "or a list with one of those per photo in batch order."
)


def _flag(check: _Checker, value: Any, path: str, label: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        check.add(path, f"{label} must be true or false.")
        return False
    return value


def _given(block: Mapping[str, Any]) -> bool:
    """True when an optional block holds anything (the dialog sends empty strings)."""
    return any(v not in (None, "", False, {}, []) for v in block.values())


def _identifiability(
    check: _Checker, fields: Mapping[str, Any], uses: frozenset[Use]
) -> dict[str, Any]:
    legacy = fields.get("identifiable")
    if legacy is not None and not isinstance(legacy, bool):
        check.add("identifiable", "Identifiable must be true or false (or use 'identifiability').")
        legacy = None
    raw = fields.get("identifiability")
    answer, per_photo = Identifiability.UNKNOWN, ()

    def one(value: Any, path: str) -> Identifiability:
        try:
            return Identifiability(value)
        except ValueError:
            check.add(path, _IDENTIFIABILITY_HELP)
            return Identifiability.UNKNOWN

    if raw is None or raw == "":
        # The old yes/no tick: "yes" still means identifiable; "no" was the unexamined default,
        # so it counts as not answered and a clinician must look before any secondary use.
        answer = Identifiability.IDENTIFIABLE if legacy else Identifiability.UNKNOWN
    elif isinstance(raw, str):
        answer = one(raw, "identifiability")
    elif isinstance(raw, list) and raw:
        per_photo = tuple(one(v, f"identifiability[{i}]") for i, v in enumerate(raw))
    else:
        check.add("identifiability", _IDENTIFIABILITY_HELP)
    answers = set(per_photo) or {answer}
    if legacy and raw not in (None, "") and Identifiability.IDENTIFIABLE not in answers:
        check.add(
            "identifiable",
            "'identifiable' is true but 'identifiability' says otherwise; keep one of them.",
        )
    publishable = _flag(
        check,
        fields.get("identifiable_publication"),
        "identifiable_publication",
        "Identifiable publication",
    )
    if publishable and Use.PUBLICATION not in uses:
        check.add(
            "identifiable_publication",
            "Identifiable publication needs the 'publication' use and the journal or website.",
        )
    return {
        "identifiability": answer,
        "photo_identifiability": per_photo,
        "identifiable_publication": publishable,
    }


def _child(
    check: _Checker,
    fields: Mapping[str, Any],
    values: dict[str, Any],
    patient: Mapping[str, Any],
    today: dt.date,
) -> ChildDetails | None:
    capacity, uses = values["capacity"], values["uses"]
    born = values["patient"].birth_date
    under_18 = _flag(check, patient.get("under_18"), "patient.under_18", "Under 18")
    birth_error = any(e.field == "patient.birth_date" for e in check.errors)
    age = age_on(born, today) if born else None
    block = check.obj(fields.get("child"), "child", _CHILD_KEYS, '{"assent": "assents"}')
    if born is None and not birth_error and (under_18 or _given(block)):
        check.add(
            "patient.birth_date",
            "Date of birth is required for a patient under 18: the age decides who may consent.",
        )
    if under_18 and age is not None and age >= ADULT_AGE:
        check.add(
            "patient.under_18",
            "The patient is marked under 18 but the date of birth says otherwise; check both.",
        )
    if age is None or age >= ADULT_AGE:
        if age is not None and _given(block):
            check.add(
                "child",
                "Child details are given but the date of birth says the patient is an adult; "
                "check the date of birth or remove the child details.",
            )
        return None

    competence = None
    comp = check.obj(
        block.get("competence"),
        "child.competence",
        _COMPETENCE_KEYS,
        '{"assessed_by": "...", "competent": true, "parental_involvement": "..."}',
    )
    if _given(comp):
        assessed_by = check.text(
            comp.get("assessed_by"),
            "child.competence.assessed_by",
            "Assessed by",
            max_len=200,
            required="Name the clinician who assessed the child's competence.",
        )
        competent = comp.get("competent")
        if not isinstance(competent, bool):
            check.add(
                "child.competence.competent",
                "Record the outcome of the competence assessment (competent: true or false).",
            )
            competent = False
        involvement = check.text(
            comp.get("parental_involvement"),
            "child.competence.parental_involvement",
            "Parental involvement",
            max_len=1000,
            multiline=True,
            required="Note how the parents were involved in the decision, or why they were not.",
        )
        competence = Competence(assessed_by, competent, involvement)
    assent = None
    if block.get("assent") not in (None, ""):
        assent = check.choice(block.get("assent"), "child.assent", Assent, "", "The child's view")
    urgent = _flag(check, block.get("urgent"), "child.urgent", "Urgent")

    if age < GILLICK_AGE and capacity is Capacity.SELF:
        if competence is None:
            check.add(
                "child.competence",
                "A child under 16 consenting for themselves needs a recorded competence "
                "assessment (Gillick): who assessed it, the outcome and how the parents were "
                "involved. Otherwise a person with parental responsibility consents "
                "(capacity 'substitute').",
            )
        elif not competence.competent:
            check.add(
                "child.competence.competent",
                "The child was assessed as not competent to consent; a person with parental "
                "responsibility must consent (capacity 'substitute').",
            )
    substitute = values.get("substitute")
    if age < GILLICK_AGE and capacity is Capacity.SUBSTITUTE and substitute is not None:
        if not substitute.parental_responsibility:
            check.add(
                "substitute.parental_responsibility",
                "Confirm that the person consenting has parental responsibility for the child.",
            )
    if capacity in (Capacity.SUBSTITUTE, Capacity.LACKS_CAPACITY) and assent is None:
        if block.get("assent") in (None, ""):
            check.add(
                "child.assent",
                "Record the child's own view: assents, objects, or not_able (too young or too "
                "unwell to say).",
            )
    if assent is Assent.OBJECTS:
        if not urgent:
            check.add(
                "child.assent",
                "The child objects, so non-urgent photography must not go ahead: record that "
                "consent was refused, or mark the photos urgent for the child's care.",
            )
        else:
            if uses - {Use.RECORD}:
                check.add(
                    "uses",
                    "The child objects: photos taken urgently despite that are for the "
                    "clinical record only.",
                )
            if not values["indication"]:
                check.add(
                    "indication",
                    "Record why the photos were needed urgently despite the child's objection.",
                )
    elif urgent:
        check.add("child.urgent", "Urgent applies only when the child objects; remove it.")
    return ChildDetails(competence, assent, urgent)


def _interpreter(check: _Checker, fields: Mapping[str, Any]) -> InterpreterRecord | None:
    language = fields.get("language")
    if language not in (None, "") and (
        not isinstance(language, str) or not LANGUAGE_RE.fullmatch(language.strip())
    ):
        check.add("language", "Language must be a code such as en, cy or pl.")
    block = check.obj(
        fields.get("interpreter"),
        "interpreter",
        _INTERPRETER_KEYS,
        '{"name": "...", "language": "...", "kind": "professional"}',
    )
    if not _given(block):
        return None
    name = check.text(
        block.get("name"),
        "interpreter.name",
        "Interpreter's name",
        max_len=200,
        required="Name the interpreter (for a telephone service, the name or ID number given).",
    )
    spoken = check.text(
        block.get("language"),
        "interpreter.language",
        "Interpreted language",
        max_len=100,
        required="Name the language the interpreter used.",
    )
    kind = check.choice(
        block.get("kind"),
        "interpreter.kind",
        InterpreterKind,
        "Choose the kind of interpreter: professional, telephone or family.",
        "Interpreter kind",
    )
    return InterpreterRecord(name, spoken, kind or InterpreterKind.PROFESSIONAL)


def _intimate(
    check: _Checker, fields: Mapping[str, Any], uses: frozenset[Use]
) -> IntimateDetails | None:
    raw = fields.get("intimate")
    if raw in (None, False, {}):
        return None
    if raw is True:
        raw = {}
    block = check.obj(
        raw,
        "intimate",
        _INTIMATE_KEYS,
        '{"preference": "wanted", "chaperone": {"name": "...", "role": "..."}}',
    )
    preference = check.choice(
        block.get("preference"),
        "intimate.preference",
        ChaperonePreference,
        "Record the patient's chaperone preference for intimate photos: wanted, declined "
        "or no_preference.",
        "Chaperone preference",
    )
    chaperone = check.obj(
        block.get("chaperone"),
        "intimate.chaperone",
        _CHAPERONE_KEYS,
        '{"name": "...", "role": "..."}',
    )
    needed = preference is not None and preference is not ChaperonePreference.DECLINED
    name = check.text(
        chaperone.get("name"),
        "intimate.chaperone.name",
        "Chaperone's name",
        max_len=200,
        required="Name the chaperone present (the patient did not decline one)." if needed else "",
    )
    role = check.text(
        chaperone.get("role"),
        "intimate.chaperone.role",
        "Chaperone's role",
        max_len=100,
        required="Give the chaperone's role (e.g. staff nurse)." if needed else "",
    )
    secondary = _flag(
        check, block.get("secondary_agreed"), "intimate.secondary_agreed", "Secondary agreed"
    )
    if uses - {Use.RECORD} and not secondary:
        check.add(
            "uses",
            "Intimate photos are for the clinical record only, unless the patient expressly "
            "agrees to teaching or publication of them (intimate.secondary_agreed).",
        )
    return IntimateDetails(preference or ChaperonePreference.NO_PREFERENCE, name, role, secondary)


def expected_signer(capacity: Capacity | None, method: Method | None) -> SignedBy | None:
    """Whose signature (or word) the record carries."""
    if capacity is None or method is None:
        return None
    if method is Method.VERBAL or capacity is Capacity.LACKS_CAPACITY:
        return SignedBy.CLINICIAN
    return SignedBy.SUBSTITUTE if capacity is Capacity.SUBSTITUTE else SignedBy.PATIENT


def _when_and_who(
    check: _Checker, fields: Mapping[str, Any], values: dict[str, Any], when: dt.datetime
) -> dict[str, Any]:
    consented_at = None
    raw = fields.get("consented_at")
    if raw not in (None, ""):
        try:
            if not isinstance(raw, str):
                raise TypeError
            consented_at = dt.datetime.fromisoformat(raw.strip())
            if consented_at.tzinfo is None:
                consented_at = consented_at.astimezone()  # the ward PC's local time
        except (TypeError, ValueError):
            check.add(
                "consented_at",
                "The time consent was obtained must be a date and time written "
                "YYYY-MM-DD HH:MM (for example 2025-03-14 09:45).",
            )
            consented_at = None
        if consented_at is not None:
            if consented_at > when + dt.timedelta(minutes=5):
                check.add("consented_at", "The time consent was obtained is in the future.")
            elif when - consented_at > MAX_BEDSIDE_LAG:
                check.add(
                    "consented_at",
                    "The time consent was obtained is more than 14 days ago; check the date.",
                )
    photographer = check.text(
        fields.get("photographer"), "photographer", "Photographer", max_len=200
    )
    expected = expected_signer(values["capacity"], values["method"])
    signed_by = expected
    if fields.get("signed_by") not in (None, ""):
        given = check.choice(fields.get("signed_by"), "signed_by", SignedBy, "", "Signed by")
        if given is not None and expected is not None and given is not expected:
            check.add(
                "signed_by",
                f"For this consent the record is signed by the {expected.value} "
                "(the patient for their own written consent, the substitute for theirs, the "
                "clinician for verbal consent or a best-interests decision).",
            )
    return {"consented_at": consented_at, "photographer": photographer, "signed_by": signed_by}


def governance_fields(
    check: _Checker,
    fields: Mapping[str, Any],
    values: dict[str, Any],
    patient: Mapping[str, Any],
    when: dt.datetime,
) -> dict[str, Any]:
    """Issue 15's fields: identifiability, children, interpreter, intimate, when and by whom."""
    uses = values["uses"]
    out = _identifiability(check, fields, uses)
    out["child"] = _child(check, fields, values, patient, when.date())
    out["interpreter"] = _interpreter(check, fields)
    out["intimate"] = _intimate(check, fields, uses)
    out.update(_when_and_who(check, fields, values, when))
    return out
