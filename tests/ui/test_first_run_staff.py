"""Sign-in is checked by default, and a fresh install is still usable (issue 13; issue 12
defect 5): first run enrols the vault's creator with a PIN typed twice; a vault nobody is
enrolled in says on its lock screen what IT must run; typed names only where the site opts in,
and then the window says "names not checked". Real widgets, vault, keyring and Argon2id."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from picsafe_desktop import APP_NAME, app, config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services, SignInError
from picsafe_desktop.staff.pins import StaffError, StaffStore
from picsafe_desktop.ui import workers
from picsafe_desktop.ui.first_run import FirstStaffDialog
from picsafe_desktop.ui.main_window import MainWindow
from picsafe_desktop.ui.vault_setup import RecoveryCodeDialog
from picsafe_desktop.vault import Vault
from tests.unit.vault_support import TEST_KDF

pytestmark = pytest.mark.keyring
PIN = "4826"


def default_site(tmp_path, **sections):
    raw = {"vault": {"path": str(tmp_path / "vault")}, "logging": {"file": str(tmp_path / "l")}}
    return config.from_dict(raw | sections)


def window_for(qtbot, site, services) -> MainWindow:
    win = MainWindow(site, services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_first_run_enrols_the_creator_who_signs_in_with_the_pin(
    qtbot, tmp_path, keyring_service, monkeypatch
):
    site = default_site(tmp_path)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    def confirm_code(dialog):
        dialog.confirm.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RecoveryCodeDialog, "exec", confirm_code)
    shown: list[FirstStaffDialog] = []

    def enrol(dialog):
        shown.append(dialog)
        qtbot.addWidget(dialog)
        dialog.show()
        assert set(dialog.roles()) == {"it_admin", "clinician"}  # ticked by default
        qtbot.keyClicks(dialog.staff_id_edit, "N4411")
        qtbot.keyClicks(dialog.name_edit, "Sam Okafor")
        qtbot.keyClicks(dialog.pin_edit, PIN)
        qtbot.keyClicks(dialog.pin_again_edit, "4827")
        qtbot.mouseClick(dialog.enrol_button, Qt.MouseButton.LeftButton)
        assert "differ" in dialog.error_label.text() and dialog.enrolled is None
        qtbot.keyClicks(dialog.pin_edit, PIN)
        qtbot.keyClicks(dialog.pin_again_edit, PIN)
        qtbot.keyClick(dialog.pin_again_edit, Qt.Key.Key_Return)  # Enter enrols
        qtbot.waitUntil(lambda: dialog.enrolled is not None, timeout=15000)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FirstStaffDialog, "exec", enrol)
    services = app.open_services(site, keyring_service)
    assert services is not None and len(shown) == 1
    try:
        assert services.sign_in_notice() == ""
        with pytest.raises(SignInError):
            services.sign_in(Staff("Anyone", "", ""), "")  # no typed names on a default site
        session = services.sign_in(Staff("", "", "N4411"), PIN)
        assert session.method == "pin" and set(session.roles) == {"it_admin", "clinician"}
        assert session.staff.name == "Sam Okafor"
        [added] = [r for r in services.vault.audit_rows() if r.event == "staff_add"]
        assert added.subject == "N4411" and added.details["first"] is True
        services.sign_out()
        with pytest.raises(StaffError):  # no second "enrol yourself"
            services.enrol_first_staff("X1", "Someone Else", ["clinician"], "1111")
    finally:
        workers.wait_for_done(30000)
        services.close()
    # Opening the vault again never offers to enrol anyone.
    again = Services.open_vault(site, keyring_service)
    try:
        with pytest.raises(StaffError):
            again.enrol_first_staff("X1", "Someone Else", ["clinician"], "1111")
    finally:
        again.close()


def test_lock_screen_of_a_vault_nobody_is_enrolled_in_says_what_it_must_run(
    qtbot, tmp_path, keyring_service
):
    site = default_site(tmp_path)
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        win = window_for(qtbot, site, services)
        screen = win.lock_screen
        assert screen.notice_label.isVisible()
        assert "picsafe-desktop staff add" in screen.notice_label.text()
        assert not screen.name_edit.isVisible()  # nobody types a name in
        qtbot.keyClicks(screen.staff_id_edit, "N4411")
        qtbot.keyClicks(screen.pin_edit, PIN)
        qtbot.keyClick(screen.pin_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: screen.sign_in_button.isEnabled(), timeout=15000)
        assert win.locked and "Wrong staff ID or PIN" in screen.error_label.text()

        StaffStore.for_vault(vault).add("N4411", "Sam Okafor", ["clinician"], PIN)
        win.lock_screen.reset()
        assert not screen.notice_label.isVisible()
        assert win.windowTitle() == APP_NAME
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


def test_pin_lock_screen_staff_id_and_pin_only_enter_submits_backoff_shown(
    qtbot, tmp_path, keyring_service
):
    site = default_site(tmp_path)
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    StaffStore.for_vault(vault).add("N4411", "Sam Okafor", ["clinician"], PIN)
    services = Services(site, vault)
    try:
        win = window_for(qtbot, site, services)
        screen = win.lock_screen
        assert screen.staff_id_edit.isVisible() and screen.pin_edit.isVisible()
        assert not screen.name_edit.isVisible() and not screen.role_edit.isVisible()
        assert screen.staff_id_edit.text() == "" and screen.pin_edit.text() == ""

        def attempt(pin: str) -> None:
            screen.staff_id_edit.clear()
            qtbot.keyClicks(screen.staff_id_edit, "N4411")
            qtbot.keyClicks(screen.pin_edit, pin)
            qtbot.keyClick(screen.pin_edit, Qt.Key.Key_Return)
            qtbot.waitUntil(
                lambda: screen.sign_in_button.isEnabled() or not win.locked, timeout=15000
            )

        for _ in range(4):  # three typos are free; the fourth starts the back-off
            attempt("1111")
        assert win.locked
        assert "Too many wrong PINs: try again in 15 seconds" in screen.error_label.text()
        assert screen.error_label.isVisible()
        attempt(PIN)  # even the right PIN waits
        assert win.locked and "try again in" in screen.error_label.text()
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


def test_typed_names_only_when_the_site_allows_and_then_said_everywhere(
    qtbot, tmp_path, keyring_service
):
    site = default_site(tmp_path, staff={"allow_unverified_names": True})
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        win = window_for(qtbot, site, services)
        screen = win.lock_screen
        assert "names not checked" in win.windowTitle()
        assert not screen.notice_label.isVisible()
        qtbot.keyClicks(screen.name_edit, "Dr Any Name")
        qtbot.keyClick(screen.name_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not win.locked, timeout=15000)
        assert win.windowTitle() == f"{APP_NAME} — Dr Any Name (names not checked)"
        win.lock("button")
        assert "names not checked" in win.windowTitle()
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()
