"""Thumbnail grid model: decrypts thumbnails lazily, on workers, only for rows Qt asks to paint."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from picsafe_desktop.model import PhotoItem
from picsafe_desktop.ui import imaging, workers

ItemIdRole = Qt.ItemDataRole.UserRole + 1
# A thumbnail request with more than this many newer ones is skipped when its turn comes:
# its row has most likely been scrolled out of view (a view shows a few dozen at a time).
STALE_AFTER = 150


def placeholder(size: int) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(QColor("#e4e7eb"))
    painter = QPainter(pix)
    painter.setPen(QColor("#8a939e"))
    painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, "…")
    painter.end()
    return pix


def _with_badge(image: QImage, text: str) -> QImage:
    """A label painted across the top of a thumbnail (QPainter on a QImage is thread-safe)."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    height = painter.fontMetrics().height() + 6
    painter.fillRect(0, 0, image.width(), height, QColor(20, 20, 20, 210))
    painter.setPen(QColor("white"))
    painter.drawText(0, 0, image.width(), height, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return image


class ThumbnailModel(QAbstractListModel):
    """Rows are vault items. Pixmaps live only in memory (bounded LRU), never in a disk cache."""

    thumbnail_failed = Signal(str)

    def __init__(
        self,
        load: Callable[[str], bytes],
        size: int = 160,
        cache_limit: int = 600,
        parent=None,
        caption: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._load = load
        self._caption = caption  # e.g. the capture time, read on the worker with the thumbnail
        self._captions: dict[str, str] = {}
        self._size = size
        self._items: list[PhotoItem] = []
        self._rows: dict[str, int] = {}  # item id -> row: a thumbnail's arrival finds its row
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._cache_limit = cache_limit
        self._pending: set[str] = set()
        self._broken: set[str] = set()  # failed once: show a mark, do not retry on every paint
        self._generation = 0
        self._asked = 0  # requests made so far; a request too far back was scrolled past
        self._placeholder = placeholder(size)

    # -- content ---------------------------------------------------------------------------
    def set_items(self, items: list[PhotoItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._rows = {item.item_id: row for row, item in enumerate(self._items)}
        self._generation += 1
        self._pending.clear()
        self.endResetModel()

    def set_size(self, size: int) -> None:
        """Another thumbnail size: decoded pixmaps are dropped and decoded again."""
        if size == self._size:
            return
        self._size = size
        self._placeholder = placeholder(size)
        items = self._items
        self.clear()
        self.set_items(items)

    def clear(self) -> None:
        """Forget everything, pixmaps included (used when the window locks)."""
        self.set_items([])
        self._cache.clear()
        self._captions.clear()
        self._broken.clear()

    def item(self, row: int) -> PhotoItem:
        return self._items[row]

    def row_of(self, item_id: str) -> int:
        # A dict, not a scan: with 10,000 photos each arriving thumbnail scanned the list on
        # the GUI thread (issue 17: 66 ms stalls while scrolling).
        return self._rows.get(item_id, -1)

    def pixmap(self, item_id: str) -> QPixmap | None:
        """The decoded thumbnail if it is in memory (never loads)."""
        return self._cache.get(item_id)

    def cached_count(self) -> int:
        return len(self._cache)

    def loading_count(self) -> int:
        return len(self._pending)

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self._cache.get(item.item_id)
            if pix is None:
                if item.item_id not in self._broken:
                    self._request(item.item_id)
                return self._placeholder
            self._cache.move_to_end(item.item_id)
            return pix
        if role == Qt.ItemDataRole.DisplayRole:
            return self._captions.get(item.item_id) or item.created_at.strftime("%d %b %Y %H:%M")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Photo {index.row() + 1} of {len(self._items)}"
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self._size + 16, self._size + 34)
        if role == ItemIdRole:
            return item.item_id
        return None

    # -- lazy loading ----------------------------------------------------------------------
    def _request(self, item_id: str) -> None:
        if item_id in self._pending:
            return
        self._pending.add(item_id)
        generation = self._generation
        self._asked += 1
        workers.submit(
            self._decode,
            item_id,
            self._asked,
            on_done=lambda image, i=item_id, g=generation: self._loaded(i, g, image),
            on_error=lambda exc, i=item_id, g=generation: self._failed(i, g),
        )

    def _decode(self, item_id: str, asked: int) -> tuple[str, QImage] | None:
        if self._asked - asked > STALE_AFTER:
            # Scrolled past: thousands of rows flew by, each asking for its thumbnail once;
            # decrypting them all kept the workers (and the GIL) busy long after.
            return None
        # QImage (not QPixmap) is safe to build off the GUI thread; Pillow decodes (no Qt
        # image-plugin lock shared with other threads, see ui/imaging.py).
        scaled = imaging.thumbnail_image(self._load(item_id), QSize(self._size, self._size))
        if scaled.isNull():
            raise ValueError("thumbnail could not be decoded")
        caption = self._caption(item_id) if self._caption else ""
        badge = ""
        if isinstance(caption, tuple):  # (caption, badge) e.g. a redacted copy
            caption, badge = caption
        if badge:
            scaled = _with_badge(scaled, badge)
        return caption, scaled

    def _loaded(self, item_id: str, generation: int, loaded: tuple[str, QImage] | None) -> None:
        self._pending.discard(item_id)
        if generation != self._generation or loaded is None:
            return  # reset (locked, other patient) while this was decrypting, or skipped
        caption, image = loaded
        if caption:
            self._captions[item_id] = caption
        self._cache[item_id] = QPixmap.fromImage(image)
        while len(self._cache) > self._cache_limit:
            self._cache.popitem(last=False)
        row = self.row_of(item_id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(
                index, index, [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.DisplayRole]
            )

    def _failed(self, item_id: str, generation: int) -> None:
        self._pending.discard(item_id)
        if generation == self._generation:
            self._broken.add(item_id)
            self.thumbnail_failed.emit(item_id)
