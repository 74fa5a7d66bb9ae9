"""Full-size photo viewer: zoom, pan, copy. The photo exists only in memory.

Nothing is decoded on the GUI thread (issue 17): a picture of about screen size is decoded
first on a worker and shown at once; the full-resolution image is decoded on another worker
meanwhile and kept as a QImage. Zoomed in past the screen picture's detail, the visible part
is cut from the full image and scaled on a worker, and laid over it as one detail tile, so a
200 MP photo is never painted (or scaled) whole on the GUI thread.
"""

from __future__ import annotations

import secrets

import shiboken6
from PySide6.QtCore import QByteArray, QMimeData, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.ui import look, workers
from picsafe_desktop.ui.imaging import SCREEN_SIDE, decode, decode_reduced

ZOOM_STEP = 1.25
MIN_SCALE = 0.02
MAX_SCALE = 32.0

# A private clipboard format placed next to the image: if it is still there when the timer
# runs out, the clipboard still holds the photo we put there and nobody copied over it.
MARKER_FORMAT = "application/x-picsafe-copied-photo"


class ClipboardGuard(QObject):
    """Puts a photo on the clipboard and takes it off again after a timeout or at exit.

    One guard per application (see `clipboard_guard`), so the timer outlives the viewer
    window the photo was copied from.
    """

    cleared = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._token: bytes | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.clear_if_ours)

    def copy(self, image: QImage, clear_after_seconds: int) -> None:
        self._token = secrets.token_hex(16).encode()
        mime = QMimeData()
        mime.setImageData(image)
        mime.setData(MARKER_FORMAT, QByteArray(self._token))
        QApplication.clipboard().setMimeData(mime)
        self.timer.start(max(1, clear_after_seconds) * 1000)

    def holds_our_photo(self) -> bool:
        if self._token is None:
            return False
        mime = QApplication.clipboard().mimeData()
        return (
            mime is not None
            and mime.hasFormat(MARKER_FORMAT)
            and bytes(mime.data(MARKER_FORMAT).data()) == self._token
        )

    def clear_if_ours(self) -> None:
        """Clear the clipboard only if it still holds our photo (not something copied since)."""
        self.timer.stop()
        if self.holds_our_photo():
            QApplication.clipboard().clear()
            self.cleared.emit()
        self._token = None


_guard: ClipboardGuard | None = None


def clipboard_guard() -> ClipboardGuard:
    """The application's guard; it also clears a copied photo when the app quits."""
    global _guard
    app = QApplication.instance()
    if _guard is None or _guard.parent() is not app:
        _guard = ClipboardGuard(app)
        app.aboutToQuit.connect(_guard.clear_if_ours)
    return _guard


def clear_clipboard_if_ours() -> None:
    """For the lock screen: take a copied photo off the clipboard now."""
    if _guard is not None:
        _guard.clear_if_ours()


class PhotoView(QGraphicsView):
    """Drag to pan, Ctrl+wheel to zoom about the mouse; the plain wheel scrolls."""

    zoom_requested = Signal(float)
    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoom_requested.emit(ZOOM_STEP if delta > 0 else 1 / ZOOM_STEP)
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        # Fitting must use the view's own new size: the viewer's resize arrives earlier.
        super().resizeEvent(event)
        self.resized.emit()


