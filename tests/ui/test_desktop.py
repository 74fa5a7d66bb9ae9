"""The clinician's desktop end to end: real vault, keyring, import pipeline and widgets."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtDBus import QDBusConnection, QDBusMessage
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMessageBox, QWidget

from picsafe_desktop import config
from picsafe_desktop.model import Capacity, ItemState, Method, Staff
from picsafe_desktop.services import Services
from picsafe_desktop.ui import file_dialogs, workers
from picsafe_desktop.ui.main_window import MainWindow
from picsafe_desktop.ui.thumbnails import ItemIdRole
from picsafe_desktop.vault import Vault
from tests.ui.journey_photos import with_capture_time
from tests.ui.test_consent_dialog import sign, tick
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

NURSE = Staff("Sam Okafor", "Staff nurse", "N4411")
PATIENT_NAME = "Philippa Quenby"
MRN = "RX7712345"
PHOTOS = ("iphone4-gps__Apple-iPhone-4.jpg", "google-pixel-gps-makernote__IMG_20180725_163423.jpg")


@pytest.fixture
def site(tmp_path):
    return config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "log" / "app.log")},
            "staff": {"allow_unverified_names": True},  # typed names: tests of other things
        }
    )


@pytest.fixture
def services(site, keyring_service):
    vault, _code = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    svc = Services(site, vault)
    yield svc
    workers.wait_for_done(30000)  # workers still holding the vault
    svc.close()


@pytest.fixture
def drop(tmp_path, corpus):
    folder = tmp_path / "from-phone"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(corpus / name, folder / name)
    return folder


def make_window(qtbot, site, services) -> MainWindow:
    win = MainWindow(site, services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def close_dialogs(win: MainWindow) -> None:
    """Leave the photos waiting: close the consent form undecided and the intake."""
    if win.consent_dialog is not None:
        win.consent_dialog.close_without_decision()
    if win.intake_dialog is not None:
        win.intake_dialog.reject()


@pytest.fixture
def window(qtbot, site, services):
    win = make_window(qtbot, site, services)
    yield win
    close_dialogs(win)


def sign_in(qtbot, win: MainWindow) -> None:
    screen = win.lock_screen
    screen.name_edit.clear()
    qtbot.keyClicks(screen.name_edit, NURSE.name)
    screen.staff_id_edit.clear()
    qtbot.keyClicks(screen.staff_id_edit, NURSE.staff_id)
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.locked)


def visible_text(win: QWidget) -> str:
    """Everything a person could read on screen in the app's windows."""
    parts = []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        for w in [top, *top.findChildren(QWidget)]:
            if not w.isVisible():
                continue
            if isinstance(w, QLabel | QLineEdit):
                parts.append(w.text())
        parts.append(top.windowTitle())
    return "\n".join(parts)


def wait_for_intake(qtbot, win):
    qtbot.waitUntil(
        lambda: win.intake_dialog is not None and win.intake_dialog.isVisible(), timeout=30000
    )
    # The wristband scan runs after the intake opened (issue 17): these tests act on its end.
    qtbot.waitUntil(lambda: not win.wristband_scan_running(), timeout=30000)
    return win.intake_dialog


def consent_for_all(qtbot, win):
    """In the intake step: every photo is this patient's (Ctrl+A), then record consent."""
    intake = wait_for_intake(qtbot, win)
    intake.grid.setFocus()
    qtbot.keyClick(intake.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(intake.selected_ids()) == len(intake.remaining())
    qtbot.mouseClick(intake.consent_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: win.consent_dialog is not None and win.consent_dialog.isActiveWindow(),
        timeout=30000,
    )
    return win.consent_dialog


def import_and_wait_for_dialog(qtbot, win, paths):
    win.start_import([str(p) for p in paths])
    return consent_for_all(qtbot, win)


def record_consent(qtbot, dialog):
    qtbot.keyClicks(dialog.mrn_edit, MRN)
    qtbot.keyClicks(dialog.name_edit, PATIENT_NAME)
    tick(qtbot, dialog.capacity_buttons[Capacity.SELF])
    tick(qtbot, dialog.method_buttons[Method.WRITTEN])
    sign(dialog.signature_pad)
    qtbot.waitUntil(dialog.record_button.isEnabled)
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)


def test_starts_locked_with_nothing_identifying(window):
    assert window.stack.currentWidget() is window.lock_screen
    assert window.locked
    menus = [m.menu() for m in window.menuBar().actions()]
    offered = [a for menu in menus for a in menu.actions()] + window.toolbar.actions()
    usable = {a.text() for a in offered if a.isEnabled() and a.text()}
    assert usable == {window.quit_action.text(), window.about_action.text()}
    assert "locked" in visible_text(window).lower()


def test_sign_in_shows_empty_state(qtbot, window, services):
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.empty_state)
    label = window.empty_state_label
    assert label.height() >= label.heightForWidth(label.width()), "no sentence cut off"
    assert services.staff == Staff(NURSE.name, "", NURSE.staff_id)
    events = [r.event for r in services.audit_rows()]
    assert "sign_in" in events


