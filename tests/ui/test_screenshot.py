"""A real window on a real (virtual) X display, captured from the X server's framebuffer."""

import pytest
from PySide6.QtGui import QGuiApplication

from picsafe_desktop import config
from picsafe_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.display


def test_screenshot_of_main_window_is_not_blank(qtbot, real_display, tmp_path):
    assert QGuiApplication.platformName() == "xcb"
    win = MainWindow(config.from_dict({}))
    qtbot.addWidget(win)
    win.move(40, 40)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(300)  # let the X server finish painting
    geo = win.frameGeometry()
    # grabWindow(0) reads the root window: what the X server actually displays.
    shot = QGuiApplication.primaryScreen().grabWindow(
        0, geo.x(), geo.y(), geo.width(), geo.height()
    )
    path = tmp_path / "main-window.png"
    assert shot.save(str(path))
    image = shot.toImage()
    assert image.width() >= 800 and image.height() >= 500
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    # A blank or black capture has one or two colours; text, menu and frame give many.
    assert len(colours) > 8, f"screenshot looks blank ({len(colours)} colours): {path}"
