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
    from picsafe_desktop.ui import i18n

    if not i18n.installed():
        i18n.install_translators(existing)  # the locale's catalogue (English's plural forms)
        from picsafe_desktop.ui import look

        look.apply_palette(existing)  # readable text colours; PICSAFE_HIGH_CONTRAST=dark|light
    QGuiApplication.setDesktopFileName(APP_ID)
    from importlib.resources import files

    from PySide6.QtGui import QIcon

    icon = files("picsafe_desktop") / "resources" / "picsafe-desktop.svg"
    QGuiApplication.setWindowIcon(QIcon(str(icon)))
    return existing


def open_services(site, keyring_service: str | None = None):
    """Open the vault: create it on first run, recover a lost key; None if the user gives up."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    from picsafe_desktop.services import KEYRING_SERVICE, Services, vault_exists
    from picsafe_desktop.ui.vault_setup import RecoverDialog, RecoveryCodeDialog
    from picsafe_desktop.vault import errors

    service = keyring_service or KEYRING_SERVICE
    path = site.vault.path
    try:
        if not vault_exists(path):
            answer = QMessageBox.question(
                None,
                APP_NAME,
                QCoreApplication.translate(
                    "App",
                    "There is no photo vault on this computer yet.\n\nCreate a new encrypted "
                    "vault in\n{path}?",
                ).format(path=path),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
            services, code = Services.create_vault(site, service)
            RecoveryCodeDialog(code, services.vault.vault_id, path).exec()
            if services.sign_in_method == "pin":  # no directory, no typed names: a first PIN
                from picsafe_desktop.ui.first_run import FirstStaffDialog

                FirstStaffDialog(services).exec()
            return services
        while True:
            try:
                return _trusted(Services.open_vault(site, service))
            except errors.KeyMissing as exc:
                dialog = RecoverDialog(str(exc))
                if dialog.exec() != dialog.DialogCode.Accepted:
                    return None
                try:
                    Services.recover_vault(site, dialog.code(), service)
                except errors.WrongRecoveryCode as wrong:
                    QMessageBox.warning(None, APP_NAME, str(wrong))
    except errors.VaultError as exc:
        from picsafe_desktop.importer import faults

        log.error("cannot open the vault: %s (%s)", type(exc).__name__, faults.classify(exc, path))
        # A full or read-only drive is not damage: "restore it from backup" would lose photos.
        why = f"{path}: {faults.advice(exc, path)}." if faults.is_fault(exc, path) else str(exc)
        QMessageBox.critical(
            None,
            APP_NAME,
            QCoreApplication.translate("App", "The photo vault cannot be opened.\n\n{why}").format(
                why=why
            ),
        )
        return None


def _trusted(services):
    """A vault whose index differs from its authenticated state opened read-only: the window
    cannot work with it (nothing could be audited); IT checks and repairs it first. Files the
    index did not explain were moved to quarantine/: say so, nothing was destroyed."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    vault = services.vault
    if vault.read_only:
        problems = vault.trust_problems
        log.error(
            "the vault differs from its authenticated state (%d difference(s))", len(problems)
        )
        QMessageBox.critical(
            None,
            APP_NAME,
            QCoreApplication.translate(
                "App",
                "The photo vault was changed outside PicSafe, so it was opened read-only and "
                "nothing in it was changed or deleted. Call IT: they run `picsafe-desktop vault "
                "verify` and `picsafe-desktop vault repair`.\n\n{problems}",
            ).format(problems="\n".join(problems[:10])),
        )
        services.close()
        return None
    if vault.unknown_files:
        # Named, never touched: IT finds out who put them there.
        QMessageBox.warning(
            None,
            APP_NAME,
            QCoreApplication.translate(
                "App",
                "%n file(s) or folder(s) in the vault folder were not put there by PicSafe; "
                "they were left untouched. Tell IT:\n\n{files}",
                "",
                len(vault.unknown_files),
            ).format(files="\n".join(vault.unknown_files[:10])),
        )
    if vault.quarantined:
        QMessageBox.warning(
            None,
            APP_NAME,
            QCoreApplication.translate(
                "App",
                "{n} files in the vault folder that its index does not explain were moved to "
                "its quarantine folder (nothing was deleted). Tell IT: `picsafe-desktop vault "
                "repair` says what they are.",
            ).format(n=len(vault.quarantined)),
        )
    return services


def run_gui(site) -> int:
    qt_app = create_qt_app()
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    from picsafe_desktop.ui.main_window import MainWindow
    from picsafe_desktop.ui.sources import SourceMonitor

    services = open_services(site)
    if services is None:
        return 1
    recovered = services.resume_imports()
    monitor = SourceMonitor(site)
    window = MainWindow(site, services, monitor)
    window.show()
    if recovered.notes:
        QMessageBox.warning(
            window,
            APP_NAME,
            QCoreApplication.translate(
                "App",
                "After the last unexpected stop, some originals must be removed by hand:"
                "\n\n{notes}",
            ).format(notes="\n".join(recovered.notes)),
        )
    monitor.start()
    _handle_sigterm(qt_app, window)
    log.info("%s %s started", APP_NAME, __version__)
    try:
        return qt_app.exec()
    finally:
        close_after_workers(monitor, services)


def _handle_sigterm(qt_app, window) -> None:
    """SIGTERM closes the window like Quit does. Python runs signal handlers only between
    bytecodes, so a timer hands control back to Python while Qt's loop is idle."""
    from PySide6.QtCore import QTimer

    from picsafe_desktop import shutdown

    def close() -> None:
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(0, qt_app.quit)

    shutdown.install(on_request=close)
    tick = QTimer(qt_app)
    tick.timeout.connect(lambda: None)
    tick.start(200)


def close_after_workers(monitor, services) -> None:
    """Stop the sources, let every running worker finish (an import completes its photo, an
    export its file), and only then close the vault they use."""
    from PySide6.QtCore import QThreadPool

    from picsafe_desktop.ui import workers

    monitor.stop()
    # Imports run on a pool of their own: wait for it too, or the vault closes mid-photo.
    pools = (workers.import_pool(), QThreadPool.globalInstance())
    running = sum(pool.activeThreadCount() for pool in pools)
    if running:
        log.info("waiting for %d background task(s) before closing", running)
    for pool in pools:
        pool.waitForDone()
    services.close()
    log.info("%s closed cleanly", APP_NAME)