def test_import_forces_consent_then_grid_shows_thumbnails(qtbot, window, services, drop):
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    assert not any(drop.iterdir()), "sources are wiped after the verified import"
    # Cannot be dismissed while photos wait.
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.close() is False
    assert dialog.isVisible()
    assert not dialog.record_button.isEnabled(), "an empty form cannot be submitted"
    # Nothing is usable before consent.
    assert services.photos() == []

    record_consent(qtbot, dialog)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.browser, timeout=15000)
    qtbot.waitUntil(lambda: window.patient_list.count() == 1)
    assert PATIENT_NAME in window.patient_list.item(0).text()
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == len(PHOTOS))
    qtbot.waitUntil(lambda: window.thumbnails.cached_count() == len(PHOTOS), timeout=15000)
    captions = [window.thumbnails.index(r).data() for r in range(len(PHOTOS))]
    assert all(c.startswith("Taken ") for c in captions), captions  # capture time, not import
    items = services.vault.list_items()
    assert {i.state for i in items} == {ItemState.ACTIVE}

    # Search by MRN and by name filters the patient list.
    qtbot.keyClicks(window.search_edit, "nobody-like-this")
    assert window.patient_list.item(0).isHidden()
    window.search_edit.clear()
    qtbot.keyClicks(window.search_edit, MRN[-4:])
    assert not window.patient_list.item(0).isHidden()

    # Selecting a photo fills the details pane from the encrypted metadata and consent.
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    qtbot.waitUntil(lambda: "Uses allowed" in window.details.text())
    assert "record" in window.details.text()
    assert "Identifiability" in window.details.text()  # per photo since issue 15


def test_refusal_destroys_the_batch(qtbot, window, services, drop, monkeypatch):
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.keyClicks(dialog.mrn_edit, MRN)
    qtbot.keyClicks(dialog.refusal_reason_edit, "does not want photos kept")
    qtbot.mouseClick(dialog.refuse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "consent_refused" in [r.event for r in services.audit_rows()], timeout=15000
    )
    assert services.vault.list_items() == []
    assert window.consent_dialog is None
    [refusal] = [r for r in services.audit_rows() if r.event == "consent_refused"]
    assert refusal.details["mrn"] == MRN
    assert refusal.details["reason"] == "does not want photos kept"
    events = [r.event for r in services.audit_rows()]
    assert events.count("delete") == len(PHOTOS)


def test_restart_with_waiting_batch_raises_dialog_again(qtbot, site, services, drop):
    first = make_window(qtbot, site, services)
    sign_in(qtbot, first)
    import_and_wait_for_dialog(qtbot, first, [drop])
    close_dialogs(first)  # the app is closed with photos waiting
    first.close()

    second = make_window(qtbot, site, services)
    sign_in(qtbot, second)
    assert len(wait_for_intake(qtbot, second).remaining()) == len(PHOTOS)
    close_dialogs(second)


def test_drag_and_drop_feeds_the_same_pipeline(qtbot, window, drop):
    sign_in(qtbot, window)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in sorted(drop.iterdir())])
    event = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    wait_for_intake(qtbot, window)


def test_idle_lock_hides_all_patient_data(qtbot, window, services, drop):
    sign_in(qtbot, window)
    record_consent(qtbot, import_and_wait_for_dialog(qtbot, window, [drop]))
    qtbot.waitUntil(lambda: window.thumbnails.cached_count() == len(PHOTOS), timeout=15000)
    assert PATIENT_NAME in visible_text(window) or window.patient_list.count() == 1

    window.idle.set_interval_ms(300)
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert window.stack.currentWidget() is window.lock_screen
    assert window.thumbnails.rowCount() == 0 and window.thumbnails.cached_count() == 0
    assert window.patient_list.count() == 0
    text = visible_text(window)
    assert PATIENT_NAME not in text and MRN not in text
    assert "sign_out" in [r.event for r in services.vault.audit_rows()]
    assert not any(a.isEnabled() for a in window._patient_actions)


def test_lock_hides_the_consent_form_and_keeps_it_for_the_same_person(qtbot, window, drop):
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    qtbot.keyClicks(dialog.name_edit, PATIENT_NAME)
    tick(qtbot, dialog.method_buttons[Method.WRITTEN])
    sign(dialog.signature_pad)
    ink = dialog.signature_pad.to_png()
    qtbot.keyClick(
        dialog.name_edit,
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: window.locked)
    assert PATIENT_NAME not in visible_text(window)
    assert not dialog.isVisible() and not window.intake_dialog.isVisible()
    # The same person signs in again: the form comes back as it was, signature included.
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.consent_dialog is dialog and dialog.isVisible())
    assert dialog.name_edit.text() == PATIENT_NAME
    assert dialog.signature_pad.to_png() == ink


def test_os_session_lock_over_dbus_locks_the_window(qtbot, window):
    if not QDBusConnection.sessionBus().isConnected():
        pytest.skip("no D-Bus session bus (run through scripts/test)")
    sign_in(qtbot, window)
    msg = QDBusMessage.createSignal(
        "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "ActiveChanged"
    )
    msg.setArguments([True])
    assert QDBusConnection.sessionBus().send(msg)
    qtbot.waitUntil(lambda: window.locked, timeout=5000)


