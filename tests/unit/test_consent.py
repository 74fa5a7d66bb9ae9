"""Consent rules: every rule, the CLI JSON form (base64 and path signatures), stored form."""

import base64
import copy
import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from picsafe_desktop import consent
from picsafe_desktop.consent import (
    ConsentError,
    ConsentWording,
    FieldError,
    WordingError,
    load_consent_json,
    load_wording,
    record_from_dict,
    record_from_fields,
    record_to_dict,
    validate,
)
from picsafe_desktop.model import Capacity, Method, Use
from tests.platform_marks import posix_only

NOW = dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC)
WORDING = ConsentWording("ward-7 v2", "We would like to photograph...\n")


def png(draw=True, size=(300, 100), mode="RGB", dot=False) -> bytes:
    image = Image.new(mode, size, "white" if mode == "RGB" else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if dot:
        pen.point((50, 50), fill="black")
    elif draw:
        pen.line([(20, 70), (80, 20), (140, 75), (260, 30)], fill="black", width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


SIGNATURE = png()


def written(**changes) -> dict:
    fields = {
        "patient": {"mrn": "RX0012345", "name": "Ada Example", "birth_date": "1980-02-29"},
        "capacity": "self",
        "uses": ["record", "teaching"],
        "method": "written",
        "signature_png": SIGNATURE,
        "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar", "staff_id": "S123"},
        "body_site": "left forearm",
        "indication": "wound review",
        "identifiable": False,
    }
    fields.update(changes)
    return fields


def verbal(**changes) -> dict:
    fields = written(method="verbal", signature_png=None, witness={"name": "Nurse Lee"})
    fields.update(changes)
    return fields


def errors_for(fields) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in validate(fields, now=NOW):
        found.setdefault(error.field, []).append(error.message)
    return found


def only_error(fields, field) -> str:
    found = errors_for(fields)
    assert list(found) == [field], found
    assert len(found[field]) == 1, found
    return found[field][0]


def test_valid_written_and_verbal_records_have_no_errors():
    assert validate(written(), now=NOW) == []
    assert validate(verbal(), now=NOW) == []


def test_empty_form_lists_every_required_field():
    found = errors_for({})
    assert set(found) == {"patient.mrn", "capacity", "method", "obtained_by.name"}


# --- patient -----------------------------------------------------------------------------


@pytest.mark.parametrize("mrn", ["", "   ", None])
def test_mrn_is_required(mrn):
    fields = written(patient={"mrn": mrn})
    assert only_error(fields, "patient.mrn") == "MRN is required."


@pytest.mark.parametrize("mrn", ["12 345", "A1;DROP", "-A1", "A\u00e91", "A1\n2"])
def test_mrn_charset(mrn):
    message = only_error(written(patient={"mrn": mrn}), "patient.mrn")
    assert "letters, digits" in message


def test_mrn_length_limit_and_trimming():
    assert "too long" in only_error(written(patient={"mrn": "A" * 33}), "patient.mrn")
    record = record_from_fields(written(patient={"mrn": "  A/1.2-3  "}), wording=WORDING, now=NOW)
    assert record.patient.mrn == "A/1.2-3"


def test_mrn_given_as_a_json_number_is_refused_to_keep_leading_zeros():
    message = only_error(written(patient={"mrn": 12345}), "patient.mrn")
    assert "string" in message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("14/03/1980", "YYYY-MM-DD"),
        ("19800314", "YYYY-MM-DD"),
        ("1980-02-30", "not a real date"),
        ("2025-03-15", "future"),
        ("1850-01-01", "130 years"),
        (19800314, "YYYY-MM-DD"),
    ],
)
def test_birth_date_rules(value, words):
    fields = written(patient={"mrn": "A1", "birth_date": value})
    assert words in only_error(fields, "patient.birth_date")


def test_birth_date_today_and_absent_are_fine():
    newborn = written(
        patient={"mrn": "A1", "birth_date": "2025-03-14"},
        capacity="substitute",
        substitute={"name": "Sam", "relationship": "mother", "parental_responsibility": True},
        child={"assent": "not_able"},
    )
    assert validate(newborn, now=NOW) == []
    assert validate(written(patient={"mrn": "A1"}), now=NOW) == []


def test_patient_name_must_be_text_without_control_characters():
    fields = written(patient={"mrn": "A1", "name": "Ada\x07"})
    assert "control characters" in only_error(fields, "patient.name")


# --- capacity and substitute -------------------------------------------------------------


def test_capacity_must_be_one_of_three():
    message = only_error(written(capacity="parent"), "capacity")
    assert "self, substitute, lacks_capacity" in message
    assert "Choose who consents" in only_error(written(capacity=""), "capacity")