class PhotoViewer(QWidget):
    """Shows one photo from its bytes. `clear()` drops it so no patient data stays on screen.

    The window names the patient and the photo's place among theirs; Previous/Next (Page Up,
    Page Down) ask the owner for the neighbouring photo through `navigate`; Esc closes.
    """

    navigate = Signal(int)  # -1: previous photo, +1: next photo
    shown = Signal()  # the screen-size picture is on screen
    full_ready = Signal()  # the full-resolution image is decoded (zooming shows its detail)

    def __init__(self, clipboard_clear_seconds: int = 30, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clipboard_clear_seconds = clipboard_clear_seconds
        self.setAccessibleName(self.tr("Photo viewer"))
        self._fit = True
        self._generation = 0  # bumped by every set_image/clear: late results are dropped
        self._full: QImage | None = None  # full resolution, decoded off the GUI thread
        self._full_size = QSize()
        self._detail_pending = False

        self.scene = QGraphicsScene(self)
        # Scene coordinates are the photo's full-resolution pixels whatever is shown, so the
        # zoom (the view's scale) means the same with the screen picture or the full one.
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene.addItem(self.item)
        self.detail = QGraphicsPixmapItem()  # the visible part at full detail, when zoomed
        self.detail.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.detail.setZValue(1)
        self.scene.addItem(self.detail)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(60)  # after the zoom or pan settles
        self._detail_timer.timeout.connect(self._request_detail)
        self.view = PhotoView(self)
        self.view.setScene(self.scene)
        self.view.setAccessibleName(self.tr("Photo"))
        self.view.setAccessibleDescription(
            self.tr("Drag or use the arrow keys to move around the photo; plus and minus zoom.")
        )
        self.view.zoom_requested.connect(self.zoom_by)
        self.view.resized.connect(self._view_resized)
        self.view.horizontalScrollBar().valueChanged.connect(self._view_moved)
        self.view.verticalScrollBar().valueChanged.connect(self._view_moved)

        def button(text: str, name: str, slot, tip: str) -> QPushButton:
            b = QPushButton(text, self)
            b.setAccessibleName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.zoom_out_button = button(
            "−", self.tr("Zoom out"), self.zoom_out, self.tr("Zoom out (-)")
        )
        self.zoom_in_button = button("+", self.tr("Zoom in"), self.zoom_in, self.tr("Zoom in (+)"))
        self.fit_button = button(
            self.tr("Fit"), self.tr("Fit to window"), self.fit, self.tr("Fit to window (Ctrl+0)")
        )
        self.actual_button = button(
            "100%", self.tr("Actual size"), self.actual_size, self.tr("Actual size")
        )
        self.copy_button = button(
            self.tr("Copy"),
            self.tr("Copy photo"),
            self.copy,
            self.tr(
                "Copy the photo (Ctrl+C); the clipboard is cleared after "
                "{clipboard_clear_seconds} seconds"
            ).format(clipboard_clear_seconds=clipboard_clear_seconds),
        )
        self.previous_button = button(
            self.tr("‹ &Previous"),
            self.tr("Previous photo"),
            lambda: self.navigate.emit(-1),
            self.tr("Previous (Page Up)"),
        )
        self.next_button = button(
            self.tr("&Next ›"),
            self.tr("Next photo"),
            lambda: self.navigate.emit(1),
            self.tr("Next (Page Down)"),
        )
        self.previous_button.hide()
        self.next_button.hide()
        for b, icon_name in (
            (self.zoom_out_button, "zoom-out"),
            (self.zoom_in_button, "zoom-in"),
            (self.fit_button, "fit"),
            (self.actual_button, "actual-size"),
            (self.copy_button, "copy"),
            (self.previous_button, "previous"),
            (self.next_button, "next"),
        ):
            look.with_icon(b, icon_name)
        self.context_label = QLabel(self)
        self.context_label.setAccessibleName(self.tr("Patient and photo"))
        self.zoom_label = QLabel(self)
        self.zoom_label.setAccessibleName(self.tr("Zoom level"))
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("9999%"))
        self.message = QLabel(self)
        self.message.setAccessibleName(self.tr("Viewer message"))
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.hide()

        bar = QHBoxLayout()
        for w in (self.zoom_out_button, self.zoom_in_button, self.fit_button, self.actual_button):
            bar.addWidget(w)
        bar.addWidget(self.zoom_label)
        bar.addStretch(1)
        bar.addWidget(self.context_label)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.next_button)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)

        # Shortcuts live on the viewer so they work whichever of its controls has focus.
        def shortcut(keys, slot) -> None:
            for key in keys:
                s = QShortcut(QKeySequence(key), self)
                s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                s.activated.connect(slot)

        shortcut(["+", "=", "Ctrl++", "Ctrl+="], self.zoom_in)
        shortcut(["-", "Ctrl+-"], self.zoom_out)
        shortcut(["Ctrl+0"], self.fit)
        shortcut(["Ctrl+1"], self.actual_size)
        shortcut([QKeySequence.StandardKey.Copy], self.copy)
        shortcut(["PgUp"], lambda: self._step(-1))
        shortcut(["PgDown"], lambda: self._step(1))
        shortcut(["Esc"], self.close)
        self._update_controls()

    def set_context(self, text: str, has_previous: bool = False, has_next: bool = False) -> None:
        """Who and which photo this is ("Philippa Quenby, MRN …, photo 2 of 5")."""
        self.context_label.setText(text)
        self.setWindowTitle(
            self.tr("Photo — {context}").format(context=text) if text else self.tr("Photo")
        )
        for b, enabled in ((self.previous_button, has_previous), (self.next_button, has_next)):
            b.setVisible(has_previous or has_next)
            b.setEnabled(enabled)

    def _step(self, direction: int) -> None:
        b = self.previous_button if direction < 0 else self.next_button
        if b.isVisible() and b.isEnabled():
            self.navigate.emit(direction)

    # -- content ---------------------------------------------------------------------------
    def set_image(self, data: bytes) -> None:
        """Show the photo: decoded on workers, the screen-size picture first."""
        self.clear()
        generation = self._generation
        self.message.setText(self.tr("Opening the photo…"))
        self.message.show()
        workers.submit(
            decode_reduced,
            data,
            self._screen_side(),
            on_done=lambda result, g=generation: self._reduced_ready(g, result),
            on_error=lambda _exc, g=generation: self._undecodable(g),
        )
        # The full decode starts at once too (the second core), not after the first picture.
        workers.submit(
            decode,
            data,
            on_done=lambda image, g=generation: self._full_decoded(g, image),
            on_error=lambda _exc, g=generation: None,  # the screen picture stays
        )

    def _screen_side(self) -> int:
        """The screen picture's long side: the screen's, in device pixels, so fitting it to
        the window scales it little (a 2560 px picture smooth-scaled onto a 1366 x 768 screen
        cost 50-80 ms a paint on the ward PCs' class of machine)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return SCREEN_SIDE
        size = screen.size() * screen.devicePixelRatio()
        return max(1024, min(SCREEN_SIDE, max(size.width(), size.height())))

    def _current(self, generation: int) -> bool:
        """A worker's result is still wanted: same photo, and the window still exists."""
        return generation == self._generation and shiboken6.isValid(self)

    def _reduced_ready(self, generation: int, result: tuple[QImage, QSize]) -> None:
        if not self._current(generation):
            return  # another photo (or none, or the window closed) since
        image, full_size = result
        self.message.hide()
        self._show_picture(image, full_size)
        self.fit()
        self.shown.emit()

    def _show_picture(self, image: QImage, full_size: QSize) -> None:
        self._full_size = full_size
        self.item.setPixmap(QPixmap.fromImage(image))
        self.item.setScale(full_size.width() / max(1, image.width()))
        self.scene.setSceneRect(0, 0, full_size.width(), full_size.height())

    def _full_decoded(self, generation: int, image: QImage) -> None:
        if not self._current(generation):
            return
        self._full = image
        if not self.has_image():  # the full decode won the race: it is also the picture
            self.message.hide()
            small = image if max(image.width(), image.height()) <= SCREEN_SIDE else None
            if small is not None:
                self._show_picture(small, image.size())
                self.fit()
                self.shown.emit()
        self.full_ready.emit()
        self._schedule_detail()

    def _undecodable(self, generation: int) -> None:
        if not self._current(generation):
            return
        self.clear()
        self.message.setText(self.tr("This photo cannot be displayed."))
        self.message.show()

    def full_image(self) -> QImage | None:
        """The full-resolution image once decoded (None until then)."""
        return self._full

    def shown_resolution(self) -> float:
        """Screen picture pixels per photo pixel (1.0: the picture is the full photo)."""
        return 1.0 / self.item.scale() if self.has_image() else 0.0

    # -- full detail when zoomed in ---------------------------------------------------------
    def _needs_detail(self) -> bool:
        # The screen picture is enough while one of its pixels covers at most one screen pixel.
        return (
            self._full is not None
            and self.has_image()
            and self.item.scale() > 1.0
            and self.scale() * self.item.scale() > 1.0
        )

    def _schedule_detail(self) -> None:
        if self._needs_detail():
            self._detail_timer.start()
        else:
            self._detail_timer.stop()
            self.detail.setPixmap(QPixmap())

    def _view_moved(self, _value: int) -> None:
        if self._full is not None:
            self._schedule_detail()

    def _request_detail(self) -> None:
        if not self._needs_detail():
            return
        if self._detail_pending:
            self._detail_timer.start()  # one tile at a time: ask again when it arrives
            return
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        rect = visible.intersected(self.scene.sceneRect()).toAlignedRect()
        if rect.isEmpty():
            return
        scale = min(1.0, self.scale())  # never more pixels than the photo has
        out = QSize(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))
        self._detail_pending = True
        generation = self._generation
        workers.submit(
            _cut,
            self._full,
            rect,
            out,
            on_done=lambda tile, g=generation, r=rect: self._detail_ready(g, r, tile),
            on_error=lambda _exc: setattr(self, "_detail_pending", False),
        )

    def _detail_ready(self, generation: int, rect, tile: QImage) -> None:
        self._detail_pending = False
        if not self._current(generation) or not self._needs_detail():
            return
        self.detail.setPixmap(QPixmap.fromImage(tile))
        self.detail.setPos(rect.x(), rect.y())
        self.detail.setScale(rect.width() / max(1, tile.width()))

    def detail_shown(self) -> bool:
        return not self.detail.pixmap().isNull()

    def clear(self) -> None:
        """Drop the photo (the pixmaps and the decoded image are freed; a blank view stays)."""
        self._generation += 1
        self._full = None
        self._full_size = QSize()
        self._detail_pending = False
        self._detail_timer.stop()
        self.item.setPixmap(QPixmap())
        self.item.setScale(1.0)
        self.detail.setPixmap(QPixmap())
        self.scene.setSceneRect(0, 0, 0, 0)
        self.view.resetTransform()
        self.message.hide()
        self._fit = True
        self._update_controls()

    def has_image(self) -> bool:
        return not self.item.pixmap().isNull()

    # -- zoom ------------------------------------------------------------------------------
    def scale(self) -> float:
        return self.view.transform().m11()

    def zoom_by(self, factor: float) -> None:
        if not self.has_image():
            return
        target = min(MAX_SCALE, max(MIN_SCALE, self.scale() * factor))
        self._fit = False
        self.view.scale(target / self.scale(), target / self.scale())
        self._update_controls()
        self._schedule_detail()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        self._fit = True
        if self.has_image():
            self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self._update_controls()
        self._schedule_detail()

    def actual_size(self) -> None:
        if not self.has_image():
            return
        self._fit = False
        self.view.resetTransform()
        self._update_controls()
        self._schedule_detail()

    def _view_resized(self) -> None:
        if self._fit:
            self.fit()

    def _update_controls(self) -> None:
        shown = self.has_image()
        for b in (
            self.zoom_in_button,
            self.zoom_out_button,
            self.fit_button,
            self.actual_button,
            self.copy_button,
        ):
            b.setEnabled(shown)
        self.zoom_label.setText(f"{round(self.scale() * 100)}%" if shown else "")

    # -- copy and close --------------------------------------------------------------------
    def copy(self) -> None:
        if self.has_image():
            image = self._full if self._full is not None else self.item.pixmap().toImage()
            clipboard_guard().copy(image, self.clipboard_clear_seconds)

    def closeEvent(self, event) -> None:
        self.clear()
        super().closeEvent(event)


def _cut(full: QImage, rect, size: QSize) -> QImage:
    """The part `rect` of the full image at `size` pixels (on a worker)."""
    part = full.copy(rect)
    if part.size() == size:
        return part
    return part.scaled(
        size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
