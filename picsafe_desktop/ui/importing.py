"""Getting photos in from the window: Import button, drag-and-drop, USB devices, phone banner."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
)

from picsafe_desktop import APP_NAME
from picsafe_desktop.ui import look, workers

log = logging.getLogger(__name__)


class ImportProgress(QFrame):
    """One row per running import: what, how far, cancel."""

    def __init__(self, label: str, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        self.label = QLabel(label, self)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName(self.tr("Import progress"))
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setAccessibleName(self.tr("Cancel import"))
        row.addWidget(self.label, 1)
        row.addWidget(self.bar, 2)
        row.addWidget(self.cancel_button)


def progress_of(row: ImportProgress, tr):
    """The pipeline's progress events shown on `row` (counts only: no file names); `tr` is
    the window's translate function (ImportMixin._tr)."""

    def progress(event) -> None:
        total, done = getattr(event, "total", 0), getattr(event, "done", 0)
        if total:
            row.bar.setRange(0, total)
            row.bar.setValue(done)
            row.label.setText(tr("Importing {done} of %n photo(s)…", "", total).format(done=done))

    return progress


def problem_line(result, vault_fault: str = "") -> str:
    """One plain line per file: its name once, and what happened in words a ward uses.
    `vault_fault`: the batch's vault problem (read-only, full...), which is not the photo's."""
    name = Path(result.display).name or result.display
    if vault_fault and result.message == vault_fault:
        return f"{name}: {vault_fault}."
    if result.needs_manual_removal:
        return f"{name}: stored safely, but the original could not be removed; delete it by hand."
    reason = result.message or ""
    for prefix in (result.display, name):
        if prefix and reason.startswith(prefix):
            reason = reason[len(prefix) :].lstrip(" :")
    if result.outcome.value == "refused":
        return f"{name}: not imported ({reason or 'not a photo this program takes'})."
    return f"{name}: could not be read as a photo (damaged or unsupported); it was left as it was."