def test_substitute_needs_name_and_relationship():
    found = errors_for(written(capacity="substitute"))
    assert set(found) == {"substitute.name", "substitute.relationship"}
    found = errors_for(written(capacity="substitute", substitute={"name": "Sam"}))
    assert set(found) == {"substitute.relationship"}
    fields = written(capacity="substitute", substitute={"name": "Sam", "relationship": "mother"})
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.capacity is Capacity.SUBSTITUTE
    assert record.substitute.relationship == "mother"


def test_substitute_given_without_substitute_capacity_is_contradictory():
    fields = written(substitute={"name": "Sam", "relationship": "mother"})
    assert "capacity to 'substitute'" in only_error(fields, "substitute")
    # An empty substitute block (what a form sends) is not a contradiction.
    assert validate(written(substitute={"name": "", "relationship": ""}), now=NOW) == []


def test_lacks_capacity_allows_only_record_and_needs_an_indication():
    fields = written(capacity="lacks_capacity", uses=["record", "teaching"], indication="")
    found = errors_for(fields)
    assert set(found) == {"uses", "indication"}
    assert "best-interests" in found["uses"][0]
    assert "best-interests" in found["indication"][0]
    fields = written(capacity="lacks_capacity", uses=["record"], indication="burns dressing")
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.uses == frozenset({Use.RECORD})


# --- uses --------------------------------------------------------------------------------


def test_uses_default_to_record_only():
    fields = written()
    del fields["uses"]
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.uses == frozenset({Use.RECORD})


@pytest.mark.parametrize("uses", [[], ["teaching"]])
def test_uses_must_include_record(uses):
    assert "include 'record'" in only_error(written(uses=uses), "uses")


def test_unknown_use_and_wrong_type():
    found = errors_for(written(uses=["record", "marketing"]))
    assert found == {"uses": ["Unknown use in the list; uses are record, teaching, publication."]}
    assert "must be a list" in only_error(written(uses="record"), "uses")


def test_publication_needs_the_named_journal_or_site():
    fields = written(uses=["record", "publication"])
    assert "journal or website" in only_error(fields, "publication")
    fields = written(uses=["record", "publication"], publication="BMJ Case Reports")
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    assert record.allows(Use.PUBLICATION) and record.publication == "BMJ Case Reports"


def test_publication_named_without_the_use_is_contradictory():
    message = only_error(written(publication="BMJ"), "publication")
    assert "not among the uses" in message


# --- method, signature, witness ----------------------------------------------------------


def test_method_is_required_and_checked():
    assert "written" in only_error(written(method=None), "method")
    assert "written, verbal" in only_error(written(method="email"), "method")


def test_written_needs_a_signature():
    message = only_error(written(signature_png=None), "signature_png")
    assert message == "A signature is required for written consent."
    assert only_error(written(signature_png=b""), "signature_png") == message


@pytest.mark.parametrize(
    ("signature", "words"),
    [
        (b"GIF89a....", "not a PNG"),
        (b"\x89PNG\r\n\x1a\nbroken", "not a readable PNG"),
        (png(draw=False), "blank"),
        (png(draw=False, mode="RGBA"), "blank"),
        (png(dot=True), "only a dot"),
        (png(size=(8, 8), draw=False), "16 to 4000"),
        ("iVBORw0KGgo=", "PNG image data"),
    ],
)
def test_signature_must_be_a_drawn_png(signature, words):
    assert words in only_error(written(signature_png=signature), "signature_png")


def test_mostly_dark_image_is_not_a_signature():
    dark = io.BytesIO()
    Image.new("RGB", (200, 80), "black").save(dark, "PNG")
    assert "mostly dark" in only_error(written(signature_png=dark.getvalue()), "signature_png")


def test_transparent_signature_with_dark_ink_is_accepted():
    assert validate(written(signature_png=png(mode="RGBA")), now=NOW) == []


def test_verbal_needs_a_witness_and_no_signature():
    message = only_error(verbal(witness=None), "witness.name")
    assert message == "A witness name is required for verbal consent."
    assert "consent is verbal" in only_error(verbal(signature_png=SIGNATURE), "signature_png")


def test_written_consent_may_also_name_a_witness():
    record = record_from_fields(written(witness={"name": "Nurse Lee"}), wording=WORDING, now=NOW)
    assert record.witness_name == "Nurse Lee" and record.signature_png == SIGNATURE


# --- staff, free text, identifiable, unknown fields --------------------------------------


