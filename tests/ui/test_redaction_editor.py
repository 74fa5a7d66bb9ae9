"""Drawing redaction boxes, and face suggestions that count only once a person confirms them."""

import io

from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QPushButton

from picsafe_desktop import deid
from picsafe_desktop.deid import Redaction
from picsafe_desktop.ui.redaction_editor import BoxItem, RedactionDialog
from tests.ui.images import jpeg_rotated, png

PHOTO = png(400, 300)


def open_dialog(qtbot, data=PHOTO, suggest=None):
    dialog = RedactionDialog(data, suggest=suggest)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitActive(dialog):  # keys and focus need the active window
        dialog.activateWindow()
    return dialog


def at(dialog, x, y):
    """Where image pixel (x, y) is on the canvas's viewport."""
    return dialog.canvas.mapFromScene(QPointF(x, y))


def drag(qtbot, dialog, start, end):
    port = dialog.canvas.viewport()
    qtbot.mousePress(port, Qt.MouseButton.LeftButton, pos=at(dialog, *start))
    qtbot.mouseMove(port, at(dialog, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2))
    qtbot.mouseMove(port, at(dialog, *end))
    qtbot.mouseRelease(port, Qt.MouseButton.LeftButton, pos=at(dialog, *end))


def close_to(box, x, y, w, h, slack=3):
    """Within a few image pixels: the canvas shows the photo scaled, so a screen pixel is
    more than one image pixel."""
    got = (box.x, box.y, box.w, box.h)
    return all(abs(a - b) <= slack for a, b in zip(got, (x, y, w, h), strict=True))


def test_drag_draws_box_in_image_pixels(qtbot):
    dialog = open_dialog(qtbot)
    assert dialog.canvas.transform().m11() != 1.0  # the photo is scaled to fit
    assert not dialog.save_button.isEnabled()
    drag(qtbot, dialog, (50, 40), (250, 190))
    (box,) = dialog.boxes()
    assert isinstance(box, Redaction)
    assert close_to(box, 50, 40, 200, 150)
    assert box.mode == "black"
    assert dialog.save_button.isEnabled()
    assert dialog.box_list.count() == 1


def test_drag_backwards_and_past_the_edge_is_clipped(qtbot):
    dialog = open_dialog(qtbot)
    drag(qtbot, dialog, (350, 250), (420, 330))  # ends beyond the bottom-right corner
    drag(qtbot, dialog, (100, 100), (20, 30))  # drawn up and to the left
    first, second = dialog.boxes()
    assert close_to(first, 350, 250, 50, 50)
    assert first.x + first.w <= 400 and first.y + first.h <= 300
    assert close_to(second, 20, 30, 80, 70)


def test_tiny_drag_is_not_a_box(qtbot):
    dialog = open_dialog(qtbot)
    drag(qtbot, dialog, (100, 100), (101, 101))
    assert dialog.boxes() == []


def test_blur_mode_for_new_and_selected_boxes(qtbot):
    dialog = open_dialog(qtbot)
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("blur"))
    drag(qtbot, dialog, (10, 10), (110, 110))
    assert [b.mode for b in dialog.boxes()] == ["blur"]
    # The new box is selected: choosing Black box changes it.
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("black"))
    drag(qtbot, dialog, (200, 10), (300, 110))
    assert [b.mode for b in dialog.boxes()] == ["black", "black"]
    # Selecting the first box shows its mode; switching that one back to blur leaves the other.
    dialog.box_list.setCurrentRow(1)
    dialog.box_list.setCurrentRow(0)
    assert dialog.mode_combo.currentData() == "black"
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("blur"))
    assert [b.mode for b in dialog.boxes()] == ["blur", "black"]


def test_select_and_delete_removes_box(qtbot):
    dialog = open_dialog(qtbot)
    drag(qtbot, dialog, (10, 10), (110, 110))
    drag(qtbot, dialog, (200, 100), (300, 200))
    dialog.canvas.scene().clearSelection()
    qtbot.mouseClick(dialog.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at(dialog, 60, 60))
    assert dialog.remove_button.isEnabled()
    qtbot.keyClick(dialog.canvas, Qt.Key.Key_Delete)
    (left,) = dialog.boxes()
    assert close_to(left, 200, 100, 100, 100)
    assert dialog.box_list.count() == 1


def test_dragging_a_box_moves_it_inside_the_photo(qtbot):
    dialog = open_dialog(qtbot)
    drag(qtbot, dialog, (10, 10), (110, 110))
    drag(qtbot, dialog, (60, 60), (160, 110))
    (moved,) = dialog.boxes()
    assert close_to(moved, 110, 60, 100, 100)
    drag(qtbot, dialog, (160, 110), (500, 500))  # pulled far outside: stops at the corner
    (moved,) = dialog.boxes()
    assert close_to(moved, 300, 200, 100, 100)


