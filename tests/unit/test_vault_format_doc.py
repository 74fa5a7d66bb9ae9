"""An independent reader written from docs/vault-format.md only.

It uses no code from picsafe_desktop.vault beyond the public API that makes the vault, so if
the format and its document drift apart, this test fails.
"""

import base64
import hashlib
import json
import sqlite3
import struct

import argon2.low_level
import keyring
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from picsafe_desktop.model import ItemState
from tests.unit.vault_support import new_vault

pytestmark = pytest.mark.keyring


# --- section 2 -------------------------------------------------------------------------------
def E(*fields) -> bytes:  # noqa: N802 - the document's name
    out = b""
    for f in fields:
        if f is None:
            out += b"\xff\xff\xff\xff"
            continue
        raw = str(f).encode() if isinstance(f, int) else f.encode() if isinstance(f, str) else f
        out += struct.pack(">I", len(raw)) + raw
    return out


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


def hmac(key: bytes, message: bytes) -> bytes:
    h = crypto_hmac.HMAC(key, hashes.SHA256())
    h.update(message)
    return h.finalize()


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# --- section 4 -------------------------------------------------------------------------------
def open_field(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    assert sealed[0] == 1
    return AESGCM(key).decrypt(sealed[1:13], sealed[13:], aad)


def open_object(data_key: bytes, kind: int, object_id: bytes, stored: bytes) -> bytes:
    header = stored[:40]
    magic, version, got_kind, shift, reserved, got_id, salt = struct.unpack(">4sBBBB16s16s", header)
    assert (magic, version, got_kind, reserved, got_id) == (b"PSVS", 1, kind, 0, object_id)
    key = AESGCM(hkdf(data_key, salt, b"picsafe-vault/v1/stream/" + bytes([kind])))
    size = (1 << shift) + 16
    body = stored[40:]
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    plain = b""
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        nonce = bytes(7) + struct.pack(">I", i) + (b"\x01" if last else b"\x00")
        plain += key.decrypt(nonce, chunk, header)
    assert len(stored) == 40 + len(plain) + 16 * len(chunks)
    return plain


def normalise(code: str) -> str:
    code = "".join(c for c in code.upper() if c not in " \t\r\n-")
    return code.translate(str.maketrans("OIL", "011"))


def test_independent_reader_follows_the_document(tmp_path, keyring_service):
    photo = bytes(range(256)) * 700  # 179,200 bytes: three chunks
    original = b"camera original"
    vault, code = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("iPhone of Ward 3", actor="nurse")
    item = vault.put(
        photo,
        batch_id=batch,
        media_type="image/jpeg",
        thumbnail=b"small jpeg",
        metadata={"site": "left hand"},
        original_sha256=hashlib.sha256(original).hexdigest(),
        actor="nurse",
    )
    consent = vault.put_consent(batch, {"capacity": "self"}, mrn=" ab123 ", actor="dr")
    vault.set_state([item], ItemState.ACTIVE, consent_id=consent, actor="dr")
    vault.patient_list(actor="dr")  # writes the patient list's index (6.6)
    vault.journal_set("entry1", "stored", {"source": "/media/DCIM/x.jpg"})
    vault.close()
    root = vault.path

    # 3.3: header; 3.1: master key from the keyring
    head = json.loads((root / "vault.json").read_text())
    assert (head["format"], head["version"]) == ("picsafe-vault", 3)
    vault_id = head["vault_id"]
    secret = keyring.get_password(keyring_service, vault_id)
    assert secret.startswith("picsafe-vault-master-v1:")
    master = base64.b64decode(secret.split(":", 1)[1])
    sub = {
        n: hkdf(master, bytes.fromhex(vault_id), b"picsafe-vault/v1/" + n.encode())
        for n in ("wrap", "field", "audit-mac", "lookup", "row-mac", "header-mac")
    }
    assert base64.b64decode(head["key_check"]) == hmac(sub["header-mac"], E("key-check", vault_id))
    rest = {k: v for k, v in head.items() if k != "header_mac"}
    assert base64.b64decode(head["header_mac"]) == hmac(
        sub["header-mac"], E("header", canonical(rest))
    )

    # 3.4: the recovery code opens the same master key
    rec = head["recovery"]
    recovery_key = argon2.low_level.hash_secret_raw(
        normalise(code.lower()).encode(),
        base64.b64decode(rec["salt"]),
        rec["time_cost"],
        rec["memory_kib"],
        rec["parallelism"],
        32,
        argon2.low_level.Type.ID,
    )
    bound = {k: v for k, v in rec.items() if k != "wrapped_key"}
    aad = b"picsafe-vault/v1/recovery\x00" + canonical({"vault_id": vault_id, **bound})
    assert open_field(recovery_key, base64.b64decode(rec["wrapped_key"]), aad) == master

    conn = sqlite3.connect(root / "index.sqlite3")
    try:
        # 6: index
        assert conn.execute("PRAGMA user_version").fetchone() == (3,)
        (vid_mac,) = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
        assert vid_mac == hmac(sub["row-mac"], E("vault-id", vault_id))

        row = conn.execute(
            "SELECT item_id, batch_id, state, size, media_type, created_at, consent_id, "
            "original_mac, mac, wrapped_key, thumbnail, metadata FROM items"
        ).fetchone()
        assert row[:5] == (item, batch, "active", len(photo), "image/jpeg")
        assert row[6] == consent
        assert row[8] == hmac(sub["row-mac"], E("item", *row[:8]))
        assert row[7] == hmac(sub["lookup"], E("original", hashlib.sha256(original).hexdigest()))
        oid = bytes.fromhex(item)
        data_key = open_field(sub["wrap"], row[9], b"picsafe-vault/v1/data-key\x00" + b"\x01" + oid)
        assert len(row[9]) == 61
        blob = (root / "blobs" / item[:2] / f"{item}.psv").read_bytes()
        assert open_object(data_key, 1, oid, blob) == photo
        assert open_object(data_key, 2, oid, row[10]) == b"small jpeg"
        assert json.loads(open_object(data_key, 3, oid, row[11])) == {"site": "left hand"}

        batch_row = conn.execute("SELECT batch_id, created_at, mac, label FROM batches").fetchone()
        assert batch_row[2] == hmac(sub["row-mac"], E("batch", *batch_row[:2]))
        label_aad = b"picsafe-vault/v1/batch-label\x00" + batch.encode()
        assert open_field(sub["field"], batch_row[3], label_aad) == b"iPhone of Ward 3"

        c = conn.execute(
            "SELECT consent_id, batch_id, created_at, mrn_mac, mac, wrapped_key, record "
            "FROM consents"
        ).fetchone()
        assert c[3] == hmac(sub["lookup"], E("mrn", "AB123"))
        assert c[4] == hmac(sub["row-mac"], E("consent", *c[:4]))
        coid = bytes.fromhex(consent)
        consent_key = open_field(
            sub["wrap"], c[5], b"picsafe-vault/v1/data-key\x00" + b"\x04" + coid
        )
        assert json.loads(open_object(consent_key, 4, coid, c[6])) == {"capacity": "self"}

        entry_id, step, updated_at, payload = conn.execute(
            "SELECT entry_id, step, updated_at, payload FROM journal"
        ).fetchone()
        journal_aad = b"picsafe-vault/v1/journal\x00" + entry_id.encode() + b"\x00" + step.encode()
        assert json.loads(open_field(sub["field"], payload, journal_aad)) == {
            "source": "/media/DCIM/x.jpg"
        }

        # 7: audit chain and head
        k = sub["audit-mac"]
        prev = hmac(k, E("audit-genesis", vault_id))
        rows = conn.execute(
            "SELECT seq, at, event, subject, body, prev_mac, mac FROM audit ORDER BY seq"
        ).fetchall()
        for n, (seq, at, event, subject, body, prev_mac, mac) in enumerate(rows, start=1):
            assert seq == n and prev_mac == prev
            assert mac == hmac(k, E("audit-row", seq, at, event, subject, body, prev_mac))
            content = json.loads(
                open_field(sub["field"], body, b"picsafe-vault/v1/audit\x00" + str(seq).encode())
            )
            assert set(content) == {"actor", "details"}
            prev = mac
        events = [(r[2], r[3]) for r in rows]
        assert events == [
            ("vault_create", vault_id),
            ("batch_create", batch),
            ("put", item),
            ("consent", consent),
            ("state", item),
            ("patient_list_view", "patient_list"),
        ]
        (head_value,) = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
        last_seq, last_mac, check = struct.unpack(">Q32s32s", head_value)
        assert (last_seq, last_mac) == (len(rows), prev)
        assert check == hmac(k, E("audit-head", last_seq, last_mac))

        # 6.6: the patient list's index
        (patients,) = conn.execute("SELECT value FROM meta WHERE key = 'patients'").fetchone()
        patients_aad = b"picsafe-vault/v1/patient-index\x00" + bytes.fromhex(vault_id)
        assert json.loads(open_field(sub["field"], patients, patients_aad)) == {
            "format": 1,
            "consents": {consent: ["", "", ""]},
        }

        # 6.4: the authenticated state - one entry per batch, consent, item and journal row,
        # one for the patient index, and a record
        ks = hkdf(master, bytes.fromhex(vault_id), b"picsafe-vault/v1/state-mac")
        expected = {
            ("batch", batch): hmac(ks, E("entry", "batch", batch, batch_row[2], None)),
            ("consent", consent): hmac(ks, E("entry", "consent", consent, c[4], None)),
            ("item", item): hmac(ks, E("entry", "item", item, row[8], row[11])),
            ("journal", entry_id): hmac(
                ks, E("entry", "journal", entry_id, step, updated_at, payload)
            ),
            ("meta", "patients"): hmac(ks, E("entry", "meta", "patients", patients)),
        }
        entries = {
            (kd, i): e for kd, i, e in conn.execute("SELECT kind, object_id, entry FROM state")
        }
        assert entries == expected
        digest = hashlib.sha256(b"".join(E(kd, i, e) for (kd, i), e in sorted(entries.items())))
        (record,) = conn.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        generation, state_mac = struct.unpack(">Q32s", record)
        # One per change: vault_create, batch, put, consent, state, patient list, journal.
        assert generation == 7
        assert state_mac == hmac(ks, E("state", generation, last_seq, last_mac, digest.digest()))

        # 6.5: the anchor beside the master key
        raw = base64.b64decode(
            keyring.get_password(keyring_service, f"{vault_id}:anchor").split(":", 1)[1]
        )
        a_gen, a_seq, a_mac, a_check = struct.unpack(">QQ32s32s", raw)
        assert (a_gen, a_seq, a_mac) == (generation, last_seq, last_mac)
        assert a_check == hmac(ks, E("anchor", a_gen, a_seq, a_mac))
    finally:
        conn.close()
