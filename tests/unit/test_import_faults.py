"""importer/faults.py tells a full disk, a read-only vault, a busy one and real damage apart by
SQLite result code and errno (issue 13, finding 11) - with real SQLite errors, not messages."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from picsafe_desktop.importer import faults
from picsafe_desktop.vault.errors import IntegrityError


def _raised(fn) -> BaseException:
    with pytest.raises(sqlite3.Error) as caught:
        fn()
    return caught.value


def _wrapped(exc: BaseException) -> IntegrityError:
    """What the vault raises today: every database error called damage, the cause chained."""
    try:
        raise IntegrityError("the vault index is damaged or inconsistent") from exc
    except IntegrityError as wrapped:
        return wrapped


def test_a_full_database_is_full_not_damaged(tmp_path):
    conn = sqlite3.connect(tmp_path / "db")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 3")
    exc = _raised(lambda: conn.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,)))
    assert faults.classify(_wrapped(exc)) == faults.FULL
    assert "full" in faults.advice(_wrapped(exc)) and "damaged" not in faults.advice(exc)


def test_a_read_only_database_is_read_only(tmp_path):
    sqlite3.connect(tmp_path / "db").execute("CREATE TABLE t (x)")
    conn = sqlite3.connect(f"file:{tmp_path / 'db'}?mode=ro", uri=True)
    exc = _raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))
    assert faults.classify(_wrapped(exc)) == faults.READ_ONLY


def test_a_locked_database_is_busy(tmp_path):
    first = sqlite3.connect(tmp_path / "db", isolation_level=None)
    first.execute("CREATE TABLE t (x)")
    first.execute("BEGIN EXCLUSIVE")
    second = sqlite3.connect(tmp_path / "db", timeout=0)
    exc = _raised(lambda: second.execute("INSERT INTO t VALUES (1)"))
    assert faults.classify(_wrapped(exc)) == faults.BUSY


def test_a_file_that_is_not_a_database_is_damage(tmp_path):
    (tmp_path / "db").write_bytes(b"this is not SQLite" * 100)
    conn = sqlite3.connect(tmp_path / "db")
    exc = _raised(lambda: conn.execute("SELECT * FROM sqlite_master"))
    assert faults.classify(_wrapped(exc)) == faults.DAMAGED


@pytest.mark.parametrize(
    ("code", "kind"),
    [(errno.ENOSPC, faults.FULL), (errno.EROFS, faults.READ_ONLY),
     (errno.EACCES, faults.READ_ONLY), (errno.EIO, faults.IO)],
)  # fmt: skip
def test_os_errors_by_errno(code, kind):
    assert faults.classify(OSError(code, "x")) == kind
    assert faults.is_fault(OSError(code, "x"))


def test_an_authentication_failure_is_damage():
    assert faults.classify(IntegrityError("tag mismatch")) == faults.DAMAGED
    assert not faults.is_fault(IntegrityError("tag mismatch"))
