"""Real-window screenshots of PicSafe Desktop for docs/, taken from the X server's framebuffer.

Builds a throwaway vault (key in the session's keyring), imports a few corpus photos for a
fictional patient and photographs the consent dialog and the main window. Run it through the
test harness, which provides an Xvfb display and a Secret Service keyring:

    scripts/with-test-services .venv/bin/python scripts/screenshots.py docs/screenshots
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from picsafe_desktop import config
from picsafe_desktop.app import create_qt_app
from picsafe_desktop.model import Capacity, Method, Staff

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
PHOTOS = (
    "iphone4-gps__Apple-iPhone-4.jpg",
    "google-pixel-gps-makernote__IMG_20180725_163423.jpg",
    "canon-powershot-sx60-orient6-xmp-iptc__canon_hdr_NO.jpg",
    "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg",
)


def wait_until(condition, timeout: float = 30.0) -> None:
    app = QGuiApplication.instance()
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the window")
        app.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.6) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QGuiApplication.instance().processEvents()
        time.sleep(0.02)


def grab(widget, path: Path) -> None:
    """Capture the widget's frame from the root window, as a person would see it."""
    settle()
    geo = widget.frameGeometry()
    shot = QGuiApplication.primaryScreen().grabWindow(
        0, geo.x(), geo.y(), geo.width(), geo.height()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if not shot.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def main(out_dir: str = "docs/screenshots") -> int:
    if not CORPUS.is_dir():
        raise SystemExit(f"the photo corpus is needed for screenshots: {CORPUS}")
    create_qt_app()
    from picsafe_desktop.services import Services
    from picsafe_desktop.staff.pins import StaffStore
    from picsafe_desktop.ui.main_window import MainWindow
    from picsafe_desktop.vault import Vault

    out = Path(out_dir)
    work = Path(tempfile.mkdtemp(prefix="picsafe-shots-"))
    service = f"picsafe-screenshots-{uuid.uuid4().hex[:8]}"
    vault_id = ""
    try:
        site = config.from_dict(
            {"vault": {"path": str(work / "vault")}, "logging": {"file": str(work / "app.log")}}
        )
        vault, _code = Vault.create(site.vault.path, service)
        vault_id = vault.vault_id
        services = Services(site, vault)
        # Sign-in as a ward PC does it by default: an enrolled staff ID and PIN.
        StaffStore.for_vault(vault).add(
            "N4411", "Sam Okafor", ["clinician"], "4826", title="Staff nurse", actor="screenshots"
        )
        drop = work / "phone"
        drop.mkdir()
        for name in PHOTOS:
            shutil.copy(CORPUS / name, drop / name)

        window = MainWindow(site, services)
        window.move(0, 0)
        window.resize(1366, 768)
        window.show()
        grab(window, out / "lock-screen.png")

        window.sign_in(Staff("", "", "N4411"), "4826")
        wait_until(lambda: not window.locked)
        window.start_import([str(drop)])
        wait_until(lambda: window.intake_dialog is not None and window.intake_dialog.isVisible())
        intake = window.intake_dialog
        intake.grid.selectAll()  # every photo is this patient's
        intake.consent_button.click()
        wait_until(lambda: window.consent_dialog is not None and window.consent_dialog.isVisible())
        dialog = window.consent_dialog
        dialog.move(60, 20)
        dialog.mrn_edit.setText("RX7712345")
        dialog.name_edit.setText("Alex Example")
        dialog.capacity_buttons[Capacity.SELF].setChecked(True)
        dialog.method_buttons[Method.WRITTEN].setChecked(True)
        pad = dialog.signature_pad
        QTest.mousePress(
            pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(30, 100)
        )
        for step, x in enumerate(range(40, 420, 12)):
            QTest.mouseMove(pad, QPoint(x, 70 + (step % 5) * 12))
        QTest.mouseRelease(
            pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(420, 90)
        )
        wait_until(dialog.record_button.isEnabled)
        grab(dialog, out / "consent-dialog.png")
        dialog.record_button.click()

        wait_until(lambda: window.thumbnails.cached_count() == len(PHOTOS))
        window.grid.setCurrentIndex(window.thumbnails.index(0))
        wait_until(lambda: "Uses allowed" in window.details.text())
        grab(window, out / "main-window.png")
        window.close()
        services.close()
        return 0
    finally:
        import keyring

        if vault_id:
            keyring.delete_password(service, vault_id)  # the throwaway key goes too
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