def test_obtained_by_name_is_required_role_and_id_optional():
    fields = written(obtained_by={"name": " ", "role": "", "staff_id": ""})
    assert "staff member who obtained consent" in only_error(fields, "obtained_by.name")
    record = record_from_fields(written(obtained_by={"name": "Dr Jo"}), wording=WORDING, now=NOW)
    assert record.obtained_by.name == "Dr Jo" and record.obtained_by.staff_id == ""


def test_lengths_and_types_of_free_text():
    assert "too long" in only_error(written(body_site="x" * 201), "body_site")
    assert "must be text" in only_error(written(indication=["a"]), "indication")
    multi_line = written(indication="line one\nline two")
    assert validate(multi_line, now=NOW) == []


def test_identifiable_must_be_boolean():
    assert "true or false" in only_error(written(identifiable="yes"), "identifiable")
    record = record_from_fields(written(identifiable=True), wording=WORDING, now=NOW)
    assert record.identifiable is True


def test_unknown_and_misspelt_fields_are_named():
    found = errors_for(written(witnes={"name": "x"}, patient={"mrn": "A1", "dob": "1980"}))
    assert set(found) == {"witnes", "patient.dob"}
    assert "Unknown field 'witnes'" in found["witnes"][0]


def test_nested_blocks_must_be_objects():
    found = errors_for(written(patient="A1", obtained_by=["Dr Jo"]))
    assert "'patient' must be an object" in found["patient"][0]
    assert "'obtained_by' must be an object" in found["obtained_by"][0]
    assert "patient.mrn" in found and "obtained_by.name" in found


def test_every_problem_is_reported_at_once():
    fields = {
        "patient": {"mrn": "bad mrn", "birth_date": "2099-01-01"},
        "capacity": "lacks_capacity",
        "uses": ["record", "publication"],
        "method": "verbal",
        "obtained_by": {},
    }
    with pytest.raises(ConsentError) as caught:
        record_from_fields(fields, wording=WORDING, now=NOW)
    fields_named = [error.field for error in caught.value.errors]
    assert fields_named == [
        "patient.mrn",
        "patient.birth_date",
        "uses",
        "publication",
        "witness.name",
        "obtained_by.name",
        "indication",
    ]
    text = str(caught.value)
    assert text.startswith("invalid consent record:\n")
    assert "  - patient.mrn: MRN may contain only letters" in text


# --- record construction and wording -----------------------------------------------------


def test_record_stores_time_staff_and_wording_hash():
    record = record_from_fields(written(), wording=WORDING, now=NOW)
    assert record.obtained_at == NOW
    assert record.method is Method.WRITTEN
    assert record.wording_version == "ward-7 v2"
    assert record.wording_sha256 == WORDING.sha256
    assert len(record.consent_id) == 32
    other = record_from_fields(written(), wording=WORDING, now=NOW)
    assert other.consent_id != record.consent_id


def test_wording_hash_is_sha256_of_utf8_text():
    import hashlib

    assert WORDING.sha256 == hashlib.sha256(WORDING.text.encode()).hexdigest()


def test_default_wording_is_package_data():
    wording = load_wording()
    assert wording.version == consent.DEFAULT_WORDING_VERSION
    assert "Clinical record" in wording.text and "Teaching" in wording.text
    assert len(wording.sha256) == 64


def test_site_wording_file_with_version(tmp_path):
    path = tmp_path / "wording.txt"
    path.write_bytes(b"\xef\xbb\xbfLine one\r\nLine two\r\n")
    wording = load_wording(path, "site-3")
    assert wording == ConsentWording("site-3", "Line one\nLine two\n")
    # CRLF and LF copies of one text are the same wording.
    path.write_bytes(b"Line one\nLine two\n")
    assert load_wording(path, "site-3").sha256 == wording.sha256


@pytest.mark.parametrize(
    ("content", "version", "words"),
    [
        (b"text", None, "wording_version"),
        (b"  \n", "v1", "empty"),
        (b"\xff\xfe bad", "v1", "UTF-8"),
        (None, "v1", "cannot read"),
    ],
)
def test_site_wording_problems_name_the_fix(tmp_path, content, version, words):
    path = tmp_path / "wording.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WordingError, match=words):
        load_wording(path, version)


def test_empty_config_values_mean_the_default_wording():
    assert load_wording("", "") == load_wording()


def test_wording_version_without_file_is_a_config_error():
    with pytest.raises(WordingError, match="wording_file"):
        load_wording(None, "v9")


# --- CLI JSON form -----------------------------------------------------------------------


