"""Tampered, damaged, missing or busy vault files: each gives its own clear error."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import (
    DiskFull,
    IntegrityError,
    NotAVault,
    UnknownFormat,
    Vault,
    VaultBusy,
    VaultError,
)
from picsafe_desktop.vault import blobs as blobs_module
from tests.unit.vault_support import MRN, TEST_KDF, db, new_vault, put_photo

pytestmark = pytest.mark.keyring


@pytest.fixture
def filled(tmp_path, keyring_service):
    """A closed vault with two same-size items; yields (root, service, batch, [a, b], data)."""
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    data = [os.urandom(150_000), os.urandom(150_000)]
    items = [put_photo(vault, batch, d) for d in data]
    root = vault.path
    vault.close()
    return root, keyring_service, batch, items, data


def blob(root, item):
    return root / "blobs" / item[:2] / f"{item}.psv"


def reopen(filled):
    root, service, *_ = filled
    return Vault.open(root, service)


def test_flipped_bit_in_a_blob(filled):
    root, _, _, (a, b), data = filled
    raw = bytearray(blob(root, a).read_bytes())
    raw[100_000] ^= 0x40
    blob(root, a).write_bytes(raw)
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match="chunk 1 failed authentication"):
            vault.read(a, actor="t")
        assert vault.read(b, actor="t") == data[1]
        report = vault.verify()
        assert not report.ok
        assert len(report.problems) == 1 and report.problems[0].startswith(f"item {a}:")


def test_truncated_blob(filled):
    root, _, _, (a, _), _ = filled
    raw = blob(root, a).read_bytes()
    blob(root, a).write_bytes(raw[: 40 + 2 * (65536 + 16)])  # cut exactly at a chunk boundary
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match="chunk 1 failed"):
            vault.read(a, actor="t")
        # open_stream hands out the authenticated chunks, then fails instead of ending cleanly
        stream = vault.open_stream(a)
        assert len(next(stream)) == 65536
        with pytest.raises(IntegrityError):
            list(stream)


def test_blobs_swapped_between_items(filled):
    root, _, _, (a, b), _ = filled
    raw_a, raw_b = blob(root, a).read_bytes(), blob(root, b).read_bytes()
    blob(root, a).write_bytes(raw_b)
    blob(root, b).write_bytes(raw_a)
    with reopen(filled) as vault:
        for item in (a, b):
            with pytest.raises(IntegrityError, match="another item"):
                vault.read(item, actor="t")
        assert len(vault.verify().problems) == 2


def test_wrapped_keys_or_thumbnails_swapped_in_the_index(filled):
    root, _, _, (a, b), _ = filled
    with db(root) as conn:
        conn.execute(
            "UPDATE items SET wrapped_key = (SELECT wrapped_key FROM items WHERE item_id = ?), "
            "thumbnail = (SELECT thumbnail FROM items WHERE item_id = ?) WHERE item_id = ?",
            (b, b, a),
        )
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match=f"key of {a}"):
            vault.read(a, actor="t")
        with pytest.raises(IntegrityError):
            vault.read_thumbnail(a)
        assert vault.read_thumbnail(b) == b"thumb"


def test_plain_index_columns_edited_to_skip_consent(filled):
    root, _, _, (a, _), _ = filled
    with db(root) as conn:
        conn.execute("UPDATE items SET state = 'active' WHERE item_id = ?", (a,))
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match=f"item {a} was modified outside PicSafe"):
            vault.list_items(ItemState.ACTIVE)
        with pytest.raises(IntegrityError):
            vault.read(a, actor="t")
        assert any(a in p for p in vault.verify().problems)


def test_size_and_batch_rows_edited(filled):
    root, _, batch, (a, _), _ = filled
    with db(root) as conn:
        conn.execute("UPDATE items SET size = 1 WHERE item_id = ?", (a,))
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match=f"item {a}"):
            vault.get_item(a)
    with db(root) as conn:
        conn.execute("UPDATE items SET size = 150000 WHERE item_id = ?", (a,))
        conn.execute("UPDATE batches SET created_at = '2000-01-01T00:00:00+00:00'")
    with reopen(filled) as vault:
        assert vault.get_item(a).size == 150000
        with pytest.raises(IntegrityError, match=f"batch {batch}"):
            vault.batches()
        assert [p for p in vault.verify().problems if batch in p]


def test_consent_row_moved_to_another_mrn(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    mine = vault.put_consent(batch, {"who": 1}, mrn=MRN, actor="t")
    other = vault.put_consent(batch, {"who": 2}, mrn="MRN-OTHER", actor="t")
    vault.close()
    with db(vault.path) as conn:
        conn.execute(
            "UPDATE consents SET mrn_mac = (SELECT mrn_mac FROM consents WHERE consent_id = ?) "
            "WHERE consent_id = ?",
            (mine, other),
        )
        conn.execute(
            "UPDATE consents SET record = (SELECT record FROM consents WHERE consent_id = ?) "
            "WHERE consent_id = ?",
            (mine, other),
        )
    with Vault.open(vault.path, keyring_service) as again:
        with pytest.raises(IntegrityError, match=f"consent {other}"):
            again.find_by_mrn(MRN)
        assert any(other in p for p in again.verify().problems)


def test_vault_header_edits(filled):
    root, service, *_ = filled
    header_file = root / "vault.json"
    original = json.loads(header_file.read_text())

    def write(change):
        header = json.loads(json.dumps(original))
        change(header)
        header_file.write_text(json.dumps(header))

    write(lambda h: h["recovery"].update(memory_kib=8))
    with pytest.raises(IntegrityError, match="vault.json: modified outside PicSafe"):
        Vault.open(root, service)
    write(lambda h: h.update(version=4))
    with pytest.raises(UnknownFormat, match="version 4 is not supported"):
        Vault.open(root, service)
    write(lambda h: h.update(format="something-else"))
    with pytest.raises(NotAVault):
        Vault.open(root, service)
    header_file.write_text("{not json")
    with pytest.raises(IntegrityError, match="not JSON"):
        Vault.open(root, service)
    write(lambda h: None)
    Vault.open(root, service).close()


def test_unknown_blob_version_or_index_version(filled):
    root, _, _, (a, _), _ = filled
    raw = bytearray(blob(root, a).read_bytes())
    raw[4] = 9
    blob(root, a).write_bytes(raw)
    with reopen(filled) as vault:
        with pytest.raises(UnknownFormat, match="version 9"):
            vault.read(a, actor="t")
    with db(root) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(UnknownFormat, match="index format version 7"):
        reopen(filled)


def test_missing_or_foreign_files(filled):
    root, service, _, (a, b), _ = filled
    blob(root, a).unlink()
    with reopen(filled) as vault:
        with pytest.raises(IntegrityError, match="missing"):
            vault.read(a, actor="t")
        assert any("missing" in p for p in vault.verify().problems)
    (root / "index.sqlite3").write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(IntegrityError, match="damaged"):
        Vault.open(root, service)
    (root / "index.sqlite3").unlink()
    with pytest.raises(IntegrityError, match="index is missing"):
        Vault.open(root, service)


def test_an_index_from_another_vault_is_refused(tmp_path, keyring_service):
    first, _ = new_vault(tmp_path, keyring_service, "one")
    second, _ = new_vault(tmp_path, keyring_service, "two")
    first.close()
    second.close()
    for suffix in ("", "-wal", "-shm"):
        (first.path / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    (first.path / "index.sqlite3").write_bytes((second.path / "index.sqlite3").read_bytes())
    with pytest.raises(IntegrityError, match="belongs to another vault"):
        Vault.open(first.path, keyring_service)


def test_not_a_vault(tmp_path, keyring_service):
    with pytest.raises(NotAVault, match="does not exist.*vault init"):
        Vault.open(tmp_path / "nowhere", keyring_service)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAVault, match="no vault.json"):
        Vault.open(tmp_path / "empty", keyring_service)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotAVault, match="is a file"):
        Vault.open(tmp_path / "file", keyring_service)


def test_crash_leftovers_go_to_quarantine_never_to_the_shredder(filled):
    """Our own half-written tmp file is removed (it never had a key); a blob without a row and
    a file we did not write are moved to quarantine/, audited and reported - not destroyed."""
    root, _, _, items, _ = filled
    orphan = root / "blobs" / "ab" / ("ab" + "0" * 30 + ".psv")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(os.urandom(500))
    ours = root / "tmp" / (("cd" * 16) + ".0a1b2c3d.part")
    ours.write_bytes(os.urandom(500))
    (root / "tmp" / "half.part").write_bytes(b"not ours")
    with reopen(filled) as vault:
        assert not orphan.exists() and not ours.exists()
        assert (root / "quarantine" / orphan.name).read_bytes()
        assert (root / "quarantine" / "half.part").read_bytes() == b"not ours"
        assert len(vault.quarantined) == 2
        assert "interrupted import" in vault.quarantined[0]
        assert [r.subject for r in vault.audit_rows() if r.event == "quarantine"] == [
            "ab" + "0" * 30,
            "file",
        ]
        assert list((root / "tmp").iterdir()) == []
        assert {i.item_id for i in vault.list_items()} == set(items)
        report = vault.verify()
        assert report.ok and len(report.notes) == 2


def test_second_instance_gets_a_clear_message(filled):
    root, service, *_ = filled
    with reopen(filled):
        with pytest.raises(VaultBusy, match=f"process {os.getpid()}"):
            Vault.open(root, service)
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                from picsafe_desktop.vault import Vault, VaultBusy
                try:
                    Vault.open({str(root)!r}, {service!r})
                except VaultBusy as exc:
                    print("busy:", exc)
                """),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "busy:" in child.stdout and "another PicSafe Desktop instance" in child.stdout
    Vault.open(root, service).close()  # free again once the first one is closed


