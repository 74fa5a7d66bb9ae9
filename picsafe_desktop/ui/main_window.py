"""The main window: what a nurse sees between patients.

Pages: the lock screen (nobody signed in, nothing identifying on screen), the empty state
(signed in, no photos yet) and the browser (patients | thumbnail grid | details).
All vault work runs on worker threads through `services`; this module only draws.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop import APP_NAME, __version__
from picsafe_desktop.ui import workers
from picsafe_desktop.ui.importing import ImportMixin
from picsafe_desktop.ui.lock import IdleMonitor, LockScreen, SessionLockWatcher
from picsafe_desktop.ui.photo_actions import PhotoActionsMixin
from picsafe_desktop.ui.thumbnails import ItemIdRole, ThumbnailModel

log = logging.getLogger(__name__)

EMPTY_STATE_TEXT = (
    "<h2>No photos yet</h2>"
    "<p>To bring clinical photos in:</p>"
    "<ul>"
    "<li>connect the phone with its USB cable and unlock it, or</li>"
    "<li>drag photos from a folder onto this window, or</li>"
    "<li>press <b>Import photos</b> in the toolbar.</li>"
    "</ul>"
    "<p>Each photo is stripped of hidden data (location, phone serial, dates), "
    "encrypted, and removed from where it came from. "
    "You will then be asked to record the patient's consent.</p>"
)


def _taken(iso: str | None) -> dt.datetime | None:
    """The capture time stored in a photo's metadata, if the camera recorded a valid one."""
    try:
        return dt.datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _when(iso: str | None) -> str:
    """A capture time as people read it, with the UTC offset when the camera recorded one."""
    moment = _taken(iso)
    if moment is None:
        return iso or "not recorded by the camera"
    text = moment.strftime("%d %b %Y %H:%M")
    return f"{text} (UTC{moment:%z})" if moment.tzinfo else text


