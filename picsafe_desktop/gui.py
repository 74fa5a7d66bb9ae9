"""The windowed entry point (`picsafe-desktop-gui`, a gui-script: no console window).

The console entry point opens a console on Windows whose closing kills a running import, and
under `pythonw` (or a bundle built without a console) stderr is None, so a start-up error - a
broken site config, a vault that cannot open - vanished without a word. This entry point runs
the same `cli.main`, keeps what it writes to stderr, and when it ends with an error shows that
text in a dialog. Never a traceback: unexpected errors are logged through the PHI filter and the
dialog says where IT finds them.
"""

from __future__ import annotations

import sys
from typing import TextIO

LIMIT = 8000  # characters of stderr kept for the dialog (the app may run for hours)


class _Keep:
    """A stderr that keeps the last LIMIT characters and passes everything on (if it can)."""

    def __init__(self, passthrough: TextIO | None) -> None:
        self._passthrough = passthrough
        self.text = ""

    def write(self, text: str) -> int:
        self.text = (self.text + text)[-LIMIT:]
        if self._passthrough is not None:
            try:
                self._passthrough.write(text)
            except (OSError, ValueError):
                self._passthrough = None
        return len(text)

    def flush(self) -> None:
        if self._passthrough is not None:
            try:
                self._passthrough.flush()
            except (OSError, ValueError):
                self._passthrough = None


def show_error(text: str) -> None:
    """A modal error box (creates the Qt application if start-up failed before it existed)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    from picsafe_desktop.ui import i18n

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if not i18n.installed():
        i18n.install_translators(app)  # start-up failed before the app loaded its language
    title = QCoreApplication.translate("App", "PicSafe Desktop could not start")
    box = QMessageBox(QMessageBox.Icon.Critical, title, text.strip())
    box.exec()


def _crash_words() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate(
        "App",
        "PicSafe Desktop stopped by an unexpected error. Details for IT (without patient "
        "data) are in the PicSafe log file (docs/deployment.md, Logs).",
    )


def main(argv: list[str] | None = None) -> int:
    from picsafe_desktop import cli, logsetup

    real = sys.stderr
    kept = _Keep(real)
    sys.stderr = kept
    try:
        code = cli.main(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse: usage errors and --help
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception:  # noqa: BLE001 - shown as a dialog, logged without patient data
        logsetup.log_crash(*sys.exc_info(), where="start-up")
        kept.write(_crash_words() + "\n")
        code = 1
    finally:
        sys.stderr = real
    if code and kept.text.strip():
        show_error(kept.text)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
