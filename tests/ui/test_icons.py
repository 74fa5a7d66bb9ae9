"""Icons on every action and a clear primary action on each screen (issue 12, look and feel)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QPushButton

from picsafe_desktop import config
from picsafe_desktop.ui import icons, look
from picsafe_desktop.ui.main_window import MainWindow


def test_every_icon_is_a_valid_svg_drawn_in_the_palette_colour(qapp):
    assert len(icons.names()) >= 25
    for name in icons.names():
        icon = icons.icon(name)
        assert not icon.isNull(), name
        image = icon.pixmap(24, 24).toImage()
        # Something is drawn, and it is drawn in the colour asked for.
        painted = [
            image.pixelColor(x, y)
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        ]
        assert painted, f"{name}: nothing drawn"
        text = qapp.palette().color(QPalette.ColorRole.ButtonText)
        assert all(abs(c.lightness() - text.lightness()) < 40 for c in painted), name


def test_icons_follow_a_dark_high_contrast_palette(qapp):
    white = icons.icon("lock", "#ffffff").pixmap(24, 24).toImage()
    opaque = [
        white.pixelColor(x, y)
        for x in range(white.width())
        for y in range(white.height())
        if white.pixelColor(x, y).alpha() > 200
    ]
    assert opaque and all(c.lightness() > 220 for c in opaque)


def test_every_toolbar_and_menu_action_of_the_main_window_has_an_icon(qtbot):
    window = MainWindow(config.from_dict({}))
    qtbot.addWidget(window)
    actions = set(window.toolbar.actions())
    for menu_action in window.menuBar().actions():
        actions |= set(menu_action.menu().actions())
    missing = [
        a.text() for a in actions if isinstance(a, QAction) and a.text() and a.icon().isNull()
    ]
    assert not missing, f"actions without an icon: {missing}"
    assert len(actions) >= 15


@pytest.mark.parametrize("default", [True, False])
def test_a_primary_button_is_bold_in_the_highlight_colours(qtbot, qapp, default):
    button = QPushButton("Record consent")
    qtbot.addWidget(button)
    look.primary(button, "consent", default=default)
    assert button.isDefault() is default
    assert button.font().bold() and not button.icon().isNull()
    palette = button.palette()
    assert palette.color(QPalette.ColorRole.Button) == qapp.palette().color(
        QPalette.ColorRole.Highlight
    )
    assert (
        look.contrast(
            palette.color(QPalette.ColorRole.ButtonText), palette.color(QPalette.ColorRole.Button)
        )
        >= look.MIN_CONTRAST
    )


def test_each_screen_has_its_primary_action(qtbot):
    from picsafe_desktop.ui.consent_dialog import ConsentDialog
    from picsafe_desktop.ui.lock import LockScreen
    from tests.ui.test_consent_dialog import STAFF, WORDING, jpeg

    screen = LockScreen("pin")
    qtbot.addWidget(screen)
    assert screen.sign_in_button.property("primary") and screen.sign_in_button.isDefault()
    form = ConsentDialog([jpeg("red")], STAFF, WORDING)
    qtbot.addWidget(form)
    assert form.record_button.property("primary")
    assert not form.record_button.isDefault()  # a scanner's Enter never records consent
    assert not form.refuse_button.icon().isNull()
