"""The main window: what a nurse sees between patients.

Pages: the lock screen (nobody signed in, nothing identifying on screen), the empty state
(signed in, no photos yet) and the browser (patients | thumbnail grid | details).
All vault work runs on worker threads through `services`; this module only draws.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop import APP_NAME, __version__
from picsafe_desktop.ui import workers
from picsafe_desktop.ui.lock import IdleMonitor, LockScreen, SessionLockWatcher
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


def _when(iso: str | None) -> str:
    """A capture time as people read it, with the UTC offset when the camera recorded one."""
    if not iso:
        return "not recorded by the camera"
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    text = moment.strftime("%d %b %Y %H:%M")
    return f"{text} (UTC{moment:%z})" if moment.tzinfo else text


class ImportProgress(QFrame):
    """One row per running import: what, how far, cancel."""

    def __init__(self, label: str, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        self.label = QLabel(label, self)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Import progress")
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel import")
        row.addWidget(self.label, 1)
        row.addWidget(self.bar, 2)
        row.addWidget(self.cancel_button)


class MainWindow(QMainWindow):
    def __init__(self, site, services=None, monitor=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.site = site
        self.services = services
        self.consent_dialog = None
        self._last_staff = None
        self._imports: dict[int, ImportProgress] = {}
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
        self.thumbnails = ThumbnailModel(self._load_thumbnail, size=size, parent=self)
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
        self._patients = patients
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
                ("Identifiable", "yes" if consent.identifiable else "no"),
            ]
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
        wording = consent.load_wording(
            Path(self.site.consent.wording_file) if self.site.consent.wording_file else None,
            self.site.consent.wording_version or None,
        )
        dialog = ConsentDialog(thumbs, self.services.staff, wording, parent=self, mrn=mrn or "")
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

    # -- import ----------------------------------------------------------------------------
    def choose_import(self) -> None:
        # Qt's own dialog: the native one would add the photos to the desktop's recent files.
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Import photos",
            str(Path.home()),
            "Photos (*.jpg *.jpeg *.heic *.heif *.hif *.png *.webp);;All files (*)",
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if files:
            self.start_import(files)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if (
            not self.locked
            and event.mimeData().hasUrls()
            and all(url.isLocalFile() for url in event.mimeData().urls())
        ):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths and not self.locked:
            event.acceptProposedAction()
            self.start_import(paths)

    def start_import(self, paths: list[str]) -> None:
        if not self.locked:
            self._run_import(f"Importing {len(paths)} item(s)…", self.services.import_paths, paths)

    def _run_import(self, label: str, fn, source) -> None:
        """Run one import on a worker with a progress row (bar + cancel) for it."""
        import threading

        cancel = threading.Event()
        row = ImportProgress(label, self)
        row.cancel_button.clicked.connect(cancel.set)
        row.cancel_button.clicked.connect(lambda: row.label.setText("Cancelling…"))
        self.progress_area.addWidget(row)
        self._imports[id(row)] = row

        def progress(event) -> None:
            total, done = getattr(event, "total", 0), getattr(event, "done", 0)
            if total:
                row.bar.setRange(0, total)
                row.bar.setValue(done)
                row.label.setText(f"Importing {done} of {total} photos…")

        def close_row() -> None:
            self._imports.pop(id(row), None)
            row.deleteLater()

        workers.submit(
            fn,
            source,
            cancel,
            on_progress=progress,
            on_done=lambda report: (close_row(), self._import_finished(report)),
            on_error=lambda exc: (close_row(), self._error("Import failed")(exc)),
        )

    def choose_usb_device(self) -> None:
        if self.locked:
            return
        self.statusBar().showMessage("Looking for cameras and phones on USB…")
        workers.submit(
            self.services.usb_devices,
            on_done=self._usb_devices_found,
            on_error=self._error("Could not look for USB devices"),
        )

    def _usb_devices_found(self, found) -> None:
        devices, reason = found
        self.statusBar().clearMessage()
        if not devices:
            text = reason or (
                "No camera or phone was found on USB.\n\nConnect it with its cable, unlock it "
                'and, on the phone, allow access to photos ("Trust this computer" or '
                '"File transfer / PTP"). If the desktop opened the phone in a file manager, '
                "close that window first: it holds the phone."
            )
            QMessageBox.information(self, APP_NAME, text)
            return
        info = devices[0]
        if len(devices) > 1:
            from PySide6.QtWidgets import QInputDialog

            labels = [f"{d.label} ({d.port})" for d in devices]
            choice, ok = QInputDialog.getItem(
                self, APP_NAME, "Import photos from:", labels, 0, False
            )
            if not ok:
                return
            info = devices[labels.index(choice)]
        self._run_import(f"Importing from {info.label}…", self.services.import_device, info)

    def _import_finished(self, report) -> None:
        from picsafe_desktop.importer.events import Outcome

        imported = report.count(Outcome.IMPORTED)
        duplicates = report.count(Outcome.DUPLICATE)
        text = f"Imported {imported} photo(s)."
        if duplicates:
            text += f" {duplicates} already in the vault (not stored twice)."
        manual = report.manual_removals
        if manual:
            text += f" {len(manual)} original(s) could not be wiped: delete them by hand."
        self.statusBar().showMessage(text, 10000)
        self.last_import = report
        if self.locked:
            return  # file names can name patients: the summary waits for someone to sign in
        problems = [
            r
            for r in report.results
            if r.outcome in (Outcome.FAILED, Outcome.REFUSED) or r.needs_manual_removal
        ]
        if problems:
            lines = [f"{r.display}: {r.message or r.source_note}" for r in problems]
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Import finished with problems",
                text,
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setObjectName("importProblems")
            box.setInformativeText(
                "Files that could not be imported are still where they were; nothing was "
                "lost.\n\n" + "\n".join(lines[:8]) + ("\n…" if len(lines) > 8 else "")
            )
            box.setDetailedText("\n".join(lines))
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        self.refresh()
        self.check_waiting_batches()

    # -- photo actions ---------------------------------------------------------------------
    def open_viewer(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item_id = index.data(ItemIdRole)
        from picsafe_desktop.ui.viewer import PhotoViewer

        # Parented to the window so Qt (not Python's garbage collector) owns it.
        viewer = PhotoViewer(
            clipboard_clear_seconds=self.site.security.clipboard_clear_seconds, parent=self
        )
        viewer.setWindowFlag(Qt.WindowType.Window)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.setWindowTitle("Photo")
        viewer.resize(1000, 700)
        workers.submit(
            self.services.view,
            item_id,
            on_done=viewer.set_image,
            on_error=self._error("Could not open the photo"),
        )
        viewer.show()

    def delete_selected(self) -> None:
        ids = self.selected_item_ids()
        if self.locked or not ids:
            return
        answer = QMessageBox.question(
            self,
            "Delete photos",
            f"Permanently destroy {len(ids)} photo(s)? They cannot be recovered, not even "
            "from a backup of the vault.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        workers.submit(
            self.services.delete_photos,
            ids,
            "deleted by user",
            on_done=lambda n: (
                self.statusBar().showMessage(f"{n} photo(s) destroyed", 8000),
                self.refresh(),
            ),
            on_error=self._error("Could not delete"),
        )

    def show_audit(self, patient=None) -> None:
        if self.locked:
            return
        from picsafe_desktop.ui.audit_view import AuditView

        view = AuditView(parent=self)
        view.setWindowFlag(Qt.WindowType.Window)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.setWindowTitle("Audit log" + (f" — {patient.name or patient.mrn}" if patient else ""))
        view.resize(900, 600)

        def load():
            rows = (
                self.services.patient_audit_rows(patient) if patient else self.services.audit_rows()
            )
            return rows, self.services.verify_audit()

        workers.submit(
            load,
            on_done=lambda r: view.set_rows(*r),
            on_error=self._error("Could not read the audit log"),
        )
        view.show()

    def show_patient_audit(self) -> None:
        patient = self.current_patient()
        if patient is not None:
            self.show_audit(patient)

    def show_settings(self) -> None:
        from picsafe_desktop.ui.settings_dialog import SettingsDialog

        echo = self.services.pacs_echo if self.services is not None else None
        dialog = SettingsDialog(self.site, echo=echo, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def current_patient(self):
        item = self.patient_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def show_export(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        from picsafe_desktop.ui.export_dialog import ExportDialog

        item = self.thumbnails.item(index.row())
        selected = self.selected_item_ids() or [item.item_id]
        same_consent = [
            i
            for i in selected
            if self.thumbnails.item(self.thumbnails.row_of(i)).consent_id == item.consent_id
        ]
        consent = self.services.read_consent(item.consent_id)

        def run(kind, use, options, progress):
            return self.services.export(
                item.consent_id, kind, use, options, same_consent, progress=progress
            )

        dialog = ExportDialog(
            run,
            self.services.export_destinations(),
            len(same_consent),
            set(consent.uses),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog = dialog
        dialog.open()

    def show_redaction(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item_id = index.data(ItemIdRole)
        workers.submit(
            self.services.view,
            item_id,
            on_done=lambda data: self._open_redaction(item_id, data),
            on_error=self._error("Could not open the photo"),
        )

    def _open_redaction(self, item_id: str, data: bytes) -> None:
        from picsafe_desktop import deid
        from picsafe_desktop.ui.redaction_editor import RedactionDialog

        if self.locked:
            return
        dialog = RedactionDialog(data, suggest=deid.suggest_faces, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            boxes, replace = dialog.boxes(), dialog.replace_original
            if not boxes:
                return
            workers.submit(
                self.services.redact,
                item_id,
                boxes,
                replace,
                on_done=lambda _id: (
                    self.statusBar().showMessage(
                        "Redacted copy saved" + (" (original destroyed)" if replace else ""), 8000
                    ),
                    self.refresh_photos(),
                ),
                on_error=self._error("Could not redact the photo"),
            )

        dialog.accepted.connect(accepted)
        self.redaction_dialog = dialog
        dialog.open()

    def refresh_photos(self) -> None:
        self._patient_selected(self.patient_list.currentItem())

    def withdraw_consent(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item = self.thumbnails.item(index.row())
        answer = QMessageBox.question(
            self,
            "Withdraw consent",
            "The patient withdraws consent for the photos taken under this consent.\n\n"
            "Every photo it covers will be destroyed. Copies already sent into the record "
            "are listed afterwards so they can be followed up.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        workers.submit(
            self.services.withdraw_consent,
            item.consent_id,
            on_done=self._withdrawn,
            on_error=self._error("Could not withdraw"),
        )

    def _withdrawn(self, exports: list) -> None:
        self.refresh()
        text = "Consent withdrawn; its photos were destroyed."
        if exports:
            lines = [
                f"{e.get('at', '')}: {e.get('kind', '?')} to {e.get('destination', '?')}"
                for e in exports
            ]
            text += "\n\nThese copies were already exported and must be followed up:\n" + "\n".join(
                sorted(set(lines))
            )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Consent withdrawn",
            text,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("withdrawnBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

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

    def _build_banner(self, parent) -> QFrame:
        banner = QFrame(parent)
        banner.setObjectName("banner")
        banner.setStyleSheet("#banner { background:#fff4ce; border-bottom:1px solid #e0c060; }")
        row = QHBoxLayout(banner)
        self.banner_label = QLabel("", banner)
        self.banner_label.setWordWrap(True)
        self.banner_import = QPushButton("&Import photos from it", banner)
        self.banner_import.setAccessibleName("Import photos from the connected device")
        self.banner_import.clicked.connect(self._import_pending_volume)
        self.banner_dismiss = QPushButton("Not now", banner)
        self.banner_dismiss.clicked.connect(self._dismiss_volume)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.banner_import)
        row.addWidget(self.banner_dismiss)
        banner.hide()
        return banner

    # -- devices and drop folders ----------------------------------------------------------
    def volume_appeared(self, volume) -> None:
        self._pending_volumes.append(volume)
        self._show_volume_banner()

    def volume_gone(self, volume) -> None:
        self._pending_volumes = [v for v in self._pending_volumes if v.dcim != volume.dcim]
        self._show_volume_banner()

    def _show_volume_banner(self) -> None:
        if self.locked or not self._pending_volumes:
            self.banner.hide()
            return
        volume = self._pending_volumes[0]
        what = "A phone" if volume.kind == "phone" else "A camera card or phone"
        self.banner_label.setText(
            f"<b>{what} with photos is connected</b> ({volume.label}). Import its photos into "
            "the vault? They are removed from the device once safely stored."
        )
        self.banner.show()

    def _import_pending_volume(self) -> None:
        if not self._pending_volumes or self.locked:
            return
        volume = self._pending_volumes.pop(0)
        self._show_volume_banner()
        self._run_import(f"Importing from {volume.label}…", self.services.import_volume, volume)

    def _dismiss_volume(self) -> None:
        if self._pending_volumes:
            self._pending_volumes.pop(0)
        self._show_volume_banner()

    def drop_folder_batch(self, folder, candidates) -> None:
        if self.services is None:
            return
        workers.submit(
            self.services.import_dropped,
            folder,
            candidates,
            on_done=self._import_finished,
            on_error=self._error("Import failed"),
        )

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event) -> None:  # noqa: N802
        QSettings().setValue("window/geometry", self.saveGeometry())
        if self.services is not None and not self.locked:
            self.services.sign_out("quit")
        super().closeEvent(event)
