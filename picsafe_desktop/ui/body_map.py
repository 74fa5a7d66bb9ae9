"""The body-site picker: click a region on the front or back figure; the side comes with it.

The figures are picsafe_desktop/resources/body-map.svg; each region is one SVG shape named
`<view>_<region>[_<side>]`, so a click is resolved by the shape's bounds and coded by
`picsafe_desktop.body_sites`. Free text covers what the map does not show; the sites picked
in this session come first (kept in memory only).
"""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop import body_sites
from picsafe_desktop.ui import look

_RECENT: list[dict] = []  # this session's picks, most recent first (never written to disk)


def _svg_bytes() -> bytes:
    return (files("picsafe_desktop") / "resources" / "body-map.svg").read_bytes()


class BodyMap(QWidget):
    """Draws the body map and reports the region clicked (its SVG id)."""

    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.renderer = QSvgRenderer(_svg_bytes(), self)
        self.setAccessibleName(self.tr("Body map, front and back"))
        self.setMinimumSize(QSize(520, 468))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.selected = ""
        self._ids = [
            element
            for view in ("front", "back")
            for region in body_sites.REGIONS
            for side in ("", "_left", "_right")
            if self.renderer.elementExists(element := f"{view}_{region}{side}")
        ]

    def _viewport(self) -> QRectF:
        box = self.renderer.viewBoxF()
        scale = min(self.width() / box.width(), self.height() / box.height())
        w, h = box.width() * scale, box.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def region_rect(self, element: str) -> QRectF:
        """Where a region is drawn, in widget coordinates."""
        box, view = self.renderer.viewBoxF(), self._viewport()
        bounds = self.renderer.transformForElement(element).mapRect(
            self.renderer.boundsOnElement(element)
        )
        sx, sy = view.width() / box.width(), view.height() / box.height()
        return QRectF(
            view.x() + (bounds.x() - box.x()) * sx,
            view.y() + (bounds.y() - box.y()) * sy,
            bounds.width() * sx,
            bounds.height() * sy,
        )

    def region_at(self, point: QPointF) -> str:
        """The smallest region under the point (an elbow over its arm), or ""."""
        hits = [e for e in self._ids if self.region_rect(e).contains(point)]
        hits.sort(key=lambda e: self.region_rect(e).width() * self.region_rect(e).height())
        return hits[0] if hits else ""

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        self.renderer.render(painter, self._viewport())
        if self.selected:
            painter.setPen(QPen(QColor("#0b5cad"), 2))
            painter.setBrush(QColor(11, 92, 173, 110))
            painter.drawRoundedRect(self.region_rect(self.selected), 4, 4)
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        element = self.region_at(event.position())
        if element:
            self.selected = element
            self.update()
            self.picked.emit(element)


class BodySiteDialog(QDialog):
    """Pick a body site; `site` is the metadata dict (see `body_sites`) once accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Body site"))
        self.site: dict | None = None
        self.map = BodyMap(self)
        self.map.picked.connect(self._picked)
        self.choice = QLabel(self.tr("Click where the photos were taken."), self)
        self.choice.setAccessibleName(self.tr("Body site chosen"))
        self.side_buttons: dict[str, QPushButton] = {}
        sides = QHBoxLayout()
        for side in body_sites.SIDES:
            button = QPushButton(side.capitalize(), self)
            button.setCheckable(True)
            button.setAccessibleName(self.tr("{side} side").format(side=side))
            button.clicked.connect(lambda _c=False, s=side: self._side(s))
            self.side_buttons[side] = button
            sides.addWidget(button)
        sides.addStretch(1)
        self.recent = QListWidget(self)
        self.recent.setAccessibleName(self.tr("Recent body sites"))
        self.recent.setMaximumWidth(220)
        for site in _RECENT:
            item = QListWidgetItem(site["text"], self.recent)
            item.setData(Qt.ItemDataRole.UserRole, site)
        self.recent.itemActivated.connect(
            lambda item: self._set(item.data(Qt.ItemDataRole.UserRole))
        )
        self.recent.itemClicked.connect(lambda item: self._set(item.data(Qt.ItemDataRole.UserRole)))
        self.text_edit = QLineEdit(self)
        self.text_edit.setAccessibleName(self.tr("Body site in words"))
        self.text_edit.setPlaceholderText(
            self.tr("not on the map? describe it, e.g. left medial canthus")
        )
        self.text_edit.textEdited.connect(lambda t: self._set(body_sites.from_text(t), keep=True))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        look.primary(self.buttons.button(QDialogButtonBox.StandardButton.Ok), "check")
        self.buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addWidget(QLabel(self.tr("<b>Recent</b>"), self))
        side.addWidget(self.recent, 1)
        row = QHBoxLayout()
        row.addWidget(self.map, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(self.choice)
        layout.addLayout(sides)
        layout.addWidget(self.text_edit)
        layout.addWidget(self.buttons)
        self._region: str | None = None
        self._update()

    def _picked(self, element: str) -> None:
        parsed = body_sites.parse_region_id(element)
        if parsed is not None:
            _view, self._region, side = parsed
            self._set(body_sites.from_region(self._region, side))

    def _side(self, side: str) -> None:
        if self._region and self._region in body_sites.PAIRED:
            self._set(body_sites.from_region(self._region, side))

    def _set(self, site: dict | None, keep: bool = False) -> None:
        self.site = site
        if not keep:
            self.text_edit.setText(site["text"] if site else "")
        self._update()

    def _update(self) -> None:
        site = self.site
        self.choice.setText(
            (
                self.tr("<b>{site}</b> — SNOMED CT {code}").format(
                    site=site["text"], code=site["code"]
                )
                if site["code"]
                else self.tr("<b>{site}</b>").format(site=site["text"])
            )
            if site
            else self.tr("Click where the photos were taken.")
        )
        paired = bool(self._region in body_sites.PAIRED and site and site.get("code"))
        for side, button in self.side_buttons.items():
            button.setEnabled(paired)
            button.setChecked(bool(site) and site.get("laterality") == side)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(site is not None)

    def accept(self) -> None:
        if self.site is not None:
            _RECENT[:] = body_sites.remember(_RECENT, self.site)
        super().accept()


def forget_recent() -> None:
    """Locking forgets the session's recent sites."""
    _RECENT.clear()
