"""Vault API behaviour against the real Secret Service keyring."""

import hashlib
import io
import os
import stat
import threading

import pytest

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import (
    DuplicateOriginal,
    NotFound,
    Vault,
    VaultClosed,
    VaultError,
)
from picsafe_desktop.vault import items as items_module
from tests.unit.vault_support import MRN, folder_bytes, new_vault, put_photo

pytestmark = pytest.mark.keyring
CHUNK = 1 << 16


@pytest.fixture
def vault(tmp_path, keyring_service):
    v, _ = new_vault(tmp_path, keyring_service)
    yield v
    v.close()


@pytest.fixture
def batch(vault):
    return vault.create_batch("Pixel 7 of ward 4", actor="tester")


def test_create_then_reopen_keeps_items(tmp_path, keyring_service):
    vault, code = new_vault(tmp_path, keyring_service)
    root = vault.path
    batch = vault.create_batch("drop folder", actor="tester")
    item = put_photo(vault, batch, b"pixels")
    vault_id = vault.vault_id
    vault.close()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    with Vault.open(root, keyring_service) as again:
        assert again.vault_id == vault_id
        assert again.read(item, actor="tester") == b"pixels"
        assert again.batch_label(batch) == "drop folder"
    assert len(code.replace("-", "")) == 24


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 2_000_003])
def test_round_trip_of_many_sizes_from_bytes_and_files(vault, batch, size):
    data = os.urandom(size)
    from_bytes = put_photo(vault, batch, data)
    from_file = put_photo(vault, batch, io.BufferedReader(io.BytesIO(data)))
    for item in (from_bytes, from_file):
        assert vault.read(item, actor="tester") == data
        assert b"".join(vault.open_stream(item)) == data
        assert vault.get_item(item).size == size
    sizes = {i.item_id: i.size for i in vault.list_items(batch_id=batch)}
    assert sizes == {from_bytes: size, from_file: size}


def test_thumbnail_and_metadata_round_trip_and_update(vault, batch):
    item = put_photo(vault, batch, b"x", thumbnail=b"\xff\xd8thumb", metadata={"site": "knee"})
    assert vault.read_thumbnail(item) == b"\xff\xd8thumb"
    assert vault.read_metadata(item) == {"site": "knee"}
    vault.update_metadata(item, {"site": "knee", "note": "healing"}, actor="dr b")
    assert vault.read_metadata(item) == {"site": "knee", "note": "healing"}
    rows = [r for r in vault.audit_rows(subject=item) if r.event == "metadata"]
    assert [r.actor for r in rows] == ["dr b"]


def test_listing_and_batches_decrypt_nothing(vault, batch, monkeypatch):
    items = [put_photo(vault, batch, bytes([n]) * 100) for n in range(5)]

    def forbidden(*args, **kwargs):
        raise AssertionError("listing must not decrypt")

    for name in ("open_bytes", "open_stream", "open_field"):
        monkeypatch.setattr(items_module, name, forbidden)
    listed = vault.list_items()
    assert [i.item_id for i in listed] == items
    assert all(i.state is ItemState.AWAITING_CONSENT and i.size == 100 for i in listed)
    (info,) = vault.batches()
    assert info.item_count == 5 and info.states == {ItemState.AWAITING_CONSENT: 5}
    with pytest.raises(AssertionError, match="must not decrypt"):
        vault.read_thumbnail(items[0])


def test_batches_filter_by_state_and_states_are_counted(vault):
    first = vault.create_batch("phone A", actor="t")
    second = vault.create_batch("phone B", actor="t")
    empty = vault.create_batch("phone C", actor="t")
    a = [put_photo(vault, first, b"a%d" % n) for n in range(3)]
    put_photo(vault, second, b"b")
    consent = vault.put_consent(first, {"uses": ["record"]}, mrn=MRN, actor="t")
    vault.set_state(a[:2], ItemState.ACTIVE, consent_id=consent, actor="t")

    by_id = {b.batch_id: b for b in vault.batches()}
    assert set(by_id) == {first, second, empty}
    assert by_id[first].states == {ItemState.ACTIVE: 2, ItemState.AWAITING_CONSENT: 1}
    assert by_id[first].item_count == 3 and by_id[empty].item_count == 0
    waiting = [b.batch_id for b in vault.batches(ItemState.AWAITING_CONSENT)]
    assert waiting == [first, second]
    assert [b.batch_id for b in vault.batches(ItemState.ACTIVE)] == [first]
    assert [i.item_id for i in vault.list_items(consent_id=consent)] == a[:2]
    assert [i.item_id for i in vault.list_items(ItemState.AWAITING_CONSENT, batch_id=first)] == [
        a[2]
    ]


