"""Issue 17, scale: the queries behind listing, a patient's photos and MRN lookup use an index
(checked with EXPLAIN QUERY PLAN on the SQL the vault really runs), and the patient list is
read from one sealed index with one audit row per sign-in, never one per consent.
Speed itself is measured by bench/bench_scale.py, never asserted here."""

from __future__ import annotations

import json

import pytest

from picsafe_desktop import config, consent
from picsafe_desktop.model import ItemState, Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from picsafe_desktop.vault.crypto import open_field
from picsafe_desktop.vault.patients import PATIENTS_KEY, _aad
from tests.unit.test_consent import written
from tests.unit.vault_support import TEST_KDF, db, jpeg_with_exif, new_vault, put_photo

pytestmark = pytest.mark.keyring

NURSE = Staff("Ann First", "", "A1")
PATIENTS = (("RX0000001", "Zebedee Quillfeather"), ("RX0000002", "Hortensia Blenkinsop"))


def plans(vault: Vault, action) -> list[str]:
    """EXPLAIN QUERY PLAN of every SELECT on items or consents that `action` runs."""
    statements: list[str] = []
    conn = vault._db()
    conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    out = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT") and (" items" in sql or " consents" in sql):
            rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            out.append(sql + "\n  " + "\n  ".join(r[-1] for r in rows))
    assert out, "the action ran no query on items or consents"
    return out


def full_scans(plan_texts: list[str]) -> list[str]:
    # "SCAN items" reads every row; "SCAN items USING [COVERING] INDEX" or "SEARCH" do not.
    return [
        p
        for p in plan_texts
        for line in p.splitlines()[1:]
        if line.strip() in ("SCAN items", "SCAN consents", "SCAN c")
    ]


@pytest.fixture
def filled(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batches, consents = [], []
    for n in range(3):
        batch = vault.create_batch("phone", actor="t")
        items = [put_photo(vault, batch, bytes([n, k]) * 500) for k in range(3)]
        consent_id = vault.put_consent(batch, {"n": n}, mrn=f"RX{n:07d}", actor="t")
        vault.set_state(items[:2], ItemState.ACTIVE, consent_id=consent_id, actor="t")
        batches.append(batch)
        consents.append(consent_id)
    yield vault, batches, consents
    vault.close()


def test_the_whole_list_is_read_from_a_covering_index_in_order(filled):
    vault, _, _ = filled
    found = plans(vault, vault.list_items)
    assert len(found) == 1 and "SCAN items USING COVERING INDEX items_list" in found[0], found
    assert "TEMP B-TREE" not in found[0], found  # no sort of every row


def test_one_patients_photos_are_found_through_an_index(filled):
    vault, _, consents = filled
    found = plans(vault, lambda: vault.list_items(consent_id=consents[1]))
    assert not full_scans(found), found
    assert any("items_consent" in p for p in found), found


def test_a_batchs_waiting_photos_are_found_through_an_index(filled):
    vault, batches, _ = filled
    found = plans(
        vault, lambda: vault.list_items(batch_id=batches[0], state=ItemState.AWAITING_CONSENT)
    )
    assert not full_scans(found), found
    assert any("items_batch_state" in p for p in found), found


def test_an_mrn_is_found_through_an_index(filled):
    vault, _, consents = filled
    found = plans(vault, lambda: vault.find_by_mrn("rx0000002"))
    assert vault.find_by_mrn("rx0000002") == [consents[2]]
    assert not full_scans(found), found
    assert any("consents_mrn" in p for p in found), found


def test_the_patient_lists_counts_come_from_a_covering_index(filled):
    vault, _, consents = filled
    listed = []
    found = plans(vault, lambda: listed.extend(vault.patient_list(actor="t", audit=False)))
    assert [(c, n) for c, _, n in listed] == [(c, 2) for c in consents]
    assert not full_scans(found), found
    assert any("COVERING INDEX items_consent_state" in p for p in found), found


def test_an_older_vault_gets_the_new_index_when_opened_for_writing(filled):
    vault, batches, _ = filled
    root, service = vault.path, vault._service
    vault.close()
    with db(root) as conn:  # as format 2 was first written
        conn.execute("DROP INDEX items_batch_state")
        conn.execute("DROP INDEX items_consent_state")
        conn.execute("DROP INDEX items_list")
        conn.execute("CREATE INDEX items_batch ON items(batch_id)")
        conn.execute("CREATE INDEX items_consent ON items(consent_id)")
    with Vault.open(root, service) as again:
        names = {r[0] for r in again._db().execute("SELECT name FROM sqlite_master")}
        assert {"items_batch_state", "items_consent_state", "items_list"} <= names
        assert not {"items_batch", "items_consent"} & names
        assert len(again.patient_list(actor="t", audit=False)) == 3
        assert len(again.list_items(batch_id=batches[0])) == 3


# --- the patient list ---------------------------------------------------------------------


@pytest.fixture
def services(tmp_path, keyring_service):
    site = config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "l")},
            "staff": {"allow_unverified_names": True},  # this test is about the patient list
        }
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
    wording = consent.load_wording(None, None)
    for mrn, name in PATIENTS:
        batch = vault.create_batch("test", actor="tester")
        for k in range(2):
            put_photo(vault, batch, jpeg_with_exif(f"{mrn}-{k}"), state="awaiting_consent")
        fields = written(patient={"mrn": mrn, "name": name, "birth_date": "1980-02-29"})
        record = consent.record_from_fields(fields, wording=wording)
        consent.store(vault, batch, record, actor="tester")
    svc = Services(site, vault)
    yield svc
    svc.close()