def test_delete_selected_photo_is_shredded_and_audited(qtbot, window, services, drop, monkeypatch):
    sign_in(qtbot, window)
    record_consent(qtbot, import_and_wait_for_dialog(qtbot, window, [drop]))
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == len(PHOTOS), timeout=15000)
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    window.grid.selectionModel().select(
        window.thumbnails.index(0), window.grid.selectionModel().SelectionFlag.Select
    )
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.delete_action.trigger()
    qtbot.waitUntil(lambda: len(services.vault.list_items()) == len(PHOTOS) - 1, timeout=10000)
    assert [r.event for r in services.vault.audit_rows()].count("delete") == 1


def test_phone_appearing_offers_import(qtbot, site, services, tmp_path, corpus, monkeypatch):
    from picsafe_desktop.ui.sources import SourceMonitor

    mounts = tmp_path / "media"
    mounts.mkdir()
    monitor = SourceMonitor(site, mount_roots=[mounts])
    win = make_window(qtbot, site, services)
    win.monitor = monitor
    monitor.volume_appeared.connect(win.volume_appeared)
    sign_in(qtbot, win)
    phone = mounts / "Pixel_7" / "DCIM" / "Camera"
    phone.mkdir(parents=True)
    shutil.copy(corpus / PHOTOS[0], phone / "IMG_0001.jpg")
    monitor.volume_poller.poll()  # one poll, as the background thread does every few seconds
    qtbot.waitUntil(win.banner.isVisible)
    assert "Pixel_7" in win.banner_label.text() or "Pixel 7" in win.banner_label.text()
    # The truth: delete_from_device is off by default, so the photos stay on the phone.
    qtbot.waitUntil(lambda: "1 new photo" in win.banner_label.text())
    assert "removed from the device" not in win.banner_label.text()
    assert "stay on it" in win.banner_label.text()
    qtbot.mouseClick(win.banner_import, Qt.MouseButton.LeftButton)
    wait_for_intake(qtbot, win)
    assert (phone / "IMG_0001.jpg").exists(), "not deleted: the site did not ask for it"
    close_dialogs(win)  # left waiting: still safely in the vault
    # After the verified import: offer to delete exactly those photos from the phone.
    qtbot.waitUntil(lambda: win.banner.isVisible() and win.banner_delete.isVisible())
    assert "Delete these 1 photo from the phone" in win.banner_delete.text().replace("&", "")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(win.banner_delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(win, "last_phone_cleanup", None) is not None, timeout=15000)
    qtbot.waitUntil(lambda: not (phone / "IMG_0001.jpg").exists(), timeout=15000)
    [row] = [r for r in services.vault.audit_rows() if r.event == "device_delete"]
    assert row.details == {"deleted": 1, "left_on_device": 0}
    assert len(services.vault.list_items()) == 1, "the vault copy is untouched"


def test_phone_already_in_the_vault_says_so(qtbot, site, services, tmp_path, corpus):
    from picsafe_desktop.ui.sources import SourceMonitor

    mounts = tmp_path / "media"
    phone = mounts / "Pixel_7" / "DCIM" / "Camera"
    phone.mkdir(parents=True)
    shutil.copy(corpus / PHOTOS[0], phone / "IMG_0001.jpg")
    services.sign_in(NURSE)
    services.import_paths([phone / "IMG_0001.jpg"])  # an earlier import that kept the source
    services.sign_out()
    shutil.copy(corpus / PHOTOS[0], phone / "IMG_0001.jpg")  # still on the phone
    monitor = SourceMonitor(site, mount_roots=[mounts])
    win = make_window(qtbot, site, services)
    monitor.volume_appeared.connect(win.volume_appeared)
    sign_in(qtbot, win)
    close_dialogs(win)
    monitor.volume_poller.poll()
    qtbot.waitUntil(lambda: "already in the vault" in win.banner_label.text(), timeout=15000)
    assert not win.banner_import.isVisible() and win.banner_delete.isVisible()


def test_drop_folder_imports_even_while_locked(qtbot, site, services, tmp_path, corpus):
    from picsafe_desktop.ui.sources import SourceMonitor

    folder = tmp_path / "drop"
    site_with_drop = config.from_dict(
        {
            "vault": {"path": site.vault.path},
            "import": {"drop_folders": [str(folder)], "stable_seconds": 0.2},
        }
    )
    monitor = SourceMonitor(site_with_drop, mount_roots=[tmp_path / "no-mounts"])
    win = make_window(qtbot, site, services)
    monitor.drop_batch.connect(win.drop_folder_batch)
    monitor.start()
    try:
        folder.mkdir(exist_ok=True)
        shutil.copy(corpus / PHOTOS[0], folder / "wound.jpg")
        qtbot.waitUntil(lambda: len(services.vault.list_items()) == 1, timeout=30000)
        qtbot.waitUntil(lambda: not (folder / "wound.jpg").exists(), timeout=10000)
        assert win.locked and win.intake_dialog is None  # nothing shown to nobody
        sign_in(qtbot, win)
        wait_for_intake(qtbot, win)
        close_dialogs(win)
    finally:
        monitor.stop()