class MainWindow(ImportMixin, PhotoActionsMixin, QMainWindow):
    def __init__(self, site, services=None, monitor=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.site = site
        self.services = services
        self.consent_dialog = None
        self._last_staff = None
        self.last_import = None
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1200, 720)
        self.setMinimumSize(800, 560)

        self.stack = QStackedWidget(self)
        self.lock_screen = LockScreen(site.security.require_pin, self)
        self.lock_screen.sign_in_requested.connect(self.sign_in)
        self.empty_state = self._build_empty_state()
        self.browser = self._build_browser()
        for page in (self.lock_screen, self.empty_state, self.browser):
            self.stack.addWidget(page)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = self._build_banner(central)
        self.progress_area = QVBoxLayout()
        layout.addWidget(self.banner)
        layout.addLayout(self.progress_area)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_actions()
        self.thumbnails.modelReset.connect(self._update_photo_actions)
        self.statusBar().showMessage("Ready")

        app = QApplication.instance()
        self.idle = IdleMonitor(app, site.security.idle_lock_minutes, self)
        self.idle.idle.connect(lambda: self.lock("idle"))
        self.session_watcher = SessionLockWatcher(self)
        self.session_watcher.session_locked.connect(self.lock)
        self._pending_volumes: list = []
        self.monitor = monitor
        if monitor is not None:
            monitor.volume_appeared.connect(self.volume_appeared)
            monitor.volume_gone.connect(self.volume_gone)
            monitor.drop_batch.connect(self.drop_folder_batch)
        self._restore_geometry()
        self._show_locked()

    # -- building --------------------------------------------------------------------------
    def _build_empty_state(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        label = QLabel(EMPTY_STATE_TEXT, page)
        label.setObjectName("emptyStateLabel")
        label.setAccessibleName("How to get photos in")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFixedWidth(560)
        layout.addStretch(1)
        layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.empty_state_label = label
        return page

    def _build_browser(self) -> QWidget:
        splitter = QSplitter(self)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        self.search_edit = QLineEdit(left)
        self.search_edit.setPlaceholderText("Search by MRN or name")
        self.search_edit.setAccessibleName("Search patients by MRN or name")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._filter_patients)
        self.patient_list = QListWidget(left)
        self.patient_list.setAccessibleName("Patients")
        self.patient_list.currentItemChanged.connect(self._patient_selected)
        left_layout.addWidget(self.search_edit)
        left_layout.addWidget(self.patient_list, 1)

        size = int(QSettings().value("view/thumbnail_size", 160))
        self.thumbnails = ThumbnailModel(
            self._load_thumbnail, size=size, parent=self, caption=self._caption_for
        )
        self.grid = QListView(splitter)
        self.grid.setAccessibleName("Photos")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)  # lets the view ask only for visible rows
        self.grid.setIconSize(QSize(size, size))
        self.grid.setSpacing(6)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.thumbnails)
        self.grid.selectionModel().currentChanged.connect(self._photo_selected)
        self.grid.doubleClicked.connect(lambda _: self.open_viewer())

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        self.details = QLabel("Select a photo to see its details.", right)
        self.details.setObjectName("details")
        self.details.setAccessibleName("Photo details")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        right_layout.addWidget(self.details, 1)
        splitter.setSizes([260, 640, 300])
        splitter.setStretchFactor(1, 1)
        return splitter

    def _build_actions(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)

        def action(text, slot, shortcut=None, tip=""):
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(shortcut)
            act.setToolTip(tip or text.replace("&", ""))
            return act

        self.import_action = action(
            "&Import photos…", self.choose_import, "Ctrl+I", "Import photos from files or folders"
        )
        self.usb_action = action(
            "Import from &USB camera or phone…",
            self.choose_usb_device,
            tip="Phones and cameras connected by USB (PTP/MTP)",
        )
        self.view_action = action("&Open photo", self.open_viewer, "Return")
        self.delete_action = action(
            "&Delete photos…", self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.audit_action = action("&Audit log", lambda: self.show_audit(), "Ctrl+L")
        self.export_action = action(
            "&Export…", self.show_export, "Ctrl+E", "Send the patient's photos into the record"
        )
        self.redact_action = action(
            "&Redact…", self.show_redaction, "Ctrl+R", "Black out or blur parts of the photo"
        )
        self.withdraw_action = action("&Withdraw consent…", self.withdraw_consent)
        self.patient_audit_action = action("Audit log for this &patient", self.show_patient_audit)
        self.lock_action = action(
            "&Lock",
            lambda: self.lock("button"),
            "Ctrl+Shift+L",
            "Lock now: hide all patient data until someone signs in",
        )
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.about_action = action(f"&About {APP_NAME}", self.show_about)
        self.settings_action = action(
            "&Settings…", self.show_settings, QKeySequence.StandardKey.Preferences
        )

        for act in (
            self.import_action,
            self.view_action,
            self.export_action,
            self.redact_action,
            self.delete_action,
            self.audit_action,
        ):
            toolbar.addAction(act)
        spacer = QWidget(toolbar)
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        toolbar.addWidget(spacer)
        toolbar.addAction(self.lock_action)
        self.toolbar = toolbar

        file_menu = self.menuBar().addMenu("&File")
        for act in (self.import_action, self.usb_action, self.settings_action, self.lock_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        photo_menu = self.menuBar().addMenu("&Photo")
        for act in (self.view_action, self.export_action, self.redact_action, self.delete_action):
            photo_menu.addAction(act)
        patient_menu = self.menuBar().addMenu("P&atient")
        for act in (self.withdraw_action, self.patient_audit_action, self.audit_action):
            patient_menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)
        self._patient_actions = [
            self.patient_audit_action,
            self.usb_action,
            self.import_action,
            self.view_action,
            self.delete_action,
            self.audit_action,
            self.lock_action,
            self.settings_action,
            self.export_action,
            self.redact_action,
            self.withdraw_action,
        ]
        self._add_governance_actions(photo_menu, patient_menu)  # issue 15 (photo_actions.py)

    # -- lock / sign-in --------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self.services is None or self.services.staff is None

    def _show_locked(self) -> None:
        for act in self._patient_actions:
            act.setEnabled(False)
        self.lock_screen.prefill(self._last_staff)
        self.stack.setCurrentWidget(self.lock_screen)
        self.idle.stop()

    def sign_in(self, staff, pin: str = "") -> None:
        if self.services is None:
            return
        try:
            self.services.sign_in(staff, pin)
        except Exception as exc:  # noqa: BLE001 - PinError, vault errors: shown, not fatal
            self.lock_screen.show_error(str(exc))
            return
        self._last_staff = staff
        for act in self._patient_actions:
            act.setEnabled(True)
        self._update_photo_actions()
        self.statusBar().showMessage(f"Signed in as {staff.name}")
        self.idle.restart()
        self.refresh()
        self._show_volume_banner()
        self.check_waiting_batches()

    def lock(self, reason: str = "button") -> None:
        """Hide every trace of patient data, then ask who is there."""
        if self.locked and self.stack.currentWidget() is self.lock_screen:
            return
        if self.consent_dialog is not None:
            # The form holds patient details: close it undecided. The batch still waits and
            # the dialog comes back after sign-in, so locking cannot skip consent.
            self.consent_dialog.close_without_decision()
        for widget in QApplication.topLevelWidgets():
            if widget is not self and widget.isVisible() and widget.isWindow():
                widget.close()
        self.patient_list.clear()
        self.search_edit.clear()
        self.thumbnails.clear()
        self.details.setText("")
        if self.services is not None:
            self.services.sign_out(reason)
        self.banner.hide()
        from picsafe_desktop.ui.viewer import clear_clipboard_if_ours

        clear_clipboard_if_ours()  # a copied photo must not outlive the session
        self.statusBar().showMessage("Locked")
        log.info("window locked (%s)", reason)
        self._show_locked()

    # -- content ---------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.locked:
            return
        workers.submit(
            self.services.patients,
            on_done=self._show_patients,
            on_error=self._error("Could not list patients"),
        )

    def _show_patients(self, patients) -> None:
        if self.locked:
            return
        current = self.patient_list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole).mrn if current else None
        self.patient_list.clear()
        for patient in patients:
            text = (
                f"{patient.name or '(no name)'}\nMRN {patient.mrn} · {patient.photo_count} photos"
            )
            item = QListWidgetItem(text, self.patient_list)
            item.setData(Qt.ItemDataRole.UserRole, patient)
            if patient.mrn == keep:
                self.patient_list.setCurrentItem(item)
        self._filter_patients(self.search_edit.text())
        if not patients:
            self.stack.setCurrentWidget(self.empty_state)
            return
        self.stack.setCurrentWidget(self.browser)
        if self.patient_list.currentItem() is None:
            self.patient_list.setCurrentRow(0)

    def _filter_patients(self, text: str) -> None:
        for row in range(self.patient_list.count()):
            item = self.patient_list.item(row)
            item.setHidden(not item.data(Qt.ItemDataRole.UserRole).matches(text))

    def _patient_selected(self, current, _previous=None) -> None:
        if current is None or self.locked:
            self.thumbnails.set_items([])
            return
        patient = current.data(Qt.ItemDataRole.UserRole)
        workers.submit(
            self.services.photos,
            patient.consent_ids,
            on_done=self._show_photos,
            on_error=self._error("Could not list photos"),
        )

    def _show_photos(self, items) -> None:
        """Replace the grid's photos, keeping the photo the user had selected."""
        if self.locked:
            return
        current = self.grid.currentIndex().data(ItemIdRole)
        self.thumbnails.set_items(items)
        row = self.thumbnails.row_of(current) if current else -1
        if row >= 0:
            self.grid.setCurrentIndex(self.thumbnails.index(row))

    def _caption_for(self, item_id: str) -> str:
        """Grid caption: when the photo was taken (clinically useful), if the camera said."""
        moment = _taken(self.services.metadata(item_id).get("capture_time"))
        return f"Taken {moment:%d %b %Y %H:%M}" if moment else ""

    def _load_thumbnail(self, item_id: str) -> bytes:
        return self.services.thumbnail(item_id)

    def selected_item_ids(self) -> list[str]:
        return [i.data(ItemIdRole) for i in self.grid.selectionModel().selectedIndexes()]

    def _update_photo_actions(self) -> None:
        has_photo = not self.locked and self.grid.currentIndex().isValid()
        for act in (
            self.view_action,
            self.export_action,
            self.redact_action,
            self.delete_action,
            self.withdraw_action,
        ):
            act.setEnabled(has_photo)

    def _photo_selected(self, current, _previous=None) -> None:
        self._update_photo_actions()
        if not current.isValid() or self.locked:
            self.details.setText("")
            return
        item = self.thumbnails.item(current.row())
        workers.submit(
            self._details_for,
            item,
            on_done=self.details.setText,
            on_error=self._error("Could not read photo details"),
        )

    def _details_for(self, item) -> str:
        meta = self.services.metadata(item.item_id)
        consent = self.services.read_consent(item.consent_id) if item.consent_id else None
        rows = [
            ("Captured", _when(meta.get("capture_time"))),
            ("Size", f"{meta.get('width', '?')} × {meta.get('height', '?')} px"),
            ("Imported", item.created_at.strftime("%d %b %Y %H:%M")),
        ]
        if consent:
            uses = ", ".join(sorted(u.value for u in consent.uses))
            rows += [
                (
                    "Consent",
                    f"recorded {consent.obtained_at:%d %b %Y %H:%M} by {consent.obtained_by.name}",
                ),
                ("Uses allowed", uses),
                ("Body site", consent.body_site or "—"),
                ("Indication", consent.indication or "—"),
            ]
            rows += self._governance_rows(meta, consent)  # issue 15 (photo_actions.py)
        from html import escape

        cells = "".join(
            f"<tr><td><b>{escape(k)}</b></td><td>{escape(str(v))}</td></tr>" for k, v in rows
        )
        return f"<table cellspacing=4>{cells}</table>"

    # -- consent ---------------------------------------------------------------------------
    def check_waiting_batches(self) -> None:
        """Force the consent dialog while any batch waits (after import and at start-up)."""
        if self.locked or self.consent_dialog is not None:
            return
        workers.submit(
            self._first_waiting,
            on_done=self._open_consent,
            on_error=self._error("Could not check for photos waiting for consent"),
        )

    def _first_waiting(self):
        batches = self.services.waiting_batches()
        if not batches:
            return None
        batch, mrn = self.services.prepare_consent(batches[0])
        if not batch.item_ids:  # the batch held only a wristband photo
            return self._first_waiting()
        return batch, [self.services.thumbnail(i) for i in batch.item_ids], len(batches), mrn

    def _open_consent(self, found) -> None:
        if found is None or self.locked or self.consent_dialog is not None:
            return
        from picsafe_desktop import consent
        from picsafe_desktop.ui.consent_dialog import ConsentDialog

        batch, thumbs, waiting, mrn = found
        wordings = consent.site_wordings(self.site)  # by language, retention paragraph added
        dialog = ConsentDialog(
            thumbs,
            self.services.staff,
            wordings,
            parent=self,
            mrn=mrn or "",
            review_at_age=self.site.consent.review_at_age,
        )
        dialog.setWindowTitle(
            f"Consent needed — {len(batch.item_ids)} photos"
            + (f" (batch 1 of {waiting})" if waiting > 1 else "")
        )
        dialog.finished.connect(lambda _r, d=dialog, b=batch: self._consent_finished(d, b))
        # The dialog is modal, so the window's Lock shortcut must work inside it too.
        lock_here = QShortcut(self.lock_action.shortcut(), dialog)
        lock_here.activated.connect(lambda: self.lock("button"))
        self.consent_dialog = dialog
        dialog.open()

    def _consent_finished(self, dialog, batch) -> None:
        self.consent_dialog = None
        dialog.deleteLater()
        if dialog.result_record is not None:
            task = (self.services.record_consent, batch.batch_id, dialog.result_record)
            message = f"Consent recorded for {len(batch.item_ids)} photos"
        elif dialog.refused:
            task = (self.services.refuse_consent, batch.batch_id)
            message = f"Consent refused: {len(batch.item_ids)} photos destroyed"
        else:
            return
        workers.submit(
            *task,
            on_done=lambda _: self._after_consent(message),
            on_error=self._error("Could not save the consent decision"),
        )

    def _after_consent(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)
        self.refresh()
        self.check_waiting_batches()

    def about_text(self) -> str:
        return (
            f"<b>{APP_NAME}</b> {__version__}<br>"
            "De-identifies, encrypts and records consent for clinical photos, "
            "and sends them only into the medical record."
        )

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

    # -- plumbing --------------------------------------------------------------------------
    def _error(self, what: str):
        def show(exc: Exception) -> None:
            log.warning("%s: %s", what, type(exc).__name__)
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                APP_NAME,
                f"{what}.\n\n{exc}",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

        return show

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event) -> None:  # noqa: N802
        QSettings().setValue("window/geometry", self.saveGeometry())
        if self.services is not None and not self.locked:
            self.services.sign_out("quit")
        super().closeEvent(event)
