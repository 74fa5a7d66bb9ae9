"""A patient's timeline (photos by body site, then date) and a side-by-side comparison.

Follow-up of a wound or lesion is judged by comparing the same site over time: tick two
photos and compare them side by side; zoom and pan move both views together. Full-size
photos are decrypted on a worker through `services.view`, so each is audited as a view.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut, QTransform
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.ui import look
from picsafe_desktop.ui.imaging import UndecodableImage, decode
from picsafe_desktop.ui.intake import thumbnail_pixmap
from picsafe_desktop.ui.viewer import ZOOM_STEP, PhotoView

_ID = Qt.ItemDataRole.UserRole


class TimelineDialog(QDialog):
    """`groups` are `timeline.SiteGroup`s; `thumbnails` maps item ids to JPEG bytes."""

    compare_requested = Signal(list)  # two item ids, oldest first

    def __init__(self, patient: str, groups, thumbnails: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Timeline — {patient}").format(patient=patient))
        self.setAccessibleName(self.tr("Patient timeline"))
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels([self.tr("Body site and date"), self.tr("Photo")])
        self.tree.setIconSize(QSize(96, 96))
        self.tree.setAccessibleName(self.tr("Photos by body site and date"))
        self.items: dict[str, QTreeWidgetItem] = {}
        for group in groups:
            top = QTreeWidgetItem(self.tree, [f"{group.site} ({len(group.photos)})"])
            top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            for photo in group.photos:
                when = (
                    f"{photo.taken:%d %b %Y %H:%M}" if photo.taken else self.tr("date not recorded")
                )
                copy = self.tr("redacted copy") if photo.redacted else ""
                row = QTreeWidgetItem(top, [when, copy])
                row.setIcon(0, QIcon(thumbnail_pixmap(thumbnails.get(photo.item_id, b""))))
                row.setData(0, _ID, photo.item_id)
                row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                row.setCheckState(0, Qt.CheckState.Unchecked)
                self.items[photo.item_id] = row
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self.tree.itemChanged.connect(lambda *_: self._update())
        self.compare_button = QPushButton(self.tr("&Compare side by side"), self)
        look.primary(self.compare_button, "compare")
        self.compare_button.clicked.connect(self._compare)
        self.hint = QLabel(self.tr("Tick two photos of the same site to compare them."), self)
        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.activated.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self.resize(720, 640)
        self._update()

    def checked(self) -> list[str]:
        return [i for i, row in self.items.items() if row.checkState(0) == Qt.CheckState.Checked]

    def tick(self, item_ids) -> None:
        for item_id, row in self.items.items():
            state = Qt.CheckState.Checked if item_id in item_ids else Qt.CheckState.Unchecked
            row.setCheckState(0, state)

    def _update(self) -> None:
        self.compare_button.setEnabled(len(self.checked()) == 2)

    def _compare(self) -> None:
        if len(self.checked()) == 2:
            self.compare_requested.emit(self.checked())


class ComparisonView(QWidget):
    """Two photos side by side; zoom (Ctrl+wheel, +/-) and pan apply to both at once.

    The two photos rarely have the same size or shape (a phone in portrait, then landscape),
    so the views are kept in step proportionally: each shows the same *relative* zoom (a
    multiple of its own fit-to-window scale) centred on the same *relative* point of its
    photo (the same fraction of the width and height), whichever view is zoomed or dragged.
    """

    def __init__(self, captions: tuple[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Photos side by side"))
        self.views: list[PhotoView] = []
        self.items: list[QGraphicsPixmapItem] = []
        self._zoom = 1.0  # relative to each photo's fit-to-window scale
        self._syncing = False
        row = QHBoxLayout()
        for index, caption in enumerate(captions):
            scene = QGraphicsScene(self)
            item = QGraphicsPixmapItem()
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            scene.addItem(item)
            view = PhotoView(self)
            view.setScene(scene)
            view.zoom_requested.connect(lambda factor, i=index: self.zoom_by(factor, i))
            view.resized.connect(lambda i=index: self._apply(i))
            for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
                bar.valueChanged.connect(lambda _v, i=index: self._follow(i))
            column = QVBoxLayout()
            column.addWidget(QLabel(caption, self))
            column.addWidget(view, 1)
            row.addLayout(column, 1)
            self.views.append(view)
            self.items.append(item)
        bar = QHBoxLayout()
        zoom_in, zoom_out = (lambda: self.zoom_by(ZOOM_STEP)), (lambda: self.zoom_by(1 / ZOOM_STEP))
        for text, name, slot in (
            ("−", self.tr("Zoom out"), zoom_out),
            ("+", self.tr("Zoom in"), zoom_in),
            (self.tr("Fit"), self.tr("Fit both"), self.fit),
        ):
            button = QPushButton(text, self)
            button.setAccessibleName(name)
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(row, 1)
        for keys, slot in ((("+", "="), zoom_in), (("-",), zoom_out), (("Esc",), self.close)):
            for key in keys:
                QShortcut(QKeySequence(key), self).activated.connect(slot)
        self.resize(1300, 700)

    def set_image(self, index: int, data: bytes) -> None:
        try:
            image = decode(data)
        except UndecodableImage:
            return
        item = self.items[index]
        item.setPixmap(QPixmap.fromImage(image))
        item.scene().setSceneRect(item.boundingRect())
        self.fit()

    def scales(self) -> list[float]:
        return [v.transform().m11() for v in self.views]

    def relative_scales(self) -> list[float]:
        """Each view's scale as a multiple of its own fit-to-window scale."""
        return [v.transform().m11() / self._fit_scale(i) for i, v in enumerate(self.views)]

    def relative_centre(self, index: int) -> tuple[float, float]:
        """The point of the photo at the centre of its view, as fractions of its size."""
        view, rect = self.views[index], self.items[index].boundingRect()
        if rect.isEmpty():
            return 0.5, 0.5
        centre = view.mapToScene(view.viewport().rect().center())
        return (
            (centre.x() - rect.left()) / rect.width(),
            (centre.y() - rect.top()) / rect.height(),
        )

    def zoom_by(self, factor: float, index: int = 0) -> None:
        """Zoom both views by `factor`, keeping the point `index`'s view is centred on."""
        self._zoom *= factor
        self._apply(index)

    def fit(self) -> None:
        self._zoom = 1.0
        self._apply(0)

    # --- keeping the two in step -----------------------------------------------------------
    def _fit_scale(self, index: int) -> float:
        rect = self.items[index].boundingRect()
        viewport = self.views[index].viewport().rect()
        if rect.isEmpty() or viewport.isEmpty():
            return 1.0
        # The same 2-pixel margin QGraphicsView.fitInView leaves.
        return min((viewport.width() - 4) / rect.width(), (viewport.height() - 4) / rect.height())

    def _alive(self) -> bool:
        # While the window is torn down its scenes go first and the views still scroll.
        return not self._syncing and all(shiboken6.isValid(i) for i in self.items)

    def _apply(self, index: int) -> None:
        """Set both scales from the relative zoom, then centre both where `index` was."""
        if not self._alive():
            return
        centre = self.relative_centre(index)
        self._syncing = True
        try:
            for i, view in enumerate(self.views):
                scale = self._fit_scale(i) * self._zoom
                view.setTransform(QTransform.fromScale(scale, scale))
            self._centre_on(centre, skip=None)
        finally:
            self._syncing = False

    def _follow(self, index: int) -> None:
        """One view was panned (dragged, scrolled, arrow keys): move the other to match."""
        if not self._alive():
            return
        self._syncing = True
        try:
            self._centre_on(self.relative_centre(index), skip=index)
        finally:
            self._syncing = False

    def _centre_on(self, centre: tuple[float, float], skip: int | None) -> None:
        for i, (view, item) in enumerate(zip(self.views, self.items, strict=True)):
            rect = item.boundingRect()
            if i == skip or rect.isEmpty():
                continue
            view.centerOn(
                rect.left() + centre[0] * rect.width(), rect.top() + centre[1] * rect.height()
            )

    def closeEvent(self, event) -> None:  # noqa: N802
        for item in self.items:
            item.setPixmap(QPixmap())  # no photo stays in memory after the window
        super().closeEvent(event)
