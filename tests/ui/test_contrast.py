"""Text stays readable on every palette (issue 12, look and feel): WCAG 2 contrast ratios of
the colours the UI draws text in, on the backgrounds they are drawn on, are 4.5:1 or more - for
the system's palette (Fusion's default here), and the high-contrast schemes, dark and light."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette

from picsafe_desktop.ui import look
from picsafe_desktop.ui.look import MIN_CONTRAST, contrast

UI = Path(__file__).resolve().parents[2] / "picsafe_desktop" / "ui"
Role = QPalette.ColorRole


@pytest.fixture
def palette_of(qapp):
    saved = QPalette(qapp.palette())

    def use(name: str) -> QPalette:
        base = {
            "system": saved,
            "high-contrast-dark": look.high_contrast_palette(dark=True),
            "high-contrast-light": look.high_contrast_palette(dark=False),
        }[name]
        palette = look.readable_palette(base)
        qapp.setPalette(palette)
        return palette

    yield use
    qapp.setPalette(saved)


PALETTES = ["system", "high-contrast-dark", "high-contrast-light"]


def test_fusions_own_selection_colours_fail_and_the_app_palette_fixes_them():
    """The defect: white text on Fusion's selection blue (#308cc6) is 3.7:1 - selected rows and
    the primary button's highlight colours were below the 4.5:1 minimum."""
    fusion = QPalette()  # Qt's built-in default, what Fusion draws with
    fusion.setColor(Role.Highlight, look.QColor("#308cc6"))
    fusion.setColor(Role.HighlightedText, look.QColor("#ffffff"))
    assert contrast("#ffffff", "#308cc6") < MIN_CONTRAST
    fixed = look.readable_palette(fusion)
    assert contrast(fixed.color(Role.HighlightedText), fixed.color(Role.Highlight)) >= MIN_CONTRAST


@pytest.mark.parametrize("name", PALETTES)
def test_every_text_colour_of_the_palette_reads_on_its_background(palette_of, name):
    palette = palette_of(name)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for fg, bg in look.TEXT_PAIRS:
            ratio = contrast(palette.color(group, fg), palette.color(group, bg))
            assert ratio >= MIN_CONTRAST, f"{name}: {fg.name} on {bg.name} is {ratio:.2f}:1"


@pytest.mark.parametrize("name", PALETTES)
def test_status_colours_read_on_the_window_and_in_fields(palette_of, name):
    palette = palette_of(name)
    for colour in (look.error_colour(), look.ok_colour()):
        for bg in (Role.Window, Role.Base):
            ratio = contrast(colour, palette.color(bg))
            assert ratio >= MIN_CONTRAST, f"{name}: {colour} on {bg.name} is {ratio:.2f}:1"


def test_the_old_fixed_error_red_vanished_on_a_dark_high_contrast_palette():
    """The defect: #b00020 was hard-coded for every error label; on black it is 2.9:1."""
    assert contrast("#b00020", "#000000") < MIN_CONTRAST


def test_tinted_notices_and_the_signature_hint_carry_their_own_readable_pair():
    from picsafe_desktop.ui import audit_view, signature_pad

    assert contrast(look.NOTICE_FG, look.NOTICE_BG) >= MIN_CONTRAST
    assert contrast(signature_pad.HINT_COLOUR, "#ffffff") >= MIN_CONTRAST  # the pad is white
    for style in (audit_view.OK_STYLE, audit_view.BAD_STYLE, audit_view.WAIT_STYLE):
        fg = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{6})", style).group(1)
        bg = re.search(r"background:\s*(#[0-9a-fA-F]{6})", style).group(1)
        assert contrast(fg, bg) >= MIN_CONTRAST, style


def _string_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_ui_file_fixes_a_text_colour_without_its_background():
    """A text colour alone is readable on one palette only; with its background it is a pair
    (checked above). Status colours come from look.error_style()/ok_style() instead."""
    offenders = []
    for path in sorted(UI.glob("*.py")):
        if path.name == "look.py":
            continue
        for line, text in _string_literals(path):
            if re.search(r"(?<![-\w])colou?r\s*:\s*#", text) and "background" not in text:
                offenders.append(f"{path.name}:{line}: {text[:60]!r}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("name", PALETTES)
def test_the_sign_in_error_and_the_consent_close_hint_read_on_the_palette(qtbot, palette_of, name):
    """Real widgets: the lock screen's error line and the consent form's close hint."""
    from picsafe_desktop.ui.consent_dialog import ConsentDialog
    from picsafe_desktop.ui.lock import LockScreen

    palette = palette_of(name)
    screen = LockScreen("pin")
    qtbot.addWidget(screen)
    screen.show_error("Wrong staff ID or PIN.")
    colour = re.search(r"color:\s*(#[0-9a-fA-F]{6})", screen.error_label.styleSheet()).group(1)
    assert contrast(colour, palette.color(Role.Window)) >= MIN_CONTRAST
    from tests.ui.test_consent_dialog import STAFF, WORDING, jpeg

    dialog = ConsentDialog([jpeg("red")], STAFF, WORDING)
    qtbot.addWidget(dialog)
    hint = dialog.close_hint.styleSheet()
    fg = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{6})", hint).group(1)
    bg = re.search(r"background:\s*(#[0-9a-fA-F]{6})", hint).group(1)
    assert contrast(fg, bg) >= MIN_CONTRAST


def test_the_built_in_high_contrast_scheme_outlines_fields_and_tick_boxes(qapp, monkeypatch):
    """On black, Fusion's field frames and tick boxes (a shade darker than the window) vanish:
    PICSAFE_HIGH_CONTRAST=dark gives them a text-coloured outline and keeps the primary
    button in the selection colours."""
    saved_palette, saved_style = QPalette(qapp.palette()), qapp.styleSheet()
    monkeypatch.setenv("PICSAFE_HIGH_CONTRAST", "dark")
    try:
        look.apply_palette(qapp)
        palette = qapp.palette()
        assert palette.color(Role.Window).name() == "#000000"
        assert palette.color(Role.WindowText).name() == "#ffffff"
        style = qapp.styleSheet()
        assert "QRadioButton::indicator" in style and "palette(text)" in style
        assert 'QPushButton[primary="true"]' in style
        assert contrast(palette.color(Role.Mid), palette.color(Role.Window)) >= 3  # outlines
    finally:
        qapp.setStyleSheet(saved_style)
        qapp.setPalette(saved_palette)
