"""Getting photos in from the window: Import button, drag-and-drop, USB devices, phone banner."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
)

from picsafe_desktop import APP_NAME
from picsafe_desktop.ui import workers

log = logging.getLogger(__name__)


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


class ImportMixin:
    """MainWindow's import side; every source feeds the one pipeline through services."""

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
        self.progress_area.addWidget(row)  # parented: Qt keeps the row alive

        def progress(event) -> None:
            total, done = getattr(event, "total", 0), getattr(event, "done", 0)
            if total:
                row.bar.setRange(0, total)
                row.bar.setValue(done)
                row.label.setText(f"Importing {done} of {total} photos…")

        workers.submit_import(
            fn,
            source,
            cancel,
            on_progress=progress,
            on_done=lambda report: (row.deleteLater(), self._import_finished(report)),
            on_error=lambda exc: (row.deleteLater(), self._error("Import failed")(exc)),
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
        workers.submit_import(
            self.services.import_dropped,
            folder,
            candidates,
            on_done=self._import_finished,
            on_error=self._error("Import failed"),
        )
