"""The recovery sheet (issue 18): "Print recovery sheet…" prints through the print dialog and
writes nothing; saving a PDF is a separate choice, warned about, to a place the user picks."""

from __future__ import annotations

import subprocess

from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QMessageBox

from picsafe_desktop.ui import file_dialogs
from picsafe_desktop.ui.vault_setup import RecoveryCodeDialog

CODE = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"


def _dialog(qtbot, tmp_path) -> RecoveryCodeDialog:
    dialog = RecoveryCodeDialog(CODE, "vault-1", str(tmp_path / "vault"))
    qtbot.addWidget(dialog)
    return dialog


def test_print_goes_to_the_printer_and_saves_no_file(qtbot, tmp_path, monkeypatch):
    dialog = _dialog(qtbot, tmp_path)
    printed = tmp_path / "printer-output" / "spool.pdf"
    printed.parent.mkdir()

    def printer():  # stands in for the printer the user picks in the dialog
        p = QPrinter(QPrinter.PrinterMode.HighResolution)
        p.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        p.setOutputFileName(str(printed))
        return p

    asked = []
    monkeypatch.setattr(dialog, "make_printer", printer)
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: asked.append(1) or 1)
    monkeypatch.setattr(
        file_dialogs, "save_file_name", lambda *a, **k: (_ for _ in ()).throw(AssertionError)
    )
    home_before = set((tmp_path).iterdir())
    dialog.print_button.click()
    assert asked == [1]
    text = subprocess.run(
        ["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert CODE in text and "vault-1" in text
    assert set(tmp_path.iterdir()) == home_before  # nothing but the printer's own output


def test_cancelled_print_prints_nothing(qtbot, tmp_path, monkeypatch):
    dialog = _dialog(qtbot, tmp_path)
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert dialog.print_sheet() is False


def test_saving_warns_first_and_never_picks_a_folder(qtbot, tmp_path, monkeypatch):
    dialog = _dialog(qtbot, tmp_path)
    warnings, offered = [], []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _p, _t, text, *a: warnings.append(text) or QMessageBox.StandardButton.Cancel,
    )
    monkeypatch.setattr(file_dialogs, "save_file_name", lambda *a, **k: offered.append(a) or "")
    dialog.save_button.click()
    assert "unlocks every photo" in warnings[0]
    assert offered == []  # cancelled at the warning: no file dialog, no file
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _p, _t, text, *a: warnings.append(text) or QMessageBox.StandardButton.Save,
    )
    dialog.save_button.click()
    assert offered and offered[0][2] == ""  # no default folder (it was the home folder)
