"""Take real-window screenshots of the app under the current X display (used for docs/).

Run through the harness so a keyring and a display exist:
    scripts/with-test-services .venv/bin/python scripts/screenshots.py docs/screenshots
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from picsafe_desktop import config
from picsafe_desktop.app import create_qt_app


def grab(widget, path: Path) -> None:
    """Capture the widget's frame from the X server's root window, as a user would see it."""
    app = QGuiApplication.instance()
    for _ in range(20):
        app.processEvents()
    geo = widget.frameGeometry()
    shot = QGuiApplication.primaryScreen().grabWindow(0, geo.x(), geo.y(), geo.width(),
                                                      geo.height())
    path.parent.mkdir(parents=True, exist_ok=True)
    if not shot.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def main(out_dir: str = "docs/screenshots") -> int:
    app = create_qt_app()
    from picsafe_desktop.ui.main_window import MainWindow

    out = Path(out_dir)
    window = MainWindow(config.from_dict({}))
    window.move(20, 20)
    window.show()
    QTimer.singleShot(800, lambda: (grab(window, out / "main-window-empty.png"), app.quit()))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
