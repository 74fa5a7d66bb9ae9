"""Finding 15 (vault side): SQLite errors are told apart by result code, not by words."""

import sqlite3

import pytest

from picsafe_desktop.vault import DiskFull, IntegrityError, Vault, VaultError
from picsafe_desktop.vault.errors import IndexBusy, IndexIOError, IndexReadOnly
from picsafe_desktop.vault.sqlerrors import classify
from tests.unit.vault_support import new_vault

pytestmark = pytest.mark.keyring

NEVER = "restore it from backup"  # an older index loses every photo stored since


def real_error(action) -> sqlite3.Error:
    try:
        action()
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("SQLite raised nothing")


def test_a_busy_index_is_busy_not_damaged(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    other = sqlite3.connect(vault.path / "index.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program writing
    vault._conn.execute("PRAGMA busy_timeout = 50")
    try:
        with pytest.raises(IndexBusy, match="locked by another program.*SQLITE_BUSY") as caught:
            vault.create_batch("phone", actor="t")
        assert "damaged" not in str(caught.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    vault.create_batch("phone", actor="t")  # and it works once the other program lets go
    vault.close()


def test_a_read_only_index_is_named_as_such(tmp_path):
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (a)").connection.commit()
    ro = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    exc = real_error(lambda: ro.execute("INSERT INTO t VALUES (1)"))
    assert type(classify(exc, path)) is IndexReadOnly
    assert "read-only: give this user write access" in str(classify(exc, path))


def test_a_file_that_is_not_a_database_is_damaged_and_no_older_copy_is_advised(tmp_path):
    path = tmp_path / "x.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    exc = real_error(lambda: sqlite3.connect(path).execute("SELECT * FROM sqlite_master"))
    found = classify(exc, path)
    assert type(found) is IntegrityError and "SQLITE_NOTADB" in str(found)
    assert NEVER not in str(found) and "must not simply be put back" in str(found)


def test_a_full_index_is_disk_full(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.execute("CREATE TABLE t (a)")
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")
    exc = real_error(lambda: conn.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,)))
    assert type(classify(exc, "idx")) is DiskFull


@pytest.mark.parametrize(
    ("code", "name", "kind", "words"),
    [
        (10 | 3 << 8, "SQLITE_IOERR_WRITE", IndexIOError, "input/output error"),
        (10 | 13 << 8, "SQLITE_IOERR_FSYNC", IndexIOError, "input/output error"),
        (6, "SQLITE_LOCKED", IndexBusy, "locked by another program"),
        (11, "SQLITE_CORRUPT", IntegrityError, "damaged"),
        # "full" in the text of another code must not make it a full disk (the old rule)
        (1, "SQLITE_ERROR", VaultError, "could not be used"),
    ],
)
def test_each_result_code_has_its_own_message(code, name, kind, words):
    exc = sqlite3.OperationalError("database or disk is full, or not")
    exc.sqlite_errorcode, exc.sqlite_errorname = code, name
    found = classify(exc, "index.sqlite3")
    assert type(found) is kind and words in str(found) and NEVER not in str(found)


def test_a_damaged_index_at_open_names_the_fix_without_an_older_copy(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    vault.close()
    for suffix in ("-wal", "-shm"):
        (vault.path / f"index.sqlite3{suffix}").unlink(missing_ok=True)
    (vault.path / "index.sqlite3").write_bytes(b"garbage" * 1000)
    with pytest.raises(IntegrityError) as caught:
        Vault.open(vault.path, keyring_service)
    assert "damaged" in str(caught.value) and NEVER not in str(caught.value)
