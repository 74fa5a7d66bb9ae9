"""Issue 15: children, identifiability, interpreter, intimate images, when and by whom.

Each test names the finding of the issue it covers. New model names are imported inside the
tests, so this file also runs (and fails for the right reason) against the code before the fix.
"""

from __future__ import annotations

import datetime as dt

import pytest

from picsafe_desktop.consent import (
    ConsentError,
    ConsentWording,
    load_consent_json,
    record_from_dict,
    record_from_fields,
    record_to_dict,
    validate,
)
from tests.unit.test_consent import NOW, SIGNATURE, WORDING, written


def errors(fields, **kw) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in validate(fields, now=NOW, **kw):
        found.setdefault(error.field, []).append(error.message)
    return found


def child(birth_date: str, **changes) -> dict:
    fields = written(patient={"mrn": "RX1", "name": "Kit Example", "birth_date": birth_date})
    fields.pop("identifiable")
    fields.update(changes)
    return fields


NINE = "2016-01-10"  # 9 at NOW (2025-03-14)
FIFTEEN = "2009-06-01"
SEVENTEEN = "2007-06-01"
PARENT = {"name": "Sam Example", "relationship": "mother", "parental_responsibility": True}


# --- finding 2: children ------------------------------------------------------------------


def test_nine_year_old_self_consent_without_competence_assessment_is_refused_naming_the_field():
    found = errors(child(NINE))
    assert "child.competence" in found, found
    assert "competence assessment" in found["child.competence"][0]
    assert "Gillick" in found["child.competence"][0]


def test_gillick_competent_child_may_consent_with_parental_involvement_noted():
    competence = {"assessed_by": "Dr Jo Smith", "competent": True, "parental_involvement": ""}
    found = errors(child(FIFTEEN, child={"competence": competence}))
    assert list(found) == ["child.competence.parental_involvement"]
    competence["parental_involvement"] = "Father present and supportive"
    record = record_from_fields(
        child(FIFTEEN, child={"competence": competence}), wording=WORDING, now=NOW
    )
    assert record.child.competence.competent is True
    assert record.age_at_consent() == 15


def test_child_assessed_not_competent_must_have_a_substitute():
    competence = {"assessed_by": "Dr Jo", "competent": False, "parental_involvement": "mother"}
    assert list(errors(child(FIFTEEN, child={"competence": competence}))) == [
        "child.competence.competent"
    ]


def test_substitute_for_a_child_under_16_needs_parental_responsibility_and_the_childs_view():
    no_pr = dict(PARENT, parental_responsibility=False)
    found = errors(child(NINE, capacity="substitute", substitute=no_pr))
    assert set(found) == {"substitute.parental_responsibility", "child.assent"}
    ok = child(NINE, capacity="substitute", substitute=PARENT, child={"assent": "assents"})
    assert validate(ok, now=NOW) == []


def test_sixteen_and_seventeen_year_olds_consent_for_themselves():
    assert validate(child(SEVENTEEN), now=NOW) == []


def test_childs_objection_stops_non_urgent_photography():
    fields = child(NINE, capacity="substitute", substitute=PARENT, child={"assent": "objects"})
    assert "non-urgent" in errors(fields)["child.assent"][0]
    urgent = child(
        NINE,
        capacity="substitute",
        substitute=PARENT,
        child={"assent": "objects", "urgent": True},
        uses=["record"],
        indication="suspected non-accidental injury, documentation needed now",
    )
    assert validate(urgent, now=NOW) == []
    teaching = dict(urgent, uses=["record", "teaching"])
    assert "clinical record only" in errors(teaching)["uses"][0]


def test_under_18_needs_a_date_of_birth():
    fields = written(patient={"mrn": "RX1", "under_18": True})
    assert "required" in errors(fields)["patient.birth_date"][0]


def test_child_details_for_an_adult_are_contradictory():
    assert "adult" in errors(written(child={"assent": "assents"}))["child"][0]


def test_review_flag_at_the_site_age():
    fields = child(
        FIFTEEN,
        child={
            "competence": {
                "assessed_by": "Dr Jo",
                "competent": True,
                "parental_involvement": "mother present",
            }
        },
    )
    record = record_from_fields(fields, wording=WORDING, now=NOW, review_at_age=18)
    assert record.review_on == dt.date(2027, 6, 1)
    assert record_from_fields(fields, wording=WORDING, now=NOW, review_at_age=16).review_on == (
        dt.date(2025, 6, 1)
    )
    adult = record_from_fields(written(), wording=WORDING, now=NOW)
    assert adult.review_on is None
    assert record_from_dict(record_to_dict(record)) == record


# --- finding 1: identifiability -----------------------------------------------------------


def test_identifiability_defaults_to_unknown_not_no():
    from picsafe_desktop.model import Identifiability

    fields = written()
    fields.pop("identifiable")
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.identifiability is Identifiability.UNKNOWN
    # The old unticked box ("no" by default) is not an answer either.
    old = record_from_fields(written(identifiable=False), wording=WORDING, now=NOW)
    assert old.identifiability is Identifiability.UNKNOWN


def test_identifiability_per_photo_and_identifiable_publication():
    from picsafe_desktop.model import Identifiability

    fields = written(
        identifiability=["identifiable", "not_identifiable"],
        uses=["record", "publication"],
        publication="BMJ Case Reports",
        identifiable_publication=True,
    )
    fields.pop("identifiable")
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.identifiability_of(0) is Identifiability.IDENTIFIABLE
    assert record.identifiability_of(1) is Identifiability.NOT_IDENTIFIABLE
    assert record.identifiable_publication
    assert record_from_dict(record_to_dict(record)) == record
    bad = dict(fields, identifiability=["maybe"], uses=["record"], publication="")
    assert set(errors(bad)) == {"identifiability[0]", "identifiable_publication"}


