"""First run creates the vault and shows the recovery code once; a lost key is recovered."""

from __future__ import annotations

import subprocess

import keyring
import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from picsafe_desktop import app, config
from picsafe_desktop.ui.first_run import FirstStaffDialog
from picsafe_desktop.ui.vault_setup import RecoverDialog, RecoveryCodeDialog

pytestmark = pytest.mark.keyring


def test_first_run_creates_vault_and_shows_code_once(qtbot, tmp_path, keyring_service, monkeypatch):
    site = config.from_dict({"vault": {"path": str(tmp_path / "vault")}})
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    shown: list[RecoveryCodeDialog] = []

    def exec_(dialog):
        shown.append(dialog)
        assert not dialog.ok_button.isEnabled(), "cannot continue before confirming"
        closed = []
        dialog.finished.connect(closed.append)
        dialog.show()
        dialog.reject()  # Esc / close without confirming must not lose the code
        assert dialog.isVisible() and not closed
        dialog.hide()
        dialog.confirm.setChecked(True)
        assert dialog.ok_button.isEnabled()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RecoveryCodeDialog, "exec", exec_)
    # enrolling the first staff member is tested in test_first_run_staff.py
    monkeypatch.setattr(FirstStaffDialog, "exec", lambda _self: QDialog.DialogCode.Rejected)
    services = app.open_services(site, keyring_service)
    try:
        assert services is not None and len(shown) == 1
        code = shown[0]._code
        assert code in shown[0].code_label.text()
        pdf = tmp_path / "sheet.pdf"
        pdf.write_bytes(shown[0].sheet_pdf())
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert code in text and services.vault.vault_id in text
        vault_id = services.vault.vault_id
    finally:
        if services is not None:
            services.close()

    # The key is lost from the keyring: the app asks for the recovery code and carries on.
    keyring.delete_password(keyring_service, vault_id)
    answers = iter(["WRONG-CODE-0000", code])
    warned = []

    def recover_exec(dialog):
        dialog.code_edit.setText(next(answers))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RecoverDialog, "exec", recover_exec)
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    again = app.open_services(site, keyring_service)
    try:
        assert again is not None and again.vault.vault_id == vault_id
        assert warned, "a wrong code is explained, then asked again"
    finally:
        again.close()


def test_recovery_sheet_saved_owner_only_or_failure_explained(qtbot, tmp_path, monkeypatch):
    from picsafe_desktop.ui import file_dialogs

    dialog = RecoveryCodeDialog("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "vault-1", str(tmp_path / "v"))
    qtbot.addWidget(dialog)
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    # the warning before saving ("unlocks every photo") is answered Save; failures are told
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _p, _t, text, *a: told.append(text) or QMessageBox.Save
    )
    target = tmp_path / "sheet.pdf"
    monkeypatch.setattr(file_dialogs, "save_file_name", lambda *a, **k: str(target))
    dialog.save_sheet()
    assert target.read_bytes().startswith(b"%PDF") and (target.stat().st_mode & 0o777) == 0o600
    missing = tmp_path / "no-such-folder" / "sheet.pdf"
    monkeypatch.setattr(file_dialogs, "save_file_name", lambda *a, **k: str(missing))
    dialog.save_sheet()
    assert "Could not save" in told[-1] and not missing.exists()


def test_a_vault_changed_outside_picsafe_is_not_opened_for_work(
    qtbot, tmp_path, keyring_service, monkeypatch
):
    """The window refuses a vault whose index differs from its authenticated state, says what
    differs and who to call, and changes nothing (issue 13)."""
    import sqlite3

    from picsafe_desktop.vault import Vault
    from tests.unit.vault_support import TEST_KDF, put_photo

    site = config.from_dict({"vault": {"path": str(tmp_path / "vault")}})
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    item = put_photo(vault, vault.create_batch("phone", actor="t"), b"photo" * 200)
    vault.close()
    conn = sqlite3.connect(tmp_path / "vault" / "index.sqlite3")
    conn.execute("DELETE FROM items")
    conn.commit()
    conn.close()
    said = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: said.append(text))
    assert app.open_services(site, keyring_service) is None
    assert "changed outside PicSafe" in said[0] and f"item {item} was removed" in said[0]
    assert (tmp_path / "vault" / "blobs" / item[:2] / f"{item}.psv").exists()
    assert not (tmp_path / "vault" / "quarantine").exists()
