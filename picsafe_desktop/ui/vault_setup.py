"""First run (create the vault, show the recovery code once) and keyring recovery dialogs."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from PySide6.QtGui import QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from picsafe_desktop import APP_NAME
from picsafe_desktop.ui import look
from picsafe_desktop.vault.recovery_sheet import (
    _INSTRUCTIONS,
    recovery_sheet_pdf,
    write_recovery_sheet,
)


class RecoveryCodeDialog(QDialog):
    """Shows the recovery code exactly once; Continue stays off until the user confirms."""

    def __init__(self, code: str, vault_id: str, vault_path: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            self.tr("{APP_NAME} — save your recovery code").format(APP_NAME=APP_NAME)
        )
        self._code, self._vault_id, self._vault_path = code, vault_id, vault_path
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "<h3>Your encrypted vault is ready</h3>"
                "<p>Its key is kept in this computer's keyring. If the keyring is ever lost, this "
                "recovery code is the only way to open the vault again. It is shown <b>only "
                "now</b>: print the recovery sheet or write the code down, and lock it away.</p>"
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.code_label = QLabel(
            self.tr("<p style='font-size:18pt; font-family:monospace'>{code}</p>").format(code=code)
        )
        self.code_label.setAccessibleName(self.tr("Recovery code"))
        self.code_label.setTextInteractionFlags(
            self.code_label.textInteractionFlags().TextSelectableByMouse
        )
        layout.addWidget(self.code_label)
        self.print_button = QPushButton(self.tr("&Print recovery sheet…"), self)
        self.print_button.clicked.connect(self.print_sheet)
        look.with_icon(self.print_button, "print")
        layout.addWidget(self.print_button)
        self.save_button = QPushButton(self.tr("&Save recovery sheet as PDF…"), self)
        self.save_button.clicked.connect(self.save_sheet)
        look.with_icon(self.save_button, "save")
        layout.addWidget(self.save_button)
        self.confirm = QCheckBox(self.tr("I have printed or written down the recovery code"), self)
        layout.addWidget(self.confirm)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("&Continue"))
        self.ok_button.setEnabled(False)
        look.primary(self.ok_button, "check")
        self.confirm.toggled.connect(self.ok_button.setEnabled)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def sheet_pdf(self) -> bytes:
        return recovery_sheet_pdf(
            vault_id=self._vault_id, vault_path=self._vault_path, code=self._code
        )

    def make_printer(self) -> QPrinter:
        return QPrinter(QPrinter.PrinterMode.HighResolution)

    def print_sheet(self) -> bool:
        """Print through the system's print dialog; nothing is written to disk by PicSafe."""
        printer = self.make_printer()
        printer.setDocName(f"{APP_NAME} recovery sheet")
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return False
        document = QTextDocument()
        document.setHtml(_sheet_html(self._vault_id, self._vault_path, self._code))
        document.print_(printer)
        return True

    def save_sheet(self) -> None:
        """Save the sheet as a PDF - only after a warning, only where the user chooses."""
        answer = QMessageBox.warning(
            self,
            APP_NAME,
            self.tr(
                "The recovery sheet unlocks every photo in this vault. Anyone with the file "
                "and a copy of the vault folder can read them all.\n\nSave it only to a place "
                "you control (for example a USB stick that is then locked away), print it, and "
                "delete the file."
            ),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Save:
            return
        from picsafe_desktop.ui.file_dialogs import save_file_name

        path = save_file_name(
            self,
            self.tr("Save recovery sheet (it unlocks every photo)"),
            "",  # no folder chosen for the user: never the home folder by default
            self.tr("PDF (*.pdf)"),
        )
        if path:
            try:
                write_recovery_sheet(
                    Path(path),
                    vault_id=self._vault_id,
                    code=self._code,
                    vault_path=self._vault_path,
                    overwrite=True,
                )
            except OSError as exc:
                QMessageBox.warning(
                    self,
                    APP_NAME,
                    self.tr(
                        "Could not save {path}: {strerror}.\n\nChoose another folder, "
                        "or write the code down by hand."
                    ).format(path=path, strerror=exc.strerror),
                )
                return
            QMessageBox.information(
                self,
                APP_NAME,
                self.tr(
                    "Saved {path}. Print it, then delete the file: the sheet is "
                    "as secret as the vault key."
                ).format(path=path),
            )

    def reject(self) -> None:
        # Closing without confirming would lose the only chance to see the code.
        if self.confirm.isChecked():
            super().reject()


class RecoverDialog(QDialog):
    """Asks for the recovery code when the keyring has lost the vault's key."""

    def __init__(self, message: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("{APP_NAME} — recover vault key").format(APP_NAME=APP_NAME))
        layout = QVBoxLayout(self)
        label = QLabel(
            self.tr(
                "<p>{message}</p><p>Enter the recovery code from the vault's "
                "recovery sheet to put the key back into this computer's "
                "keyring.</p>"
            ).format(message=message),
            self,
        )
        label.setWordWrap(True)
        layout.addWidget(label)
        self.code_edit = QLineEdit(self)
        self.code_edit.setAccessibleName(self.tr("Recovery code"))
        layout.addWidget(self.code_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        look.primary(buttons.button(QDialogButtonBox.StandardButton.Ok), "check")
        layout.addWidget(buttons)

    def code(self) -> str:
        return self.code_edit.text().strip()


def _sheet_html(vault_id: str, vault_path: str, code: str) -> str:
    lines = "".join(f"<p>{escape(line.strip())}</p>" for line in _INSTRUCTIONS)
    return (
        f"<h1>{escape(APP_NAME)}: vault recovery sheet</h1>"
        f"<p>Vault id: {escape(vault_id)}<br>Vault folder: {escape(vault_path)}<br>"
        f"Printed: {dt.date.today().isoformat()}</p>"
        f"<p style='font-family:monospace; font-size:22pt; font-weight:bold'>{escape(code)}</p>"
        f"{lines}"
    )
