"""Who is at the keyboard (issue 12 defect 5, issue 13): no pre-filled last user, the signed-in
name and role always on screen, "Switch user" as one action, waiting batches naming who
imported them, and the role deciding what the window offers. Real vault, keyring, widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from picsafe_desktop import config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services
from picsafe_desktop.staff.pins import StaffStore
from picsafe_desktop.ui import workers
from picsafe_desktop.vault import Vault
from tests.ui.test_desktop import NURSE, import_and_wait_for_dialog, make_window, sign_in
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring]

OTHER = Staff("Ola Nwosu", "", "N5522")


def make_services(tmp_path, keyring_service, **security) -> Services:
    site = config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "log" / "app.log")},
            "security": security,
            "staff": {"allow_unverified_names": True},  # typed names unless require_pin
        }
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    return Services(site, vault)


@pytest.fixture
def services(tmp_path, keyring_service):
    svc = make_services(tmp_path, keyring_service)
    yield svc
    workers.wait_for_done(30000)
    svc.close()


@pytest.fixture
def window(qtbot, services):
    win = make_window(qtbot, services.site, services)
    yield win
    if win.consent_dialog is not None:
        win.consent_dialog.close_without_decision()


def sign_in_as(qtbot, win, staff: Staff) -> None:
    screen = win.lock_screen
    qtbot.keyClicks(screen.name_edit, staff.name)
    qtbot.keyClicks(screen.staff_id_edit, staff.staff_id)
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.locked)


def test_the_lock_screen_keeps_no_trace_of_the_last_user(qtbot, window):
    """Defect 5: the lock screen pre-filled the last user, so one click on Sign in acted
    under their name."""
    sign_in(qtbot, window)
    window.lock("button")
    screen = window.lock_screen
    assert [e.text() for e in (screen.name_edit, screen.staff_id_edit, screen.role_edit)] == [
        "",
        "",
        "",
    ]
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    assert window.locked and "Enter your name" in screen.error_label.text()


def test_the_signed_in_name_and_role_are_always_visible(qtbot, window):
    sign_in(qtbot, window)
    label = window.user_label
    assert label.isVisible()
    assert NURSE.name in label.text() and NURSE.staff_id in label.text()
    assert "Clinician" in label.text() and NURSE.name in window.windowTitle()
    window.lock("idle")
    assert label.text() == "" and NURSE.name not in window.windowTitle()


def test_switch_user_is_one_action(qtbot, window, services, tmp_path, corpus):
    sign_in(qtbot, window)
    assert window.switch_user_action.isEnabled()
    window.switch_user_action.trigger()
    assert window.locked and window.stack.currentWidget() is window.lock_screen
    assert window.lock_screen.hint_label.isVisible()
    assert window.lock_screen.name_edit.text() == ""
    sign_in_as(qtbot, window, OTHER)
    assert OTHER.name in window.user_label.text()
    rows = [(r.event, r.actor, r.details.get("reason")) for r in services.vault.audit_rows()]
    assert ("sign_out", f"{NURSE.name} ({NURSE.staff_id})", "switch user") in rows
    # (the patient list shown after it may add its one patient_list_view row)
    rows = [r for r in rows if r[0] != "patient_list_view"]
    assert rows[-1][:2] == ("sign_in", f"{OTHER.name} ({OTHER.staff_id})")


def test_a_waiting_batch_names_who_imported_it(qtbot, window, tmp_path, corpus):
    from tests.ui.test_desktop import PHOTOS

    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "a.jpg").write_bytes((corpus / PHOTOS[0]).read_bytes())
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [folder])
    assert f"imported by {NURSE.name} ({NURSE.staff_id})" in dialog.windowTitle()
    dialog.close_without_decision()
    window.switch_user()
    sign_in_as(qtbot, window, OTHER)
    # Someone else: the first person's draft is dropped and the batch waits, naming who
    # brought it in, in the intake step that comes back.
    qtbot.waitUntil(lambda: window.intake_dialog is not None, timeout=15000)
    assert f"imported by {NURSE.name} ({NURSE.staff_id})" in window.intake_dialog.windowTitle()


@pytest.mark.parametrize(
    ("role", "enabled", "disabled"),
    [
        ("reception", ["import_action"], ["audit_action", "view_action", "export_action"]),
        ("it_admin", ["audit_action"], ["import_action", "usb_action", "view_action"]),
        ("clinician", ["import_action", "audit_action"], []),
    ],
)
def test_the_role_decides_what_the_window_offers(
    qtbot, tmp_path, keyring_service, role, enabled, disabled
):
    services = make_services(tmp_path, keyring_service, require_pin=True)
    try:
        StaffStore.for_vault(services.vault).add("R1", "Rae Rowe", [role], "2468")
        win = make_window(qtbot, services.site, services)
        qtbot.keyClicks(win.lock_screen.staff_id_edit, "R1")
        qtbot.keyClicks(win.lock_screen.pin_edit, "2468")
        qtbot.mouseClick(win.lock_screen.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not win.locked, timeout=10000)
        assert "Rae Rowe (R1)" in win.user_label.text()
        for name in enabled:
            assert getattr(win, name).isEnabled(), name
        for name in disabled:
            assert not getattr(win, name).isEnabled(), name
        if role != "clinician":
            qtbot.waitUntil(lambda: win.stack.currentWidget() is win.empty_state)
            assert "Your role does not show patients" in win.empty_state_label.text()
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


def test_reception_imports_and_records_consent_without_seeing_patients(
    qtbot, tmp_path, keyring_service, corpus
):
    from tests.ui.test_desktop import PHOTOS, record_consent

    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "a.jpg").write_bytes((corpus / PHOTOS[0]).read_bytes())
    services = make_services(tmp_path, keyring_service, require_pin=True)
    try:
        StaffStore.for_vault(services.vault).add("R1", "Rae Rowe", ["reception"], "2468")
        win = make_window(qtbot, services.site, services)
        qtbot.keyClicks(win.lock_screen.staff_id_edit, "R1")
        qtbot.keyClicks(win.lock_screen.pin_edit, "2468")
        qtbot.mouseClick(win.lock_screen.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not win.locked, timeout=10000)
        dialog = import_and_wait_for_dialog(qtbot, win, [folder])
        assert "imported by Rae Rowe (R1)" in dialog.windowTitle()
        record_consent(qtbot, dialog)
        qtbot.waitUntil(lambda: win.consent_dialog is None, timeout=15000)
        qtbot.waitUntil(lambda: services.vault.list_items()[0].state.value == "active")
        assert win.stack.currentWidget() is win.empty_state
        assert win.patient_list.count() == 0
        rows = [(r.event, r.actor) for r in services.vault.audit_rows()]
        assert ("consent", "Rae Rowe (R1)") in rows
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    from tests.ldap_server import Slapd

    server = Slapd(tmp_path_factory.mktemp("slapd"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_directory_sign_in_on_the_lock_screen(qtbot, tmp_path, keyring_service, slapd):
    from tests.integration.test_staff_directory import staff_config
    from tests.ldap_server import USERS

    site = config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "log" / "app.log")},
            "staff": staff_config(slapd),
        }
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        win = make_window(qtbot, site, services)
        screen = win.lock_screen
        assert screen.staff_id_edit.accessibleName() == "User name"
        assert screen.pin_edit.accessibleName() == "Password" and not screen.name_edit.isVisible()

        def attempt(user: str, secret: str) -> None:
            screen.staff_id_edit.clear()
            qtbot.keyClicks(screen.staff_id_edit, user)
            qtbot.keyClicks(screen.pin_edit, secret)
            qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: screen.sign_in_button.isEnabled() or not win.locked)

        attempt("alice", "not-her-password")
        assert win.locked and "Wrong user name or password" in screen.error_label.text()
        assert screen.pin_edit.text() == ""
        attempt("alice", USERS["alice"][1])
        assert not win.locked
        assert "Alice Adeyemi (alice)" in win.user_label.text() and "Clinician" in (
            win.user_label.text()
        )
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


def test_a_long_patient_list_is_built_a_chunk_at_a_time(qtbot, window, monkeypatch):
    """Issue 17: 10,000 patient rows built in one go stalled the window at sign-in. They come
    a chunk per turn of the event loop; the first patient is selected from the first chunk,
    the filter applies to rows as they come, and a newer list drops the rest of an older one."""
    from picsafe_desktop.services import PatientSummary
    from picsafe_desktop.ui import main_window

    monkeypatch.setattr(main_window, "PATIENT_CHUNK", 3)
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is not window.lock_screen)
    patients = [PatientSummary(f"MRN{n:03d}", f"Patient {n:03d}", "") for n in range(8)]
    window.search_edit.setText("Patient 00")  # rows 0-7 all match; none hidden
    window._show_patients(patients)
    assert window.patient_list.count() == 3  # the first chunk only, so far
    assert window.patient_list.currentRow() == 0
    qtbot.waitUntil(lambda: window.patient_list.count() == 8)
    window.search_edit.setText("MRN007")
    window._show_patients(patients)
    window._show_patients(patients[:4])  # refreshed before the first list was complete
    qtbot.wait(50)
    assert window.patient_list.count() == 4
    hidden = [window.patient_list.item(r).isHidden() for r in range(4)]
    assert hidden == [True, True, True, True]  # MRN007 is not among these four
