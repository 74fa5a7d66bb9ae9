"""The app's own icons (resources/icons/*.svg), tinted with the palette's text colour.

The SVGs are drawn in `currentColor`; each is rendered in the colour of the current palette's
button text, so an icon is as readable as the label beside it in a light, dark or high-contrast
theme. Rendered at twice the size asked for, so it stays sharp at 125 % and 150 % scaling.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48)


def icon_dir():
    return files("picsafe_desktop") / "resources" / "icons"


def names() -> list[str]:
    return sorted(p.name[:-4] for p in icon_dir().iterdir() if p.name.endswith(".svg"))


def _colour() -> str:
    app = QGuiApplication.instance()
    palette = app.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText).name()


@cache
def _svg(name: str) -> str:
    return (icon_dir() / f"{name}.svg").read_text(encoding="utf-8")


@cache
def _icon(name: str, colour: str) -> QIcon:
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", colour).encode()))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG")
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(QSize(size, size) * 2)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size * 2, size * 2))
        painter.end()
        pixmap.setDevicePixelRatio(2.0)
        result.addPixmap(pixmap)
    return result


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """The named icon (a file in resources/icons) in `colour` (default: the palette's)."""
    if isinstance(colour, QColor):
        colour = colour.name()
    return _icon(name, colour or _colour())
