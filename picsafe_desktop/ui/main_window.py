"""The main window: what a nurse sees between patients."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop import APP_NAME, __version__

EMPTY_STATE_TEXT = (
    "<h2>No photos yet</h2>"
    "<p>To bring clinical photos in:</p>"
    "<ul>"
    "<li>connect the phone with its USB cable and unlock it, or</li>"
    "<li>drag photos from a folder onto this window.</li>"
    "</ul>"
    "<p>Each photo is stripped of hidden data (location, phone serial, dates), "
    "encrypted, and removed from where it came from. "
    "You will then be asked to record the patient's consent.</p>"
)


class MainWindow(QMainWindow):
    def __init__(self, site, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.site = site
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.resize(1200, 720)
        self.setMinimumSize(800, 560)

        self.stack = QStackedWidget(self)
        self.empty_state = self._build_empty_state()
        self.stack.addWidget(self.empty_state)
        self.setCentralWidget(self.stack)
        self._build_menus()
        self.statusBar().showMessage("Ready")

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

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def about_text(self) -> str:
        return (
            f"<b>{APP_NAME}</b> {__version__}<br>"
            "De-identifies, encrypts and records consent for clinical photos, "
            "and sends them only into the medical record."
        )

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())