def events(vault: Vault, name: str) -> list:
    return [r for r in vault.audit_rows() if r.event == name]


def test_an_empty_patient_list_is_not_audited_and_the_first_real_one_is(services):
    vault = services.vault
    for consent_id, *_ in vault.patient_list(actor="t", audit=False):
        vault.delete_consent(consent_id, actor="t", reason="test")
    services.sign_in(NURSE)
    assert services.patients() == []  # shows nobody: no row
    assert events(vault, "patient_list_view") == []
    batch = vault.create_batch("phone", actor="t")
    item = put_photo(vault, batch, b"new photo" * 50)
    consent_id = vault.put_consent(
        batch, {"patient": {"mrn": "RX0000009", "name": "Ida Late"}}, mrn="RX0000009", actor="t"
    )
    vault.set_state([item], ItemState.ACTIVE, consent_id=consent_id, actor="t")
    assert [p.name for p in services.patients()] == ["Ida Late"]
    services.patients()
    assert [r.details for r in events(vault, "patient_list_view")] == [{"count": 1}]


def test_the_patient_list_is_audited_once_per_sign_in_not_per_consent(services):
    vault = services.vault
    services.sign_in(NURSE)
    first = services.patients()
    assert [(p.mrn, p.name, p.birth_date, p.photo_count) for p in first] == [
        ("RX0000002", "Hortensia Blenkinsop", "1980-02-29", 2),
        ("RX0000001", "Zebedee Quillfeather", "1980-02-29", 2),
    ]
    services.patients()  # a refresh
    services.patients()
    assert events(vault, "consent_view") == []  # before: one row per consent, every sign-in
    views = events(vault, "patient_list_view")
    assert len(views) == 1
    assert views[0].actor == "Ann First (A1)" and views[0].details == {"count": 2}

    services.sign_out("lock")
    services.sign_in(NURSE)
    services.patients()
    assert len(events(vault, "patient_list_view")) == 2
    assert events(vault, "consent_view") == []


def sealed_index(vault: Vault) -> dict:
    with db(vault.path) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (PATIENTS_KEY,)).fetchone()
    return json.loads(open_field(vault._k().field, value, _aad(vault.vault_id), "test"))


def test_the_patient_index_is_sealed_and_a_deleted_consent_leaves_it(services):
    vault = services.vault
    services.sign_in(NURSE)
    services.patients()
    raw = (vault.path / "index.sqlite3").read_bytes()
    for mrn, name in PATIENTS:
        assert mrn.encode() not in raw and name.encode() not in raw
    consents = {p.mrn: p.consent_ids[0] for p in services.patients()}
    assert set(sealed_index(vault)["consents"]) == set(consents.values())

    vault.delete_consent(consents["RX0000001"], actor="tester", reason="entered in error")
    index = sealed_index(vault)
    assert set(index["consents"]) == {consents["RX0000002"]}
    assert "Zebedee" not in json.dumps(index)
    assert [p.mrn for p in services.patients()] == ["RX0000002"]


