"""Delete = crypto-shred: with the master key and a pre-deletion copy of the blob, the photo
is still gone, because its wrapped data key no longer exists anywhere in the vault folder."""

import os

import pytest

from picsafe_desktop.vault import IntegrityError, Vault, crypto
from picsafe_desktop.vault.crypto import Kind
from picsafe_desktop.vault.keystore import load_master_key
from picsafe_desktop.vault.vault import _Keys
from tests.unit.vault_support import MRN, db, folder_bytes, new_vault, put_photo

pytestmark = pytest.mark.keyring


def unwrap_anything(wrap_key: bytes, kind: Kind, oid: bytes, haystack: bytes) -> list[bytes]:
    """Try every place in the folder that could hold a wrapped key for this object."""
    size = 1 + crypto.NONCE_LEN + crypto.KEY_LEN + crypto.TAG_LEN
    found = []
    start = haystack.find(b"\x01")
    while start != -1 and start + size <= len(haystack):
        try:
            found.append(
                crypto.open_field(
                    wrap_key, haystack[start : start + size], crypto.wrap_aad(kind, oid), "probe"
                )
            )
        except IntegrityError:
            pass
        start = haystack.find(b"\x01", start + 1)
    return found


def test_deleted_photo_is_unrecoverable_with_master_key_and_old_blob(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    data = os.urandom(300_000)
    item = put_photo(vault, batch, data, thumbnail=os.urandom(5000))
    keep = put_photo(vault, batch, b"another photo")
    oid = bytes.fromhex(item)
    blob = vault.path / "blobs" / item[:2] / f"{item}.psv"

    # What an attacker could have taken before the deletion: a copy of the blob, a hard link to
    # it, and (later) the master key from the keyring.
    blob_copy = blob.read_bytes()
    link = tmp_path / "hardlink"
    os.link(blob, link)
    with db(vault.path) as conn:
        wrapped, thumb, meta = conn.execute(
            "SELECT wrapped_key, thumbnail, metadata FROM items WHERE item_id = ?", (item,)
        ).fetchone()
    wrap_key = _Keys(load_master_key(keyring_service, vault.vault_id), vault.vault_id).wrap

    # Before deletion these suffice to read the photo: the check below can fail.
    data_key = crypto.open_field(wrap_key, wrapped, crypto.wrap_aad(Kind.CONTENT, oid), "k")
    assert crypto.open_bytes(data_key, Kind.CONTENT, oid, blob_copy, "copy") == data
    assert unwrap_anything(wrap_key, Kind.CONTENT, oid, b"".join(folder_bytes(vault.path).values()))

    vault.delete(item, actor="dr d", reason="patient request")

    for moment in ("open", "closed"):
        files = folder_bytes(vault.path)
        everything = b"".join(files.values())
        assert wrapped not in everything, moment
        assert thumb[40:] not in everything and meta[40:] not in everything, moment
        assert unwrap_anything(wrap_key, Kind.CONTENT, oid, everything) == [], moment
        assert not any(item in str(p) for p in files), moment
        vault.close()
    assert link.read_bytes() == bytes(len(blob_copy))  # the blob was overwritten in place
    assert not blob.exists()

    with Vault.open(vault.path, keyring_service) as again:
        assert [i.item_id for i in again.list_items()] == [keep]
        assert [r.event for r in again.audit_rows(subject=item)] == ["put", "delete"]
        assert again.verify().ok and again.verify_audit().ok


def test_deleted_consent_record_is_shredded(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    consent = vault.put_consent(batch, {"signature_png": "c2lnbmF0dXJl"}, mrn=MRN, actor="t")
    with db(vault.path) as conn:
        wrapped, record = conn.execute(
            "SELECT wrapped_key, record FROM consents WHERE consent_id = ?", (consent,)
        ).fetchone()
    wrap_key = _Keys(load_master_key(keyring_service, vault.vault_id), vault.vault_id).wrap
    vault.delete_consent(consent, actor="t", reason="entered in error")
    everything = b"".join(folder_bytes(vault.path).values())
    assert wrapped not in everything and record[40:] not in everything
    assert unwrap_anything(wrap_key, Kind.CONSENT, bytes.fromhex(consent), everything) == []
    vault.close()
