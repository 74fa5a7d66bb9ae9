"""The import journal, the patient list's index and the folder itself are covered too.

A resume acts on the journal (it wipes the source a REMOVING entry names), and the patient list
shows what its sealed index says: each was outside the vault's authenticated state, so someone
with write access to the folder could write an older row back unnoticed. Each test edits a
closed vault with sqlite3 as such a person would, then checks `vault verify` (exit 1 naming
it), the app's open (read-only, nothing acted on) and what the admin's repair does.
"""

import json
import os
import sqlite3

import pytest

from picsafe_desktop import cli
from picsafe_desktop.importer.journal import REMOVING, STORING, Entry, Journal, new_token
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault, VaultReadOnly
from tests.unit.vault_support import MRN, db, new_vault, put_photo

pytestmark = pytest.mark.keyring


@pytest.fixture
def run(keyring_service, capsys):
    def run(*args):
        code = cli.main([*args, "--keyring-service", keyring_service])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _source(path):
    st = os.lstat(path)
    return {
        "kind": "file",
        "path": str(path),
        "dev": st.st_dev,
        "ino": st.st_ino,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "removal": "delete",
    }


def _journal_row(root, entry_id):
    with db(root) as conn:
        return conn.execute("SELECT * FROM journal WHERE entry_id = ?", (entry_id,)).fetchone()


@pytest.fixture
def replayed(tmp_path, keyring_service):
    """A photo imported and its journal cleared; then its REMOVING row written back from an
    older copy, while a new photo (another patient's) now sits under the same name."""
    vault, _ = new_vault(tmp_path, keyring_service)
    drop = tmp_path / "drop"
    drop.mkdir()
    first = drop / "IMG_0001.JPG"
    first.write_bytes(b"first photo")
    batch = vault.create_batch("drop", actor="t")
    item = put_photo(vault, batch, b"first photo")
    entry = Entry("import-" + "a" * 32, REMOVING, batch, _source(first), "0" * 64, None, item)
    entry = Entry(**{**entry.__dict__, "token": new_token()})
    Journal(vault).write(entry)
    saved = _journal_row(vault.path, entry.entry_id)
    first.unlink()
    Journal(vault).clear(entry)
    vault.close()
    # The next photo gets the freed inode number often enough; force the match for the test.
    second = drop / "IMG_0001.JPG"
    second.write_bytes(b"next patient's photo")
    st = os.lstat(second)
    row = list(saved)
    payload_source = dict(entry.source, dev=st.st_dev, ino=st.st_ino)
    with Vault.open(vault.path, keyring_service) as v:  # sealed under the real key, as once
        Journal(v).write(Entry(**{**entry.__dict__, "source": payload_source}))
        row = _journal_row(vault.path, entry.entry_id)
        Journal(v).clear(entry)
    with db(vault.path) as conn:
        conn.execute("INSERT INTO journal VALUES (?, ?, ?, ?)", row)
    return vault.path, keyring_service, entry.entry_id, second


def test_a_journal_row_written_back_is_reported_and_never_acted_on(replayed, run):
    root, service, entry_id, second = replayed
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert f"import journal entry {entry_id} is not part of the vault's authenticated" in err
    with Vault.open(root, service) as vault:
        assert vault.read_only
        with pytest.raises(VaultReadOnly, match="read-only"):
            Importer(vault, actor="start-up recovery").resume()
    assert second.read_bytes() == b"next patient's photo"  # not wiped


def test_the_cli_import_refuses_to_resume_a_replayed_journal(replayed, run, tmp_path):
    root, service, _, second = replayed
    from tests.integration.test_import_cli import CONSENT

    consent = tmp_path / "c.json"
    consent.write_text(json.dumps(CONSENT))
    other = tmp_path / "other.jpg"
    other.write_bytes(b"not even read")
    code, _, err = run("import", "--vault", str(root), "--consent", str(consent), str(other))
    assert code != 0
    assert "Traceback" not in err, err
    assert "nothing was imported" in err, err
    assert second.read_bytes() == b"next patient's photo"


