"""A vault that trusts nothing in its folder (issue 13, findings 1-4).

Each test edits a copy of a real vault with sqlite3, as someone with write access to the folder
would, then runs `vault verify` / `audit verify` (exit 1 naming what differs) and checks that
every photo's ciphertext is still on disk: the app itself never destroys what it cannot explain.
"""

import shutil

import pytest

from picsafe_desktop import cli
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault, VaultError, VaultReadOnly
from tests.unit.vault_support import MRN, db, new_vault, put_photo

pytestmark = pytest.mark.keyring


@pytest.fixture
def run(keyring_service, capsys):
    def run(*args):
        code = cli.main([*args, "--keyring-service", keyring_service])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def ward(tmp_path, keyring_service):
    """A closed vault: batch with photos a, b (active under one consent) and c (waiting)."""
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    a, b, c = (put_photo(vault, batch, bytes([n]) * 5000) for n in range(3))
    consent = vault.put_consent(batch, {"patient": "x"}, mrn=MRN, actor="t")
    vault.set_state([a, b], ItemState.ACTIVE, consent_id=consent, actor="t")
    vault.close()
    return vault.path, keyring_service, batch, (a, b, c), consent


def blob(root, item):
    return root / "blobs" / item[:2] / f"{item}.psv"


def row(root, item):
    with db(root) as conn:
        return conn.execute("SELECT * FROM items WHERE item_id = ?", (item,)).fetchone()


def test_deleting_an_items_row_is_reported_and_its_photo_is_kept(ward, run):
    """Finding 1: both verifies passed, then the next open shredded the photo unaudited."""
    root, service, _, (_, _, c), _ = ward
    ciphertext = blob(root, c).read_bytes()
    with db(root) as conn:
        conn.execute("DELETE FROM items WHERE item_id = ?", (c,))
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert f"item {c} was removed from the index outside PicSafe" in err
    assert f"{blob(root, c)}: encrypted file without an index row" in err
    with Vault.open(root, service) as vault:  # the app opening it destroys nothing either
        assert vault.read_only
        assert any(f"item {c} was removed" in p for p in vault.trust_problems)
        with pytest.raises(VaultReadOnly, match="read-only"):
            vault.create_batch("phone", actor="t")
    assert blob(root, c).read_bytes() == ciphertext
    assert run("vault", "verify", "--vault", str(root))[0] == 1


def test_an_older_copy_of_the_index_is_reported_and_newer_photos_are_kept(ward, run):
    """Finding 2: restoring an older index.sqlite3 made the sweep destroy every newer photo."""
    root, service, batch, _, _ = ward
    old_index = (root / "index.sqlite3").read_bytes()
    with Vault.open(root, service) as vault:
        newer = [put_photo(vault, batch, bytes([9, n]) * 3000) for n in range(2)]
    kept = {item: blob(root, item).read_bytes() for item in newer}
    for suffix in ("-wal", "-shm"):
        (root / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    (root / "index.sqlite3").write_bytes(old_index)

    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert "the index is older than its anchor" in err
    for item in newer:
        assert f"{blob(root, item)}: encrypted file without an index row" in err
    with Vault.open(root, service) as vault:
        assert vault.read_only
        assert len(vault.list_items()) == 3  # what the old copy knows is still listed
    assert {item: blob(root, item).read_bytes() for item in newer} == kept
    assert not (root / "quarantine").exists()


def test_an_old_item_row_written_back_after_a_withdrawal_is_refused(ward, run):
    """Finding 3: the photo was active and readable again after consent was withdrawn."""
    root, service, _, (a, b, _), consent = ward
    saved = row(root, a)
    with Vault.open(root, service) as vault:
        vault.withdraw_consent(consent, actor="t", reason="patient asked")
    with db(root) as conn:
        conn.execute(f"INSERT INTO items VALUES ({', '.join('?' * len(saved))})", saved)
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert f"item {a} is not part of the vault's authenticated state" in err
    with Vault.open(root, service) as vault:
        with pytest.raises(VaultReadOnly):
            vault.read(a, actor="t")


def test_metadata_rolled_back_to_an_older_version_is_reported(ward, run):
    """Finding 3: an item's metadata could be put back to an older version undetected."""
    root, service, _, (a, _, _), _ = ward
    old = row(root, a)[11]
    with Vault.open(root, service) as vault:
        vault.update_metadata(a, {"note": "corrected: right forearm"}, actor="t")
    with db(root) as conn:
        conn.execute("UPDATE items SET metadata = ? WHERE item_id = ?", (old, a))
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert f"the row or metadata of item {a} differs from the vault's authenticated state" in err


def test_an_audit_log_cut_back_to_an_older_head_is_reported(ward, run):
    """Finding 4: deleting the last rows and writing back an older head record passed."""
    root, service, *_ = ward
    with db(root) as conn:
        (seq,) = conn.execute("SELECT MAX(seq) FROM audit").fetchone()
        (old_head,) = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
    with Vault.open(root, service) as vault:
        vault.audit("view", actor="t", subject="x1")
        vault.audit("view", actor="t", subject="x2")
    with db(root) as conn:
        conn.execute("DELETE FROM audit WHERE seq > ?", (seq,))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (old_head,))
    code, _, err = run("audit", "verify", "--vault", str(root))
    assert code == 1
    assert f"the audit log was cut back: it ends at row {seq}" in err
    assert f"anchor says row {seq + 2} was written" in err
    assert run("vault", "verify", "--vault", str(root))[0] == 1


