"""The intake step: one import sorted into patients before any consent is asked.

A phone holds photos of several patients and some personal ones. The batch is shown as a
grid of large thumbnails, pre-grouped into suggested sets by capture time
(`picsafe_desktop.intake`). The clinician selects one patient's photos (click, Shift+click,
Ctrl+A, arrow keys; a set in the list selects all its photos), records that patient's
consent, and carries on with the next set. Photos that are not clinical or of nobody here are
destroyed (after a confirmation) or left waiting for later. Each photo ends with exactly one
consent or is destroyed; the window never touches the vault itself (it emits requests).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.ui import imaging, look

THUMB = QSize(200, 200)
_ID = Qt.ItemDataRole.UserRole
_SET = Qt.ItemDataRole.UserRole + 1


def thumbnail_pixmap(jpeg: bytes, size: QSize = THUMB) -> QPixmap:
    """Decode in memory at display size; a grey tile when the bytes are not an image.
    (Pillow, not a QImageReader on a Python QBuffer: see ui/imaging.py.)"""
    image = imaging.thumbnail_image(jpeg, size)
    return _grey(size) if image.isNull() else QPixmap.fromImage(image)


def _grey(size: QSize = THUMB) -> QPixmap:
    blank = QPixmap(size)
    blank.fill(QColor("#bdbdbd"))
    return blank


class IntakeDialog(QDialog):
    consent_requested = Signal(list, str)  # item ids, MRN read from the set's wristband or ""
    destroy_requested = Signal(list)  # item ids marked "not clinical / not this patient"

    def __init__(self, batch, waiting_batches: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch = batch
        self.setObjectName("intakeDialog")
        self.setModal(True)
        self.setAccessibleName(self.tr("Sort the photos by patient"))
        more = f" (batch 1 of {waiting_batches})" if waiting_batches > 1 else ""
        by = f", imported by {batch.imported_by}" if batch.imported_by else ""
        self.setWindowTitle(
            self.tr("Photos to file — {label}{by}{more}").format(
                label=batch.label, by=by, more=more
            )
        )
        self._sets = [list(s.item_ids) for s in batch.sets]
        self._mrns = [s.mrn or "" for s in batch.sets]
        self._names = [s.describe() for s in batch.sets]
        self._sites: dict[str, dict] = {}  # item id -> its own body site (else the form's)
        self._busy = False

        self.header = QLabel(self)
        self.header.setWordWrap(True)
        self.sets_list = QListWidget(self)
        self.sets_list.setAccessibleName(self.tr("Suggested sets, one per patient"))
        self.sets_list.itemClicked.connect(lambda item: self.select_set(self.sets_list.row(item)))
        self.sets_list.currentRowChanged.connect(self._set_row_changed)
        self.grid = QListWidget(self)
        self.grid.setAccessibleName(self.tr("Photos waiting for consent"))
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setIconSize(THUMB)
        self.grid.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 44))
        self.grid.setSpacing(6)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.itemSelectionChanged.connect(self._update_buttons)
        self._bands = [set(s.wristbands) for s in batch.sets]  # MRNs of each set's bands
        self._items: dict[str, QListWidgetItem] = {}
        waiting = _grey()
        for number, ids in enumerate(self._sets, start=1):
            for item_id in ids:
                item = QListWidgetItem(
                    QIcon(waiting), self.tr("Set {number}").format(number=number)
                )
                item.setData(_ID, item_id)
                item.setData(_SET, number - 1)
                item.setData(
                    Qt.ItemDataRole.AccessibleTextRole,
                    self.tr("Photo in set {number}").format(number=number),
                )
                self.grid.addItem(item)
                self._items[item_id] = item
        # Issue 17: thumbnails decoded on a worker; the dialog opens at once and fills in.
        order = list(self._items)
        imaging.thumbnails_async(
            [batch.thumbnails.get(i, b"") for i in order],
            THUMB,
            lambda chunk: self._thumbnails_decoded(order, chunk),
        )

        self.consent_button = QPushButton(self)
        self.consent_button.setObjectName("primary")
        look.primary(self.consent_button, "consent")
        self.consent_button.clicked.connect(self._ask_consent)
        self.destroy_button = QPushButton(self)
        self.destroy_button.clicked.connect(self._ask_destroy)
        self.site_button = QPushButton(self)
        self.site_button.setAccessibleName(self.tr("Body site of the selected photos"))
        self.site_button.setToolTip(
            self.tr(
                "When a set holds photos of different body sites (a wound and a lesion), select "
                "the photos of one site and pick it on the body map. Photos without a site of "
                "their own take the one on the consent form."
            )
        )
        self.site_button.setAutoDefault(False)
        self.site_button.clicked.connect(self.pick_site)
        self.later_button = QPushButton(self.tr("&Leave the rest waiting"), self)
        self.later_button.setToolTip(
            self.tr(
                'Close this for now: the photos stay encrypted and unusable. "Photos waiting" at '
                "the bottom of the window opens them again; they also come back at the next "
                "sign-in."
            )
        )
        self.later_button.clicked.connect(self.reject)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel(self.tr("<b>Suggested sets</b> (by time taken)"), left))
        column.addWidget(self.sets_list, 1)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(self.grid)
        splitter.setSizes([260, 900])
        splitter.setStretchFactor(1, 1)
        # Two rows on a narrow screen (1366 px at 150 %: 911 points), one row otherwise.
        aside, ahead = QHBoxLayout(), QHBoxLayout()
        aside.addWidget(self.destroy_button)
        aside.addWidget(self.later_button)
        aside.addStretch(1)
        ahead.addStretch(1)
        ahead.addWidget(self.site_button)
        ahead.addWidget(self.consent_button)
        buttons = QBoxLayout(
            QBoxLayout.Direction.TopToBottom
            if look.at_most_screen(QSize(1000, 0), self).width() < 1000
            else QBoxLayout.Direction.LeftToRight
        )
        buttons.addLayout(aside)
        buttons.addLayout(ahead)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        for button, icon_name in (
            (self.destroy_button, "delete"),
            (self.later_button, "later"),
            (self.site_button, "body-site"),
        ):
            look.with_icon(button, icon_name)
        select_all = QShortcut(QKeySequence.StandardKey.SelectAll, self)
        select_all.activated.connect(self.grid.selectAll)

        self._refresh_sets()
        self.select_set(0)
        self.grid.setFocus()
        self._fit_screen()

    def _thumbnails_decoded(self, order: list[str], chunk) -> None:
        if not shiboken6.isValid(self):
            return  # closed while the worker decoded
        for index, image in chunk:
            item = self._items.get(order[index])
            if item is not None and not image.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def apply_wristbands(self, bands: dict[str, str]) -> None:
        """Issue 17: the wristband scan runs after the dialog opened. Photos found to show a
        wristband leave the grid; their MRN goes to the set they were taken in (two
        different bands in one set: none, the clinician types it)."""
        for item_id, mrn in bands.items():
            for number, ids in enumerate(self._sets):
                if item_id in ids:
                    ids.remove(item_id)
                    self._bands[number].add(mrn)
                    one = len(self._bands[number]) == 1
                    self._mrns[number] = next(iter(self._bands[number])) if one else ""
        kept = set(self.selected_ids()) - set(bands)
        for row in reversed(range(self.grid.count())):
            if self.grid.item(row).data(_ID) in bands:
                self.grid.takeItem(row)
        self.sets_list.blockSignals(True)  # rebuilding the list must not select another set
        self._refresh_sets()
        self.sets_list.blockSignals(False)
        selection = self.grid.selectionModel()  # taking the current photo moved the selection
        selection.clearSelection()
        for row in range(self.grid.count()):
            if self.grid.item(row).data(_ID) in kept:
                index = self.grid.model().index(row, 0)
                selection.select(index, QItemSelectionModel.SelectionFlag.Select)
        self._update_buttons()

    # --- what is left -----------------------------------------------------------------
    def remaining(self) -> list[str]:
        return [self.grid.item(r).data(_ID) for r in range(self.grid.count())]

    def selected_ids(self) -> list[str]:
        rows = sorted(self.grid.row(i) for i in self.grid.selectedItems())
        return [self.grid.item(r).data(_ID) for r in rows]

    def sites_for(self, item_ids: list[str]) -> dict[str, dict]:
        """The body sites given to some of these photos here (item id -> site)."""
        return {i: self._sites[i] for i in item_ids if i in self._sites}

    def set_site(self, item_ids: list[str], site: dict | None) -> None:
        """Give these photos their own body site (None: back to the form's)."""
        for item_id in item_ids:
            if site is None:
                self._sites.pop(item_id, None)
            else:
                self._sites[item_id] = site
        for row in range(self.grid.count()):
            item = self.grid.item(row)
            if item.data(_ID) in item_ids:
                self._caption(item)
        self._update_buttons()

    def pick_site(self) -> None:
        """The body map for the selected photos (the same picker as the consent form's)."""
        from picsafe_desktop.ui.body_map import BodySiteDialog

        ids = self.selected_ids()
        if not ids or self._busy:
            return
        dialog = BodySiteDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_site(ids, dialog.site))
        self.body_map_dialog = dialog
        dialog.open()

    def _caption(self, item: QListWidgetItem) -> None:
        number = item.data(_SET) + 1
        site = self._sites.get(item.data(_ID))
        caption = self.tr("Set {number}").format(number=number)
        label = self.tr("Photo in set {number}").format(number=number)
        if site:
            caption += "\n" + site["text"]
            label += ", " + site["text"]
        item.setText(caption)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, label)

    def set_count(self) -> int:
        return sum(1 for ids in self._sets if ids)

    def select_set(self, index: int) -> None:
        """Select exactly the photos of one suggested set (the next patient's, usually)."""
        if not 0 <= index < len(self._sets):
            return
        wanted = set(self._sets[index])
        selection = self.grid.selectionModel()
        selection.clearSelection()
        first = None
        for row in range(self.grid.count()):
            item = self.grid.item(row)
            if item.data(_ID) in wanted:
                index_ = self.grid.indexFromItem(item)
                selection.select(index_, QItemSelectionModel.SelectionFlag.Select)
                first = first or item
        if first is not None:
            self.grid.setCurrentItem(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.grid.scrollToItem(first)
        self.sets_list.blockSignals(True)
        self.sets_list.setCurrentRow(self._list_row(index))
        self.sets_list.blockSignals(False)
        self._update_buttons()

    def remove(self, item_ids: list[str]) -> None:
        """These photos are settled (consent recorded, refused or destroyed): take them out
        and offer the next set."""
        gone = set(item_ids)
        for row in reversed(range(self.grid.count())):
            if self.grid.item(row).data(_ID) in gone:
                self.grid.takeItem(row)
        self._sets = [[i for i in ids if i not in gone] for ids in self._sets]
        self._busy = False
        self._refresh_sets()
        next_set = next((n for n, ids in enumerate(self._sets) if ids), None)
        if next_set is not None:
            self.select_set(next_set)
        self._update_buttons()

    def mrn_for(self, item_ids: list[str]) -> str:
        """The wristband MRN of the sets the selection touches, when they name exactly one
        (the clinician put these photos together; two different bands mean: type it)."""
        touched = {n for n, ids in enumerate(self._sets) if set(ids) & set(item_ids)}
        mrns = {self._mrns[n] for n in touched if self._mrns[n]}
        return mrns.pop() if len(mrns) == 1 else ""

    def set_busy(self, text: str) -> None:
        self._busy = True
        self.status.setText(text)
        self._update_buttons()

    def set_status(self, text: str) -> None:
        self._busy = False
        self.status.setText(text)
        self._update_buttons()

    # --- internals --------------------------------------------------------------------
    def _list_row(self, set_index: int) -> int:
        return sum(1 for ids in self._sets[:set_index] if ids)

    def _refresh_sets(self) -> None:
        self.sets_list.clear()
        for number, ids in enumerate(self._sets, start=1):
            if not ids:
                continue
            text = self.tr("Set {number}: {when} · %n photo(s)", "", len(ids)).format(
                number=number, when=self._names[number - 1].split(" · ")[0]
            )
            if self._mrns[number - 1]:
                text += "\n" + self.tr("MRN {mrn} (wristband)").format(mrn=self._mrns[number - 1])
            item = QListWidgetItem(text, self.sets_list)
            item.setData(_SET, number - 1)
        left = len(self.remaining())
        sets = self.set_count()
        self.header.setText(
            self.tr(
                "<b>%n photo(s) to file</b>, in {sets} (a new set starts after "
                "a 10-minute gap). Select one patient's photos — a set, or "
                "click, Shift+click, Ctrl+A — and record that patient's "
                "consent; then carry on with the next patient.",
                "",
                left,
            ).format(sets=self.tr("%n suggested set(s)", "", sets))
        )

    def _set_row_changed(self, row: int) -> None:
        item = self.sets_list.item(row)
        if item is not None:
            self.select_set(item.data(_SET))

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        self.consent_button.setText(
            self.tr("&Record consent for %n photo(s)…", "", n) if n else self.tr("&Record consent…")
        )
        self.consent_button.setEnabled(bool(n) and not self._busy)
        self.destroy_button.setText(
            self.tr("Not clinical / not this patient — &destroy %n photo(s)…", "", n)
            if n
            else self.tr("Not clinical / not this patient — &destroy…")
        )
        self.destroy_button.setEnabled(bool(n) and not self._busy)
        self.site_button.setText(
            self.tr("Body &site for %n photo(s)…", "", n) if n else self.tr("Body &site…")
        )
        self.site_button.setEnabled(bool(n) and not self._busy)

    def _ask_consent(self) -> None:
        ids = self.selected_ids()
        if ids and not self._busy:
            self.consent_requested.emit(ids, self.mrn_for(ids))

    def _ask_destroy(self) -> None:
        ids = self.selected_ids()
        if ids and not self._busy:
            self.destroy_requested.emit(ids)

    def _fit_screen(self) -> None:
        width, height = 1240, 700
        screen = self.screen() or (self.parentWidget().screen() if self.parentWidget() else None)
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width() - 20)
            height = min(height, available.height() - 50)
        self.resize(width, height)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        # Enter on the grid records consent for the selection (the primary action); a
        # barcode scanner never types here, there is no text field.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.grid.hasFocus():
            event.accept()
            self._ask_consent()
            return
        super().keyPressEvent(event)


class WaitingEntry(QPushButton):
    """ "N photos waiting for consent" in the main window's status bar, while the intake is
    closed with photos left waiting: one click opens them again (issue 12). It names who
    imported them; it shows no patient data, and is hidden while the window is locked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waitingEntry")
        self.setAccessibleName(self.tr("Open the photos waiting for consent"))
        self.photos = 0
        self.hide()

    def show_count(self, photos: int, imported_by: list[str]) -> None:
        self.photos = photos
        if not photos:
            self.hide()
            return
        self.setText(self.tr("%n photo(s) waiting for consent — open", "", photos))
        who = ", ".join(dict.fromkeys(p for p in imported_by if p))
        self.setToolTip(self.tr("Imported by {who}").format(who=who) if who else "")
        self.show()