def test_an_index_written_back_from_an_older_copy_or_damaged_is_rebuilt(services):
    vault = services.vault
    services.sign_in(NURSE)
    services.patients()
    with db(vault.path) as conn:  # damaged: one bit flipped (AEAD refuses it)
        (old,) = conn.execute("SELECT value FROM meta WHERE key = ?", (PATIENTS_KEY,)).fetchone()
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?",
            (old[:-1] + bytes([old[-1] ^ 1]), PATIENTS_KEY),
        )
    assert sorted(p.mrn for p in services.patients()) == ["RX0000001", "RX0000002"]
    assert len(sealed_index(vault)["consents"]) == 2

    # A genuine older value that lacks the second consent (as a backup written back would be).
    consents = sorted(sealed_index(vault)["consents"])
    with vault._tx() as conn:
        vault._write_patient_index(conn, {consents[0]: vault._patient_of(conn, consents[0])})
    assert len(sealed_index(vault)["consents"]) == 1
    assert sorted(p.mrn for p in services.patients()) == ["RX0000001", "RX0000002"]
    assert len(sealed_index(vault)["consents"]) == 2
    assert events(vault, "consent_view") == []


def test_the_kept_digest_order_gives_the_same_digest_as_sorting():
    """A change updates the open vault's entries in place of sorting them all again; the digest
    must stay exactly the one docs/vault-format.md 6.4 defines."""
    import os
    import random
    import uuid

    from picsafe_desktop.vault import state
    from picsafe_desktop.vault.crypto import encode_fields

    rng = random.Random(3)
    entries = {(rng.choice(state.KINDS), uuid.uuid4().hex): os.urandom(32) for _ in range(500)}
    kept = state.encoded(entries)
    assert state.digest_of(kept) == state.set_digest(entries)
    changed = kept.copy()
    new, gone, edited = ("item", uuid.uuid4().hex), next(iter(entries)), list(entries)[7]
    want = dict(entries)
    for key in (new, edited):
        want[key] = os.urandom(32)
        changed.put(key, encode_fields((*key, want[key])))
    del want[gone]
    changed.drop(gone)
    assert state.digest_of(changed) == state.set_digest(want)
    assert state.digest_of(kept) == state.set_digest(entries)  # the copy left it alone


def test_the_opens_two_digests_decide_what_the_detailed_checks_decide(filled):
    """An open checks the state record and every entry as two digests built without a dict of
    entries (state.verified_quickly); they must be the very digests of docs/vault-format.md 6.4,
    and any difference must leave the decision to the detailed checks that name it."""
    from picsafe_desktop.vault import integrity, state

    vault, _, _ = filled
    # Every kind of entry: an import journal row and the patient list's index too.
    vault.journal_set("e" * 32, "storing", {"source": "DCIM/IMG_1.JPG"})
    vault.patient_list(actor="t")
    keys = vault._k()
    conn = vault._db()
    kinds = {kind for kind, _ in state.stored_entries(conn)}
    assert kinds == set(state.KINDS), kinds
    audit = integrity.audit_head(conn, keys.audit, vault._genesis)
    assert state.stored_digest(conn) == state.set_digest(state.stored_entries(conn))
    assert state.rows_digest(conn, keys.state) == state.set_digest(
        state.row_entries(conn, keys.state)
    )
    assert state.verified_quickly(conn, keys.state, audit) == state.read_record(conn)[0]
    assert state.verified_quickly(conn, keys.state, (audit[0] + 1, audit[1])) is None

    item_id = vault.list_items()[0].item_id
    with db(vault.path) as raw:
        raw.execute(
            "UPDATE items SET metadata = CAST(metadata || x'00' AS BLOB) WHERE item_id = ?",
            (item_id,),
        )
    assert state.verified_quickly(conn, keys.state, audit) is None
    _, problems = integrity.state_problems(conn, keys.state, audit, "index")
    assert any(item_id in p for p in problems), problems


def test_the_blob_listing_finds_what_the_glob_it_replaces_found(filled):
    from picsafe_desktop.vault.blobs import SUFFIX

    vault, _, _ = filled
    store = vault._blobs
    some = next(p for p in store.dir.iterdir() if p.is_dir())
    (some / ".hidden.psv").write_bytes(b"")
    (some / "note.txt").write_bytes(b"")
    (store.dir / "abc").mkdir()
    (store.dir / "abc" / "x.psv").write_bytes(b"")
    (store.dir / "zz").mkdir()
    (store.dir / "zz" / "odd.psv").write_bytes(b"")
    (store.dir / "stray.psv").write_bytes(b"")
    globbed = {p.name[: -len(SUFFIX)] for p in store.dir.glob("??/*" + SUFFIX)}
    assert {"odd", ".hidden"} <= globbed and len(globbed) == 11
    assert store.ids() == globbed
