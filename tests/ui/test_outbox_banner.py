"""The window's outbox line: "2 photos waiting for the PACS" until a worker delivers them."""

from __future__ import annotations

import pytest

from picsafe_desktop import config
from picsafe_desktop.export import outbox
from picsafe_desktop.services import Services
from picsafe_desktop.ui.main_window import MainWindow
from picsafe_desktop.vault import Vault
from tests.export_tools import AET, free_port
from tests.integration.test_outbox import STAFF, consented_vault

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]


def _site(vault_dir, port: int):
    return config.from_dict(
        {
            "vault": {"path": str(vault_dir)},
            "pacs": {"ae_title": AET, "host": "127.0.0.1", "port": port},
            "outbox": {"poll_seconds": 3600},
        }
    )


def test_waiting_photos_show_in_the_status_bar_until_the_worker_sends_them(
    qtbot, tmp_path, keyring_service, orthanc
):
    vault_dir = consented_vault(tmp_path, keyring_service)
    orthanc.clear()
    vault = Vault.open(vault_dir, keyring_service)
    services = Services(_site(vault_dir, free_port()), vault)  # the PACS is unreachable
    consent_id = vault.list_items()[0].consent_id
    outbox.queue(vault, consent_id, "dicom", staff=STAFF, actor="test")
    window = MainWindow(services.site, services)
    qtbot.addWidget(window)
    try:
        label = window.outbox_sender.label
        qtbot.waitUntil(lambda: label.text() == "2 photos waiting for the PACS", timeout=20000)
        assert window.locked  # counts only: shown on the lock screen too

        services.site = _site(vault_dir, orthanc.dicom_port)  # the network is back
        window.outbox_sender.tick(force=True)
        qtbot.waitUntil(lambda: label.text() == "", timeout=30000)
        assert len(orthanc.get("/instances")) == 2
        assert vault.outbox_entries() == []
    finally:
        window.outbox_sender.stop()
        qtbot.waitUntil(lambda: not window.outbox_sender._busy, timeout=30000)
        window.close()
        vault.close()
