"""The full-size viewer: zoom, pan, copy with a clipboard that clears itself."""

import io
import threading
import time

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QPushButton

from picsafe_desktop.ui import imaging
from picsafe_desktop.ui import viewer as viewer_module
from picsafe_desktop.ui.viewer import PhotoViewer
from tests.ui.images import jpeg_rotated, png


@pytest.fixture
def viewer(qtbot):
    v = PhotoViewer(clipboard_clear_seconds=1)
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    with qtbot.waitActive(v):  # shortcuts work only in the active window
        v.activateWindow()
    return v


@pytest.fixture
def clean_clipboard(qapp):
    yield QApplication.clipboard()
    viewer_module.clear_clipboard_if_ours()
    QApplication.clipboard().clear()


def load(v, data: bytes) -> None:
    """set_image, then wait (events running) until the screen picture or the message shows:
    decoding happens on workers."""
    v.set_image(data)
    deadline = time.monotonic() + 20
    while not (v.has_image() or "cannot" in v.message.text()):
        assert time.monotonic() < deadline, "the photo never appeared"
        QApplication.processEvents()
        time.sleep(0.005)


def wheel(widget, delta: int, modifiers) -> None:
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_shows_photo_fitted_and_buttons_zoom(viewer):
    assert not viewer.copy_button.isEnabled()
    load(viewer, png(4000, 3000))
    assert viewer.has_image()
    assert viewer.scene.sceneRect().width() == 4000  # scene units are the photo's pixels
    fitted = viewer.scale()
    assert fitted < 0.25  # 4000 px wide photo fitted into an 800 px window
    viewer.zoom_in_button.click()
    assert viewer.scale() == pytest.approx(fitted * 1.25)
    viewer.zoom_out_button.click()
    viewer.zoom_out_button.click()
    assert viewer.scale() == pytest.approx(fitted / 1.25)
    viewer.actual_button.click()
    assert viewer.scale() == 1.0
    assert viewer.zoom_label.text() == "100%"
    viewer.fit_button.click()
    assert viewer.scale() == pytest.approx(fitted)


def test_photo_set_before_showing_is_fitted_to_the_shown_window(qtbot):
    v = PhotoViewer()
    qtbot.addWidget(v)
    load(v, png(4000, 3000))
    v.resize(1000, 700)
    v.show()
    qtbot.waitExposed(v)
    port = v.view.viewport().rect()
    expected = min(port.width() / 4000, port.height() / 3000)
    assert v.scale() == pytest.approx(expected, rel=0.02)
    assert v.zoom_label.text() == f"{round(v.scale() * 100)}%"


