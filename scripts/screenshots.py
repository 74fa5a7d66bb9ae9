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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.ui.journey_photos import with_capture_time  # noqa: E402 - generated capture times

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
        # One phone, two patients (a 40-minute gap between them) and a personal photo.
        times = (
            "2025:05:06 10:01:10",
            "2025:05:06 10:03:00",
            "2025:05:06 10:41:00",
            "2025:05:06 10:43:20",
            "2025:05:06 19:30:00",
        )
        for n, (name, when) in enumerate(zip((*PHOTOS, PHOTOS[0]), times, strict=True)):
            data = (CORPUS / name).read_bytes() + bytes([n])  # five distinct originals
            (drop / f"IMG_{n:04d}.JPG").write_bytes(with_capture_time(data, when))

        window = MainWindow(site, services)
        window.move(0, 0)
        window.resize(1366, 768)
        window.show()
        grab(window, out / "lock-screen.png")

        window.sign_in(Staff("", "", "N4411"), "4826")
        wait_until(lambda: not window.locked)
        wait_until(lambda: window.stack.currentWidget() is window.empty_state)
        grab(window, out / "empty-state.png")
        window.start_import([str(drop)])
        wait_until(lambda: window.intake_dialog is not None and window.intake_dialog.isVisible())
        intake = window.intake_dialog
        intake.move(0, 0)
        grab(intake, out / "intake-grid.png")
        intake.consent_button.click()
        wait_until(lambda: window.consent_dialog is not None and window.consent_dialog.isVisible())
        dialog = window.consent_dialog
        dialog.move(10, 10)
        grab(dialog, out / "consent-dialog-empty.png")
        dialog.mrn_edit.setText("RX7712345")
        dialog.name_edit.setText("Alex Example")
        dialog.capacity_buttons[Capacity.SELF].setChecked(True)
        dialog.method_buttons[Method.WRITTEN].setChecked(True)
        dialog.pick_body_site()
        picker = dialog.body_map_dialog
        picker.resize(900, 560)
        picker.move(200, 60)
        wait_until(picker.isVisible)
        settle(0.3)
        centre = picker.map.region_rect("front_forearm_left").center()
        QTest.mouseClick(
            picker.map,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint(int(centre.x()), int(centre.y())),
        )
        grab(picker, out / "body-map.png")
        picker.accept()
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
        dialog.close()  # the window manager's close button: the form stays and says why
        grab(dialog, out / "consent-dialog-close-hint.png")
        dialog.record_button.click()
        wait_until(lambda: len(intake.remaining()) == 3)
        settle(1.0)
        grab(intake, out / "intake-next-patient.png")
        intake.later_button.click()  # the rest waits for later

        wait_until(lambda: window.thumbnails.rowCount() == 2)
        wait_until(lambda: window.thumbnails.cached_count() == 2)
        from picsafe_desktop.deid import Redaction

        services.redact(
            window.thumbnails.item(0).item_id, [Redaction(0, 0, 300, 300, "black")], False
        )
        window.refresh()
        window.refresh_photos()
        wait_until(lambda: window.thumbnails.rowCount() == 3)
        wait_until(lambda: window.thumbnails.cached_count() == 3)
        window.grid.setCurrentIndex(window.thumbnails.index(window.thumbnails.rowCount() - 1))
        wait_until(lambda: "Uses allowed" in window.details.text())
        grab(window, out / "main-window.png")
        window.timeline_action.trigger()
        wait_until(lambda: getattr(window, "timeline_dialog", None) is not None)
        timeline = window.timeline_dialog
        timeline.move(100, 40)
        timeline.tick(list(timeline.items)[:2])
        grab(timeline, out / "timeline.png")
        timeline.compare_button.click()
        wait_until(lambda: getattr(window, "comparison", None) is not None)
        compare = window.comparison
        compare.move(0, 0)
        compare.resize(1366, 740)
        wait_until(lambda: all(not i.pixmap().isNull() for i in compare.items))
        compare.fit()
        grab(compare, out / "comparison.png")
        compare.close()
        timeline.close()
        window.export_action.trigger()
        export = window.export_dialog
        export.move(200, 80)
        grab(export, out / "export-dialog.png")
        export.close()
        window.audit_action.trigger()
        settle(1.5)
        from picsafe_desktop.ui.audit_view import AuditView

        view = window.findChild(AuditView)
        wait_until(lambda: view.model.rowCount() > 0)
        grab(view, out / "audit-view.png")
        view.close()
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
