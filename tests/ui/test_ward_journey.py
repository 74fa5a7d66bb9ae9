"""The ward journey, driven through the real widgets: one phone, two patients, interrupted.

A phone (libgphoto2's directory camera: the same gphoto2 code path as a USB phone) holds two
patients' photos, each set with a wristband photo, and one personal photo. The clinician
files set 1 for patient A, starts set 2 for patient B, is interrupted (lock) after the
signature, comes back to the form intact; then a colleague signs in, the draft is discarded;
the colleague files set 2 and destroys the personal photo. A redacted copy goes into a PDF.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from picsafe_desktop.model import Capacity, ItemState, Method, Staff
from tests.ui import test_desktop as desktop
from tests.ui.journey_photos import phone_photo
from tests.ui.test_consent_dialog import sign, tick
from tests.ui.test_desktop import NURSE, close_dialogs, sign_in, visible_text
from tests.unit.test_wristband import CODE128, barcode_image
from tests.unit.test_wristband import photo as band_photo

pytestmark = [pytest.mark.keyring, pytest.mark.slow]

MRN_A, NAME_A = "RX7700001", "Philippa Quenby"
MRN_B, NAME_B = "RX7700002", "Bartholomew Ashdown"
COLLEAGUE = Staff("Dr Rui Tanaka", "", "D2087")

# The desktop tests' real vault, keyring and window.
site, services, window = desktop.site, desktop.services, desktop.window


def wristband(mrn: str, when: str) -> bytes:
    from tests.ui.journey_photos import with_capture_time

    return with_capture_time(band_photo([(barcode_image(mrn, CODE128), (200, 300))]), when)


def phone_folder(root):
    """DCIM of a phone: patient A at 10:00-10:05, patient B at 10:40-10:43 (each opened by
    a wristband photo), and a personal photo in the evening."""
    dcim = root / "DCIM" / "100APPLE"
    dcim.mkdir(parents=True)
    shots = [
        ("IMG_0001.JPG", wristband(MRN_A, "2025:05:06 10:00:00")),
        ("IMG_0002.JPG", phone_photo("2025:05:06 10:01:10", "#c0504d", "A wound 1")),
        ("IMG_0003.JPG", phone_photo("2025:05:06 10:03:00", "#c0504d", "A wound 2")),
        ("IMG_0004.JPG", phone_photo("2025:05:06 10:05:30", "#c0504d", "A wound 3")),
        ("IMG_0005.JPG", wristband(MRN_B, "2025:05:06 10:40:00")),
        ("IMG_0006.JPG", phone_photo("2025:05:06 10:41:00", "#4f81bd", "B ulcer 1")),
        ("IMG_0007.JPG", phone_photo("2025:05:06 10:43:20", "#4f81bd", "B ulcer 2")),
        ("IMG_0008.JPG", phone_photo("2025:05:06 19:30:00", "#9bbb59", "my dog")),
    ]
    for name, data in shots:
        (dcim / name).write_bytes(data)
    return root


class Clicks:
    """Counts what a person does: clicks, key presses, signatures."""

    def __init__(self, qtbot):
        self.qtbot, self.n = qtbot, 0

    def click(self, widget, **kw):
        self.n += 1
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, **kw)

    def tick(self, button):
        self.n += 1
        tick(self.qtbot, button)

    def type(self, widget, text):  # typing counts as one action per field
        self.n += 1
        self.qtbot.keyClicks(widget, text)

    def sign(self, pad):
        self.n += 1
        sign(pad)


def lock_from(qtbot, widget):
    qtbot.keyClick(
        widget,
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )


def sign_in_as(qtbot, win, staff):
    screen = win.lock_screen
    screen.name_edit.clear()
    qtbot.keyClicks(screen.name_edit, staff.name)
    screen.staff_id_edit.clear()
    qtbot.keyClicks(screen.staff_id_edit, staff.staff_id)
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.locked)


def intake_of(qtbot, win):
    qtbot.waitUntil(
        lambda: win.intake_dialog is not None and win.intake_dialog.isVisible(), timeout=30000
    )
    # The wristband scan runs after the intake opened (issue 17): the journey acts on its end.
    qtbot.waitUntil(lambda: not win.wristband_scan_running(), timeout=30000)
    return win.intake_dialog


def open_form(qtbot, win, you: Clicks):
    intake = intake_of(qtbot, win)
    you.click(intake.consent_button)
    qtbot.waitUntil(
        lambda: win.consent_dialog is not None and win.consent_dialog.isActiveWindow(),
        timeout=15000,
    )
    return win.consent_dialog


def test_one_phone_two_patients_and_a_personal_photo(
    qtbot, window, services, tmp_path, monkeypatch
):
    from picsafe_desktop.importer import gphoto

    phone = phone_folder(tmp_path / "phone")
    device = gphoto.DeviceInfo(gphoto.DIRECTORY_MODEL, f"disk:{phone}")
    monkeypatch.setattr(services, "usb_devices", lambda: ([device], ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    you = Clicks(qtbot)
    sign_in(qtbot, window)

    # Phone plugged in: import it.
    started = time.monotonic()
    window.usb_action.trigger()
    you.n += 2  # the menu and its item
    intake = intake_of(qtbot, window)
    assert intake.set_count() == 3, "A's set, B's set, the personal photo"
    assert len(intake.remaining()) == 6, "the two wristband photos were used and destroyed"
    assert len(intake.selected_ids()) == 3, "the first suggested set is preselected"

    # Patient A has a wound and, in one photo, a lesion elsewhere: that photo gets its own
    # body site on the map; the others take the form's.
    lesion = intake.selected_ids()[-1]
    tile = intake.grid.visualItemRect(intake.grid.item(2)).center()
    you.click(intake.grid.viewport(), pos=tile)
    assert intake.selected_ids() == [lesion]
    you.click(intake.site_button)
    qtbot.waitUntil(lambda: getattr(intake, "body_map_dialog", None) is not None)
    picker = intake.body_map_dialog
    qtbot.waitExposed(picker)
    centre = picker.map.region_rect("front_forearm_left").center()
    you.click(picker.map, pos=QPoint(int(centre.x()), int(centre.y())))
    you.click(picker.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert "left forearm" in intake.grid.item(2).text()
    you.click(
        intake.sets_list.viewport(),
        pos=intake.sets_list.visualItemRect(intake.sets_list.item(0)).center(),
    )
    assert len(intake.selected_ids()) == 3

    # Patient A: the MRN comes from the wristband photographed with the set.
    form = open_form(qtbot, window, you)
    assert form.mrn_edit.text() == MRN_A
    you.type(form.name_edit, NAME_A)
    you.tick(form.capacity_buttons[Capacity.SELF])
    you.tick(form.method_buttons[Method.WRITTEN])
    you.sign(form.signature_pad)
    qtbot.waitUntil(form.record_button.isEnabled)
    you.click(form.record_button)
    qtbot.waitUntil(lambda: len(intake.remaining()) == 3, timeout=15000)
    assert len(intake.selected_ids()) == 2, "the next set (patient B) is offered"

    # Patient B: interrupted after the signature.
    form = open_form(qtbot, window, you)
    assert form.mrn_edit.text() == MRN_B
    you.type(form.name_edit, NAME_B)
    you.tick(form.capacity_buttons[Capacity.SELF])
    you.tick(form.method_buttons[Method.WRITTEN])
    you.sign(form.signature_pad)
    ink = form.signature_pad.to_png()
    clicks_before_lock, seconds_before_lock = you.n, time.monotonic() - started
    lock_from(qtbot, form.name_edit)
    qtbot.waitUntil(lambda: window.locked)
    assert NAME_B not in visible_text(window) and MRN_B not in visible_text(window)
    assert not form.isVisible() and not intake.isVisible()

    # The same nurse comes back: the form is as it was, signature included.
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.consent_dialog is form and form.isVisible())
    assert form.name_edit.text() == NAME_B and form.mrn_edit.text() == MRN_B
    assert form.capacity_buttons[Capacity.SELF].isChecked()
    assert form.signature_pad.to_png() == ink

    # Locked again, and a colleague signs in: the draft is discarded (audited).
    lock_from(qtbot, form.name_edit)
    qtbot.waitUntil(lambda: window.locked)
    sign_in_as(qtbot, window, COLLEAGUE)
    qtbot.waitUntil(
        lambda: "consent_draft_discarded" in [r.event for r in services.vault.audit_rows()]
    )
    [discard] = [r for r in services.vault.audit_rows() if r.event == "consent_draft_discarded"]
    assert discard.actor.startswith(COLLEAGUE.name)
    assert discard.details["drafted_by"] == NURSE.name
    intake = intake_of(qtbot, window)
    assert intake is not None and len(intake.remaining()) == 3
    assert window.consent_dialog is None or window.consent_dialog is not form
    assert len(intake.selected_ids()) == 2
    form = open_form(qtbot, window, you)
    assert form.name_edit.text() == "" and form.signature_pad.is_empty()
    assert form.mrn_edit.text() == MRN_B  # the wristband is remembered, not the draft
    you.type(form.name_edit, NAME_B)
    you.tick(form.capacity_buttons[Capacity.SELF])
    you.tick(form.method_buttons[Method.WRITTEN])
    you.sign(form.signature_pad)
    # The ulcer is on the right shin: picked on the body map, coded with its side.
    you.click(form.body_map_button)
    qtbot.waitUntil(lambda: getattr(form, "body_map_dialog", None) is not None)
    picker = form.body_map_dialog
    qtbot.waitExposed(picker)
    centre = picker.map.region_rect("front_lower_leg_right").center()
    you.click(picker.map, pos=QPoint(int(centre.x()), int(centre.y())))
    you.click(picker.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert form.body_site_edit.text() == "right lower leg"
    qtbot.waitUntil(form.record_button.isEnabled)
    you.click(form.record_button)
    qtbot.waitUntil(lambda: len(intake.remaining()) == 1, timeout=15000)

    # The personal photo: not clinical, destroyed.
    assert len(intake.selected_ids()) == 1
    you.click(intake.destroy_button)
    qtbot.waitUntil(lambda: window.intake_dialog is None, timeout=15000)

    items = services.vault.list_items()
    assert {i.state for i in items} == {ItemState.ACTIVE}
    by_consent = {}
    for item in items:
        by_consent.setdefault(item.consent_id, []).append(item)
    assert sorted(len(v) for v in by_consent.values()) == [2, 3]
    records = {services.read_consent(c).patient.mrn: c for c in by_consent}
    assert set(records) == {MRN_A, MRN_B}
    sites_a = {
        i.item_id: services.metadata(i.item_id).get("body_site") for i in by_consent[records[MRN_A]]
    }
    assert sites_a.pop(lesion)["code"] == "14975008"  # forearm, its own site
    assert set(map(str, sites_a.values())) == {"None"}, "the form named no site for the rest"
    for item in by_consent[records[MRN_B]]:
        assert services.metadata(item.item_id)["body_site"] == {
            "code": "30021000",
            "display": "Lower leg",
            "laterality": "right",
            "text": "right lower leg",
        }
    deletes = [r.details["reason"] for r in services.vault.audit_rows() if r.event == "delete"]
    assert sorted(deletes) == sorted(
        ["wristband photo used for MRN"] * 2 + ["not clinical / not this patient"]
    )
    # The phone: offered to delete exactly the 5 photos now safely in the vault.
    qtbot.waitUntil(
        lambda: window.banner_delete.isVisible() and "5 photos" in window.banner_delete.text(),
        timeout=15000,
    )
    qtbot.mouseClick(window.banner_delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "last_phone_cleanup", None) == (5, 3), timeout=15000)
    left = sorted(p.name for p in (phone / "DCIM" / "100APPLE").iterdir())
    # Not in the vault, so not deleted: the two wristband photos and the personal one.
    assert left == ["IMG_0001.JPG", "IMG_0005.JPG", "IMG_0008.JPG"]
    print(
        f"\nJOURNEY phone -> second consent: {clicks_before_lock} actions and "
        f"{seconds_before_lock:.1f} s of machine time before the interruption"
    )

    # A redacted copy of one of A's photos goes into a PDF.
    qtbot.waitUntil(lambda: window.patient_list.count() == 2, timeout=15000)
    row = next(
        r
        for r in range(window.patient_list.count())
        if NAME_A in window.patient_list.item(r).text()
    )
    window.patient_list.setCurrentRow(row)
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == 3, timeout=15000)
    # The details pane names the photo's own body site (the lesion's), not the form's.
    window.grid.setCurrentIndex(window.thumbnails.index(window.thumbnails.row_of(lesion)))
    qtbot.waitUntil(lambda: "left forearm" in window.details.text(), timeout=15000)
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    from picsafe_desktop.deid import Redaction

    window.redact_action.trigger()
    qtbot.waitUntil(lambda: getattr(window, "redaction_dialog", None) is not None)
    dialog = window.redaction_dialog
    monkeypatch.setattr(dialog, "boxes", lambda: [Redaction(0, 0, 200, 200, "black")])
    dialog.accept()
    qtbot.waitUntil(lambda: window.thumbnails.rowCount() == 4, timeout=15000)
    copy = next(
        i
        for i in services.photos([records[MRN_A]])
        if services.metadata(i.item_id).get("redacted_from")
    )
    window.grid.setCurrentIndex(window.thumbnails.index(window.thumbnails.row_of(copy.item_id)))
    window.export_action.trigger()
    export = window.export_dialog
    export.kind_buttons["pdf"].setChecked(True)
    out = tmp_path / "record.pdf"
    export.file_edit.setText(str(out))
    export.choose_only([copy.item_id])
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: export.outcome is not None, timeout=30000)
    assert out.read_bytes().startswith(b"%PDF")
    [row] = [r for r in services.vault.audit_rows() if r.event == "export"]
    assert row.subject == copy.item_id  # the redacted copy only
    close_dialogs(window)