def json_form(**changes) -> dict:
    form = {
        "patient": {"mrn": "RX0012345", "name": "Ada Example", "birth_date": "1980-02-29"},
        "capacity": "substitute",
        "substitute": {"name": "Sam Example", "relationship": "mother"},
        "uses": ["record", "teaching", "publication"],
        "publication": "BMJ Case Reports",
        "method": "written",
        "signature_png": base64.b64encode(SIGNATURE).decode(),
        "witness": {"name": ""},
        "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar", "staff_id": "S123"},
        "body_site": "left forearm",
        "indication": "wound review",
        "identifiable": False,
    }
    form.update(changes)
    return form


def test_json_dict_with_base64_signature():
    record = load_consent_json(json_form(), wording=WORDING, now=NOW)
    assert record.signature_png == SIGNATURE
    assert record.uses == frozenset(Use)
    assert record.substitute.name == "Sam Example"
    assert record.wording_sha256 == WORDING.sha256


def test_json_base64_as_data_uri_and_wrapped_lines():
    encoded = base64.b64encode(SIGNATURE).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    for value in ("data:image/png;base64," + encoded, wrapped):
        record = load_consent_json(json_form(signature_png=value), wording=WORDING, now=NOW)
        assert record.signature_png == SIGNATURE


def test_json_file_with_signature_path_relative_to_the_file(tmp_path):
    (tmp_path / "sig.png").write_bytes(SIGNATURE)
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(json_form(signature_png="sig.png")), encoding="utf-8")
    record = load_consent_json(path, wording=WORDING, now=NOW)
    assert record.signature_png == SIGNATURE
    assert record.obtained_at == NOW


def test_json_file_with_absolute_signature_path(tmp_path):
    (tmp_path / "sig.png").write_bytes(SIGNATURE)
    form = json_form(signature_png=str(tmp_path / "sig.png"))
    assert load_consent_json(form, wording=WORDING, now=NOW).signature_png == SIGNATURE


def test_json_missing_signature_file_names_the_path(tmp_path):
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(json_form(signature_png="missing.png")), encoding="utf-8")
    with pytest.raises(ConsentError) as caught:
        load_consent_json(path, wording=WORDING, now=NOW)
    assert [e.field for e in caught.value.errors] == ["signature_png"]
    message = caught.value.errors[0].message
    assert str(tmp_path / "missing.png") in message and "does not exist" in message


def test_json_signature_path_must_be_a_regular_file(tmp_path):
    form = json_form(signature_png=str(tmp_path))
    with pytest.raises(ConsentError, match="is not a regular file"):
        load_consent_json(form, wording=WORDING, now=NOW)


def test_json_signature_problems():
    bad_base64 = json_form(signature_png="iVBORw0KGgo***")
    with pytest.raises(ConsentError, match="does not decode"):
        load_consent_json(bad_base64, wording=WORDING, now=NOW)
    blank = json_form(signature_png=base64.b64encode(png(draw=False)).decode())
    with pytest.raises(ConsentError, match="signature_png: The signature is blank"):
        load_consent_json(blank, wording=WORDING, now=NOW)
    number = json_form(signature_png=42)
    with pytest.raises(ConsentError, match="file path or base64"):
        load_consent_json(number, wording=WORDING, now=NOW)


def test_json_signature_problem_is_reported_with_the_others():
    form = json_form(signature_png="nowhere.png", identifiable="no")
    with pytest.raises(ConsentError) as caught:
        load_consent_json(form, wording=WORDING, now=NOW)
    assert sorted(e.field for e in caught.value.errors) == ["identifiable", "signature_png"]


def test_json_verbal_needs_no_signature():
    form = json_form(method="verbal", signature_png=None, witness={"name": "Nurse Lee"})
    record = load_consent_json(form, wording=WORDING, now=NOW)
    assert record.signature_png is None and record.witness_name == "Nurse Lee"