def consented_window(qtbot, window, drop):
    sign_in(qtbot, window)
    record_consent(qtbot, import_and_wait_for_dialog(qtbot, window, [drop]))
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == len(PHOTOS), timeout=15000)
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    return window


def test_export_pdf_from_the_dialog(qtbot, window, services, drop, tmp_path):
    consented_window(qtbot, window, drop)
    window.export_action.trigger()
    dialog = window.export_dialog
    assert not dialog.kind_buttons["dicom"].isEnabled(), "no PACS configured: offered greyed"
    assert "no PACS configured" in dialog.kind_buttons["dicom"].text()
    assert [dialog.use_combo.itemData(i) for i in range(dialog.use_combo.count())] == ["record"]
    dialog.kind_buttons["pdf"].setChecked(True)
    # Names the patient, offers all their photos ticked, and a file name with no patient data.
    assert PATIENT_NAME in dialog.windowTitle() and MRN in dialog.patient_label.text()
    assert len(dialog.checked_ids()) == len(PHOTOS)
    default = dialog.file_edit.text()
    assert default.endswith(".pdf") and "Quenby" not in default and MRN not in default
    [file_label] = [w for w in dialog.findChildren(QLabel) if w.text() == "&File:"]
    assert file_label.buddy() is dialog.file_edit  # a mnemonic, not a literal "&"
    out = tmp_path / "report.pdf"
    dialog.file_edit.clear()
    qtbot.keyClicks(dialog.file_edit, str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30000)
    assert out.read_bytes().startswith(b"%PDF")
    assert "Done." in dialog.result_label.text()
    exports = [r for r in services.vault.audit_rows() if r.event == "export"]
    assert len(exports) == len(PHOTOS) and exports[0].details["kind"] == "pdf"  # one per photo


def test_export_package_needs_a_passphrase(qtbot, window, drop, tmp_path):
    consented_window(qtbot, window, drop)
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.kind_buttons["package"].setChecked(True)
    dialog.file_edit.clear()
    qtbot.keyClicks(dialog.file_edit, str(tmp_path / "for-dr-lee.age"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "at least 12 characters" in dialog.result_label.text()
    assert not (tmp_path / "for-dr-lee.age").exists()


def test_redaction_saves_a_redacted_copy(qtbot, window, services, drop, monkeypatch):
    from picsafe_desktop.deid import Redaction

    consented_window(qtbot, window, drop)
    before = {i.item_id for i in services.vault.list_items()}
    window.redact_action.trigger()
    qtbot.waitUntil(lambda: getattr(window, "redaction_dialog", None) is not None)
    dialog = window.redaction_dialog
    monkeypatch.setattr(dialog, "boxes", lambda: [Redaction(0, 0, 40, 40, "black")])
    dialog.accept()
    qtbot.waitUntil(lambda: len(services.vault.list_items()) == len(PHOTOS) + 1, timeout=15000)
    new = [i for i in services.vault.list_items() if i.item_id not in before]
    assert new[0].state == ItemState.ACTIVE and new[0].consent_id
    # the audit row follows the new item's put on the worker: wait for it, do not race it
    qtbot.waitUntil(lambda: "redact" in [r.event for r in services.vault.audit_rows()])
    # Badged, linked to its original, and the patient's count is fresh.
    qtbot.waitUntil(lambda: f"{len(PHOTOS) + 1} photos" in window.patient_list.item(0).text())
    qtbot.waitUntil(lambda: window.thumbnails.row_of(new[0].item_id) >= 0)
    row = window.thumbnails.row_of(new[0].item_id)
    qtbot.waitUntil(
        lambda: str(window.thumbnails.index(row).data()).startswith("Redacted copy"),
        timeout=15000,
    )
    window.grid.setCurrentIndex(window.thumbnails.index(row))
    qtbot.waitUntil(lambda: "Show the original photo" in window.details.text())
    original = services.metadata(new[0].item_id)["redacted_from"]
    window.details.linkActivated.emit(f"item:{original}")
    assert window.grid.currentIndex().data(ItemIdRole) == original


def test_details_pane_after_consent_and_no_audit_flood(qtbot, window, services, drop):
    sign_in(qtbot, window)
    record_consent(qtbot, import_and_wait_for_dialog(qtbot, window, [drop]))
    # Nothing clicked: the first photo's details are shown, not a blank pane.
    qtbot.waitUntil(lambda: "Uses allowed" in window.details.text(), timeout=15000)
    views = lambda: [r for r in services.vault.audit_rows() if r.event == "consent_view"]  # noqa: E731
    seen = len(views())
    for row in (1, 0, 1, 0):
        window.grid.setCurrentIndex(window.thumbnails.index(row))
        qtbot.waitUntil(lambda: "Uses allowed" in window.details.text())
    workers.wait_for_done(10000)
    assert len(views()) == seen, "clicking photos does not add a consent_view row each time"


def test_withdrawing_consent_destroys_its_photos(qtbot, window, services, drop, monkeypatch):
    consented_window(qtbot, window, drop)
    monkeypatch.setattr(window, "_withdrawal_scope", lambda: "full")
    window.withdraw_action.trigger()
    qtbot.waitUntil(lambda: services.vault.list_items() == [], timeout=15000)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "withdrawnBox") is not None)
    assert "consent_withdrawn" in [r.event for r in services.vault.audit_rows()]


