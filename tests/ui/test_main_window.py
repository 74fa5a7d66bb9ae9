"""What a user sees when the app opens."""

import pytest
from PySide6.QtWidgets import QMessageBox

from picsafe_desktop import APP_NAME, __version__, config
from picsafe_desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    win = MainWindow(config.from_dict({}))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_title_and_lock_screen_first(window):
    assert window.windowTitle() == APP_NAME
    assert window.stack.currentWidget() is window.lock_screen
    # Default site: staff ID and PIN, never a typed name (issue 13)
    screen = window.lock_screen
    assert screen.staff_id_edit.isVisible() and screen.pin_edit.isVisible()
    assert not screen.name_edit.isVisible() and not screen.role_edit.isVisible()
    assert not window.import_action.isEnabled()


def test_empty_state_tells_how_to_get_photos_in(window):
    text = window.empty_state_label.text()
    assert "No photos yet" in text
    assert "USB" in text and "drag" in text and "Import photos" in text


def test_menus_have_about_and_quit(window, qtbot, monkeypatch):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Photo", "P&atient", "&Help"]
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.about_action.trigger()
    assert shown and __version__ in shown[0]

    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_application_identity(qapp):
    assert qapp.applicationName() == APP_NAME
    assert qapp.organizationName()
