"""A format-1 vault (no authenticated state, no anchor) is upgraded to format 3 at its first
writable open, and verifies afterwards; one with an edited row is not adopted."""

import json
import os
import stat

import keyring
import pytest

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault, VaultReadOnly, anchor
from picsafe_desktop.vault import header as vault_header
from picsafe_desktop.vault.keystore import load_master_key
from picsafe_desktop.vault.vault import _header_mac, _Keys
from tests.unit.vault_support import MRN, db, new_vault, put_photo

pytestmark = pytest.mark.keyring


def as_format_1(root, service, vault_id):
    """Turn a closed vault into what format 1 wrote: no state table or record, user_version 1,
    vault.json version 1, no anchor in the keyring, an index created with the umask (0644)."""
    with db(root) as conn:
        conn.execute("DROP TABLE state")
        conn.execute("DELETE FROM meta WHERE key = 'state'")
        conn.execute("PRAGMA user_version = 1")
    keys = _Keys(load_master_key(service, vault_id), vault_id)
    head = json.loads((root / "vault.json").read_text())
    head["version"] = 1
    head["header_mac"] = vault_header.b64(_header_mac(keys, head))
    (root / "vault.json").write_text(json.dumps(head))
    keyring.delete_password(service, anchor.user(vault_id))
    os.chmod(root / "index.sqlite3", 0o644)


@pytest.fixture
def v1(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    items = [put_photo(vault, batch, bytes([n]) * 3000) for n in range(3)]
    consent = vault.put_consent(batch, {"p": 1}, mrn=MRN, actor="t")
    vault.set_state(items[:2], ItemState.ACTIVE, consent_id=consent, actor="t")
    vault.close()
    as_format_1(vault.path, keyring_service, vault.vault_id)
    return vault.path, keyring_service, vault.vault_id, items


def test_a_format_1_vault_is_upgraded_and_then_verifies(v1):
    root, service, vault_id, items = v1
    with Vault.open(root, service, read_only=True) as looking:  # a check changes nothing
        assert looking.read_only and "vault format 1" in looking.trust_problems[0]
    assert json.loads((root / "vault.json").read_text())["version"] == 1

    with Vault.open(root, service) as vault:
        assert not vault.read_only
        assert {i.item_id for i in vault.list_items()} == set(items)
        assert vault.read(items[0], actor="t") == bytes([0]) * 3000
        assert [r.event for r in vault.audit_rows()][-2:] == ["vault_upgrade", "view"]
    assert json.loads((root / "vault.json").read_text())["version"] == 3
    with db(root) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    assert stat.S_IMODE((root / "index.sqlite3").stat().st_mode) == 0o600
    assert keyring.get_password(service, anchor.user(vault_id)).startswith(anchor.PREFIX)
    with Vault.open(root, service, read_only=True) as vault:
        assert vault.verify().ok and vault.verify_audit().ok


def test_a_format_1_vault_with_an_edited_row_is_not_adopted(v1):
    root, service, _, items = v1
    with db(root) as conn:
        conn.execute("UPDATE items SET state = 'active' WHERE item_id = ?", (items[2],))
    with Vault.open(root, service) as vault:
        assert vault.read_only
        assert any(f"item {items[2]} was modified" in p for p in vault.trust_problems)
        with pytest.raises(VaultReadOnly):
            vault.audit("view", actor="t", subject="x")
    assert json.loads((root / "vault.json").read_text())["version"] == 1