def test_withdrawing_teaching_only_keeps_the_photos(qtbot, window, services, drop, monkeypatch):
    consented_window(qtbot, window, drop)
    monkeypatch.setattr(window, "_withdrawal_scope", lambda: "secondary")
    window.withdraw_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "withdrawnBox") is not None)
    assert "stay for the clinical record" in window.findChild(QMessageBox, "withdrawnBox").text()
    assert len(services.vault.list_items()) == len(PHOTOS)
    assert "consent_withdrawn" in [r.event for r in services.vault.audit_rows()]


def test_intimate_photo_asks_a_reason_before_it_is_shown(
    qtbot, window, services, drop, monkeypatch
):
    from PySide6.QtWidgets import QInputDialog

    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    dialog.sections.intimate.set_values({"intimate": {"preference": "declined"}})
    record_consent(qtbot, dialog)
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == len(PHOTOS), timeout=15000)
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    asked = []
    monkeypatch.setattr(
        QInputDialog, "getText", lambda *a, **k: (asked.append(a[2]) or "dressing check", True)
    )
    window.open_viewer()
    qtbot.waitUntil(lambda: bool(asked), timeout=15000)
    assert "intimate" in asked[0]
    qtbot.waitUntil(
        lambda: any(
            r.details.get("purpose") == "view intimate: dressing check"
            for r in services.vault.audit_rows()
            if r.event == "view"
        ),
        timeout=15000,
    )


def test_usb_camera_through_libgphoto2(qtbot, window, services, tmp_path, corpus, monkeypatch):
    """The real gphoto2 code path, with libgphoto2's directory camera standing in for a phone."""
    from picsafe_desktop.importer import gphoto

    card = tmp_path / "camera" / "DCIM" / "100APPLE"
    card.mkdir(parents=True)
    shutil.copy(corpus / PHOTOS[0], card / "IMG_0001.JPG")
    device = gphoto.DeviceInfo(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'camera'}")
    monkeypatch.setattr(services, "usb_devices", lambda: ([device], ""))
    sign_in(qtbot, window)
    window.usb_action.trigger()
    wait_for_intake(qtbot, window)
    assert len(services.vault.list_items()) == 1


def test_no_usb_device_explains_what_to_do(qtbot, window, services, monkeypatch):
    shown = []
    monkeypatch.setattr(services, "usb_devices", lambda: ([], ""))
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    sign_in(qtbot, window)
    window.usb_action.trigger()
    qtbot.waitUntil(lambda: bool(shown))
    assert "unlock it" in shown[0] and "allow access" in shown[0]


def test_dropped_folder_named_after_patient_is_removed_with_its_photos(qtbot, window, drop):
    sign_in(qtbot, window)
    named = drop / "Philippa Quenby"
    named.mkdir()
    for photo in list(drop.glob("*.jpg")):
        photo.rename(named / photo.name)
    window.start_import([str(drop)])
    wait_for_intake(qtbot, window)
    assert not named.exists()


def test_export_to_the_pacs_from_the_dialog(qtbot, tmp_path, services, drop, orthanc):
    from tests.export_tools import AET

    orthanc.clear()
    site = config.from_dict(
        {
            "vault": {"path": services.site.vault.path},
            "pacs": {"ae_title": AET, "host": "127.0.0.1", "port": orthanc.dicom_port},
            "staff": {"allow_unverified_names": True},
        }
    )
    services.site = site
    window = consented_window(qtbot, make_window(qtbot, site, services), drop)
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog.kind_buttons["dicom"].isEnabled()
    dialog.kind_buttons["dicom"].setChecked(True)
    assert f"{AET}@127.0.0.1:{orthanc.dicom_port}" in dialog.target_label.text()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=60000)
    assert "study" in dialog.result_label.text()
    assert len(orthanc.get("/instances")) == len(PHOTOS)  # all the patient's photos
    [patient] = orthanc.get("/patients")
    assert orthanc.get(f"/patients/{patient}")["MainDicomTags"]["PatientID"] == MRN
    assert services.pacs_echo()[0] is True


