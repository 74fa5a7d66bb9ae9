"""The window names files in the vault folder that PicSafe did not put there (issue 13)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.keyring]


def test_the_window_names_files_in_the_vault_folder_that_picsafe_did_not_put_there(
    qtbot, tmp_path, keyring_service, monkeypatch
):
    """Limit of issue 13: unknown top-level files were neither reported nor shown."""
    from PySide6.QtWidgets import QMessageBox

    from picsafe_desktop import app, config
    from picsafe_desktop.vault import Vault
    from tests.unit.vault_support import TEST_KDF

    site = config.from_dict({"vault": {"path": str(tmp_path / "vault")}})
    Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)[0].close()
    (tmp_path / "vault" / "copy of index.sqlite3").write_bytes(b"someone's copy")
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: said.append(text))
    services = app.open_services(site, keyring_service)
    try:
        assert services is not None and len(said) == 1
        assert "not put there by PicSafe" in said[0] and "copy of index.sqlite3" in said[0]
    finally:
        services.close()
    assert (tmp_path / "vault" / "copy of index.sqlite3").read_bytes() == b"someone's copy"
