"""Amending a consent from the window (issue 15): the core and the CLI could, the window could
not. Real vault, keyring, import and widgets, as tests/ui/test_desktop.py."""

# ruff: noqa: F811 - the fixtures come from test_desktop
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from picsafe_desktop.model import Method, Use
from tests.ui.test_desktop import (  # noqa: F401 - fixtures
    consented_window,
    drop,
    services,
    site,
    window,
)

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]


def _form(qtbot, window):
    window.amend_action.trigger()
    qtbot.waitUntil(
        lambda: (
            getattr(window, "amend_dialog", None) is not None and window.amend_dialog.isVisible()
        ),
        timeout=15000,
    )
    return window.amend_dialog


def _consents(services):
    return [r for r in services.vault.audit_rows() if r.event == "consent_amended"]


def test_a_clinician_adds_a_use_and_corrects_the_body_site_with_reason_and_audit(
    qtbot, window, services, drop
):
    consented_window(qtbot, window, drop)
    assert window.amend_action.isEnabled()
    old_id = window.thumbnails.item(0).consent_id
    form = _form(qtbot, window)
    assert form.record_check.isChecked() and not form.record_check.isEnabled()
    form.teaching_check.setChecked(True)
    form.body_site_edit.setText("right forearm")
    qtbot.keyClicks(form.reason_edit, "patient agreed to teaching; site was wrong")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    # Adding a use needs a witness: named beside the form, nothing changed yet
    assert form.isVisible() and "witness" in form.error_label.text()
    assert _consents(services) == []
    qtbot.keyClicks(form.witness_edit, "Nurse Ada Witness")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_consents(services)) == 1, timeout=15000)
    (row,) = _consents(services)
    assert row.subject == old_id and row.details["uses_added"] == ["teaching"]
    assert row.details["reason"] == "patient agreed to teaching; site was wrong"
    new_id = row.details["new_consent"]
    new = services.read_consent(new_id)
    assert new.amends == old_id and new.uses == {Use.RECORD, Use.TEACHING}
    assert new.body_site == "right forearm"
    assert (new.method, new.witness_name) == (Method.VERBAL, "Nurse Ada Witness")
    assert services.read_consent(old_id).uses == {Use.RECORD}  # both kept
    assert {i.consent_id for i in services.vault.list_items()} == {new_id}
    assert row.actor == services.session.actor


def test_removing_a_use_afterwards_needs_only_a_reason(qtbot, window, services, drop):
    consented_window(qtbot, window, drop)
    form = _form(qtbot, window)
    form.teaching_check.setChecked(True)
    qtbot.keyClicks(form.witness_edit, "Nurse Ada Witness")
    qtbot.keyClicks(form.reason_edit, "teaching added")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_consents(services)) == 1, timeout=15000)
    new_id = _consents(services)[0].details["new_consent"]
    qtbot.waitUntil(  # the grid shows the photos under the new record
        lambda: window.thumbnails.rowCount() > 0 and window.thumbnails.item(0).consent_id == new_id,
        timeout=15000,
    )
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    form = _form(qtbot, window)
    assert form.teaching_check.isChecked()
    form.teaching_check.setChecked(False)
    qtbot.keyClicks(form.reason_edit, "patient changed their mind about teaching")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_consents(services)) == 2, timeout=15000)
    assert _consents(services)[1].details["uses_removed"] == ["teaching"]