def test_unenrolled_staff_id_is_refused_enrolled_one_signs_in(qtbot, tmp_path, keyring_service):
    """With a PIN policy, a staff ID that IT has not enrolled is refused (its first sign-in
    used to set its PIN); an enrolled one signs in with its PIN, under the enrolled name."""
    from picsafe_desktop.staff.pins import STAFF_FILE, StaffStore

    site = config.from_dict(
        {"vault": {"path": str(tmp_path / "vault")}, "security": {"require_pin": True}}
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        win = make_window(qtbot, site, services)
        screen = win.lock_screen
        assert screen.pin_edit.isVisible() and not screen.name_edit.isVisible()

        def attempt(staff_id: str, pin: str) -> None:
            screen.staff_id_edit.clear()
            qtbot.keyClicks(screen.staff_id_edit, staff_id)
            qtbot.keyClicks(screen.pin_edit, pin)
            qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: screen.sign_in_button.isEnabled() or not win.locked)

        attempt(NURSE.staff_id, "4826")
        assert win.locked and "Wrong staff ID or PIN" in screen.error_label.text()
        assert not (tmp_path / "vault" / STAFF_FILE).exists()  # trying enrolled nobody

        StaffStore.for_vault(vault).add(NURSE.staff_id, NURSE.name, ["clinician"], "4826")
        attempt(NURSE.staff_id, "12")
        assert win.locked and "4 to 12 digits" in screen.error_label.text()
        attempt(NURSE.staff_id, "1111")
        assert win.locked and "Wrong staff ID or PIN" in screen.error_label.text()
        attempt(NURSE.staff_id, "4826")
        assert not win.locked and services.staff.name == NURSE.name
        stored = (tmp_path / "vault" / STAFF_FILE).read_text()
        assert "4826" not in stored and "argon2" not in stored
        win.close()
    finally:
        workers.wait_for_done(30000)
        services.close()


def test_viewer_opens_the_photo_and_the_view_is_audited(qtbot, window, services, drop):
    from picsafe_desktop.ui.viewer import PhotoViewer

    consented_window(qtbot, window, drop)
    window.view_action.trigger()
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, PhotoViewer) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    viewer = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PhotoViewer))
    qtbot.waitUntil(lambda: not viewer.item.pixmap().isNull(), timeout=15000)
    views = [r for r in services.vault.audit_rows() if r.event == "view"]
    assert views and views[-1].actor.startswith(NURSE.name)
    # Names the patient; Page Down shows the next photo (audited); Esc closes.
    assert PATIENT_NAME in viewer.context_label.text()
    assert "photo 1 of 2" in viewer.context_label.text()
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow)
    qtbot.keyClick(viewer.view, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: "photo 2 of 2" in viewer.context_label.text())
    qtbot.waitUntil(
        lambda: len([r for r in services.vault.audit_rows() if r.event == "view"]) > len(views),
        timeout=15000,
    )
    assert not viewer.next_button.isEnabled() and viewer.previous_button.isEnabled()
    qtbot.keyClick(viewer.view, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not viewer.isVisible())
    window.view_action.trigger()
    viewer = window.viewer
    qtbot.waitUntil(viewer.isVisible)
    window.lock("button")
    assert not viewer.isVisible(), "locking closes photo windows"


def test_patient_audit_shows_only_that_patient(qtbot, window, services, drop):
    from picsafe_desktop.ui.audit_view import AuditView

    consented_window(qtbot, window, drop)
    window.patient_audit_action.trigger()
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, AuditView) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    view = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AuditView))
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    subjects = {view.model.index(r, 3).data() for r in range(view.model.rowCount())}
    assert "session" not in subjects  # sign-ins belong to the whole-vault log only
    view.close()


def test_export_package_to_a_colleague_opens_with_the_age_cli(qtbot, window, drop, tmp_path):
    from tests.export_tools import require

    age, keygen = require("age"), require("age-keygen")
    key = tmp_path / "colleague.key"
    subprocess.run([keygen, "-o", str(key)], check=True, capture_output=True)
    public = next(
        line.split(": ")[1]
        for line in key.read_text().splitlines()
        if line.startswith("# public key")
    )
    consented_window(qtbot, window, drop)
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.kind_buttons["package"].setChecked(True)
    assert dialog.recipient_edit.isVisible()
    out = tmp_path / "for-dr-lee.age"
    dialog.file_edit.clear()
    qtbot.keyClicks(dialog.file_edit, str(out))
    qtbot.keyClicks(dialog.recipient_edit, public)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30000)
    opened = subprocess.run(
        [age, "-d", "-i", str(key), str(out)], capture_output=True, check=True
    ).stdout
    assert opened.startswith(b"PK")  # the ZIP of JPEGs, report and FHIR JSON


def test_export_to_fhir_from_the_dialog(qtbot, services, drop):
    from tests.export_tools import FhirEndpoint, transaction_response

    endpoint = FhirEndpoint()
    try:
        endpoint.script = [(200, transaction_response, {})]
        site = config.from_dict(
            {
                "vault": {"path": services.site.vault.path},
                "staff": {"allow_unverified_names": True},
                "fhir": {
                    "base_url": endpoint.base_url,
                    "token": "tok-ui-123",
                    "mrn_system": "urn:oid:1.2.826.0.1.999.1",
                },
            }
        )
        services.site = site
        window = consented_window(qtbot, make_window(qtbot, site, services), drop)
        window.export_action.trigger()
        dialog = window.export_dialog
        dialog.kind_buttons["fhir"].setChecked(True)
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30000)
        [request] = endpoint.requests
        assert request["headers"]["Authorization"] == "Bearer tok-ui-123"
        bundle = json.loads(request["body"])
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert kinds.count("Media") == len(PHOTOS) and "Consent" in kinds and "Patient" in kinds
        assert "tok-ui-123" not in dialog.result_label.text()
    finally:
        endpoint.close()


