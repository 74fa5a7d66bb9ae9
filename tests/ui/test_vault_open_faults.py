"""The window's "vault cannot be opened" message tells a full drive from damage (issue 13,
finding 11): "restore it from backup" on a full disk sends people to lose photos."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QMessageBox

from picsafe_desktop import app, config
from tests.importer_support import make_vault
from tests.integration.test_import_hostile_cli import _fill, small_filesystem

pytestmark = pytest.mark.keyring


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_opening_a_vault_on_a_full_drive_says_full(qtbot, keyring_service, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    with small_filesystem("4m") as fs:
        make_vault(fs / "vault", keyring_service).close()
        _fill(fs, 8 * 1024)
        site = config.from_dict({"vault": {"path": str(fs / "vault")}})
        services = app.open_services(site, keyring_service)
        if services is not None:  # opened after all: nothing to explain
            services.close()
            pytest.fail("the vault opened on a full drive; the test did not test anything")
    (text,) = shown
    assert "full" in text, text
    assert "restore" not in text and "damaged" not in text and "backup" not in text, text