class ImportMixin:
    """MainWindow's import side; every source feeds the one pipeline through services.

    Strings go through _tr, in this class's context (lupdate reads _tr as tr): self.tr would
    look them up under MainWindow first, and a plural (%n) not found there stops the search."""

    def _tr(self, text: str, disambiguation: str | None = None, n: int = -1) -> str:
        return QCoreApplication.translate("ImportMixin", text, disambiguation, n)

    def choose_import(self) -> None:
        # Qt's own dialog: the native one would add the photos to the desktop's recent files.
        from picsafe_desktop.ui.file_dialogs import open_file_names

        files = open_file_names(
            self,
            self._tr("Import photos"),
            str(Path.home()),
            self._tr(
                "Photos (*.jpg *.jpeg *.heic *.heif *.hif *.png *.webp);;All files (*)",
            ),
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
            self._run_import(
                self._tr("Importing {v0} item(s)…").format(v0=len(paths)),
                self.services.import_paths,
                paths,
            )

    def _run_import(self, label: str, fn, source, phone=None) -> None:
        """Run one import on a worker with a progress row (bar + cancel) for it. `phone` is
        the device or volume imported from, to offer deleting its photos afterwards."""
        import threading

        cancel = threading.Event()
        row = ImportProgress(label, self)
        row.cancel_button.clicked.connect(cancel.set)
        row.cancel_button.clicked.connect(lambda: row.label.setText(self._tr("Cancelling…")))
        self.progress_area.addWidget(row)  # parented: Qt keeps the row alive
        workers.submit_import(
            fn,
            source,
            cancel,
            on_progress=progress_of(row, self._tr),
            on_done=lambda report: (row.deleteLater(), self._import_finished(report, phone)),
            on_error=lambda exc: (
                row.deleteLater(),
                self._error(self._tr("Import failed"))(exc),
            ),
        )

    def choose_usb_device(self) -> None:
        if self.locked:
            return
        self.statusBar().showMessage(self._tr("Looking for cameras and phones on USB…"))
        workers.submit(
            self.services.usb_devices,
            on_done=self._usb_devices_found,
            on_error=self._error(self._tr("Could not look for USB devices")),
        )

    def _usb_devices_found(self, found) -> None:
        devices, reason = found
        self.statusBar().clearMessage()
        if not devices:
            text = reason or self._tr(
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
                self,
                APP_NAME,
                self._tr("Import photos from:"),
                labels,
                0,
                False,
            )
            if not ok:
                return
            info = devices[labels.index(choice)]
        self._run_import(
            self._tr("Importing from {label}…").format(label=info.label),
            self.services.import_device,
            info,
            (info, info.label),
        )

    def _import_finished(self, report, phone=None) -> None:
        from picsafe_desktop.importer.events import Outcome

        imported = report.count(Outcome.IMPORTED)
        duplicates = report.count(Outcome.DUPLICATE)
        text = f"Imported {imported} photo(s)."
        if report.vault_fault:
            # Not the photos' fault: say so first, or a good photo is taken for a damaged one.
            text = f"The vault stopped taking photos. {text}"
        if duplicates:
            text += f" {duplicates} already in the vault (not stored twice)."
        manual = report.manual_removals
        if manual:
            text += f" {len(manual)} original(s) could not be wiped: delete them by hand."
        self.statusBar().showMessage(text, 10000)
        self.last_import = report
        problems = [
            problem_line(r, report.vault_fault)
            for r in report.results
            if r.outcome in (Outcome.FAILED, Outcome.REFUSED) or r.needs_manual_removal
        ]
        if problems:
            # Shown once the consent decisions are made, not under the intake step.
            self._pending_problems = (text, problems)
        if phone is not None and not self.site_deletes_from_device() and imported + duplicates:
            self._offer_phone_cleanup(phone[0], phone[1])
        if self.locked:
            # File names can name patients: the report waits in memory for whoever signs in.
            self.report_pending_problems()
            return
        self.refresh()
        self.check_waiting_batches()

    def report_pending_problems(self) -> None:
        """The import problem report: one plain list, once, after consent is settled (while
        locked it waits in memory for the next sign-in, see show_import_problems)."""
        pending, self._pending_problems = getattr(self, "_pending_problems", None), None
        if pending is not None:
            self.show_import_problems(*pending)

    def site_deletes_from_device(self) -> bool:
        return bool(getattr(getattr(self.site, "import"), "delete_from_device", False))

    def _build_banner(self, parent) -> QFrame:
        banner = QFrame(parent)
        banner.setObjectName("banner")
        banner.setStyleSheet(look.notice_style("#banner", "border-bottom:1px solid #e0c060;"))
        row = QHBoxLayout(banner)
        self.banner_label = QLabel("", banner)
        self.banner_label.setWordWrap(True)
        self.banner_import = QPushButton(self._tr("&Import photos from it"), banner)
        self.banner_import.setAccessibleName(self._tr("Import photos from the connected device"))
        self.banner_import.clicked.connect(self._import_pending_volume)
        look.with_icon(self.banner_import, "import")
        self.banner_delete = QPushButton("", banner)
        self.banner_delete.setAccessibleName(self._tr("Delete the imported photos from the phone"))
        self.banner_delete.clicked.connect(self._delete_from_phone)
        look.with_icon(self.banner_delete, "delete")
        self.banner_dismiss = QPushButton(self._tr("Not now"), banner)
        self.banner_dismiss.clicked.connect(self._dismiss_volume)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.banner_import)
        row.addWidget(self.banner_delete)
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
        """The banner says what will really happen: photos stay on the phone unless the site
        deletes them after import, and a phone already in the vault is not offered again."""
        if self.locked:
            self.banner.hide()
            return
        cleanup = getattr(self, "_phone_cleanup", None)
        if cleanup is not None and not self._pending_volumes:
            _source, label, count = cleanup
            self.banner_label.setText(
                self._tr(
                    "<b>%n photo(s) from {device} are safely in the vault</b> "
                    "and still on the phone.",
                    "",
                    count,
                ).format(device=escape(label))
            )
            self.banner_import.hide()
            self.banner_delete.setText(
                self._tr("&Delete these %n photo(s) from the phone", "", count)
            )
            self.banner_delete.show()
            self.banner_dismiss.setText(self._tr("Keep them on the phone"))
            self.banner.show()
            return
        if not self._pending_volumes:
            self.banner.hide()
            return
        volume = self._pending_volumes[0]
        what = self._tr("A phone") if volume.kind == "phone" else self._tr("A camera card or phone")
        check = self._phone_checks.get(volume.dcim)
        self.banner_dismiss.setText(self._tr("Not now"))
        self.banner_delete.hide()
        self.banner_import.show()
        after = (
            self._tr("They are deleted from it once safely stored.")
            if self.site_deletes_from_device()
            else self._tr(
                "They stay on it; once they are safely stored you can delete them from here.",
            )
        )
        if check is None:
            self.banner_label.setText(
                self._tr(
                    "<b>{what} with photos is connected</b> ({device}). Import its "
                    "photos into the vault? {after}",
                ).format(what=what, device=escape(volume.label), after=after)
            )
            self._check_phone(volume)
        elif check.total and check.in_vault == check.total:
            self.banner_label.setText(
                self._tr(
                    "<b>All %n photo(s) on {device} are already in the vault.</b> "
                    "There is nothing new to import.",
                    "",
                    check.total,
                ).format(device=escape(volume.label))
            )
            self.banner_import.hide()
            self.banner_delete.setText(
                self._tr("&Delete these %n photo(s) from the phone", "", check.total)
            )
            self.banner_delete.show()
        else:
            new = check.total - check.in_vault
            self.banner_label.setText(
                self._tr(
                    "<b>{what} with %n new photo(s) is connected</b> ({device}). "
                    "Import them into the vault? {after}",
                    "",
                    new,
                ).format(what=what, device=escape(volume.label), after=after)
            )
        self.banner.show()

    def _check_phone(self, volume) -> None:
        if volume.dcim in self._phone_checks_running:
            return
        self._phone_checks_running.add(volume.dcim)

        def done(check) -> None:
            self._phone_checks_running.discard(volume.dcim)
            self._phone_checks[volume.dcim] = check
            self._show_volume_banner()

        workers.submit(
            self.services.check_phone,
            volume,
            on_done=done,
            on_error=lambda _exc: self._phone_checks_running.discard(volume.dcim),
        )

    def _offer_phone_cleanup(self, source, label: str) -> None:
        """Offer to delete from the phone what is safely in the vault, counted afresh (a
        photo destroyed at intake is no longer in the vault and is not offered)."""

        def counted(check) -> None:
            self._phone_cleanup = (source, label, check.in_vault) if check.in_vault else None
            self._show_volume_banner()

        workers.submit(self.services.check_phone, source, on_done=counted, on_error=lambda _e: None)

    def recount_phone_cleanup(self) -> None:
        if self._phone_cleanup is not None and not self.locked:
            source, label, _count = self._phone_cleanup
            self._offer_phone_cleanup(source, label)

    def _delete_from_phone(self) -> None:
        if self.locked:
            return
        cleanup = getattr(self, "_phone_cleanup", None)
        if self._pending_volumes and self.banner_import.isHidden():
            volume = self._pending_volumes[0]
            source, label = volume, volume.label
        elif cleanup is not None:
            source, label, _count = cleanup
        else:
            return
        if self.ask_before_deleting() and not self._confirm_destruction(
            self._tr("Delete from the phone"),
            self._tr(
                (
                    "Remove from {label} the photos that are safely in the "
                    "vault? Each one is read back and matched first; anything "
                    "not in the vault stays on the phone."
                ),
            ).format(label=label),
        ):
            return
        self._phone_cleanup = None
        self._pending_volumes = [v for v in self._pending_volumes if v is not source]
        self.banner.hide()

        def done(result) -> None:
            deleted, left = result
            text = f"Deleted {deleted} photo(s) from {label}."
            if left:
                text += f" {left} not in the vault stay on it."
            self.statusBar().showMessage(text, 15000)
            self.last_phone_cleanup = result

        workers.submit(
            self.services.delete_from_phone,
            source,
            on_done=done,
            on_error=self._error(self._tr("Could not delete the photos from the phone")),
        )

    def _import_pending_volume(self) -> None:
        if not self._pending_volumes or self.locked:
            return
        volume = self._pending_volumes.pop(0)
        self._show_volume_banner()
        self._run_import(
            self._tr("Importing from {label}…").format(label=volume.label),
            self.services.import_volume,
            volume,
            (volume, volume.label),
        )

    def _dismiss_volume(self) -> None:
        if self._pending_volumes:
            self._pending_volumes.pop(0)
        else:
            self._phone_cleanup = None
        self._show_volume_banner()

    # -- problems: shown plainly, naming each file; kept for the next person while locked ---
    def drop_folder_refusals(self, folder, refusals) -> None:
        """Drop-folder entries that will not be imported (links, FIFOs, other files...)."""
        lines = [f"{r.display}: {r.reason}" for r in refusals]
        self.show_import_problems(
            self._tr("{v0} item(s) in the drop folder {folder} were not imported.").format(
                v0=len(lines), folder=folder
            ),
            lines,
        )

    def show_import_problems(
        self,
        summary: str,
        lines: list[str],
        note: str = "",
    ) -> None:
        """One warning box listing every file with its problem and what to do.

        File names can name patients, so while the window is locked they wait in memory (never
        on disk, never in the status bar) and are shown to whoever signs in next.
        """
        if not lines:
            return
        note = note or self._tr(
            "Files that could not be imported are still where they were; nothing was lost."
        )
        if self.locked:
            self._waiting_problems.append((summary, lines, note))
            self.statusBar().showMessage(
                self._tr(
                    "Some files could not be imported: sign in to see which and what to do.",
                )
            )
            return
        box = self._problem_box
        if box is not None and box.isVisible():
            # Still open: add to it rather than stack boxes.
            self._problem_lines += lines
            summary = f"{len(self._problem_lines)} file(s) need attention."
        else:
            self._problem_lines = list(lines)
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                APP_NAME,
                "",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setWindowTitle(self._tr("Import finished with problems"))
            box.setObjectName("importProblems")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.destroyed.connect(lambda *_: setattr(self, "_problem_box", None))
            self._problem_box = box
        shown = self._problem_lines
        box.setText(summary)
        box.setInformativeText(
            note + "\n\n" + "\n".join(shown[:8]) + ("\n…" if len(shown) > 8 else "")
        )
        box.setDetailedText("\n".join(shown))
        box.open()

    def show_waiting_problems(self) -> None:
        """After sign-in: what went wrong while the window was locked."""
        waiting, self._waiting_problems = self._waiting_problems, []
        if waiting:
            self.statusBar().clearMessage()
        for summary, lines, note in waiting:
            self.show_import_problems(summary, lines, note)

    def drop_folder_batch(self, folder, candidates) -> None:
        if self.services is None:
            return
        # Every import shows its progress (1,000 dropped photos showed nothing). No Cancel: a
        # cancelled drop-folder photo would not be offered again.
        row = ImportProgress(f"Importing {len(candidates)} photo(s) from the drop folder…", self)
        row.cancel_button.hide()
        self.progress_area.addWidget(row)
        workers.submit_import(
            self.services.import_dropped,
            folder,
            candidates,
            on_progress=progress_of(row, self._tr),
            on_done=lambda report: (
                row.deleteLater(),
                self._import_finished(report),
                self._retry_left_by_vault(folder, candidates, report),
            ),
            # Runs while locked too: shown to whoever signs in, like the files' problems.
            on_error=lambda exc: (
                row.deleteLater()
                or self.show_import_problems(
                    self._tr(
                        "Import from the drop folder {folder} failed; the photos were left there."
                    ).format(folder=folder),
                    [str(exc)],
                )
            ),
        )

    def _retry_left_by_vault(self, folder, candidates, report) -> None:
        """Photos the vault could not take (full, read-only) stay in the drop folder: the
        watcher offers them again later, or they would lie there in the clear for good."""
        monitor = getattr(self, "monitor", None)
        if not report.vault_fault or getattr(monitor, "drop_watcher", None) is None:
            return
        left = {r.display for r in report.results if r.message == report.vault_fault}
        paths = [c.path for c in candidates if c.display in left]
        if paths:
            monitor.drop_watcher.retry_later(folder, paths)