def test_state_changes_need_a_consent_exactly_when_active(vault, batch):
    item = put_photo(vault, batch, b"p")
    with pytest.raises(ValueError, match="consent id is required"):
        vault.set_state([item], ItemState.ACTIVE, actor="t")
    with pytest.raises(NotFound, match="no consent"):
        vault.set_state([item], ItemState.ACTIVE, consent_id="0" * 32, actor="t")
    consent = vault.put_consent(batch, {}, mrn=MRN, actor="t")
    with pytest.raises(ValueError):
        vault.set_state([item], ItemState.AWAITING_CONSENT, consent_id=consent, actor="t")
    # all or nothing: an unknown id leaves the known one unchanged
    with pytest.raises(NotFound):
        vault.set_state([item, "f" * 32], ItemState.ACTIVE, consent_id=consent, actor="t")
    assert vault.get_item(item).state is ItemState.AWAITING_CONSENT
    vault.set_state([item], ItemState.ACTIVE, consent_id=consent, actor="t")
    assert vault.get_item(item).consent_id == consent
    with pytest.raises(ValueError):
        put_photo(vault, batch, b"q", state=ItemState.ACTIVE)
    direct = put_photo(vault, batch, b"q", state=ItemState.ACTIVE, consent_id=consent)
    assert vault.get_item(direct).state is ItemState.ACTIVE


def test_duplicate_originals_are_found_by_keyed_hash_only(vault, batch):
    original = b"original camera bytes"
    digest = hashlib.sha256(original).hexdigest()
    item = put_photo(vault, batch, b"scrubbed", original_sha256=digest)
    assert vault.find_original(digest) == item
    assert vault.find_original(digest.upper()) == item
    assert vault.find_original("0" * 64) is None
    with pytest.raises(DuplicateOriginal) as caught:
        put_photo(vault, batch, b"scrubbed again", original_sha256=digest.upper())
    assert caught.value.item_id == item
    stored = b"".join(folder_bytes(vault.path).values())
    assert digest.encode() not in stored and bytes.fromhex(digest) not in stored
    vault.delete(item, actor="t", reason="re-import")
    assert vault.find_original(digest) is None
    assert put_photo(vault, batch, b"scrubbed", original_sha256=digest)


def test_consent_records_are_encrypted_and_found_by_mrn(vault, batch):
    record = {"patient": {"mrn": MRN}, "signature_png": "iVBORw0KGgo="}
    consent = vault.put_consent(batch, record, mrn=MRN, actor="dr a")
    assert vault.read_consent(consent, actor="dr a") == record
    assert vault.consent_batch(consent) == batch
    assert vault.find_by_mrn(f"  {MRN.lower()} ") == [consent]
    assert vault.find_by_mrn("MRN-0000") == []
    with pytest.raises(ValueError):
        vault.put_consent(batch, {}, mrn="  ", actor="t")
    events = [r.event for r in vault.audit_rows(subject=consent)]
    assert events == ["consent", "consent_view"]


def test_deleting_a_consent_sends_its_items_back_to_awaiting(vault, batch):
    items = [put_photo(vault, batch, b"%d" % n) for n in range(2)]
    consent = vault.put_consent(batch, {"x": 1}, mrn=MRN, actor="t")
    vault.set_state(items, ItemState.ACTIVE, consent_id=consent, actor="t")
    vault.delete_consent(consent, actor="t", reason="withdrawn")
    assert {i.state for i in vault.list_items()} == {ItemState.AWAITING_CONSENT}
    assert all(i.consent_id is None for i in vault.list_items())
    assert vault.find_by_mrn(MRN) == []
    with pytest.raises(NotFound):
        vault.read_consent(consent, actor="t")
    with pytest.raises(NotFound):
        vault.delete_consent(consent, actor="t", reason="again")


def test_import_journal_round_trip(vault):
    secret_path = "/media/phone/DCIM/Quillfeather wound.jpg"
    vault.journal_set("e1", "read", {"source": secret_path})
    vault.journal_set("e2", "stored", {"item": "abc"})
    vault.journal_set("e1", "verified", {"source": secret_path, "item": "def"})
    entries = {e: (step, payload) for e, step, payload in vault.journal_entries()}
    assert entries == {
        "e1": ("verified", {"source": secret_path, "item": "def"}),
        "e2": ("stored", {"item": "abc"}),
    }
    vault.journal_clear("e1")
    assert [e for e, _, _ in vault.journal_entries()] == ["e2"]
    assert b"Quillfeather" not in b"".join(folder_bytes(vault.path).values())
    with pytest.raises(ValueError):
        vault.journal_set("e3", "Not A Token", {})


