"""Export a patient's photos into the record: PDF, FHIR, DICOM or encrypted package."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.export.outbox import Queued
from picsafe_desktop.export.package import MIN_PASSPHRASE
from picsafe_desktop.model import Use
from picsafe_desktop.ui import look, workers

KINDS = {
    "pdf": QT_TRANSLATE_NOOP("ExportDialog", "PDF report (to file in the record)"),
    "fhir": QT_TRANSLATE_NOOP("ExportDialog", "FHIR — send to the electronic health record"),
    "dicom": QT_TRANSLATE_NOOP("ExportDialog", "DICOM — send to the PACS"),
    "package": QT_TRANSLATE_NOOP("ExportDialog", "Encrypted package (age) for a colleague"),
}
USES = {
    Use.RECORD: QT_TRANSLATE_NOOP("ExportDialog", "Clinical record"),
    Use.TEACHING: QT_TRANSLATE_NOOP("ExportDialog", "Teaching (identifiers removed)"),
    Use.PUBLICATION: QT_TRANSLATE_NOOP("ExportDialog", "Publication (identifiers removed)"),
}


def default_file_name(suffix: str = ".pdf", now: dt.datetime | None = None) -> str:
    """A file name carrying no patient data (it shows in folders and recent-file lists)."""
    now = now or dt.datetime.now()
    return str(Path.home() / f"clinical-photos-{now:%Y%m%d-%H%M}{suffix}")


class ExportDialog(QDialog):
    """Collects which photos, where and how; runs `run(kind, use, options, item_ids,
    progress)` on a worker.

    `photos` are (item id, caption, thumbnail pixmap or None) of all the patient's photos,
    ticked by default except where `checked` names a subset (the grid's selection).
    """

    def __init__(
        self,
        run,
        destinations: dict[str, str],
        photos: list,
        allowed_uses: set[Use],
        parent=None,
        *,
        patient: str = "",
        checked: set[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._run = run
        self.outcome = None
        self.setWindowTitle(
            self.tr("Export photos — {patient}").format(patient=patient)
            if patient
            else self.tr("Export photos")
        )
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)

        if patient:
            self.patient_label = QLabel(
                self.tr("<b>Patient:</b> {patient}").format(patient=escape(patient)), self
            )
            layout.addWidget(self.patient_label)
        self.photo_list = QListWidget(self)
        self.photo_list.setAccessibleName(self.tr("Photos to export"))
        self.photo_list.setViewMode(QListView.ViewMode.IconMode)
        self.photo_list.setIconSize(QSize(96, 96))
        self.photo_list.setGridSize(QSize(150, 140))
        self.photo_list.setMovement(QListView.Movement.Static)
        self.photo_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.photo_list.setWrapping(True)
        self.photo_list.setFixedHeight(160)
        self.photo_list.setWordWrap(True)  # captions whole, on two lines, not cut with "…"
        if look.at_most_screen(QSize(0, 600), self).height() < 600:  # 150 % of 768 pixels
            self.photo_list.setFixedHeight(120)
        for item_id, caption, pixmap in photos:
            item = QListWidgetItem(caption, self.photo_list)
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            item.setData(Qt.ItemDataRole.UserRole, item_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = checked is None or item_id in checked
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.photo_list.itemChanged.connect(lambda _item: self._count_changed())
        photos_label = QLabel(self.tr("&Photos (untick any to leave out):"), self)
        photos_label.setBuddy(self.photo_list)
        layout.addWidget(photos_label)
        layout.addWidget(self.photo_list)

        kinds = QGroupBox(self.tr("Send to"), self)
        kinds_layout = QVBoxLayout(kinds)
        self.kind_buttons: dict[str, QRadioButton] = {}
        self.kind_group = QButtonGroup(self)
        for kind, text in KINDS.items():
            text = self.tr(text)
            button = QRadioButton(text, kinds)
            button.setAccessibleName(text)
            reason = destinations.get(kind, "")
            if reason.startswith("!"):
                button.setEnabled(False)
                button.setToolTip(reason[1:])
                button.setText(f"{text} — {reason[1:]}")
            self.kind_group.addButton(button)
            self.kind_buttons[kind] = button
            kinds_layout.addWidget(button)
        layout.addWidget(kinds)

        form = QFormLayout()
        self.use_combo = QComboBox(self)
        self.use_combo.setAccessibleName(self.tr("Use of the photos"))
        for use, text in USES.items():
            if use in allowed_uses:
                self.use_combo.addItem(self.tr(text), use)
        form.addRow(self.tr("&Use:"), self.use_combo)
        layout.addLayout(form)

        self.pages = QStackedWidget(self)
        self.file_page, self.file_edit, self.secret_edit, self.secret_label = self._file_page()
        self.target_label = QLabel("", self)
        self.target_label.setWordWrap(True)
        self.pages.addWidget(self.file_page)
        self.pages.addWidget(self.target_label)
        self._destinations = destinations
        layout.addWidget(self.pages)

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Export progress"))
        self.progress.hide()
        self.result_label = QLabel("", self)
        self.result_label.setObjectName("exportResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)

        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            self.tr("&Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        look.primary(self.export_button, "export")
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.kind_group.buttonToggled.connect(lambda *_: self._kind_changed())
        first = next((b for b in self.kind_buttons.values() if b.isEnabled()), None)
        if first:
            first.setChecked(True)
        if not self.file_edit.text():
            self.file_edit.setText(
                default_file_name(".age" if self.kind() == "package" else ".pdf")
            )
        self._kind_changed()
        self._count_changed()

    # --- which photos -------------------------------------------------------------------
    def checked_ids(self) -> list[str]:
        return [
            self.photo_list.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(self.photo_list.count())
            if self.photo_list.item(r).checkState() == Qt.CheckState.Checked
        ]

    def choose_only(self, item_ids) -> None:
        wanted = set(item_ids)
        for r in range(self.photo_list.count()):
            item = self.photo_list.item(r)
            ticked = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def _count_changed(self) -> None:
        n = len(self.checked_ids())
        self.export_button.setText(self.tr("&Export %n photo(s)", "", n))

    def _file_page(self):
        page = QWidget(self)
        form = QFormLayout(page)
        row = QHBoxLayout()
        file_edit = QLineEdit(page)
        file_edit.setAccessibleName(self.tr("File to write"))
        browse = QPushButton(self.tr("&Browse…"), page)
        browse.clicked.connect(self._browse)
        row.addWidget(file_edit, 1)
        row.addWidget(browse)
        file_label = QLabel(self.tr("&File:"), page)
        file_label.setBuddy(file_edit)
        form.addRow(file_label, row)
        secret_edit = QLineEdit(page)
        secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        secret_label = QLabel(self.tr("&Password (optional):"), page)
        secret_label.setBuddy(secret_edit)
        form.addRow(secret_label, secret_edit)
        # A package can instead be locked to a colleague's public key: nothing to pass on.
        self.recipient_edit = QLineEdit(page)
        self.recipient_edit.setAccessibleName(self.tr("Recipient public key"))
        self.recipient_edit.setPlaceholderText(
            self.tr("age1… or ssh-ed25519 … (instead of a passphrase)")
        )
        self.recipient_label = QLabel(self.tr("Or &recipient key:"), page)
        self.recipient_label.setBuddy(self.recipient_edit)
        form.addRow(self.recipient_label, self.recipient_edit)
        return page, file_edit, secret_edit, secret_label

    def kind(self) -> str | None:
        return next((k for k, b in self.kind_buttons.items() if b.isChecked()), None)

    def _kind_changed(self) -> None:
        kind = self.kind()
        self.export_button.setEnabled(kind is not None)
        if kind in ("pdf", "package"):
            self.pages.setCurrentWidget(self.file_page)
            package = kind == "package"
            self.secret_label.setText(
                self.tr("&Passphrase:") if package else self.tr("&Password (optional):")
            )
            self.secret_edit.setAccessibleName(
                self.tr("Package passphrase") if package else self.tr("PDF password")
            )
            self.recipient_edit.setVisible(package)
            self.recipient_label.setVisible(package)
            suffix = ".age" if package else ".pdf"
            current = self.file_edit.text()
            if current:
                self.file_edit.setText(str(Path(current).with_suffix(suffix)))
        elif kind:
            self.pages.setCurrentWidget(self.target_label)
            self.target_label.setText(
                self.tr("Destination: {destination}").format(
                    destination=self._destinations.get(kind, "")
                )
            )

    def _browse(self) -> None:
        kind = self.kind() or "pdf"
        from picsafe_desktop.ui.file_dialogs import save_file_name

        path = save_file_name(
            self,
            self.tr("Export to"),
            self.file_edit.text() or str(Path.home()),
            self.tr("PDF (*.pdf)") if kind == "pdf" else self.tr("age package (*.age)"),
        )
        if path:
            self.file_edit.setText(path)

    def options(self) -> dict:
        kind = self.kind()
        if kind == "pdf":
            return {
                "out": self.file_edit.text().strip(),
                "pdf_password": self.secret_edit.text() or None,
            }
        if kind == "package":
            recipient = self.recipient_edit.text().strip()
            if recipient:
                return {"out": self.file_edit.text().strip(), "recipients": (recipient,)}
            return {"out": self.file_edit.text().strip(), "passphrase": self.secret_edit.text()}
        return {}

    def problem(self) -> str:
        kind, opts = self.kind(), self.options()
        if kind is None:
            return self.tr("Choose where to send the photos.")
        if not self.checked_ids():
            return self.tr("Tick at least one photo to export.")
        if kind in ("pdf", "package") and not opts["out"]:
            return self.tr("Choose the file to write.")
        if kind == "package" and "passphrase" in opts and len(opts["passphrase"]) < MIN_PASSPHRASE:
            return self.tr(
                "Give a passphrase of at least {n} characters, or the recipient's public key."
            ).format(n=MIN_PASSPHRASE)
        return ""

    def start(self) -> None:
        problem = self.problem()
        if problem:
            self.result_label.setText(
                self.tr("<span style='color:{colour}'>{problem}</span>").format(
                    colour=look.error_colour(), problem=problem
                )
            )
            return
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.result_label.setText(self.tr("Exporting…"))
        workers.submit(
            self._run,
            self.kind(),
            self.use_combo.currentData(),
            self.options(),
            self.checked_ids(),
            on_progress=self._progress,
            on_done=self._done,
            on_error=self._failed,
        )

    def _progress(self, step) -> None:
        done, total = step
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _done(self, outcome) -> None:
        self.outcome = outcome
        self.progress.hide()
        self.export_button.setEnabled(True)
        detail = f" ({outcome.detail})" if outcome.detail else ""
        self.result_label.setText(
            self.tr(
                "<b>Done.</b> %n photo(s) exported to "
                "{destination}{detail}. Report id {report_id}. The export is "
                "recorded in the audit log.",
                "",
                outcome.photos,
            ).format(
                destination=outcome.destination,
                detail=detail,
                report_id=outcome.report_id,
            )
        )

    def _failed(self, exc: Exception) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        if isinstance(exc, Queued):  # waiting in the outbox, not lost: the worker sends it
            self.result_label.setText(
                self.tr("<b>Queued.</b> {message}").format(message=escape(str(exc)))
            )
            return
        self.result_label.setText(
            self.tr("<span style='color:{colour}'><b>Not exported.</b> {exc}</span>").format(
                colour=look.error_colour(), exc=exc
            )
        )
