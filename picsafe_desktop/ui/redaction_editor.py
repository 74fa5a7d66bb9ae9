"""Mark areas of a photo to cover (black box or blur) before a redacted version is saved.

The dialog only collects rectangles in image pixel coordinates (upright, as displayed);
the caller applies them with `deid.redact` on a worker thread. Face detection only suggests:
a suggested rectangle counts once a person has confirmed it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.deid import Redaction
from picsafe_desktop.ui import look, workers
from picsafe_desktop.ui.imaging import decode

MODES = (
    ("black", QT_TRANSLATE_NOOP("RedactionDialog", "Black box")),
    ("blur", QT_TRANSLATE_NOOP("RedactionDialog", "Blur")),
)
MIN_SIZE = 4  # image pixels; a smaller drag is taken as a slip, not a box

Suggest = Callable[[bytes], Sequence[Any]]


class BoxItem(QGraphicsRectItem):
    """One area to cover. Suggestions start unconfirmed and are drawn dashed, without fill."""

    def __init__(
        self, rect: QRectF, bounds: QRectF, mode: str, confirmed: bool, suggested: bool = False
    ) -> None:
        super().__init__(rect)
        self.bounds = bounds
        self.mode = mode
        self.confirmed = confirmed
        self.suggested = suggested
        self.on_change: Callable[[BoxItem], None] | None = None
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setZValue(1)
        self.update_look()

    def image_rect(self) -> QRectF:
        return self.mapRectToScene(self.rect()).intersected(self.bounds)

    def set_image_rect(self, rect: QRectF) -> None:
        self.setPos(0, 0)
        self.setRect(rect.normalized().intersected(self.bounds))
        self._changed()

    def update_look(self) -> None:
        if not self.confirmed:
            pen = QPen(QColor("#ffb000"), 2, Qt.PenStyle.DashLine)
            brush = QBrush(Qt.BrushStyle.NoBrush)
        elif self.mode == "blur":
            pen = QPen(QColor("#1565c0"), 2)
            brush = QBrush(QColor(180, 200, 230, 170), Qt.BrushStyle.Dense3Pattern)
        else:
            pen = QPen(QColor("#000000"), 2)
            brush = QBrush(QColor("#000000"))
        pen.setCosmetic(True)  # same line width at every zoom
        self.setPen(pen)
        self.setBrush(brush)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange:
            # Keep a dragged box inside the photo.
            r = self.rect()
            x = min(max(value.x(), self.bounds.left() - r.left()), self.bounds.right() - r.right())
            y = min(max(value.y(), self.bounds.top() - r.top()), self.bounds.bottom() - r.bottom())
            return QPointF(x, y)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self._changed()
        return super().itemChange(change, value)

    def _changed(self) -> None:
        if self.on_change:
            self.on_change(self)


class RedactionCanvas(QGraphicsView):
    """The photo, fitted to the view. Drag on the photo to draw; drag a box to move it."""

    box_drawn = Signal(object)
    confirm_requested = Signal(object)
    delete_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.photo = QGraphicsPixmapItem()
        self.scene().addItem(self.photo)
        self.bounds = QRectF()
        self.new_mode = "black"
        self._origin: QPointF | None = None
        self._drawing: BoxItem | None = None

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self.photo.setPixmap(pixmap)
        self.bounds = QRectF(0, 0, pixmap.width(), pixmap.height())
        self.scene().setSceneRect(self.bounds)
        self.fit()

    def fit(self) -> None:
        if not self.bounds.isEmpty():
            self.fitInView(self.bounds, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def _clamped(self, pos) -> QPointF:
        p = self.mapToScene(pos)
        return QPointF(
            min(max(p.x(), self.bounds.left()), self.bounds.right()),
            min(max(p.y(), self.bounds.top()), self.bounds.bottom()),
        )

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        hit = self.itemAt(event.position().toPoint())
        if isinstance(hit, BoxItem):
            if not hit.confirmed:
                self.confirm_requested.emit(hit)
            super().mousePressEvent(event)
            return
        if not self.bounds.contains(self.mapToScene(event.position().toPoint())):
            return
        self.scene().clearSelection()
        self._origin = self._clamped(event.position().toPoint())
        self._drawing = BoxItem(
            QRectF(self._origin, self._origin), self.bounds, self.new_mode, confirmed=True
        )
        self.scene().addItem(self._drawing)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drawing is not None:
            self._drawing.setRect(
                QRectF(self._origin, self._clamped(event.position().toPoint())).normalized()
            )
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drawing is None:
            super().mouseReleaseEvent(event)
            return
        box, self._drawing, self._origin = self._drawing, None, None
        r = box.rect()
        if r.width() < MIN_SIZE or r.height() < MIN_SIZE:
            self.scene().removeItem(box)
        else:
            self.box_drawn.emit(box)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_requested.emit()
            return
        moves = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        selected = [i for i in self.scene().selectedItems() if isinstance(i, BoxItem)]
        if key in moves and selected:
            dx, dy = moves[key]
            step = max(1.0, round(max(self.bounds.width(), self.bounds.height()) / 100))
            resize = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            for box in selected:
                r = box.image_rect()
                if resize:  # Shift+Right/Down grow, Shift+Left/Up shrink
                    w = max(MIN_SIZE, r.width() + dx * step)
                    h = max(MIN_SIZE, r.height() + dy * step)
                    box.set_image_rect(QRectF(r.left(), r.top(), w, h))
                else:
                    r.translate(dx * step, dy * step)
                    r.moveLeft(min(max(r.left(), 0), self.bounds.width() - r.width()))
                    r.moveTop(min(max(r.top(), 0), self.bounds.height() - r.height()))
                    box.set_image_rect(r)
            return
        super().keyPressEvent(event)


def _as_rect(suggestion: Any) -> tuple[float, float, float, float]:
    """A suggestion may be an (x, y, w, h) tuple or a Redaction-like object."""
    if hasattr(suggestion, "x"):
        return suggestion.x, suggestion.y, suggestion.w, suggestion.h
    x, y, w, h = tuple(suggestion)[:4]
    return x, y, w, h


class RedactionDialog(QDialog):
    """Collects redaction boxes; read `boxes()` and `replace_original` after it is accepted."""

    def __init__(
        self, data: bytes, suggest: Suggest | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Redact photo"))
        self.setAccessibleName(self.tr("Redact photo"))
        self._data: bytes | None = data
        self._suggest = suggest
        self._boxes: list[BoxItem] = []
        self._syncing = False

        self.canvas = RedactionCanvas(self)
        self.canvas.setAccessibleName(self.tr("Photo to redact"))
        self.canvas.setAccessibleDescription(
            self.tr(
                "Drag on the photo to draw a box. Arrow keys move the selected box, "
                "Shift with arrow keys resizes it, Delete removes it."
            )
        )
        self.canvas.set_pixmap(QPixmap.fromImage(decode(data)))
        self.canvas.box_drawn.connect(self._add_drawn)
        self.canvas.confirm_requested.connect(lambda box: self._set_confirmed(box, True))
        self.canvas.delete_requested.connect(self.remove_selected)
        self.canvas.scene().selectionChanged.connect(self._scene_selection_changed)

        self.mode_combo = QComboBox(self)
        for value, label in MODES:
            self.mode_combo.addItem(label, value)
        self.mode_combo.setAccessibleName(self.tr("Cover with"))
        self.mode_combo.setToolTip(self.tr("How new boxes, and the selected box, cover the photo"))
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)

        self.box_list = QListWidget(self)
        self.box_list.setAccessibleName(self.tr("Areas to cover"))
        self.box_list.setAccessibleDescription(
            self.tr(
                "Ticked areas are covered. Suggested faces are not covered until you tick them."
            )
        )
        self.box_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.box_list.itemChanged.connect(self._list_item_changed)
        self.box_list.itemSelectionChanged.connect(self._list_selection_changed)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.box_list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)

        self.add_button = QPushButton(self.tr("&Add box"), self)
        self.add_button.setAccessibleName(self.tr("Add box"))
        self.add_button.setToolTip(
            self.tr("Add a box in the middle of the photo, to move with the keys")
        )
        self.add_button.clicked.connect(self.add_box)
        self.remove_button = QPushButton(self.tr("&Remove selected"), self)
        self.remove_button.setAccessibleName(self.tr("Remove selected box"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.suggest_button = QPushButton(self.tr("Suggest &faces"), self)
        self.suggest_button.setAccessibleName(self.tr("Suggest faces"))
        self.suggest_button.setToolTip(
            self.tr("Look for faces; you confirm each suggestion yourself")
        )
        self.suggest_button.clicked.connect(self.suggest_faces)
        self.suggest_button.setEnabled(suggest is not None)
        self.status = QLabel(self.tr("Drag on the photo to cover an area, or press Add box."), self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Redaction status"))

        self.keep_radio = QRadioButton(self.tr("&Keep the original and save a redacted copy"), self)
        self.replace_radio = QRadioButton(self.tr("Re&place the original"), self)
        self.keep_radio.setAccessibleName(self.tr("Keep the original and save a redacted copy"))
        self.replace_radio.setAccessibleName(self.tr("Replace the original"))
        self.keep_radio.setChecked(True)
        self._save_choice = QButtonGroup(self)
        self._save_choice.addButton(self.keep_radio)
        self._save_choice.addButton(self.replace_radio)
        self.replace_warning = QLabel(
            self.tr("The unredacted original will be destroyed and cannot be recovered."), self
        )
        self.replace_warning.setWordWrap(True)
        self.replace_warning.setStyleSheet(look.error_style())
        self.replace_warning.setVisible(False)
        self.replace_radio.toggled.connect(self.replace_warning.setVisible)

        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(
            self.tr("&Save redacted version"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setAccessibleName(self.tr("Save redacted version"))
        look.primary(self.save_button, "save")
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        side = QVBoxLayout()
        form = QFormLayout()
        form.addRow(self.tr("Cover &with:"), self.mode_combo)
        side.addLayout(form)
        side.addWidget(QLabel(self.tr("Areas to cover (ticked = covered):"), self))
        side.addWidget(self.box_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        side.addLayout(row)
        side.addWidget(self.suggest_button)
        side.addWidget(self.status)
        choice = QGroupBox(self.tr("When saving"), self)
        choice_layout = QVBoxLayout(choice)
        choice_layout.addWidget(self.keep_radio)
        choice_layout.addWidget(self.replace_radio)
        choice_layout.addWidget(self.replace_warning)
        side.addWidget(choice)
        side_widget = QWidget(self)
        side_widget.setLayout(side)
        side_widget.setFixedWidth(330)

        body = QHBoxLayout()
        body.addWidget(self.canvas, 1)
        body.addWidget(side_widget)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self.resize(1100, 680)
        self.setTabOrder(self.canvas, self.mode_combo)
        self._refresh()

    # -- results ---------------------------------------------------------------------------
    def boxes(self) -> list[Redaction]:
        """Confirmed boxes, rounded outwards to whole pixels and clipped to the photo."""
        out = []
        for box in self._boxes:
            if not box.confirmed:
                continue
            r = box.image_rect()
            x, y = math.floor(r.left()), math.floor(r.top())
            w, h = math.ceil(r.right()) - x, math.ceil(r.bottom()) - y
            if w > 0 and h > 0:
                out.append(Redaction(x, y, w, h, box.mode))
        return out

    @property
    def replace_original(self) -> bool:
        return self.replace_radio.isChecked()

    def suggestions_pending(self) -> int:
        return sum(1 for b in self._boxes if not b.confirmed)

    # -- editing ---------------------------------------------------------------------------
    def _track(self, box: BoxItem) -> None:
        box.on_change = lambda _box: self._refresh()
        self._boxes.append(box)

    def _add_drawn(self, box: BoxItem) -> None:
        self._track(box)
        self._refresh()
        box.setSelected(True)

    def add_box(self) -> None:
        b = self.canvas.bounds
        w, h = max(MIN_SIZE, round(b.width() / 4)), max(MIN_SIZE, round(b.height() / 4))
        rect = QRectF(round((b.width() - w) / 2), round((b.height() - h) / 2), w, h)
        box = BoxItem(rect, b, self.mode_combo.currentData(), confirmed=True)
        self.canvas.scene().addItem(box)
        self._add_drawn(box)
        self.canvas.scene().clearSelection()
        box.setSelected(True)
        self.canvas.setFocus()

    def remove_selected(self) -> None:
        for box in [b for b in self._boxes if b.isSelected()]:
            self._boxes.remove(box)
            self.canvas.scene().removeItem(box)
        self._refresh()

    def _set_confirmed(self, box: BoxItem, confirmed: bool) -> None:
        box.confirmed = confirmed
        box.update_look()
        self._refresh()

    def _mode_changed(self) -> None:
        mode = self.mode_combo.currentData()
        self.canvas.new_mode = mode
        if self._syncing:
            return
        for box in self._boxes:
            if box.isSelected():
                box.mode = mode
                box.update_look()
        self._refresh()

    # -- face suggestions ------------------------------------------------------------------
    def suggest_faces(self) -> None:
        if self._suggest is None or self._data is None:
            return
        self.suggest_button.setEnabled(False)
        self.status.setText(self.tr("Looking for faces…"))
        workers.submit(
            self._suggest, self._data, on_done=self._add_suggestions, on_error=self._suggest_failed
        )

    def _add_suggestions(self, found: Sequence[Any]) -> None:
        self.suggest_button.setEnabled(True)
        added = 0
        for s in found:
            rect = QRectF(*_as_rect(s)).intersected(self.canvas.bounds)
            if rect.isEmpty():
                continue
            box = BoxItem(
                rect,
                self.canvas.bounds,
                self.mode_combo.currentData(),
                confirmed=False,
                suggested=True,
            )
            self.canvas.scene().addItem(box)
            self._track(box)
            added += 1
        if added:
            self.status.setText(
                self.tr(
                    "%n possible face(s) marked with dashed boxes. Tick or "
                    "click each one that should be covered. Check the photo "
                    "yourself: faces can be missed.",
                    "",
                    added,
                )
            )
        else:
            self.status.setText(
                self.tr("No faces were found. Check the photo yourself: faces can be missed.")
            )
        self._refresh()

    def _suggest_failed(self, exc: Exception) -> None:
        self.suggest_button.setEnabled(True)
        self.status.setText(self.tr("Face suggestions are not available: {exc}").format(exc=exc))

    # -- list <-> canvas -------------------------------------------------------------------
    def _describe(self, number: int, box: BoxItem) -> str:
        r = box.image_rect()
        kind = self.tr("Suggested face") if box.suggested else self.tr("Box")
        mode = self.tr(dict(MODES)[box.mode]).lower()
        state = "" if box.confirmed else self.tr(" (not confirmed)")
        return (
            f"{kind} {number}{state}\n{mode}, {round(r.width())} × {round(r.height())} px "
            f"at {round(r.left())}, {round(r.top())}"
        )

    def _refresh(self) -> None:
        self._syncing = True
        self.box_list.clear()
        for n, box in enumerate(self._boxes, 1):
            item = QListWidgetItem(self._describe(n, box))
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setCheckState(Qt.CheckState.Checked if box.confirmed else Qt.CheckState.Unchecked)
            self.box_list.addItem(item)
            item.setSelected(box.isSelected())
        self._syncing = False
        count = len(self.boxes())
        self.save_button.setEnabled(count > 0)
        self.remove_button.setEnabled(any(b.isSelected() for b in self._boxes))

    def _list_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing:
            return
        box = self._boxes[self.box_list.row(item)]
        self._set_confirmed(box, item.checkState() == Qt.CheckState.Checked)

    def _list_selection_changed(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        for row, box in enumerate(self._boxes):
            box.setSelected(self.box_list.item(row).isSelected())
        self._syncing = False
        self._selection_to_controls()

    def _scene_selection_changed(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        for row, box in enumerate(self._boxes):
            item = self.box_list.item(row)
            if item is not None:
                item.setSelected(box.isSelected())
        self._syncing = False
        self._selection_to_controls()

    def _selection_to_controls(self) -> None:
        selected = [b for b in self._boxes if b.isSelected()]
        self.remove_button.setEnabled(bool(selected))
        if selected:
            self._syncing = True
            self.mode_combo.setCurrentIndex(self.mode_combo.findData(selected[-1].mode))
            self._syncing = False
            self.canvas.new_mode = self.mode_combo.currentData()

    def done(self, result: int) -> None:
        # The caller reads boxes() afterwards; the photo itself is not needed any more.
        self._data = None
        self.canvas.photo.setPixmap(QPixmap())
        super().done(result)