def test_repair_moves_a_replayed_journal_row_to_quarantine_unacted(replayed, run):
    root, service, entry_id, second = replayed
    code, out, _ = run("vault", "repair", "--vault", str(root), "--accept-state", "--reason", "r")
    assert "never acted on" in out
    (moved,) = (root / "quarantine").glob("journal-*.json")
    kept = json.loads(moved.read_text())
    assert kept["entry_id"] == entry_id and kept["step"] == REMOVING
    assert oct(moved.stat().st_mode & 0o777) == "0o600"
    with Vault.open(root, service) as vault:
        assert not vault.read_only
        assert vault.journal_entries() == []
        Importer(vault, actor="start-up recovery").resume()
    assert second.read_bytes() == b"next patient's photo"
    assert run("vault", "verify", "--vault", str(root))[0] == 0


def test_an_edited_or_deleted_journal_row_is_reported(tmp_path, keyring_service, run):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("drop", actor="t")
    Journal(vault).write(Entry("import-" + "b" * 32, STORING, batch, {"kind": "x"}, "1" * 64))
    Journal(vault).write(Entry("import-" + "c" * 32, STORING, batch, {"kind": "x"}, "2" * 64))
    root = vault.path
    vault.close()
    assert run("vault", "verify", "--vault", str(root))[0] == 0
    with db(root) as conn:
        conn.execute("UPDATE journal SET updated_at = '1999' WHERE entry_id LIKE 'import-b%'")
        conn.execute("DELETE FROM journal WHERE entry_id LIKE 'import-c%'")
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert f"the row of import journal entry import-{'b' * 32} differs" in err
    assert f"import journal entry import-{'c' * 32} was removed from the index" in err


def _patients_value(root):
    with db(root) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'patients'").fetchone()


def test_an_older_patient_index_written_back_is_reported(tmp_path, keyring_service, run):
    vault, _ = new_vault(tmp_path, keyring_service)
    for n in range(2):
        batch = vault.create_batch("phone", actor="t")
        item = put_photo(vault, batch, bytes([n]) * 2000)
        consent = vault.put_consent(
            batch, {"patient": {"mrn": f"{MRN}{n}", "name": f"P{n}"}}, mrn=f"{MRN}{n}", actor="t"
        )
        vault.set_state([item], ItemState.ACTIVE, consent_id=consent, actor="t")
        vault.patient_list(actor="t")
        if n == 0:
            (old,) = _patients_value(vault.path)
    root = vault.path
    vault.close()
    assert run("vault", "verify", "--vault", str(root))[0] == 0
    with db(root) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'patients'", (old,))
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert code == 1
    assert "the row of the patient list's index (meta 'patients') differs" in err
    with Vault.open(root, keyring_service) as vault:
        assert vault.read_only
        with pytest.raises(VaultReadOnly):
            vault.patient_list(actor="t")
    code, _, _ = run("vault", "repair", "--vault", str(root), "--accept-state", "--reason", "r")
    assert _patients_value(root) is None  # never accepted as found: rebuilt from the records
    with Vault.open(root, keyring_service) as vault:
        assert sorted(p["mrn"] for _, p, _ in vault.patient_list(actor="t")) == [
            f"{MRN}0",
            f"{MRN}1",
        ]
    with db(root) as conn:  # written back again, and now deleted outside PicSafe
        conn.execute("UPDATE meta SET value = ? WHERE key = 'patients'", (old,))
    with db(root) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'patients'")
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert "the patient list's index (meta 'patients') was removed" in err


def test_unknown_top_level_files_are_named_and_kept(tmp_path, keyring_service, run):
    vault, _ = new_vault(tmp_path, keyring_service)
    root = vault.path
    vault.close()
    (root / "notes.txt").write_text("left here")
    (root / "extra").mkdir()
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert f"{root / 'notes.txt'}: a file PicSafe did not put in the vault folder" in err
    assert f"{root / 'extra'}: a folder PicSafe did not put in the vault folder" in err
    with Vault.open(root, keyring_service) as vault:
        assert not vault.read_only
        assert len(vault.unknown_files) == 2
        assert "notes.txt" in vault.unknown_files[1]
    assert (root / "notes.txt").read_text() == "left here" and (root / "extra").is_dir()