def test_keyboard_only_box(qtbot):
    dialog = open_dialog(qtbot)
    dialog.add_button.click()
    (box,) = dialog.boxes()
    assert (box.x, box.y, box.w, box.h) == (150, 112, 100, 75)
    canvas = dialog.canvas
    assert canvas.hasFocus()
    step = 4  # 1% of the longer side
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    (box,) = dialog.boxes()
    assert (box.x, box.y, box.w, box.h) == (150 + step, 112 + step, 100 + step, 75)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert dialog.boxes() == []


def test_suggestions_count_only_when_confirmed(qtbot):
    seen = []

    def suggest(data):
        seen.append(data)
        return [(20, 30, 60, 70), Redaction(200, 100, 80, 90)]

    dialog = open_dialog(qtbot, suggest=suggest)
    dialog.suggest_button.click()
    qtbot.waitUntil(lambda: dialog.suggestions_pending() == 2)
    assert seen == [PHOTO]
    assert dialog.boxes() == []
    assert not dialog.save_button.isEnabled()
    assert "not confirmed" in dialog.box_list.item(0).text()
    drawn = [i for i in dialog.canvas.scene().items() if isinstance(i, BoxItem)]
    assert [i.pen().style() for i in drawn] == [Qt.PenStyle.DashLine] * 2
    assert "faces can be missed" in dialog.status.text()

    # A click on the dashed box confirms it ...
    qtbot.mouseClick(dialog.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at(dialog, 50, 60))
    assert [(b.x, b.y, b.w, b.h) for b in dialog.boxes()] == [(20, 30, 60, 70)]
    assert dialog.save_button.isEnabled()
    assert {i.pen().style() for i in drawn} == {Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine}
    # ... and so does ticking it in the list; unticking takes it out again.
    dialog.box_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert [(b.x, b.y, b.w, b.h) for b in dialog.boxes()] == [(20, 30, 60, 70), (200, 100, 80, 90)]
    dialog.box_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert [(b.x, b.y) for b in dialog.boxes()] == [(200, 100)]
    assert dialog.suggestions_pending() == 1


def test_no_faces_and_failing_detector_are_reported(qtbot):
    dialog = open_dialog(qtbot, suggest=lambda data: [])
    dialog.suggest_button.click()
    qtbot.waitUntil(lambda: "No faces" in dialog.status.text())
    assert dialog.suggest_button.isEnabled()

    def broken(data):
        raise RuntimeError("face model not installed")

    dialog = open_dialog(qtbot, suggest=broken)
    dialog.suggest_button.click()
    qtbot.waitUntil(lambda: "not available" in dialog.status.text())
    assert "face model not installed" in dialog.status.text()
    assert dialog.boxes() == []


def test_without_a_detector_the_button_is_off(qtbot):
    dialog = open_dialog(qtbot)
    assert not dialog.suggest_button.isEnabled()


def test_keep_or_replace_original(qtbot):
    dialog = open_dialog(qtbot)
    assert dialog.replace_original is False
    assert not dialog.replace_warning.isVisible()
    dialog.replace_radio.click()
    assert dialog.replace_original is True
    assert dialog.replace_warning.isVisible()
    dialog.keep_radio.click()
    assert dialog.replace_original is False


def test_accept_returns_boxes_and_drops_the_photo(qtbot):
    dialog = open_dialog(qtbot)
    drag(qtbot, dialog, (10, 10), (110, 110))
    with qtbot.waitSignal(dialog.accepted):
        dialog.save_button.click()
    assert len(dialog.boxes()) == 1
    assert dialog.canvas.photo.pixmap().isNull()


def test_coordinates_are_upright(qtbot):
    dialog = open_dialog(qtbot, data=jpeg_rotated(60, 20))
    assert (dialog.canvas.bounds.width(), dialog.canvas.bounds.height()) == (20, 60)


def test_accessible_names_and_fits_ward_screen(qtbot):
    dialog = open_dialog(qtbot)
    for b in dialog.findChildren(QPushButton):
        assert b.accessibleName(), b.text()
    for w in (dialog.canvas, dialog.mode_combo, dialog.box_list, dialog.keep_radio):
        assert w.accessibleName()
    assert dialog.width() <= 1366 and dialog.height() <= 768
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 700


def test_boxes_feed_the_real_redactor(qtbot):
    light = png(400, 300, color=(250, 250, 250))
    dialog = open_dialog(qtbot, data=light)
    drag(qtbot, dialog, (100, 100), (200, 180))
    result = deid.redact(light, dialog.boxes())
    image = Image.open(io.BytesIO(result.data)).convert("RGB")
    assert image.getpixel((150, 140)) == (0, 0, 0)
    assert image.getpixel((20, 20)) == (250, 250, 250)
