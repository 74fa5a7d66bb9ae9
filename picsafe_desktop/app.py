"""Composition root: builds the Qt application and the main window from the site config."""

from __future__ import annotations

import logging
import sys

from picsafe_desktop import APP_ID, APP_NAME, ORG_DOMAIN, ORG_NAME, __version__

log = logging.getLogger(__name__)


def create_qt_app(argv: list[str] | None = None):
    """Create (or reuse) the QApplication with the names Qt uses for QSettings and paths."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if existing is None:
        QCoreApplication.setOrganizationName(ORG_NAME)
        QCoreApplication.setOrganizationDomain(ORG_DOMAIN)
        QCoreApplication.setApplicationName(APP_NAME)
        QCoreApplication.setApplicationVersion(__version__)
        # Qt 6 scales for high DPI by default; pass fractional factors (125 %, 150 %) through.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        existing = QApplication(argv if argv is not None else [sys.argv[0]])
    QGuiApplication.setDesktopFileName(APP_ID)
    return existing


def run_gui(site) -> int:
    qt_app = create_qt_app()
    from picsafe_desktop.ui.main_window import MainWindow

    window = MainWindow(site)
    window.show()
    log.info("%s %s started", APP_NAME, __version__)
    return qt_app.exec()