def test_json_file_errors_are_clear(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(ConsentError, match="Cannot read .*nope.json"):
        load_consent_json(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"patient": {"mrn": "A1",}}', encoding="utf-8")
    with pytest.raises(ConsentError, match=r"not valid JSON: .* line 1 column"):
        load_consent_json(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[]", encoding="utf-8")
    with pytest.raises(ConsentError, match="must be a JSON object"):
        load_consent_json(listed)


def test_json_file_nested_too_deeply_is_a_consent_error(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(ConsentError, match="deep.json is not a consent record: .*nested"):
        load_consent_json(deep)


@pytest.mark.parametrize(
    "changes",
    [
        {"patient": {"mrn": "A1", "name": "Ada \ud800 Example"}},
        {"witness": {"name": "Nurse \udce9"}},
        {"obtained_by": {"name": "Dr \udfff"}},
        {"indication": "wound\nreview \ud83d"},
    ],
)
def test_json_broken_unicode_escape_is_refused_before_anything_is_stored(tmp_path, changes):
    """A lone surrogate (a JSON "\\ud800" escape on its own) passed validation, then the vault
    could not encode the record as UTF-8 - after the import had already wiped the sources."""
    form = json_form(method="verbal", signature_png=None, witness={"name": "Nurse Lee"})
    form.update(changes)
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(form), encoding="utf-8")  # ASCII JSON: surrogates as \uXXXX
    assert "\\ud" in path.read_text(encoding="utf-8")
    with pytest.raises(ConsentError, match="invalid character"):
        load_consent_json(path, wording=WORDING, now=NOW)


def test_json_uses_the_default_wording_when_none_is_given():
    record = load_consent_json(json_form(), now=NOW)
    assert record.wording_version == consent.DEFAULT_WORDING_VERSION
    assert record.wording_sha256 == load_wording().sha256


def test_docs_example_is_valid(tmp_path):
    """The example in docs/consent.md must load (with its signature replaced by a real one)."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "consent.md").read_text(encoding="utf-8")
    block = doc.split("```json\n", 1)[1].split("```", 1)[0]
    form = json.loads(block)
    (tmp_path / form["signature_png"]).write_bytes(SIGNATURE)
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(form), encoding="utf-8")
    record = load_consent_json(path, now=NOW)
    assert record.patient.mrn == form["patient"]["mrn"]


# --- stored form -------------------------------------------------------------------------


@pytest.mark.parametrize("build", [written, verbal])
def test_stored_form_round_trips_through_json(build):
    fields = build(capacity="substitute", substitute={"name": "Sam", "relationship": "father"})
    record = record_from_fields(fields, wording=WORDING, now=NOW)
    stored = json.loads(json.dumps(record_to_dict(record)))
    assert record_from_dict(stored) == record
    assert stored["format"] == consent.STORED_FORMAT
    if record.signature_png:
        assert base64.b64decode(stored["signature_png"]) == record.signature_png


def test_stored_form_rejects_unknown_format_and_damage():
    stored = record_to_dict(record_from_fields(verbal(), wording=WORDING, now=NOW))
    with pytest.raises(ConsentError, match="Unknown stored consent format"):
        record_from_dict({**stored, "format": 99})
    broken = copy.deepcopy(stored)
    del broken["obtained_by"]
    with pytest.raises(ConsentError, match="missing 'obtained_by'"):
        record_from_dict(broken)
    broken = copy.deepcopy(stored)
    broken["patient"]["birth_date"] = "1980-99-99"
    with pytest.raises(ConsentError) as caught:
        record_from_dict(broken)
    assert "1980-99-99" not in str(caught.value)  # never echo patient data


def test_field_error_text():
    assert str(FieldError("patient.mrn", "MRN is required.")) == "patient.mrn: MRN is required."
    assert str(FieldError("", "Whole record.")) == "Whole record."


# --- robustness: any JSON gives a record or a ConsentError, nothing else --------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["patient", "capacity", "substitute", "uses", "publication", "method", "signature_png",
     "witness", "obtained_by", "body_site", "indication", "identifiable", "mrn", "name"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=8) | _json.filter(lambda v: not isinstance(v, str)))
def test_any_json_gives_a_record_or_a_consent_error(data):
    try:
        load_consent_json(data, wording=WORDING, now=NOW)
    except ConsentError as exc:
        assert exc.errors and all(isinstance(e, FieldError) and e.message for e in exc.errors)
    if isinstance(data, dict):
        assert all(isinstance(e, FieldError) for e in validate(data, now=NOW))


def test_json_path_given_as_a_string(tmp_path):
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(json_form()), encoding="utf-8")
    assert load_consent_json(str(path), wording=WORDING, now=NOW).patient.mrn == "RX0012345"


def test_errors_do_not_repeat_values_back(tmp_path):
    """A patient's name typed into the wrong field must not be echoed into messages."""
    record = {
        "patient": {"mrn": "RX1"},
        "capacity": "Jane Doe",
        "uses": ["record", "Jane Doe"],
        "method": "verbal",
        "witness": {"name": "W"},
        "obtained_by": {"name": "Dr A"},
    }
    with pytest.raises(ConsentError) as err:
        load_consent_json(record)
    assert "Jane Doe" not in str(err.value)


@posix_only("os.mkfifo")
def test_consent_file_that_is_a_fifo_is_refused(tmp_path):
    import os

    fifo = tmp_path / "consent.json"
    os.mkfifo(fifo)
    with pytest.raises(ConsentError, match="not a regular file"):
        load_consent_json(fifo)