def test_disk_full_while_writing_a_blob_changes_nothing(filled, monkeypatch):
    root, _, batch, items, _ = filled

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with reopen(filled) as vault:
        before = vault.audit_rows()
        monkeypatch.setattr(blobs_module.os, "fsync", no_space)
        with pytest.raises(DiskFull, match="disk is full.*free space"):
            put_photo(vault, batch, os.urandom(200_000))
        monkeypatch.undo()
        assert [i.item_id for i in vault.list_items()] == items
        assert vault.audit_rows() == before
        assert list((root / "tmp").iterdir()) == []
        assert vault.verify().ok
        assert put_photo(vault, batch, b"after space was freed")


def test_disk_full_in_the_index_removes_the_new_blob(filled):
    root, _, batch, items, _ = filled
    with reopen(filled) as vault:
        (pages,) = vault._conn.execute("PRAGMA page_count").fetchone()
        vault._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full"
        with pytest.raises(DiskFull, match="index.sqlite3: the disk is full"):
            put_photo(vault, batch, os.urandom(300_000), thumbnail=os.urandom(60_000))
        vault._conn.execute("PRAGMA max_page_count = 1073741823")
        assert [i.item_id for i in vault.list_items()] == items
        on_disk = {p.name[:-4] for p in (root / "blobs").rglob("*.psv")}
        assert on_disk == set(items)
        assert vault.verify().ok and vault.verify_audit().ok


