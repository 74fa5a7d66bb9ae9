"""Photos left waiting at intake come back without a new sign-in, and after a restart with
who imported them (issue 12)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from picsafe_desktop.model import Staff
from tests.ui import test_desktop as desktop
from tests.ui.journey_photos import phone_photo
from tests.ui.test_desktop import NURSE, close_dialogs, make_window, sign_in, wait_for_intake
from tests.ui.test_ward_journey import sign_in_as

pytestmark = [pytest.mark.keyring]

COLLEAGUE = Staff("Dr Rui Tanaka", "", "D2087")
site, services, window = desktop.site, desktop.services, desktop.window


@pytest.fixture
def phone(tmp_path):
    folder = tmp_path / "from-phone"
    folder.mkdir()
    for n, when in enumerate(("10:00:00", "10:02:00", "10:40:00")):
        photo = phone_photo(f"2025:05:06 {when}", "#c0504d", f"photo {n}", size=(320, 240))
        (folder / f"IMG_{n:04}.JPG").write_bytes(photo)
    return folder


def leave_waiting(qtbot, win):
    intake = wait_for_intake(qtbot, win)
    qtbot.mouseClick(intake.later_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.intake_dialog is None)


def test_left_waiting_reopen_from_the_status_bar_in_the_same_session(qtbot, window, phone):
    sign_in(qtbot, window)
    window.start_import([str(phone)])
    leave_waiting(qtbot, window)
    entry = window.waiting_entry
    qtbot.waitUntil(entry.isVisible, timeout=15000)
    assert entry.text().startswith("3 photos waiting for consent")
    assert NURSE.name in entry.toolTip()

    qtbot.mouseClick(entry, Qt.MouseButton.LeftButton)
    intake = wait_for_intake(qtbot, window)
    assert len(intake.remaining()) == 3
    assert not entry.isVisible()

    # A lock hides the entry (the next person sees the intake itself after signing in).
    leave_waiting(qtbot, window)
    qtbot.waitUntil(entry.isVisible, timeout=15000)
    window.lock("button")
    assert not entry.isVisible()
    sign_in(qtbot, window)
    assert len(wait_for_intake(qtbot, window).remaining()) == 3
    close_dialogs(window)


def test_left_waiting_is_offered_after_a_restart_with_who_imported_it(qtbot, site, services, phone):
    first = make_window(qtbot, site, services)
    sign_in(qtbot, first)
    first.start_import([str(phone)])
    leave_waiting(qtbot, first)
    first.lock("button")
    first.close()

    second = make_window(qtbot, site, services)
    sign_in_as(qtbot, second, COLLEAGUE)
    intake = wait_for_intake(qtbot, second)
    assert len(intake.remaining()) == 3
    assert f"imported by {NURSE.name}" in intake.windowTitle()
    leave_waiting(qtbot, second)
    qtbot.waitUntil(second.waiting_entry.isVisible, timeout=15000)
    assert NURSE.name in second.waiting_entry.toolTip()
    close_dialogs(second)


def test_status_bar_and_waiting_entry_give_one_count(qtbot, window, phone, tmp_path):
    """Two batches wait: the status bar counted the intake's batch ("3 still wait") while the
    entry counted every batch ("5 waiting"). Both now show the vault's count of all batches."""
    sign_in(qtbot, window)
    window.start_import([str(phone)])
    leave_waiting(qtbot, window)
    qtbot.waitUntil(window.waiting_entry.isVisible, timeout=15000)
    second = tmp_path / "second-phone"
    second.mkdir()
    for n in range(2):
        photo = phone_photo("2025:05:07 09:00:00", "#4f81bd", f"more {n}", size=(320, 240))
        (second / f"IMG_{n + 10:04}.JPG").write_bytes(photo)
    window.start_import([str(second)])
    intake = wait_for_intake(qtbot, window)
    assert len(intake.remaining()) == 3  # the oldest batch comes first
    qtbot.mouseClick(intake.later_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.intake_dialog is None)
    qtbot.waitUntil(window.waiting_entry.isVisible, timeout=15000)
    assert window.waiting_entry.text().startswith("5 photos waiting for consent")
    qtbot.waitUntil(lambda: "still wait" in window.statusBar().currentMessage(), timeout=15000)
    assert window.statusBar().currentMessage().startswith("5 photos still wait for consent")
    close_dialogs(window)