def test_keys_and_ctrl_wheel_zoom(viewer, qtbot):
    load(viewer, png(4000, 3000))
    fitted = viewer.scale()
    viewer.view.setFocus()
    qtbot.keyClick(viewer.view, Qt.Key.Key_Plus)
    assert viewer.scale() == pytest.approx(fitted * 1.25)
    qtbot.keyClick(viewer.view, Qt.Key.Key_Minus)
    qtbot.keyClick(viewer.view, Qt.Key.Key_Minus)
    assert viewer.scale() == pytest.approx(fitted / 1.25)
    qtbot.keyClick(viewer.view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.scale() == pytest.approx(fitted)

    wheel(viewer.view.viewport(), 120, Qt.KeyboardModifier.ControlModifier)
    assert viewer.scale() == pytest.approx(fitted * 1.25)
    wheel(viewer.view.viewport(), -120, Qt.KeyboardModifier.ControlModifier)
    assert viewer.scale() == pytest.approx(fitted)


def test_plain_wheel_scrolls_instead_of_zooming(viewer):
    load(viewer, png(4000, 3000))
    viewer.actual_size()
    bar = viewer.view.verticalScrollBar()
    assert bar.maximum() > 0
    start = bar.value()
    wheel(viewer.view.viewport(), -120, Qt.KeyboardModifier.NoModifier)
    assert viewer.scale() == 1.0
    assert bar.value() > start


def test_drag_pans(viewer, qtbot):
    load(viewer, png(4000, 3000))
    viewer.actual_size()
    h = viewer.view.horizontalScrollBar()
    v = viewer.view.verticalScrollBar()
    h_start, v_start = h.value(), v.value()
    port = viewer.view.viewport()
    centre = port.rect().center()
    qtbot.mousePress(port, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(port, centre + QPoint(-100, -80))
    qtbot.mouseRelease(port, Qt.MouseButton.LeftButton, pos=centre + QPoint(-100, -80))
    # Dragging the photo up and left shows what lies below and to the right.
    assert h.value() > h_start
    assert v.value() > v_start


def test_zoom_is_clamped(viewer):
    load(viewer, png(200, 100))
    for _ in range(40):
        viewer.zoom_in()
    assert viewer.scale() == pytest.approx(viewer_module.MAX_SCALE)
    for _ in range(80):
        viewer.zoom_out()
    assert viewer.scale() == pytest.approx(viewer_module.MIN_SCALE)


def test_exif_orientation_is_applied(viewer):
    load(viewer, jpeg_rotated(60, 20))
    pixmap = viewer.item.pixmap()
    assert (pixmap.width(), pixmap.height()) == (20, 60)


def test_clear_drops_the_photo(viewer):
    load(viewer, png())
    viewer.zoom_in()
    viewer.clear()
    assert not viewer.has_image()
    assert viewer.item.pixmap().isNull()
    assert viewer.scene.sceneRect().isEmpty()
    assert not viewer.copy_button.isEnabled()
    assert viewer.zoom_label.text() == ""


def test_undecodable_bytes_show_a_message(viewer):
    load(viewer, png())
    load(viewer, b"not a photo")
    assert not viewer.has_image()
    assert viewer.message.isVisible()
    assert "cannot be displayed" in viewer.message.text()


def test_copy_then_clipboard_cleared_after_timeout(viewer, qtbot, clean_clipboard):
    load(viewer, png(64, 48, color=(255, 0, 0)))
    viewer.copy_button.click()
    image = clean_clipboard.image()
    assert (image.width(), image.height()) == (64, 48)
    assert image.pixelColor(5, 5).red() == 255
    with qtbot.waitSignal(viewer_module.clipboard_guard().cleared, timeout=5000):
        pass
    qtbot.waitUntil(lambda: clean_clipboard.image().isNull(), timeout=5000)


def test_ctrl_c_copies(viewer, qtbot, clean_clipboard):
    load(viewer, png(32, 32))
    viewer.view.setFocus()
    qtbot.keyClick(viewer.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clean_clipboard.image().width() == 32
    assert viewer_module.clipboard_guard().holds_our_photo()


def test_clipboard_left_alone_if_user_copied_something_else(viewer, qtbot, clean_clipboard):
    load(viewer, png(32, 32))
    viewer.copy()
    guard = viewer_module.clipboard_guard()
    assert guard.timer.isActive()
    clean_clipboard.setText("ward 7 handover list")
    assert not guard.holds_our_photo()
    qtbot.waitUntil(lambda: not guard.timer.isActive(), timeout=5000)
    assert clean_clipboard.text() == "ward 7 handover list"


def test_copy_outlives_the_viewer_window(qtbot, clean_clipboard):
    v = PhotoViewer(clipboard_clear_seconds=1)  # deleted here, not by qtbot
    load(v, png(16, 16))
    v.copy()
    v.close()
    v.deleteLater()
    qtbot.waitUntil(lambda: clean_clipboard.image().isNull(), timeout=5000)


def test_controls_have_accessible_names_and_window_fits_ward_screen(viewer):
    load(viewer, png())
    for b in viewer.findChildren(QPushButton):
        assert b.accessibleName()
    assert viewer.view.accessibleName() == "Photo"
    hint = viewer.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768


# -- issue 17: nothing decoded on the GUI thread; a screen-size picture first ----------------


def big_jpeg(width: int, height: int) -> bytes:
    """A large JPEG that encodes fast: a few flat bands (decoding still costs every pixel)."""
    image = Image.new("RGB", (width, height), (200, 120, 90))
    image.paste((30, 60, 200), (0, 0, width // 3, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def test_screen_picture_is_shown_before_the_full_decode_finishes(viewer, qtbot, monkeypatch):
    release = threading.Event()
    real_decode = viewer_module.decode

    def slow_full_decode(data):
        assert release.wait(20)
        return real_decode(data)

    monkeypatch.setattr(viewer_module, "decode", slow_full_decode)
    with qtbot.waitSignal(viewer.shown, timeout=20000):
        viewer.set_image(big_jpeg(6000, 4000))
    assert viewer.has_image()
    assert viewer.item.pixmap().width() <= imaging.SCREEN_SIDE  # reduced, not 6000 wide
    assert viewer.scene.sceneRect().size().toSize() == QSize(6000, 4000)
    assert viewer.full_image() is None  # the full decode has not finished
    assert viewer.scale() < 0.2  # fitted to the 800 px window all the same
    with qtbot.waitSignal(viewer.full_ready, timeout=20000):
        release.set()
    assert viewer.full_image().size() == QSize(6000, 4000)


def test_decoding_runs_on_worker_threads(viewer, qtbot, monkeypatch):
    threads = []
    for name in ("decode", "decode_reduced"):
        real = getattr(viewer_module, name)

        def spy(*args, real=real):
            threads.append(threading.current_thread())
            return real(*args)

        monkeypatch.setattr(viewer_module, name, spy)
    with qtbot.waitSignal(viewer.full_ready, timeout=20000):
        viewer.set_image(png(3000, 2000))
    assert len(threads) == 2
    assert threading.main_thread() not in threads


def test_zooming_in_shows_the_full_detail_of_the_visible_part(viewer, qtbot):
    with qtbot.waitSignal(viewer.full_ready, timeout=20000):
        viewer.set_image(big_jpeg(6000, 4000))
    assert not viewer.detail_shown()  # fitted: the screen picture is enough
    viewer.actual_size()
    qtbot.waitUntil(viewer.detail_shown, timeout=10000)
    tile = viewer.detail.pixmap()
    port = viewer.view.viewport().rect()
    # One photo pixel per screen pixel, cut to what is visible (not the whole 6000 x 4000).
    assert tile.width() <= port.width() + 2 and tile.height() <= port.height() + 2
    assert viewer.detail.scale() == pytest.approx(1.0)
    viewer.fit()
    assert not viewer.detail_shown()


def test_a_photo_above_qts_256_mb_image_limit_is_shown(viewer, qtbot):
    # 108 MP: 432 MB as 32-bit pixels, refused by QImageReader's default limit before.
    with qtbot.waitSignal(viewer.full_ready, timeout=60000):
        viewer.set_image(big_jpeg(12000, 9000))
    assert viewer.has_image()
    assert "cannot" not in viewer.message.text()
    assert viewer.full_image().size() == QSize(12000, 9000)
    viewer.clear()
    assert viewer.full_image() is None