def test_wristband_photo_fills_the_mrn_and_leaves_the_batch(qtbot, window, services, drop):
    from tests.unit.test_wristband import CODE128, barcode_image, photo

    band = photo([(barcode_image(MRN, CODE128), (200, 300))])
    # Photographed just before the Pixel photo (25 Jul 2018 16:34): the band joins its set.
    (drop / "IMG_9999.jpg").write_bytes(with_capture_time(band, "2018:07:25 16:30:00", None))
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    assert dialog.mrn_edit.text() == MRN
    assert len(services.vault.list_items()) == len(PHOTOS), "the wristband photo was destroyed"
    deletes = [r for r in services.vault.audit_rows() if r.event == "delete"]
    assert len(deletes) == 1 and "wristband" in deletes[0].details["reason"]
    # Locked and signed in again: the dialog returns with the MRN, photos are not rescanned.
    scans = [r for r in services.vault.audit_rows() if r.event == "view"]
    close_dialogs(window)
    window.lock("button")
    sign_in(qtbot, window)
    assert consent_for_all(qtbot, window).mrn_edit.text() == MRN
    assert [r for r in services.vault.audit_rows() if r.event == "view"] == scans


def test_dialogs_open_before_the_wristband_scan_ends_and_it_fills_the_mrn(
    qtbot, window, services, drop
):
    """Issue 17: the intake and the consent form do not wait for the barcode scan (43 s for
    200 photos); the scan's MRN fills the open form, and the band photo leaves the consent."""
    import threading

    from tests.unit.test_wristband import CODE128, barcode_image, photo

    band = photo([(barcode_image(MRN, CODE128), (200, 300))])
    (drop / "IMG_9999.jpg").write_bytes(with_capture_time(band, "2018:07:25 16:30:00", None))
    release = threading.Event()
    real_scan = services.scan_wristbands

    def held_scan(*args, **kwargs):  # the real scan, started only when the test says so
        assert release.wait(30)
        return real_scan(*args, **kwargs)

    services.scan_wristbands = held_scan
    sign_in(qtbot, window)
    window.start_import([str(drop)])
    qtbot.waitUntil(
        lambda: window.intake_dialog is not None and window.intake_dialog.isVisible(),
        timeout=30000,
    )
    intake = window.intake_dialog
    assert window.wristband_scan_running()
    assert len(intake.remaining()) == len(PHOTOS) + 1  # the band photo is still among them
    scanned = [
        r for r in services.vault.audit_rows() if r.details.get("purpose") == "wristband scan"
    ]
    assert scanned == []  # nothing was decoded for the barcode before the intake opened
    intake.grid.setFocus()
    qtbot.keyClick(intake.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(intake.consent_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.consent_dialog is not None, timeout=30000)
    dialog = window.consent_dialog
    assert dialog.mrn_edit.text() == ""
    release.set()
    qtbot.waitUntil(lambda: dialog.mrn_edit.text() == MRN, timeout=30000)
    qtbot.waitUntil(lambda: not window.wristband_scan_running(), timeout=30000)
    assert len(intake.remaining()) == len(PHOTOS)
    qtbot.waitUntil(
        lambda: any(r.event == "delete" for r in services.vault.audit_rows()), timeout=15000
    )
    qtbot.keyClicks(dialog.name_edit, PATIENT_NAME)
    tick(qtbot, dialog.capacity_buttons[Capacity.SELF])
    tick(qtbot, dialog.method_buttons[Method.WRITTEN])
    sign(dialog.signature_pad)
    qtbot.waitUntil(dialog.record_button.isEnabled)
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: len(services.vault.list_items(state=ItemState.ACTIVE)) == len(PHOTOS),
        timeout=30000,
    )
    assert len(services.vault.list_items()) == len(PHOTOS), "the band photo was destroyed"


def test_cancel_leaves_the_rest_at_its_source(qtbot, window, services, tmp_path, corpus):
    from picsafe_desktop.ui.importing import ImportProgress

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        # Distinct originals (not duplicates): same photo, one different trailing byte.
        data = (corpus / PHOTOS[i % 2]).read_bytes() + bytes([i])
        (folder / f"IMG_{i:04d}.jpg").write_bytes(data)
    sign_in(qtbot, window)
    window.start_import([str(folder)])
    row = window.findChild(ImportProgress)
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert row.label.text() == "Cancelling…"
    qtbot.waitUntil(lambda: window.last_import is not None, timeout=60000)
    stored = len(services.vault.list_items())
    left = len(list(folder.glob("*.jpg")))
    assert stored + left == 12, "every photo is either in the vault or still at its source"
    assert left > 0, "cancel stopped the batch"
    close_dialogs(window)


