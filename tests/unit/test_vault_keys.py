"""Master key in the OS keyring: backend vetting, missing/wrong keys, the recovery code."""

import base64
import os
import shutil
import subprocess
import sys
import textwrap

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest
import secretstorage

from picsafe_desktop.vault import (
    KeyMissing,
    KeyringUnavailable,
    Vault,
    VaultBusy,
    WrongRecoveryCode,
)
from picsafe_desktop.vault.keystore import SECRET_PREFIX, load_master_key
from tests.unit.vault_support import folder_bytes, new_vault, put_photo

pytestmark = pytest.mark.keyring


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A backend PicSafe does not know: secrets in process memory. It sets no `priority`, so
    keyring never picks it on its own (defining it must not change the session's backend)."""

    def __init__(self):
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


class PlaintextKeyring(MemoryKeyring):
    """Behaves like keyrings.alt's file backends: secrets in a file next to the data."""

    file_path = "/tmp/keyring_pass.cfg"


@pytest.fixture
def other_backend(secret_service):
    """Swap the process's keyring backend for one test, then put the real one back."""
    yield keyring.set_keyring
    keyring.set_keyring(secret_service)


@pytest.fixture
def stored(tmp_path, keyring_service):
    vault, code = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    item = put_photo(vault, batch, b"photo bytes")
    vault.close()
    return vault.path, keyring_service, vault.vault_id, code, item


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (keyring.backends.null.Keyring(), "silently discards secrets"),
        (keyring.backends.fail.Keyring(), "no usable keyring backend"),
        (PlaintextKeyring(), "keeps secrets in a file"),
        (MemoryKeyring(), "not one PicSafe trusts"),
    ],
)
def test_unsafe_backends_are_refused_before_anything_is_written(
    tmp_path, keyring_service, other_backend, backend, reason
):
    other_backend(backend)
    with pytest.raises(KeyringUnavailable, match=reason) as caught:
        new_vault(tmp_path, keyring_service)
    assert "Secret Service" in str(caught.value)  # says what would work
    assert not (tmp_path / "vault").exists()
    if isinstance(backend, MemoryKeyring):
        assert backend.store == {}


def test_open_refuses_an_unsafe_backend_too(stored, other_backend):
    root, service, vault_id, *_ = stored
    other_backend(keyring.backends.null.Keyring())
    with pytest.raises(KeyringUnavailable, match="silently discards"):
        Vault.open(root, service)


def test_a_store_that_loses_secrets_fails_the_sentinel_round_trip(
    tmp_path, keyring_service, monkeypatch
):
    monkeypatch.setattr(keyring, "get_password", lambda service, user: None)
    with pytest.raises(KeyringUnavailable, match="did not return a secret"):
        new_vault(tmp_path, keyring_service)


def test_master_key_lives_in_the_secret_service_only(stored):
    root, service, vault_id, *_ = stored
    key = load_master_key(service, vault_id)
    assert len(key) == 32
    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        (entry,) = collection.search_items({"service": service, "username": vault_id})
        assert entry.get_secret().decode().startswith(SECRET_PREFIX)
    everything = b"".join(folder_bytes(root).values())
    assert key not in everything and base64.b64encode(key) not in everything


def test_missing_keyring_entry_says_to_recover(stored):
    root, service, vault_id, *_ = stored
    keyring.delete_password(service, vault_id)
    with pytest.raises(KeyMissing, match="vault recover"):
        Vault.open(root, service)


def test_a_different_key_in_the_keyring_is_detected(stored):
    root, service, vault_id, *_ = stored
    keyring.set_password(
        service, vault_id, SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()
    )
    with pytest.raises(KeyMissing, match="different key"):
        Vault.open(root, service)
    keyring.set_password(service, vault_id, "garbage")
    with pytest.raises(KeyMissing, match="has no key"):
        Vault.open(root, service)


def test_recovery_code_restores_a_lost_key(stored):
    root, service, vault_id, code, item = stored
    keyring.delete_password(service, vault_id)
    Vault.recover(root, code.lower().replace("-", " "), service, actor="it desk")
    with Vault.open(root, service) as vault:
        assert vault.read(item, actor="t") == b"photo bytes"
        last = vault.audit_rows()[-2]
        assert (last.event, last.actor, last.subject) == ("vault_recover", "it desk", vault_id)
        assert vault.verify_audit().ok


def test_wrong_recovery_code_changes_nothing(stored):
    root, service, vault_id, code, _ = stored
    before = keyring.get_password(service, vault_id)
    wrong = ("0000" + code[4:]) if not code.startswith("0000") else ("1111" + code[4:])
    with pytest.raises(WrongRecoveryCode, match="does not unlock vault"):
        Vault.recover(root, wrong, service)
    assert keyring.get_password(service, vault_id) == before
    keyring.delete_password(service, vault_id)
    with pytest.raises(WrongRecoveryCode):
        Vault.recover(root, wrong, service)
    assert keyring.get_password(service, vault_id) is None
    with pytest.raises(WrongRecoveryCode, match="24 letters"):
        Vault.recover(root, "1234", service)
    Vault.recover(root, code, service)
    Vault.open(root, service).close()