def test_audit_rows_name_actor_and_event_for_each_access(vault, batch):
    item = put_photo(vault, batch, b"p")
    vault.read(item, actor="nurse n", purpose="export_pdf")
    vault.audit("export_fhir", actor="dr d", subject=item, details={"target": "ehr"})
    vault.delete(item, actor="dr d", reason="duplicate")
    rows = vault.audit_rows(subject=item)
    assert [(r.event, r.actor) for r in rows] == [
        ("put", "tester"),
        ("view", "nurse n"),
        ("export_fhir", "dr d"),
        ("delete", "dr d"),
    ]
    assert rows[1].details == {"purpose": "export_pdf"}
    assert rows[3].details == {"reason": "duplicate"}
    assert [r.seq for r in vault.audit_rows()] == list(range(1, len(vault.audit_rows()) + 1))
    with pytest.raises(ValueError, match="subject"):
        vault.audit("view", actor="t", subject="Zebedee Quillfeather")
    with pytest.raises(ValueError, match="event"):
        vault.audit("Viewed photo", actor="t", subject=item)
    assert vault.verify_audit().ok


def test_bad_put_arguments_leave_nothing_behind(vault, batch):
    with pytest.raises(NotFound, match="no batch"):
        put_photo(vault, "0" * 32, b"x")
    with pytest.raises(ValueError, match="JSON"):
        put_photo(vault, batch, b"x", metadata={"when": object()})
    with pytest.raises(ValueError, match="MIME"):
        put_photo(vault, batch, b"x", media_type="jpeg")
    with pytest.raises(ValueError, match="64 hex"):
        put_photo(vault, batch, b"x", original_sha256="abc")

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buf):
            raise OSError("source vanished")

    with pytest.raises(OSError, match="source vanished"):
        put_photo(vault, batch, Broken())
    assert vault.list_items() == []
    assert not [p for p in (vault.path / "blobs").rglob("*") if p.is_file()]
    assert not list((vault.path / "tmp").iterdir())


def test_puts_from_several_threads(vault, batch):
    errors, stored = [], []

    def worker(n):
        try:
            for k in range(4):
                data = os.urandom(1000 * (n + 1) + k)
                stored.append((put_photo(vault, batch, data), data))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(vault.list_items()) == 16
    for item, data in stored:
        assert vault.read(item, actor="t") == data
    report = vault.verify()
    assert report.ok and report.items == 16
    assert vault.verify_audit().ok


def test_closed_vault_refuses_work(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    with vault:
        batch = vault.create_batch("x", actor="t")
    assert vault.closed
    with pytest.raises(VaultClosed, match="closed"):
        vault.list_items()
    with pytest.raises(VaultClosed):
        put_photo(vault, batch, b"x")
    vault.close()  # closing twice is harmless


def test_create_refuses_a_folder_that_is_not_empty(tmp_path, keyring_service):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(VaultError, match="not an empty folder"):
        Vault.create(tmp_path / "busy", keyring_service)
    vault, _ = new_vault(tmp_path, keyring_service, name="deep/er/vault")
    vault.close()
    with pytest.raises(VaultError, match="already holds a vault"):
        new_vault(tmp_path, keyring_service, name="deep/er/vault")


def test_put_with_a_known_sha256_verifies_against_it_and_hashes_once(vault, batch, monkeypatch):
    """The importer hands `put` the clean copy's SHA-256 (made on its scrub worker): the blob
    read back must match it, and `put` does not hash the bytes a second time as it writes."""
    data = os.urandom(3 * CHUNK + 7)
    with pytest.raises(ValueError, match="64 hex"):
        put_photo(vault, batch, data, sha256="abc")
    # A digest that is not the data's: the read-back check fails and nothing is kept.
    with pytest.raises(VaultError, match="read-back verification failed"):
        put_photo(vault, batch, data, sha256=hashlib.sha256(b"other").hexdigest())
    assert vault.list_items() == []
    assert not [p for p in (vault.path / "blobs").rglob("*") if p.is_file()]

    hashed = []
    real = hashlib.sha256

    def counting(*args):
        hashed.append(args)
        return real(*args)

    monkeypatch.setattr(hashlib, "sha256", counting)  # every SHA-256 the vault starts
    put_photo(vault, batch, io.BytesIO(data))
    without = len(hashed)
    hashed.clear()
    item = put_photo(vault, batch, io.BytesIO(data), sha256=real(data).hexdigest())
    assert len(hashed) == without - 1  # the read-back is still hashed; the writing is not
    monkeypatch.undo()
    assert vault.read(item, actor="tester") == data