def test_clinician_answers_identifiability_and_saves_the_patients_copy(
    qtbot, window, services, drop, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QInputDialog

    from picsafe_desktop.ui.thumbnails import ItemIdRole

    consented_window(qtbot, window, drop)
    item_id = window.grid.currentIndex().data(ItemIdRole)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Not identifiable", True))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("forearm only", True))
    window.identifiability_action.trigger()
    qtbot.waitUntil(
        lambda: services.photo_flags(item_id)["identifiability"] == "not_identifiable",
        timeout=15000,
    )
    out = tmp_path / "copy.pdf"
    monkeypatch.setattr(file_dialogs, "save_file_name", lambda *a, **k: str(out))
    window.patient_copy_action.trigger()
    qtbot.waitUntil(out.exists, timeout=15000)
    assert out.read_bytes().startswith(b"%PDF")


def test_import_problems_are_one_plain_list_after_consent(qtbot, window, drop):
    (drop / "scan-of-notes.jpg").write_bytes(b"this is not a photo at all")
    sign_in(qtbot, window)
    dialog = import_and_wait_for_dialog(qtbot, window, [drop])
    assert window.findChild(QMessageBox, "importProblems") is None, "not under the intake"
    record_consent(qtbot, dialog)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "importProblems") is not None)
    box = window.findChild(QMessageBox, "importProblems")
    text = box.informativeText()
    assert text.count("scan-of-notes.jpg") == 1, text
    assert str(drop) not in text and "could not be read as a photo" in text
    assert "nothing was lost" in text.lower()


def test_preferences_are_used(qtbot, window, services, drop, monkeypatch):
    """ "Ask before deleting" is read when deleting; the thumbnail size applies on save."""
    from PySide6.QtCore import QSettings

    from picsafe_desktop.ui.settings_dialog import PREFERENCES, SettingsDialog

    consented_window(qtbot, window, drop)
    window.show_settings()
    settings = window.findChild(SettingsDialog)
    settings.thumbnail_size.setValue(224)
    settings.confirm_delete.setChecked(False)
    settings.buttons.button(settings.buttons.StandardButton.Save).click()
    try:
        assert window.grid.iconSize().width() == 224
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked"))
        window.grid.setCurrentIndex(window.thumbnails.index(0))
        window.grid.selectionModel().select(
            window.thumbnails.index(0), window.grid.selectionModel().SelectionFlag.Select
        )
        window.delete_action.trigger()
        qtbot.waitUntil(lambda: len(services.vault.list_items()) == len(PHOTOS) - 1)
    finally:
        for pref in PREFERENCES.values():
            QSettings().remove(pref.key)


def test_audit_view_is_readable_filterable_and_closes_on_esc(qtbot, window, services, drop):
    from picsafe_desktop.ui.audit_view import AuditView

    consented_window(qtbot, window, drop)
    window.audit_action.trigger()
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, AuditView) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    view = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AuditView))
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    free = view.screen().availableGeometry()
    assert free.contains(view.frameGeometry()) or free.contains(view.geometry())
    column = lambda c: [view.proxy.index(r, c).data() for r in range(view.proxy.rowCount())]  # noqa: E731
    assert "put" not in column(2) and "photo stored (encrypted)" in column(2)
    photo_rows = [s for s in column(3) if s.startswith("photo — ")]
    assert photo_rows and all(PATIENT_NAME in s and MRN in s for s in photo_rows)
    # Filters: by patient, then by event.
    view.patient_combo.setCurrentIndex(view.patient_combo.findData(f"{PATIENT_NAME}, MRN {MRN}"))
    assert all(PATIENT_NAME in s for s in column(3))
    view.event_combo.setCurrentIndex(view.event_combo.findData("photo stored (encrypted)"))
    assert set(column(2)) == {"photo stored (encrypted)"} and len(column(2)) == len(PHOTOS)
    view.period_combo.setCurrentIndex(view.period_combo.findData(0))  # today
    assert len(column(2)) == len(PHOTOS)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.isVisible())


def test_timeline_groups_by_site_and_compares_two_photos(qtbot, window, services, drop):
    consented_window(qtbot, window, drop)
    window.timeline_action.trigger()
    qtbot.waitUntil(lambda: getattr(window, "timeline_dialog", None) is not None, timeout=15000)
    timeline = window.timeline_dialog
    assert PATIENT_NAME in timeline.windowTitle()
    top = timeline.tree.topLevelItem(0)
    assert top.text(0).startswith("body site not recorded") and top.childCount() == len(PHOTOS)
    assert not timeline.compare_button.isEnabled()
    timeline.tick(list(timeline.items))
    assert timeline.compare_button.isEnabled()
    views = len([r for r in services.vault.audit_rows() if r.event == "view"])
    qtbot.mouseClick(timeline.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "comparison", None) is not None)
    compare = window.comparison
    qtbot.waitUntil(lambda: all(not i.pixmap().isNull() for i in compare.items), timeout=15000)
    assert len([r for r in services.vault.audit_rows() if r.event == "view"]) == views + 2
    before = compare.scales()
    compare.zoom_by(2.0)
    after = compare.scales()
    assert after == [b * 2.0 for b in before]  # both views zoom together
    left, right = compare.views
    left.horizontalScrollBar().setValue(left.horizontalScrollBar().maximum() // 2)
    # Panned together, proportionally (tests/ui/test_comparison.py: different sizes).
    assert compare.relative_centre(1) == pytest.approx(compare.relative_centre(0), abs=0.01)
    window.lock("button")
    assert not compare.isVisible() and not timeline.isVisible()
