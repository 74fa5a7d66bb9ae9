"""Thumbnail grid with thousands of photos: first screen shown lazily vs decrypting every thumbnail.

Run inside the test services (real keyring, X display):
    scripts/with-test-services .venv/bin/python bench/bench_grid.py [N]
Prints the time until the first screen of thumbnails is painted, the time a naive grid would
need to decrypt all N thumbnails first, and their ratio. No pass/fail: figures for the notes.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from picsafe_desktop import config
from picsafe_desktop.app import create_qt_app
from picsafe_desktop.model import ItemState, Staff
from picsafe_desktop.vault import KdfParams, Vault


def thumb_jpeg(i: int) -> bytes:
    """A 256x192 JPEG with photo-like noise, about the size of a real vault thumbnail."""
    out = io.BytesIO()
    Image.effect_noise((256, 192), 40 + i % 30).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def main(n: int = 3000) -> None:
    create_qt_app()
    from picsafe_desktop.services import Services
    from picsafe_desktop.ui.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="picsafe-bench-grid-"))
    service = f"picsafe-bench-{uuid.uuid4().hex[:8]}"
    site = config.from_dict(
        {
            "vault": {"path": str(work / "vault")},
            "logging": {"file": str(work / "log")},
            "staff": {"allow_unverified_names": True},  # measures the grid, not sign-in
        }
    )
    vault, _ = Vault.create(site.vault.path, service, kdf=KdfParams(1, 8192, 1))
    started = time.perf_counter()
    batch = vault.create_batch("bench", actor="bench")
    ids = []
    for i in range(n):
        data = thumb_jpeg(i)
        ids.append(
            vault.put(
                data,
                batch_id=batch,
                media_type="image/jpeg",
                thumbnail=data,
                metadata={"width": 256, "height": 192},
                actor="bench",
            )
        )
    consent = vault.put_consent(
        batch, {"patient": {"mrn": "BENCH1", "name": "Bench"}}, mrn="BENCH1", actor="bench"
    )
    vault.set_state(ids, ItemState.ACTIVE, consent_id=consent, actor="bench")
    print(f"setup: {n} photos stored in {time.perf_counter() - started:.1f} s")

    services = Services(site, vault)
    services.sign_in(Staff("Bench", "", "B1"))
    window = MainWindow(site, services)
    window.resize(1366, 768)
    window.show()
    window._last_staff = services.staff
    app = QApplication.instance()

    t0 = time.perf_counter()
    items = services.photos([consent])
    window.stack.setCurrentWidget(window.browser)
    window.thumbnails.set_items(items)
    # Done when what the view asked for (the visible rows) has arrived and nothing is loading.
    while window.thumbnails.cached_count() == 0 or window.thumbnails.loading_count():
        app.processEvents()
    lazy = time.perf_counter() - t0
    shown = window.thumbnails.cached_count()

    # A naive grid: decrypt and decode every thumbnail before showing anything.
    t1 = time.perf_counter()
    for item_id in ids:
        QImage.fromData(services.thumbnail(item_id)).scaled(160, 160)
    eager = time.perf_counter() - t1

    print(f"first screen: {shown} thumbnails decrypted and painted in {lazy * 1000:.0f} ms")
    print(f"decrypting all {n} thumbnails up front: {eager * 1000:.0f} ms")
    print(f"ratio (all up front / lazy first screen): {eager / lazy:.1f}x")
    window.close()
    QThreadPool.globalInstance().waitForDone()
    services.close()
    import keyring

    keyring.delete_password(service, vault.vault_id)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