def test_stored_format_1_record_without_an_answer_reads_as_unknown():
    from picsafe_desktop.model import Identifiability

    stored = record_to_dict(record_from_fields(written(), wording=WORDING, now=NOW))
    old = {
        k: v
        for k, v in stored.items()
        if k
        in (
            "consent_id",
            "obtained_at",
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
        )
    }
    old.update(format=1, identifiable=False, wording={"version": "v", "sha256": "0" * 64})
    assert record_from_dict(old).identifiability is Identifiability.UNKNOWN
    old["identifiable"] = True
    assert record_from_dict(old).identifiability is Identifiability.IDENTIFIABLE


# --- finding 3: interpreter and wording per language --------------------------------------


def test_interpreter_fields_are_required_together():
    found = errors(written(interpreter={"name": "A. Interpreter"}))
    assert set(found) == {"interpreter.language", "interpreter.kind"}
    record = record_from_fields(
        written(interpreter={"name": "Line 4471", "language": "Polish", "kind": "telephone"}),
        wording=WORDING,
        now=NOW,
    )
    assert record.interpreter.kind.value == "telephone"
    assert record_from_dict(record_to_dict(record)) == record


def test_wording_is_chosen_by_language_and_the_record_keeps_which():
    english = ConsentWording("v2", "We would like to photograph...\n", "en")
    welsh = ConsentWording("v2-cy", "Hoffem dynnu lluniau...\n", "cy")
    wordings = {"en": english, "cy": welsh}
    record = record_from_fields(written(language="cy"), wording=wordings, now=NOW)
    assert (record.wording_language, record.wording_version) == ("cy", "v2-cy")
    assert record.wording_sha256 == welsh.sha256
    with pytest.raises(ConsentError) as caught:
        record_from_fields(written(language="pl"), wording=wordings, now=NOW)
    assert [e.field for e in caught.value.errors] == ["language"]
    assert "cy, en" in caught.value.errors[0].message


# --- finding 4: intimate images -----------------------------------------------------------


def test_intimate_photos_need_chaperone_details_and_are_record_only_by_default():
    found = errors(written(intimate={"preference": "wanted"}))
    assert set(found) == {"intimate.chaperone.name", "intimate.chaperone.role", "uses"}
    declined = written(intimate={"preference": "declined"}, uses=["record"])
    assert validate(declined, now=NOW) == []
    agreed = written(
        intimate={
            "preference": "wanted",
            "chaperone": {"name": "Nurse Kay", "role": "staff nurse"},
            "secondary_agreed": True,
        }
    )
    record = record_from_fields(agreed, wording=WORDING, now=NOW)
    assert record.intimate.chaperone_name == "Nurse Kay"
    assert record_from_dict(record_to_dict(record)) == record


# --- finding 7: when and by whom ----------------------------------------------------------


def test_bedside_time_photographer_and_signer():
    fields = written(consented_at="2025-03-14T09:45+00:00", photographer="Medical photographer")
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.consented_at == dt.datetime(2025, 3, 14, 9, 45, tzinfo=dt.UTC)
    assert record.obtained_at == NOW  # when it was keyed in stays separate
    assert record.signed_by.value == "patient"
    assert record_from_dict(record_to_dict(record)) == record
    verbal = record_from_fields(
        written(method="verbal", signature_png=None, witness={"name": "Nurse Lee"}),
        wording=WORDING,
        now=NOW,
    )
    assert verbal.signed_by.value == "clinician"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2025-03-15T09:00+00:00", "future"),
        ("2025-01-01T09:00", "14 days"),
        ("noon", "YYYY-MM-DD HH:MM"),
    ],
)
def test_bedside_time_is_checked(value, words):
    assert words in errors(written(consented_at=value))["consented_at"][0]


def test_signed_by_must_match_who_consented():
    found = errors(written(signed_by="substitute"))
    assert "signed by the patient" in found["signed_by"][0]


def test_cli_json_form_takes_the_same_fields(tmp_path):
    import base64
    import json

    form = child(
        NINE,
        capacity="substitute",
        substitute=PARENT,
        child={"assent": "assents"},
        identifiability="not_identifiable",
        consented_at="2025-03-14T09:45+00:00",
        photographer="Dr Jo Smith",
        signature_png=base64.b64encode(SIGNATURE).decode(),
    )
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(form))
    record = load_consent_json(path, wording=WORDING, now=NOW)
    assert record.child.assent.value == "assents"
    assert record.signed_by.value == "substitute"
    form["child"] = {}
    path.write_text(json.dumps(form))
    with pytest.raises(ConsentError) as caught:
        load_consent_json(path, wording=WORDING, now=NOW)
    assert [e.field for e in caught.value.errors] == ["child.assent"]


# --- finding 10: every field documented and mapped to the guidance it serves ---------------


def test_docs_map_every_json_field_to_its_guidance():
    from pathlib import Path

    from picsafe_desktop import consent

    docs = (Path(__file__).resolve().parents[2] / "docs" / "consent.md").read_text()
    mapping = docs.split("## Which guidance each field serves", 1)[1]
    for key in consent._TOP_KEYS:
        if key == "identifiable":  # the old form, documented as such
            continue
        assert f"`{key}" in mapping, key
    for key in ("child.competence", "child.assent", "substitute.parental_responsibility"):
        assert key in mapping, key
