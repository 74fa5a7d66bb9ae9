"""Qt's own file dialogs, without the folder history Qt keeps on disk.

Qt's widget-based file dialog saves the last folder visited and its back/forward history to
QtProject.conf (the user's config folder) when it is destroyed. Folders named after
patients are common on ward PCs, so that history would be patient data on disk outside the
vault. These helpers point the dialog back at the home folder, with no history, before Qt
saves it. (The native dialogs are not used: they add files to the desktop's recent list.)
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QDir
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget


def _dialog(parent: QWidget | None, title: str, start: str, filters: str) -> QFileDialog:
    dialog = QFileDialog(parent, title, start, filters)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    return dialog


def _run(dialog: QFileDialog) -> list[str]:
    try:
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.selectedFiles() if accepted else []
    finally:
        discard(dialog)


def discard(dialog: QFileDialog) -> None:
    """Destroy the dialog pointing home with no history: what Qt then saves names no
    folder the user visited."""
    dialog.setHistory([])
    dialog.setDirectory(QDir.homePath())
    dialog.setHistory([])
    shiboken6.delete(dialog)  # Qt writes QtProject.conf now


def save_file_name(parent: QWidget | None, title: str, start: str, filters: str) -> str:
    dialog = _dialog(parent, title, start, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    files = _run(dialog)
    return files[0] if files else ""


def open_file_names(parent: QWidget | None, title: str, start: str, filters: str) -> list[str]:
    dialog = _dialog(parent, title, start, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    return _run(dialog)
