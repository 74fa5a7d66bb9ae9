"""Child process for test_long_session: the real main window through a long ward shift.

Signs in, scrolls the grid until every thumbnail has loaded, locks, and again — many times —
then prints one JSON line. Runs apart from the test process so that an interpreter abort (a Qt
binding's refcount bug, issue 11) fails the test instead of killing the suite.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

from PIL import Image
from PySide6.QtWidgets import QApplication

from picsafe_desktop import config
from picsafe_desktop.app import create_qt_app
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services
from picsafe_desktop.ui import workers
from picsafe_desktop.ui.main_window import MainWindow
from picsafe_desktop.vault import Vault
from tests.export_data import consent
from tests.unit.vault_support import TEST_KDF

NURSE = Staff("Sam Okafor", "Staff nurse", "N4411")


def jpeg(n: int, size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), ((n * 37) % 256, (n * 91) % 256, 120)).save(out, "JPEG")
    return out.getvalue()


def wait(app: QApplication, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    folder, service, photos, cycles = Path(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:5])
    app = create_qt_app(["picsafe-desktop-long-session"])
    site = config.from_dict(
        {
            "vault": {"path": str(folder / "vault")},
            "logging": {"file": str(folder / "app.log")},
            "staff": {"allow_unverified_names": True},  # the test is about memory, not sign-in
        }
    )
    vault, _code = Vault.create(site.vault.path, service, kdf=TEST_KDF)
    services = Services(site, vault)
    services.sign_in(NURSE)
    batch = vault.create_batch("long session", actor=services.actor)
    for n in range(photos):
        vault.put(
            jpeg(n, 96),
            batch_id=batch,
            media_type="image/jpeg",
            thumbnail=jpeg(n, 64),
            metadata={"capture_time": f"2026-11-30T{n % 24:02d}:{n % 60:02d}:00"},
            actor=services.actor,
        )
    services.record_consent(batch, consent())
    services.sign_out("setup done")

    loads = 0
    real_thumbnail = services.thumbnail

    def counted(item_id: str) -> bytes:
        nonlocal loads
        loads += 1
        return real_thumbnail(item_id)

    services.thumbnail = counted
    started = time.monotonic()
    window = MainWindow(site, services)
    window.resize(1366, 768)
    window.show()
    for _ in range(cycles):
        window.sign_in(NURSE)
        wait(app, lambda: window.thumbnails.rowCount() == photos)
        # Scroll through the grid the way a user would, a page at a time, to the last photo.
        bar = window.grid.verticalScrollBar()
        bar.setValue(0)
        while True:
            wait(app, lambda: window.thumbnails.loading_count() == 0)
            app.processEvents()
            if window.thumbnails.loading_count():
                continue  # the view asked for the rows it is now showing
            if bar.value() >= bar.maximum():
                break
            bar.setValue(min(bar.maximum(), bar.value() + max(bar.pageStep(), 1)))
        window.lock("long-session test")
        assert window.thumbnails.cached_count() == 0, "locked, no thumbnail stays in memory"
    workers.wait_for_done(30000)
    window.close()
    services.close()
    seconds = round(time.monotonic() - started, 1)
    print(json.dumps({"cycles": cycles, "thumbnail_loads": loads, "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
