"""Look and feel shared by every screen: the primary action, icons on buttons, and text colours
that stay readable on the current palette (light, dark or high contrast).

Colours are never hard-coded on their own: a status colour is checked against the background
it is drawn on (WCAG 2 contrast ratio, at least 4.5:1 for text) and swapped for a lighter or
darker tone when the palette is dark; a tinted banner sets its text colour with its background.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractButton, QPushButton

from picsafe_desktop.ui.icons import icon

__all__ = ["icon", "primary", "with_icon", "error_style", "ok_style", "notice_style", "contrast"]

MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal-size text

# Status colours: (on a light background, on a dark background).
ERROR = ("#b00020", "#ff8a80")
OK = ("#1b5e20", "#9ccc65")
# A tinted notice (banners, the consent form's close hint): its own background and text.
NOTICE_BG, NOTICE_FG = "#fff4ce", "#1a1a1a"


def luminance(colour: QColor) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor | str, b: QColor | str) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _palette() -> QPalette:
    app = QGuiApplication.instance()
    return app.palette() if app is not None else QPalette()


def readable(pair: tuple[str, str], background: QColor | None = None) -> str:
    """The tone of a status colour that reads on `background` (default: the window's)."""
    bg = background or _palette().color(QPalette.ColorRole.Window)
    light, dark = pair
    if contrast(light, bg) >= MIN_CONTRAST:
        return light
    if contrast(dark, bg) >= MIN_CONTRAST:
        return dark
    text = _palette().color(QPalette.ColorRole.WindowText)
    return text.name()  # neither reads: plain text colour, which the palette makes readable


def error_colour() -> str:
    return readable(ERROR)


def ok_colour() -> str:
    return readable(OK)


def error_style(extra: str = "") -> str:
    return f"color: {error_colour()};{extra}"


def ok_style(extra: str = "") -> str:
    return f"color: {ok_colour()};{extra}"


def notice_style(selector: str, extra: str = "") -> str:
    """A tinted notice: background and text colour together, so it reads on any palette."""
    return f"{selector} {{ background:{NOTICE_BG}; color:{NOTICE_FG}; {extra} }}"


def primary(button: QPushButton, icon_name: str | None = None, default: bool = True) -> QPushButton:
    """The screen's main action in the palette's highlight colours, and (unless a form must not
    submit on Enter) the default button."""
    if default:
        button.setDefault(True)
    button.setProperty("primary", True)
    palette = button.palette()
    palette.setColor(QPalette.ColorRole.Button, palette.color(QPalette.ColorRole.Highlight))
    palette.setColor(
        QPalette.ColorRole.ButtonText, palette.color(QPalette.ColorRole.HighlightedText)
    )
    button.setPalette(palette)
    font = button.font()
    font.setBold(True)
    button.setFont(font)
    if icon_name:
        button.setIcon(icon(icon_name, palette.color(QPalette.ColorRole.HighlightedText)))
    return button


def at_most_screen(size, widget=None):
    """`size` (a QSize) shrunk to the available screen: a minimum size larger than the screen
    (1366x768 at 150 % is 911x512 points) pushes a window's edge and buttons off it."""
    screen = (widget.screen() if widget is not None else None) or QGuiApplication.primaryScreen()
    if screen is None:
        return size
    return size.boundedTo(screen.availableGeometry().size())


def with_icon(button: QAbstractButton, icon_name: str) -> QAbstractButton:
    button.setIcon(icon(icon_name))
    return button


TEXT_PAIRS = (
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.Link, QPalette.ColorRole.Base),
)


def high_contrast_palette(dark: bool = True) -> QPalette:
    """A high-contrast scheme like the operating systems' own (Windows "High Contrast Black" /
    "White"): pure black and white, a yellow or dark-blue selection."""
    fg, bg = ("#ffffff", "#000000") if dark else ("#000000", "#ffffff")
    hl, hl_text = ("#ffff00", "#000000") if dark else ("#1c1ca8", "#ffffff")
    link = "#7fdbff" if dark else "#0000c0"
    palette = QPalette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.Button):
        palette.setColor(role, QColor(bg))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#1a1a1a" if dark else "#f0f0f0"))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.BrightText,
    ):
        palette.setColor(role, QColor(fg))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor(bg))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor(fg))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#c0c0c0" if dark else "#595959"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(hl))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(hl_text))
    palette.setColor(QPalette.ColorRole.Link, QColor(link))
    palette.setColor(QPalette.ColorRole.Mid, QColor("#a0a0a0" if dark else "#6e6e6e"))
    disabled = QColor("#a0a0a0" if dark else "#6e6e6e")  # still 4.5:1 and more
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def readable_palette(palette: QPalette) -> QPalette:
    """The palette with every text pair at 4.5:1 or more: a background that is too close to its
    text is darkened or lightened (Fusion's default selection blue gives white text 3.7:1)."""
    palette = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for fg_role, bg_role in TEXT_PAIRS:
            fg, bg = palette.color(group, fg_role), palette.color(group, bg_role)
            darken = luminance(fg) > luminance(bg)
            for _ in range(40):
                if contrast(fg, bg) >= MIN_CONTRAST:
                    break
                bg = bg.darker(110) if darken else bg.lighter(110)
                if not darken and bg.lightness() >= 250:
                    fg = fg.darker(110)  # a light background cannot get lighter: darken the text
            palette.setColor(group, bg_role, bg)
            palette.setColor(group, fg_role, fg)
    return palette


def apply_palette(app) -> None:
    """The application's palette: PICSAFE_HIGH_CONTRAST=dark|light (or 1) for the built-in
    high-contrast scheme, else the system's - in both cases with every text pair readable."""
    import os

    wanted = os.environ.get("PICSAFE_HIGH_CONTRAST", "").strip().lower()
    if wanted in ("1", "dark", "yes", "true"):
        palette = high_contrast_palette(dark=True)
    elif wanted == "light":
        palette = high_contrast_palette(dark=False)
    else:
        app.setPalette(readable_palette(app.palette()))
        return
    app.setPalette(readable_palette(palette))
    app.setStyleSheet(app.styleSheet() + HIGH_CONTRAST_STYLE)


# Fusion draws field frames and tick boxes a shade darker than the window: on black, nothing.
# In the built-in high-contrast scheme they get a text-coloured outline, and a ticked box or
# chosen option is filled with the selection colour.
HIGH_CONTRAST_STYLE = """
QLineEdit, QTextEdit, QPlainTextEdit, QTextBrowser, QComboBox, QSpinBox, QDateEdit,
QAbstractItemView, QPushButton, QToolButton:hover {
    border: 1px solid palette(text);
}
QPushButton { padding: 3px 10px; }
QPushButton:default, QPushButton:focus, QLineEdit:focus { border: 2px solid palette(highlight); }
QPushButton[primary="true"] {
    background: palette(highlight); color: palette(highlighted-text); font-weight: bold;
}
QPushButton[primary="true"]:disabled { background: palette(base); color: palette(mid); }
QGroupBox { border: 1px solid palette(mid); margin-top: 1.2em; }
QGroupBox::title { subcontrol-origin: margin; left: 6px; }
QCheckBox::indicator, QRadioButton::indicator {
    width: 13px; height: 13px; border: 2px solid palette(text); background: palette(base);
}
QRadioButton::indicator { border-radius: 8px; }
QCheckBox::indicator:checked, QRadioButton::indicator:checked { background: palette(highlight); }
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled { border-color: palette(mid); }
"""
