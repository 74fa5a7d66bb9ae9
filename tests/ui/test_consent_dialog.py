"""The consent dialog and signature pad, driven through the real widgets with pytest-qt."""

import datetime as dt
import io

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QTextBrowser,
    QWidget,
)

from picsafe_desktop.consent import ConsentWording, signature_problem
from picsafe_desktop.model import Capacity, Method, Staff, Use
from picsafe_desktop.ui.consent_dialog import ConsentDialog
from picsafe_desktop.ui.signature_pad import SignaturePad

# Qt's offscreen platform (plain `pytest` without a display) warns that it cannot size, raise
# or grab for every dialog and completer popup; under Xvfb (scripts/test) these do not occur.
pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support ")

NOW = dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC)
STAFF = Staff("Dr Jo Smith", "Registrar", "S123")
WORDING = ConsentWording("ward-7 v2", "We would like to photograph your wound...\n")


def jpeg(colour: str, size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def dialog(qtbot):
    dlg = ConsentDialog(
        [jpeg("red"), jpeg("green"), jpeg("blue")], STAFF, WORDING, clock=lambda: NOW
    )
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    # Focus-out checks need the dialog to be the active window; earlier tests' windows can
    # keep activation on a bare X server with no window manager.
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow)
    yield dlg
    if dlg.isVisible():
        dlg.close_without_decision()


def sign(pad: SignaturePad) -> None:
    """A scribble with the mouse: press, a zig-zag of moves, release."""
    # Moves go to whatever is under the pointer in the window: scroll the pad into view.
    scroll = next((w for w in ancestors(pad) if isinstance(w, QScrollArea)), None)
    if scroll is not None:
        scroll.ensureWidgetVisible(pad, 0, 0)
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(30, 90))
    for step, x in enumerate(range(40, 420, 15)):
        QTest.mouseMove(pad, QPoint(x, 60 + (step % 4) * 15))
    QTest.mouseRelease(
        pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(420, 80)
    )


def ancestors(widget: QWidget):
    while (widget := widget.parentWidget()) is not None:
        yield widget


