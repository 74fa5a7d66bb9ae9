"""A pad the patient (or substitute) signs on with a mouse, finger or pen.

Ink goes straight onto an in-memory white canvas of fixed size, so `to_png` is exactly what
was seen and the signature never touches the disk.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

HINT_COLOUR = "#616161"
PAD_SIZE = QSize(480, 160)
_INK = QColor("black")
_WIDTH = 2.5


class SignaturePad(QWidget):
    """Fixed-size drawing surface; `changed` fires when a stroke ends or the pad is cleared."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(PAD_SIZE)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        # Drawing needs a pointer; keyboard users reach the Clear button instead.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName(self.tr("Signature pad"))
        self.setAccessibleDescription(self.tr("Sign here with a mouse, a pen or a finger."))
        self._canvas = QImage(PAD_SIZE, QImage.Format.Format_RGB32)
        self._canvas.fill(QColor("white"))
        self._last: QPointF | None = None
        self._empty = True
        self._scale = 1.0  # shown smaller on a small screen; the signature stays PAD_SIZE

    def set_display_scale(self, scale: float) -> None:
        """Show the pad at `scale` of its size (a 125 % screen of 1366x768 has no room for
        480 points); strokes are mapped back, so the signature image keeps its size."""
        self._scale = max(0.5, min(1.0, scale))
        self.setFixedSize(PAD_SIZE * self._scale)
        self.update()

    def is_empty(self) -> bool:
        return self._empty

    def clear(self) -> None:
        self._canvas.fill(QColor("white"))
        self._last = None
        was_empty, self._empty = self._empty, True
        self.update()
        if not was_empty:
            self.changed.emit()

    def to_png(self) -> bytes:
        """The signature as PNG bytes (in memory; never written to a file)."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self._canvas.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    # --- drawing -------------------------------------------------------------------------

    def _begin(self, pos: QPointF, width: float = _WIDTH) -> None:
        pos = pos / self._scale
        self._last = pos
        self._draw(pos, pos, width)

    def _extend(self, pos: QPointF, width: float = _WIDTH) -> None:
        if self._last is None:
            return
        pos = pos / self._scale
        self._draw(self._last, pos, width)
        self._last = pos

    def _end(self) -> None:
        if self._last is not None:
            self._last = None
            self.changed.emit()

    def _draw(self, start: QPointF, end: QPointF, width: float) -> None:
        painter = QPainter(self._canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(_INK, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if start == end:
            painter.drawPoint(start)  # a tap; Qt may draw nothing for a zero-length line
        else:
            painter.drawLine(start, end)
        painter.end()
        self._empty = False
        margin = width + 2
        dirty = QRectF(start, end).normalized().adjusted(-margin, -margin, margin, margin)
        s = self._scale
        self.update(
            QRectF(dirty.topLeft() * s, dirty.size() * s).toAlignedRect().adjusted(-1, -1, 1, 1)
        )

    # --- input ---------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
            event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._extend(event.position())
            event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._end()
            event.accept()

    def tabletEvent(self, event) -> None:  # noqa: N802
        # Pen pressure varies the line a little; accepting stops Qt synthesising mouse events.
        width = _WIDTH * (0.6 + 0.8 * event.pressure()) if event.pressure() > 0 else _WIDTH
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position(), width)
        elif kind == QEvent.Type.TabletMove and self._last is not None:
            self._extend(event.position(), width)
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def event(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            if not self.isEnabled():
                return False
            points = event.points()
            if points:  # one finger signs; others (a resting palm) are ignored
                pos = points[0].position()
                if kind == QEvent.Type.TouchBegin:
                    self._begin(pos)
                elif kind == QEvent.Type.TouchUpdate:
                    self._extend(pos)
            if kind == QEvent.Type.TouchEnd:
                self._end()
            event.accept()
            return True
        if kind == QEvent.Type.TouchCancel:
            self._end()
            event.accept()
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawImage(self.rect(), self._canvas)
        # Guide line and hint are drawn on screen only, never into the PNG.
        guide = QColor("#9e9e9e")
        painter.setPen(QPen(guide, 1, Qt.PenStyle.DashLine))
        baseline = self.height() - 36
        painter.drawLine(24, baseline, self.width() - 24, baseline)
        if self._empty:
            painter.setPen(QColor(HINT_COLOUR))  # 6:1 on the white pad (the guide line is paler)
            painter.drawText(24, baseline + 20, self.tr("Sign above the line"))
        if not self.isEnabled():
            painter.fillRect(self.rect(), QColor(240, 240, 240, 170))
        painter.setPen(QPen(QColor("#616161"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802
        return PAD_SIZE