def as_format_2(root, service, vault_id):
    """What format 2 wrote: state entries only for batches, consents and items."""
    from picsafe_desktop.vault import audit, integrity
    from picsafe_desktop.vault import header as vault_header
    from picsafe_desktop.vault import state as vault_state
    from picsafe_desktop.vault.keystore import load_master_key
    from picsafe_desktop.vault.vault import _header_mac, _Keys

    keys = _Keys(load_master_key(service, vault_id), vault_id)
    conn = sqlite3.connect(root / "index.sqlite3", isolation_level=None)
    conn.execute("DELETE FROM state WHERE kind IN ('journal', 'meta')")
    generation, _ = vault_state.read_record(conn)
    head = vault_state.Head(
        generation, *integrity.audit_head(conn, keys.audit, audit.genesis(keys.audit, vault_id))
    )
    digest = vault_state.set_digest(vault_state.stored_entries(conn))
    vault_state.write_record(conn, generation, vault_state.state_mac(keys.state, head, digest))
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    header = json.loads((root / "vault.json").read_text())
    header["version"] = 2
    header["header_mac"] = vault_header.b64(_header_mac(keys, header))
    (root / "vault.json").write_text(json.dumps(header))


@pytest.fixture
def v2(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    item = put_photo(vault, batch, b"x" * 3000)
    consent = vault.put_consent(batch, {"patient": {"mrn": MRN}}, mrn=MRN, actor="t")
    vault.set_state([item], ItemState.ACTIVE, consent_id=consent, actor="t")
    vault.patient_list(actor="t")
    Journal(vault).write(Entry("import-" + "d" * 32, STORING, batch, {"kind": "x"}, "3" * 64))
    root, vault_id = vault.path, vault.vault_id
    vault.close()
    as_format_2(root, keyring_service, vault_id)
    return root, keyring_service, item


def test_a_format_2_vault_with_a_journal_is_upgraded_and_verifies(v2):
    """Format 2 left the journal and the patient index out of the state: the upgrade adopts
    the journal rows that open and drops the index (rebuilt from the consent records)."""
    root, keyring_service, _ = v2
    with Vault.open(root, keyring_service, read_only=True) as looking:  # verify: unchanged
        assert looking.trust_problems == []
        report = looking.verify()
        assert report.ok and any("vault format 2" in n for n in report.notes), report
    assert json.loads((root / "vault.json").read_text())["version"] == 2
    with Vault.open(root, keyring_service) as vault:
        assert not vault.read_only, vault.trust_problems
        assert [e[0] for e in vault.journal_entries()] == ["import-" + "d" * 32]
        assert _patients_value(root) is None  # dropped; rebuilt from the consent records
        assert vault.patient_list(actor="t")[0][1]["mrn"] == MRN
    assert json.loads((root / "vault.json").read_text())["version"] == 3
    with Vault.open(root, keyring_service, read_only=True) as vault:
        assert vault.verify().ok


def test_a_format_2_vault_edited_outside_picsafe_is_not_upgraded(v2):
    root, keyring_service, item = v2
    with db(root) as conn:
        conn.execute("UPDATE items SET metadata = x'00' WHERE item_id = ?", (item,))
    with Vault.open(root, keyring_service) as vault:
        assert vault.read_only
        problems = vault.trust_problems
        assert any(f"item {item} differs" in p and "not upgraded" in p for p in problems)
        assert not any("journal" in p for p in problems)
        with pytest.raises(VaultReadOnly):
            vault.journal_entries()
    assert json.loads((root / "vault.json").read_text())["version"] == 2


def test_strangers_directly_in_blobs_are_named_and_kept(tmp_path, keyring_service, run):
    """A file or folder directly in blobs/ (not blobs/<xx>/*.psv) is named, like top-level ones."""
    vault, _ = new_vault(tmp_path, keyring_service)
    root = vault.path
    vault.close()
    (root / "blobs" / "readme.txt").write_text("left here")
    (root / "blobs" / "stray").mkdir()
    code, _, err = run("vault", "verify", "--vault", str(root))
    assert f"{root / 'blobs' / 'readme.txt'}: a file PicSafe did not put" in err
    assert f"{root / 'blobs' / 'stray'}: a folder PicSafe did not put" in err
    with Vault.open(root, keyring_service) as vault:
        assert not vault.read_only
        assert sorted(vault.unknown_files) == vault.unknown_files and len(vault.unknown_files) == 2
        assert "readme.txt" in vault.unknown_files[0] and "stray" in vault.unknown_files[1]
    assert (root / "blobs" / "readme.txt").read_text() == "left here"
    assert (root / "blobs" / "stray").is_dir()
