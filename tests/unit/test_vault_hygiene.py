"""Finding 6: owner-only files, one consent id, bounded recovery cost, a delete beside a reader."""

import json
import os
import stat
import time

import pytest

from picsafe_desktop import consent as consent_rules
from picsafe_desktop.vault import IntegrityError, Vault
from tests.unit.test_consent import verbal
from tests.unit.vault_support import db, new_vault, put_photo

pytestmark = pytest.mark.keyring


def modes(root):
    return {p: stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


def test_every_file_and_folder_the_vault_creates_is_owner_only(tmp_path, keyring_service):
    """index.sqlite3 was created 0644 (the process umask) although the doc says 0600."""
    old = os.umask(0o022)  # the usual desktop umask: what SQLite and mkdir would obey
    try:
        vault, _ = new_vault(tmp_path, keyring_service)
        batch = vault.create_batch("phone", actor="t")
        gone = put_photo(vault, batch, b"a" * 5000)
        put_photo(vault, batch, b"b" * 5000)
        vault.delete(gone, actor="t", reason="test")
        stray = vault.path / "blobs" / "ab" / ("ab" * 16 + ".psv")
        stray.parent.mkdir(mode=0o700)
        stray.write_bytes(b"x")
        stray.chmod(0o600)
        vault.close()
        with Vault.open(vault.path, keyring_service):  # quarantines the stray; WAL and SHM open
            found = modes(vault.path)
    finally:
        os.umask(old)
    names = {p.name for p in found}
    assert {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm", "quarantine"} <= names
    wrong = {
        str(p.relative_to(vault.path)): oct(m)
        for p, m in found.items()
        if m != (0o700 if p.is_dir() else 0o600)
    }
    assert wrong == {}


def test_the_consent_records_own_id_is_the_vaults_consent_id(tmp_path, keyring_service):
    """Exports carry the record's id; it differed from the id the vault and its audit use."""
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    put_photo(vault, batch, b"photo" * 100)
    record = consent_rules.record_from_fields(verbal(), wording=consent_rules.default_wording())
    consent_id = consent_rules.store(vault, batch, record, actor="t")
    assert vault.read_consent(consent_id, actor="t")["consent_id"] == consent_id
    assert [r.subject for r in vault.audit_rows() if r.event == "consent"] == [consent_id]
    vault.close()


@pytest.mark.parametrize(
    ("field", "value"), [("time_cost", 40), ("memory_kib", 2 * 1024 * 1024), ("parallelism", 64)]
)
def test_recover_refuses_absurd_argon2_settings_at_once(tmp_path, keyring_service, field, value):
    """An edited vault.json could make `vault recover` run for hours or exhaust memory."""
    vault, code = new_vault(tmp_path, keyring_service)
    vault.close()
    header = json.loads((vault.path / "vault.json").read_text())
    header["recovery"][field] = value
    (vault.path / "vault.json").write_text(json.dumps(header))
    started = time.monotonic()
    with pytest.raises(IntegrityError, match="beyond what PicSafe ever writes.*backup"):
        Vault.recover(vault.path, code, keyring_service)
    assert time.monotonic() - started < 2


def test_a_delete_beside_another_reader_succeeds_and_flushes_the_key_later(
    tmp_path, keyring_service
):
    """It committed, then reported an error, and left the key material in the file."""
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    item = put_photo(vault, batch, os.urandom(20_000))
    put_photo(vault, batch, b"kept" * 100)
    with db(vault.path) as conn:
        (wrapped,) = conn.execute(
            "SELECT wrapped_key FROM items WHERE item_id = ?", (item,)
        ).fetchone()
    reader = db(vault.path)
    other = reader.__enter__()  # a backup tool holding a read transaction
    other.execute("BEGIN")
    other.execute("SELECT COUNT(*) FROM items").fetchone()
    started = time.monotonic()
    vault.delete(item, actor="t", reason="test")  # no error: the deletion is committed
    assert time.monotonic() - started < 3
    assert item not in {i.item_id for i in vault.list_items()}
    other.execute("COMMIT")
    reader.__exit__(None, None, None)
    vault.audit("view", actor="t", subject="later")  # the next change retries the flush
    everything = b"".join(p.read_bytes() for p in vault.path.rglob("index.sqlite3*"))
    assert wrapped not in everything
    vault.close()
    with Vault.open(vault.path, keyring_service) as again:
        assert again.verify().ok
