"""The window's amendment rules (consent_amend.py): what adding or removing a use needs."""

from __future__ import annotations

import datetime as dt

import pytest

from picsafe_desktop.consent import ConsentError
from picsafe_desktop.consent_amend import UseChange, amended_record
from picsafe_desktop.model import Capacity, Identifiability, Method, Staff, Use, Withdrawal
from tests import export_data as d

CLINICIAN = Staff("Dr Jo Smith", "Registrar", "S77")
NOW = dt.datetime(2025, 8, 1, 12, 0, tzinfo=dt.UTC)
RECORD, TEACHING, PUBLICATION = Use.RECORD, Use.TEACHING, Use.PUBLICATION


def fields_at_fault(old, **change):
    with pytest.raises(ConsentError) as caught:
        amended_record(old, UseChange(**change), clinician=CLINICIAN, now=NOW)
    return {e.field for e in caught.value.errors}


def test_narrowing_keeps_the_first_agreement_and_leaves_photo_answers_alone():
    old = d.consent(uses=(RECORD, TEACHING))
    new = amended_record(
        old, UseChange(frozenset({RECORD}), body_site="left forearm"), clinician=CLINICIAN
    )
    assert new.uses == {RECORD} and new.consent_id != old.consent_id
    assert (new.method, new.signature_png) == (old.method, old.signature_png)
    assert new.identifiability is Identifiability.UNKNOWN and new.photo_identifiability == ()


def test_adding_a_use_needs_a_witness_and_is_recorded_as_todays_verbal_agreement():
    old = d.consent(uses=(RECORD,))
    assert fields_at_fault(old, uses=frozenset({RECORD, TEACHING})) == {"witness"}
    new = amended_record(
        old,
        UseChange(frozenset({RECORD, TEACHING}), body_site="left forearm", witness="Nurse Ada"),
        clinician=CLINICIAN,
        now=NOW,
    )
    assert (new.method, new.witness_name, new.signature_png) == (Method.VERBAL, "Nurse Ada", None)
    assert new.obtained_by == CLINICIAN and new.consented_at == NOW


def test_the_consent_rules_still_apply():
    old = d.consent(uses=(RECORD,))
    assert "publication" in fields_at_fault(
        old, uses=frozenset({RECORD, PUBLICATION}), witness="W", body_site="left forearm"
    )
    assert "identifiable_publication" in fields_at_fault(
        old, uses=frozenset({RECORD}), identifiable_publication=True, body_site="left forearm"
    )
    assert "body_site" in fields_at_fault(old, uses=frozenset({RECORD}), body_site="arm\u202e")
    assert "" in fields_at_fault(old, uses=frozenset({RECORD}), body_site="left forearm")
    best_interests = d.consent(uses=(RECORD,), capacity=Capacity.LACKS_CAPACITY)
    assert "uses" in fields_at_fault(
        best_interests, uses=frozenset({RECORD, TEACHING}), witness="W"
    )
    withdrawn = d.consent(uses=(RECORD,), withdrawn=Withdrawal.SECONDARY)
    assert "uses" in fields_at_fault(withdrawn, uses=frozenset({RECORD, TEACHING}), witness="W")