def test_a_wiped_audit_log_is_reported(ward, run):
    """Finding 4: an emptied log said "ok: 0 audit row(s), chain intact"."""
    root, *_ = ward
    with db(root) as conn:
        conn.execute("DELETE FROM audit")
        conn.execute("DELETE FROM meta WHERE key = 'audit_head'")
    code, out, err = run("audit", "verify", "--vault", str(root))
    assert code == 1 and "ok" not in out
    assert "the audit log is empty: it must start with vault_create" in err
    assert "the audit log was cut back: it ends at row 0" in err


def test_an_untouched_vault_verifies_and_its_copy_elsewhere_too(ward, run, tmp_path):
    root, *_ = ward
    code, out, err = run("vault", "verify", "--vault", str(root))
    assert code == 0, err
    assert "state and anchor match" in out
    assert run("audit", "verify", "--vault", str(root))[0] == 0
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)  # a current backup is the same state: it verifies
    assert run("vault", "verify", "--vault", str(copy))[0] == 0


def test_an_edit_made_while_the_vault_is_open_is_never_folded_into_its_state(ward, run):
    """The next change must not re-MAC what someone else changed meanwhile."""
    root, service, batch, (a, b, c), _ = ward
    with Vault.open(root, service) as vault:
        vault.create_batch("before", actor="t")  # the vault has written since it opened
        with db(root) as conn:  # someone edits the state table itself to cover a deletion
            conn.execute("DELETE FROM items WHERE item_id = ?", (c,))
            conn.execute("DELETE FROM state WHERE object_id = ?", (c,))
        with pytest.raises(VaultReadOnly, match="changed outside PicSafe while the vault was open"):
            vault.create_batch("after", actor="t")
        assert vault.read_only
    with db(root) as conn:
        assert conn.execute("SELECT COUNT(*) FROM batches").fetchone() == (2,)  # nothing more
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1 and blob(root, c).exists()
    with db(root) as conn:  # a row edit alone, meanwhile, stays named at the next check
        conn.execute("DELETE FROM items WHERE item_id = ?", (b,))
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1 and f"item {b} was removed from the index outside PicSafe" in err


def test_recovering_the_key_of_an_edited_vault_restores_the_key_and_changes_nothing(
    tmp_path, keyring_service
):
    import keyring

    vault, code = new_vault(tmp_path, keyring_service)
    item = put_photo(vault, vault.create_batch("phone", actor="t"), b"p" * 3000)
    vault.close()
    keyring.delete_password(keyring_service, vault.vault_id)
    with db(vault.path) as conn:
        conn.execute("DELETE FROM items")
    with pytest.raises(VaultReadOnly, match="key is back in the OS keyring, but"):
        Vault.recover(vault.path, code, keyring_service)
    assert keyring.get_password(keyring_service, vault.vault_id)
    assert blob(vault.path, item).exists()
    with Vault.open(vault.path, keyring_service) as again:
        assert again.read_only and any(
            f"item {item} was removed" in p for p in again.trust_problems
        )


def test_a_withdrawn_consent_is_no_longer_live(ward):
    """An active photo needs a live consent: one that was withdrawn cannot cover new photos."""
    root, service, batch, _, consent = ward
    with Vault.open(root, service) as vault:
        vault.withdraw_consent(consent, actor="t", reason="patient asked")
        later = put_photo(vault, batch, b"later" * 500)
        with pytest.raises(VaultError, match=f"consent {consent} was withdrawn"):
            vault.set_state([later], ItemState.ACTIVE, consent_id=consent, actor="t")
        assert vault.get_item(later).state is ItemState.AWAITING_CONSENT
