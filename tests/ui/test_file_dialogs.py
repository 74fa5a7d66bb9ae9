"""Qt's file dialog keeps no folder history on disk (QtProject.conf): folders name patients."""

import shiboken6
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from picsafe_desktop.ui.file_dialogs import discard


def _qt_file_dialog_settings() -> str:
    settings = QSettings(QSettings.Scope.UserScope, "QtProject")
    settings.sync()
    with open(settings.fileName(), encoding="utf-8", errors="replace") as f:
        return f.read()


def _visited(folder) -> QFileDialog:
    """A dialog in which the user went into `folder` (as when choosing a file there)."""
    dialog = QFileDialog(None, "Export to", str(folder.parent), "PDF (*.pdf)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setDirectory(str(folder))
    dialog.selectFile(str(folder / "wound.pdf"))
    return dialog


def test_qt_itself_would_save_the_patient_folder(qapp, tmp_path):
    """The defect, shown: destroyed as Qt does, the dialog writes the folder to disk."""
    folder = tmp_path / "Philippa Quenby RX7712345"
    folder.mkdir()
    shiboken6.delete(_visited(folder))
    assert "Quenby" in _qt_file_dialog_settings()


def test_our_dialogs_leave_no_patient_folder_in_qt_settings(qapp, tmp_path):
    folder = tmp_path / "Bartholomew Ashdown RX7700002"
    folder.mkdir()
    discard(_visited(folder))
    saved = _qt_file_dialog_settings()
    assert "Ashdown" not in saved and "RX7700002" not in saved and str(tmp_path) not in saved
    assert "Quenby" not in saved, "an earlier folder is not kept either"