def test_recover_waits_for_the_vault_to_be_closed(stored):
    root, service, _, code, _ = stored
    with Vault.open(root, service):
        with pytest.raises(VaultBusy):
            Vault.recover(root, code, service)


def test_a_locked_secret_service_is_reported_as_locked(tmp_path):
    """Runs in a private D-Bus session of its own: locking the shared one would break others."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is needed (scripts/install-system-deps.sh --test)"
    child = textwrap.dedent(f"""
        import secretstorage
        from picsafe_desktop.vault import KeyringUnavailable, KdfParams, Vault
        kdf = KdfParams(1, 8192, 1)
        vault, _ = Vault.create({str(tmp_path / "v")!r}, "picsafe-locked-test", kdf=kdf)
        vault.close()
        with secretstorage.dbus_init() as conn:
            secretstorage.get_default_collection(conn).lock()
        try:
            Vault.open({str(tmp_path / "v")!r}, "picsafe-locked-test")
        except KeyringUnavailable as exc:
            print("refused:", exc)
        """)
    script = tmp_path / "child.py"
    script.write_text(child)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    (tmp_path / "run").mkdir(mode=0o700)
    out = subprocess.run(
        [
            "dbus-run-session",
            "--",
            "sh",
            "-c",
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
            f'exec "{sys.executable}" "{script}"',
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "refused: the OS keyring is locked" in out.stdout, out.stderr


def test_opening_a_vault_chooses_among_trusted_backends_only(stored):
    """Start-up cost: keyring's scan of every backend imports its macOS one (find_library:
    about 0.1 s); PicSafe picks among the backends it trusts, in a fresh process."""
    root, service, *_ = stored
    code = (
        "import sys; from picsafe_desktop.vault import Vault; "
        f"v = Vault.open({str(root)!r}, {service!r}, read_only=True); v.close(); "
        "import keyring; print(type(keyring.get_keyring()).__module__); "
        "print('keyring.backends.macOS' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["keyring.backends.SecretService", "False"]


def test_a_keyring_that_stops_answering_is_told_plainly(stored, monkeypatch, caplog):
    """Issue 13: a restarted daemon with its login keyring locked made the start-up say
    "(InitError: Failed to unlock the collection: Prompt dismissed.)". The person at the ward
    PC gets what to do; the class name and the D-Bus wording go to the log only."""
    root, service, *_ = stored

    def dismissed(*_args):
        raise keyring.errors.InitError("Failed to unlock the collection! Prompt dismissed.")

    monkeypatch.setattr(keyring, "get_password", dismissed)
    with caplog.at_level("WARNING"), pytest.raises(KeyringUnavailable) as raised:
        Vault.open(root, service)
    said = str(raised.value)
    for jargon in ("InitError", "Prompt", "dismissed", "collection", "D-Bus", "Secret Service"):
        assert jargon not in said
    assert "unlock the keyring" in said and "log out and in again" in said and "IT" in said
    assert "InitError" in caplog.text and "Prompt dismissed" in caplog.text


def test_a_keyring_lost_mid_session_is_flagged_and_the_anchor_catches_up(stored, monkeypatch):
    """Issue 13: the anchor write failing left only a log line. The vault now says so
    (`keyring_trouble`, shown in the window), keeps importing (the index may run ahead of its
    anchor, accepted at open), and writes the newest anchor once the keyring answers."""
    root, service, *_ = stored
    real_set = keyring.set_password

    def gone(*_args):
        raise keyring.errors.InitError("Failed to unlock the collection! Prompt dismissed.")

    with Vault.open(root, service) as vault:
        assert not vault.keyring_trouble
        monkeypatch.setattr(keyring, "set_password", gone)
        batch = vault.create_batch("phone", actor="t")
        put_photo(vault, batch, b"imported while the keyring was gone")
        vault._flush_anchor()
        assert vault.keyring_trouble
        assert len(vault.list_items()) == 2  # nothing lost, nothing refused
        monkeypatch.setattr(keyring, "set_password", real_set)
        vault._flush_anchor()
        assert not vault.keyring_trouble
    with Vault.open(root, service) as vault:
        assert not vault.read_only and len(vault.list_items()) == 2


def test_a_vault_closed_while_the_keyring_is_gone_opens_when_it_is_back(stored, monkeypatch):
    root, service, *_ = stored

    def gone(*_args):
        raise keyring.errors.InitError("Prompt dismissed.")

    vault = Vault.open(root, service)
    monkeypatch.setattr(keyring, "set_password", gone)
    put_photo(vault, vault.create_batch("phone", actor="t"), b"ahead of the anchor")
    vault.close()  # the anchor stays one generation behind: never taken for a rollback
    monkeypatch.undo()
    with Vault.open(root, service) as vault:
        assert not vault.read_only and not vault.trust_problems
        assert len(vault.list_items()) == 2