def tick(qtbot, button: QAbstractButton) -> None:
    """Click a radio button or check box on its indicator, as a user would (its centre can
    be empty space beyond the text)."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def fill_written(qtbot, dlg: ConsentDialog) -> None:
    qtbot.keyClicks(dlg.mrn_edit, "RX0012345")
    tick(qtbot, dlg.capacity_buttons[Capacity.SELF])
    tick(qtbot, dlg.method_buttons[Method.WRITTEN])
    sign(dlg.signature_pad)


# --- cannot be dismissed -----------------------------------------------------------------


def test_escape_close_button_and_alt_f4_do_not_dismiss(dialog, qtbot):
    flags = dialog.windowFlags()
    assert not flags & Qt.WindowType.WindowCloseButtonHint
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.keyClick(dialog.mrn_edit, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    # What the window manager does for the close button and Alt+F4: a close event.
    assert dialog.close() is False
    dialog.reject()
    dialog.done(QDialog.DialogCode.Rejected)
    assert dialog.isVisible()
    assert dialog.result_record is None and dialog.refused is False


def test_exec_returns_only_through_a_decision(qtbot):
    dlg = ConsentDialog([jpeg("red")], STAFF, WORDING, clock=lambda: NOW)
    qtbot.addWidget(dlg)
    attempts = []

    def try_to_escape_then_record():
        try:
            qtbot.keyClick(dlg, Qt.Key.Key_Escape)
            attempts.append(dlg.close())
            attempts.append(dlg.isVisible())
            fill_written(qtbot, dlg)
            qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
        finally:
            if dlg.isVisible():  # never leave exec() hanging if the test fails
                dlg.close_without_decision()

    QTimer.singleShot(0, try_to_escape_then_record)
    assert dlg.exec() == QDialog.DialogCode.Accepted
    assert attempts == [False, True]
    assert dlg.result_record is not None and dlg.result_record.patient.mrn == "RX0012345"


# --- invalid forms -----------------------------------------------------------------------


def test_empty_form_cannot_be_recorded(dialog, qtbot):
    assert not dialog.record_button.isEnabled()
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result_record is None
    summary = dialog.problems.text()
    assert "MRN" in summary and "who consents" in summary and "how consent was given" in summary
    # Nothing is shouted at the user before they touch a field.
    assert dialog.errors_shown() == {}


def test_invalid_field_is_marked_inline_with_the_reason(dialog, qtbot):
    dialog.mrn_edit.setFocus()
    qtbot.keyClicks(dialog.mrn_edit, "RX 001")
    qtbot.keyClick(dialog.mrn_edit, Qt.Key.Key_Tab)
    shown = dialog.errors_shown()
    assert "letters, digits" in shown["patient.mrn"]
    assert "letters, digits" in dialog.mrn_edit.accessibleDescription()
    qtbot.keyClicks(dialog.birth_date_edit, "2030-01-01")
    dialog.birth_date_edit.editingFinished.emit()
    assert dialog.errors_shown()["patient.birth_date"] == "Date of birth is in the future."
    assert not dialog.record_button.isEnabled()
    # Fixing the MRN removes its message.
    dialog.mrn_edit.clear()
    qtbot.keyClicks(dialog.mrn_edit, "RX001")
    assert "patient.mrn" not in dialog.errors_shown()


def test_written_consent_needs_a_real_signature(dialog, qtbot):
    qtbot.keyClicks(dialog.mrn_edit, "RX0012345")
    tick(qtbot, dialog.capacity_buttons[Capacity.SELF])
    tick(qtbot, dialog.method_buttons[Method.WRITTEN])
    assert not dialog.record_button.isEnabled()
    assert "signature" in dialog.problems.text()
    pad = dialog.signature_pad
    dialog.scroll.ensureWidgetVisible(pad, 0, 0)
    QTest.mouseClick(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(50, 50))
    assert "only a dot" in dialog.errors_shown()["signature_png"]
    assert not dialog.record_button.isEnabled()
    sign(pad)
    assert dialog.record_button.isEnabled()
    qtbot.mouseClick(dialog.clear_signature_button, Qt.MouseButton.LeftButton)
    assert pad.is_empty()
    assert not dialog.record_button.isEnabled()
    assert dialog.errors_shown()["signature_png"] == "A signature is required for written consent."


def test_verbal_consent_needs_a_witness_and_disables_the_pad(dialog, qtbot):
    qtbot.keyClicks(dialog.mrn_edit, "RX0012345")
    tick(qtbot, dialog.capacity_buttons[Capacity.SELF])
    tick(qtbot, dialog.method_buttons[Method.VERBAL])
    assert not dialog.signature_pad.isEnabled()
    assert not dialog.clear_signature_button.isEnabled()
    assert "witness name" in dialog.problems.text()
    assert not dialog.record_button.isEnabled()
    qtbot.keyClicks(dialog.witness_edit, "Nurse Lee")
    assert dialog.record_button.isEnabled()


def test_the_pad_takes_a_signature_first_and_signing_picks_written(dialog, qtbot):
    """Issue 12, found by the measured walk (bench/walk_journey.py): the pad looked ready but
    ignored the pen until "Written" was ticked - one more click per patient."""
    qtbot.keyClicks(dialog.mrn_edit, "RX0012345")
    tick(qtbot, dialog.capacity_buttons[Capacity.SELF])
    assert dialog._method() is None and dialog.signature_pad.isEnabled()
    sign(dialog.signature_pad)
    assert dialog.method_buttons[Method.WRITTEN].isChecked()
    assert dialog.record_button.isEnabled()


def test_substitute_fields_follow_capacity(dialog, qtbot):
    assert not dialog.substitute_name_edit.isEnabled()
    tick(qtbot, dialog.capacity_buttons[Capacity.SUBSTITUTE])
    assert dialog.substitute_name_edit.isEnabled() and dialog.relationship_edit.isEnabled()
    summary = dialog.problems.text()
    assert "substitute's name" in summary and "relationship" in summary
    completer = dialog.relationship_edit.completer()
    completer.setCompletionPrefix("guard")
    assert completer.currentCompletion() == "guardian"


def test_lacks_capacity_allows_record_only_and_needs_an_indication(dialog, qtbot):
    tick(qtbot, dialog.teaching_check)
    assert dialog.teaching_check.isChecked()
    tick(qtbot, dialog.capacity_buttons[Capacity.LACKS_CAPACITY])
    assert not dialog.teaching_check.isChecked() and not dialog.teaching_check.isEnabled()
    assert not dialog.publication_check.isEnabled()
    assert dialog.record_check.isChecked()
    assert "clinical indication" in dialog.problems.text()
    assert dialog.indication_edit.accessibleName() == "Clinical indication, required"


def test_publication_needs_the_journal(dialog, qtbot):
    assert not dialog.publication_edit.isEnabled()
    tick(qtbot, dialog.publication_check)
    assert dialog.publication_edit.isEnabled()
    assert "journal or website" in dialog.errors_shown()["publication"]
    qtbot.keyClicks(dialog.publication_edit, "BMJ Case Reports")
    assert "publication" not in dialog.errors_shown()


# --- recording ---------------------------------------------------------------------------


def test_written_consent_with_a_drawn_signature_produces_a_record(dialog, qtbot):
    fill_written(qtbot, dialog)
    qtbot.keyClicks(dialog.name_edit, "Ada Example")
    qtbot.keyClicks(dialog.birth_date_edit, "1980-02-29")
    tick(qtbot, dialog.teaching_check)
    qtbot.keyClicks(dialog.body_site_edit, "left forearm")
    qtbot.keyClicks(dialog.indication_edit, "wound review")
    answers = dialog.sections.identifiability  # per photo since issue 15
    answers.all_photos.setCurrentIndex(answers.all_photos.findData("identifiable"))
    answers.all_photos.activated.emit(answers.all_photos.currentIndex())
    assert dialog.record_button.isEnabled()
    assert dialog.problems.text() == "Ready to record consent."
    with qtbot.waitSignal(dialog.recorded) as blocker:
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    record = dialog.result_record
    assert blocker.args == [record]
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.refused is False
    assert record.patient.mrn == "RX0012345" and record.patient.name == "Ada Example"
    assert record.patient.birth_date == dt.date(1980, 2, 29)
    assert record.capacity is Capacity.SELF and record.method is Method.WRITTEN
    assert record.uses == frozenset({Use.RECORD, Use.TEACHING})
    assert record.obtained_by == STAFF and record.obtained_at == NOW
    assert record.body_site == "left forearm" and record.indication == "wound review"
    assert record.identifiable is True
    assert record.wording_version == "ward-7 v2" and record.wording_sha256 == WORDING.sha256
    assert signature_problem(record.signature_png) is None


def test_enter_in_the_mrn_field_moves_on_and_never_submits(dialog, qtbot):
    fill_written(qtbot, dialog)
    assert dialog.record_button.isEnabled()
    dialog.mrn_edit.setFocus()
    qtbot.keyClick(dialog.mrn_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result_record is None
    assert QApplication.focusWidget() is dialog.name_edit
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Enter)
    assert QApplication.focusWidget() is dialog.birth_date_edit
    assert dialog.isVisible() and dialog.result_record is None


def test_prefilled_mrn_from_a_wristband(qtbot):
    dlg = ConsentDialog([jpeg("red")], STAFF, WORDING, mrn="RX777", clock=lambda: NOW)
    qtbot.addWidget(dlg)
    assert dlg.mrn_edit.text() == "RX777"
    dlg.close_without_decision()


def test_keyboard_only_completion(dialog, qtbot):
    """Verbal consent from start to finish with keys only: typing, Tab, arrows, Space."""

    def focused() -> QWidget:
        return QApplication.focusWidget()

    def press(key) -> None:
        qtbot.keyClick(focused(), key)

    assert focused() is dialog.mrn_edit
    qtbot.keyClicks(focused(), "RX0012345")
    press(Qt.Key.Key_Return)  # as a barcode scanner ends its input
    assert focused() is dialog.name_edit
    qtbot.keyClicks(focused(), "Ada Example")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.birth_date_edit
    qtbot.keyClicks(focused(), "1980-02-29")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.capacity_buttons[Capacity.SELF]
    press(Qt.Key.Key_Space)
    assert dialog.capacity_buttons[Capacity.SELF].isChecked()
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.teaching_check
    press(Qt.Key.Key_Space)
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.publication_check
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.method_buttons[Method.WRITTEN]
    press(Qt.Key.Key_Down)
    assert focused() is dialog.method_buttons[Method.VERBAL]
    press(Qt.Key.Key_Space)
    assert dialog.method_buttons[Method.VERBAL].isChecked()
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.witness_edit
    qtbot.keyClicks(focused(), "Nurse Lee")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.body_site_edit
    qtbot.keyClicks(focused(), "left forearm")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.body_map_button  # the body map, reachable by keyboard too
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.indication_edit
    qtbot.keyClicks(focused(), "wound review")
    for _ in range(3):  # staff name, role, ID (prefilled)
        press(Qt.Key.Key_Tab)
    assert focused() is dialog.staff_id_edit
    assert not dialog.staff_id_edit.visibleRegion().isEmpty()  # the form followed the focus
    for _ in range(60):  # through the issue 15 sections (left at their defaults)
        press(Qt.Key.Key_Tab)
        if focused() is dialog.record_button:
            break
        assert dialog.sections.isAncestorOf(focused())
    assert focused() is dialog.record_button
    assert dialog.record_button.isEnabled()
    press(Qt.Key.Key_Space)
    record = dialog.result_record
    assert record is not None and not dialog.isVisible()
    assert record.method is Method.VERBAL and record.witness_name == "Nurse Lee"
    assert record.uses == frozenset({Use.RECORD, Use.TEACHING})
    assert record.patient.birth_date == dt.date(1980, 2, 29)
    assert record.body_site == "left forearm" and record.indication == "wound review"


def test_mnemonic_jumps_to_the_field(dialog, qtbot):
    qtbot.keyClick(dialog, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.body_site_edit
    assert not dialog.body_site_edit.visibleRegion().isEmpty()


def test_common_path_needs_no_scrolling_at_1366x768(dialog, qtbot):
    """Three columns: every field of the common path, the signature pad included, is on
    screen at the size the dialog takes on a 1366x768 ward PC."""
    dialog.resize(1340, 720)
    qtbot.waitUntil(lambda: dialog.width() == 1340)
    QApplication.processEvents()
    assert dialog.scroll.verticalScrollBar().maximum() == 0
    common = [
        dialog.mrn_edit,
        dialog.name_edit,
        dialog.birth_date_edit,
        *dialog.capacity_buttons.values(),
        *dialog.method_buttons.values(),
        dialog.signature_pad,
        dialog.body_site_edit,
        dialog.indication_edit,
        dialog.staff_name_edit,
        dialog.record_button,
        dialog.refuse_button,
    ]
    for widget in common:
        assert widget.visibleRegion().boundingRect() == widget.rect(), widget.accessibleName()


def test_close_button_says_why_the_form_stays(dialog, qtbot):
    assert not dialog.close_hint.isVisible()
    assert dialog.close() is False
    assert dialog.isVisible() and dialog.close_hint.isVisible()
    assert "Lock" in dialog.close_hint.text() and "refused" in dialog.close_hint.text()


def test_minimising_keeps_the_form_up(dialog, qtbot):
    dialog.showMinimized()
    qtbot.waitUntil(lambda: not dialog.isMinimized())
    assert dialog.isVisible() and dialog.close_hint.isVisible()


def test_extra_section_goes_into_a_column(dialog):
    from PySide6.QtWidgets import QGroupBox

    section = QGroupBox("Extra consent section")
    dialog.add_section(section, column=1)
    assert dialog.columns[1].indexOf(section) >= 0
    assert section.parentWidget() is dialog.scroll.widget()


# --- refusal -----------------------------------------------------------------------------


def test_refusal_needs_confirmation(dialog, qtbot, monkeypatch):
    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append((parent, title, text))
            return reply

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    qtbot.mouseClick(dialog.refuse_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.refused is False
    assert asked[0][0] is dialog
    assert "3 photos will be destroyed permanently" in asked[0][2]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(dialog.refusal_confirmed):
        qtbot.mouseClick(dialog.refuse_button, Qt.MouseButton.LeftButton)
    assert dialog.refused is True and dialog.result_record is None
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_refusal_is_possible_with_an_empty_form(dialog, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    assert not dialog.record_button.isEnabled()
    dialog.refuse_button.setFocus()
    qtbot.keyClick(dialog.refuse_button, Qt.Key.Key_Return)
    assert dialog.refused is True


# --- accessibility, size, lock -----------------------------------------------------------


def test_every_control_has_an_accessible_name(dialog):
    controls = [
        widget
        for widget in dialog.findChildren(QWidget)
        if isinstance(
            widget,
            QAbstractButton
            | QLineEdit
            | QPlainTextEdit
            | QListWidget
            | QTextBrowser
            | SignaturePad,
        )
    ]
    assert len(controls) >= 20
    unnamed = [type(w).__name__ for w in controls if not w.accessibleName().strip()]
    assert unnamed == []
    thumbs = dialog.thumbnails
    assert thumbs.count() == 3
    assert thumbs.item(1).data(Qt.ItemDataRole.AccessibleTextRole) == "Photo 2 of 3"
    assert not thumbs.item(0).icon().isNull()


def test_fits_a_1366x768_screen(dialog):
    minimum = dialog.minimumSizeHint()
    assert minimum.width() <= 1366 and minimum.height() <= 700
    assert dialog.width() <= 1366 and dialog.height() <= 728
    available = dialog.screen().availableGeometry()
    assert dialog.width() <= available.width() and dialog.height() <= available.height()
    # The buttons stay on screen; the form scrolls instead.
    assert dialog.record_button.isVisible() and dialog.refuse_button.isVisible()
    bottom = dialog.record_button.mapTo(dialog, dialog.record_button.rect().bottomLeft()).y()
    assert bottom <= dialog.height()


def test_wording_and_staff_are_shown(dialog):
    assert dialog.wording_view.toPlainText() == WORDING.text
    assert "ward-7 v2" in dialog.wording_view.parentWidget().title()
    assert dialog.staff_name_edit.text() == "Dr Jo Smith"
    assert dialog.staff_id_edit.text() == "S123"
    assert dialog.time_label.text().startswith("14 Mar 2025 10:30")


def test_body_site_suggestions(dialog):
    completer = dialog.body_site_edit.completer()
    completer.setCompletionPrefix("forea")
    found = [completer.currentCompletion()]
    while completer.setCurrentRow(completer.currentRow() + 1):
        found.append(completer.currentCompletion())
    assert found == ["left forearm", "right forearm"]


def test_locking_hides_the_form_and_keeps_it(dialog, qtbot):
    qtbot.keyClicks(dialog.mrn_edit, "RX0012345")
    dialog.set_locked(True)
    assert not dialog.form_page.isVisible() and not dialog.thumbnails.isVisible()
    visible_text = [w.text() for w in dialog.findChildren(QLineEdit) if w.isVisible()]
    assert "RX0012345" not in visible_text
    dialog.set_locked(False)
    assert dialog.mrn_edit.isVisible() and dialog.mrn_edit.text() == "RX0012345"


def test_close_without_decision_leaves_no_outcome(dialog):
    dialog.close_without_decision()
    assert not dialog.isVisible()
    assert dialog.result_record is None and dialog.refused is False


# --- signature pad -----------------------------------------------------------------------


@pytest.fixture
def pad(qtbot):
    widget = SignaturePad()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_pad_starts_empty_and_blank(pad):
    assert pad.is_empty()
    assert "blank" in signature_problem(pad.to_png())
    assert pad.accessibleName() == "Signature pad"


def test_pad_mouse_strokes_make_a_valid_png_and_clear_empties_it(pad, qtbot):
    with qtbot.waitSignal(pad.changed):
        sign(pad)
    assert not pad.is_empty()
    png = pad.to_png()
    assert signature_problem(png) is None
    assert Image.open(io.BytesIO(png)).size == (pad.width(), pad.height())
    with qtbot.waitSignal(pad.changed):
        pad.clear()
    assert pad.is_empty() and "blank" in signature_problem(pad.to_png())


def test_pad_ignores_moves_without_a_pressed_button(pad):
    for x in range(20, 300, 20):
        QTest.mouseMove(pad, QPoint(x, 80))
    assert pad.is_empty()


def test_pad_draws_with_touch(pad):
    device = QTest.createTouchDevice()
    QTest.touchEvent(pad, device).press(0, QPoint(30, 40)).commit()
    for x in range(40, 300, 20):
        QTest.touchEvent(pad, device).move(0, QPoint(x, 40 + x % 30)).commit()
    QTest.touchEvent(pad, device).release(0, QPoint(300, 50)).commit()
    assert signature_problem(pad.to_png()) is None


def test_pad_draws_with_a_pen(pad):
    pen = QPointingDevice(
        "test pen",
        1001,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        2,
    )

    def send(kind, x, y, pressure, buttons):
        pos = QPointF(x, y)
        event = QTabletEvent(
            kind, pen, pos, pad.mapToGlobal(pos), pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
            Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons,
        )  # fmt: skip
        QApplication.sendEvent(pad, event)
        assert event.isAccepted()

    send(QTabletEvent.Type.TabletMove, 20, 20, 0.0, Qt.MouseButton.NoButton)  # hovering
    assert pad.is_empty()
    send(QTabletEvent.Type.TabletPress, 30, 100, 0.5, Qt.MouseButton.LeftButton)
    for x in range(40, 400, 20):
        send(QTabletEvent.Type.TabletMove, x, 60 + x % 50, 0.8, Qt.MouseButton.LeftButton)
    send(QTabletEvent.Type.TabletRelease, 400, 90, 0.0, Qt.MouseButton.NoButton)
    assert signature_problem(pad.to_png()) is None


# -- issue 17: the dialog opens at once; thumbnails and the wristband's MRN arrive later ----


def test_thumbnails_are_decoded_on_a_worker_after_the_dialog_opens(qtbot, monkeypatch):
    import threading

    from picsafe_desktop.ui import imaging

    threads = []
    real = imaging.thumbnail_image

    def spy(data, size):
        threads.append(threading.current_thread())
        return real(data, size)

    monkeypatch.setattr(imaging, "thumbnail_image", spy)
    photos = [jpeg(c) for c in ("red", "green", "blue", "white")]
    dlg = ConsentDialog(photos, STAFF, WORDING, clock=lambda: NOW)
    qtbot.addWidget(dlg)
    assert dlg.thumbnails.count() == 4  # a grey tile each, at once
    qtbot.waitUntil(lambda: dlg.thumbnails_loaded() == 4, timeout=10000)
    assert len(threads) == 4 and threading.main_thread() not in threads
    icon = dlg.thumbnails.item(0).icon().pixmap(64, 64).toImage()
    assert icon.pixelColor(32, 32).red() > 200 and icon.pixelColor(32, 32).green() < 60
    dlg.close_without_decision()


def test_wristband_mrn_arriving_later_fills_an_empty_mrn_only(qtbot):
    dlg = ConsentDialog([jpeg("red")], STAFF, WORDING, clock=lambda: NOW)
    qtbot.addWidget(dlg)
    assert dlg.mrn_edit.text() == ""
    dlg.set_wristband_mrn("RX0012345")
    assert dlg.mrn_edit.text() == "RX0012345"
    dlg.mrn_edit.setText("TYPED123")
    dlg.set_wristband_mrn("RX0099999")  # never overwrites what someone typed
    assert dlg.mrn_edit.text() == "TYPED123"
    dlg.close_without_decision()