@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_creation_leaves_no_folder_and_no_key(
    tmp_path, keyring_service, monkeypatch, existing
):
    import secretstorage

    from picsafe_desktop.vault import header as header_module

    root = tmp_path / "new"
    if existing:
        root.mkdir()

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(header_module, "write", disk_full)
    with pytest.raises(DiskFull, match="disk is full"):
        new_vault(tmp_path, keyring_service, name="new")
    assert (list(root.iterdir()) == []) if existing else not root.exists()
    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        assert list(collection.search_items({"service": keyring_service})) == []


@pytest.fixture
def small_drive(tmp_path):
    """A real tmpfs of a given size (a small or full drive); root only, as in the harness."""
    mounted = []

    def mount(size: int):
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        point = tmp_path / f"drive{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        if subprocess.run(["umount", str(point)]).returncode != 0:
            # a leaked file handle keeps it busy (the test has failed then): detach it anyway
            subprocess.run(["umount", "--lazy", str(point)], check=True)


def _no_key_stored(service):
    import secretstorage

    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        return list(collection.search_items({"service": service})) == []


def test_creation_on_a_full_drive_is_a_vault_error_and_leaves_nothing(small_drive, keyring_service):
    """SQLite says "disk I/O error" (not "full") there: that was a raw sqlite3 traceback."""
    drive = small_drive(20 * 1024)
    with pytest.raises(VaultError, match="free space.*nothing was created"):
        Vault.create(drive / "vault", keyring_service, kdf=TEST_KDF, actor="t")
    assert list(drive.iterdir()) == []
    assert _no_key_stored(keyring_service)
    # No handle left open on the removed index (it would keep its space and the drive busy).
    handles = [os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")]
    assert [h for h in handles if h.startswith(str(drive))] == []


def test_vault_on_a_read_only_drive_is_a_clear_error(small_drive, keyring_service):
    """The lock file is opened for writing: that was a raw OSError (EROFS) traceback."""
    drive = small_drive(4 * 1024 * 1024)
    Vault.create(drive / "vault", keyring_service, kdf=TEST_KDF, actor="t")[0].close()
    subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
    with pytest.raises(VaultError, match="vault.lock for writing .*write access"):
        Vault.open(drive / "vault", keyring_service)
    with pytest.raises(VaultError, match="cannot create the vault folder"):
        Vault.create(drive / "other", keyring_service, kdf=TEST_KDF, actor="t")
