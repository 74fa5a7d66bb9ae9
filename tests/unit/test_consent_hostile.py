"""Hostile consent input (issue 13, finding 13): duplicate JSON keys and names carrying
invisible or direction-changing characters are refused, naming the key or the character."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from picsafe_desktop.consent import ConsentError, load_consent_json, validate
from tests.unit.test_consent import NOW, written

VERBAL = {
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
}


def test_an_mrn_given_twice_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "consent.json"
    body = json.dumps(VERBAL)[1:-1]
    path.write_text(
        '{"patient": {"mrn": "RX0000001", "name": "Ada Example", "mrn": "RX0000002"}, '
        + body + "}"
    )  # fmt: skip
    with pytest.raises(ConsentError) as caught:
        load_consent_json(path, now=NOW)
    assert "'mrn' appears twice" in str(caught.value)


def test_a_top_level_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "consent.json"
    text = json.dumps({"patient": {"mrn": "RX0000001", "name": "Ada"}, **VERBAL})
    path.write_text(text[:-1] + ', "uses": ["teaching"]}')
    with pytest.raises(ConsentError, match="'uses' appears twice"):
        load_consent_json(path, now=NOW)


@pytest.mark.parametrize(
    "char",
    ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029",
     "\u0085", "\u00ad"],
)  # fmt: skip
def test_hidden_characters_in_the_patient_name_are_refused(char):
    fields = written(patient={"mrn": "RX0012345", "name": f"Ada{char} Example"})
    errors = validate(fields, now=NOW)
    assert [e.field for e in errors] == ["patient.name"]
    assert f"U+{ord(char):04X}" in errors[0].message
    assert "invisible or direction-changing" in errors[0].message


@pytest.mark.parametrize("name", ["Zoë Ñúñez-O'Brien", "محمد علي", "王小明", "Ŝtefan Ødegård"])
def test_real_names_in_any_script_are_accepted(name):
    assert validate(written(patient={"mrn": "RX0012345", "name": name}), now=NOW) == []


def test_hidden_characters_in_a_json_file_are_refused_too(tmp_path):
    path = tmp_path / "consent.json"
    record = {"patient": {"mrn": "RX0012345", "name": "Ada\u202eelpmaxE"}, **VERBAL}
    path.write_text(json.dumps(record))
    with pytest.raises(ConsentError, match="U[+]202E"):
        load_consent_json(path, now=dt.datetime(2025, 3, 14, tzinfo=dt.UTC))
