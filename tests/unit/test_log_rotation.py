"""Log rotation with two PicSafe processes writing one log file (issue 18, finding 7).

On Windows the live file cannot be renamed while another process holds it (a sharing
violation, winerror 32, faked here); on every platform the other process may rotate first.
Either way no line may be lost.
"""

from __future__ import annotations

import logging
import os
import sys
import types

import pytest

from picsafe_desktop import logsetup
from tests.unit.windows_fakes import SharingViolation


def _handler(path, max_bytes=200, backups=3) -> logsetup.SharedRotatingFileHandler:
    handler = logsetup.SharedRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def _emit(handler, text: str) -> None:
    record = logging.LogRecord("picsafe_desktop.t", logging.INFO, __file__, 1, text, None, None)
    handler.handle(record)


def _all_lines(folder) -> list[str]:
    lines = []
    for path in sorted(folder.iterdir()):
        lines += path.read_text(encoding="utf-8").splitlines()
    return lines


def test_a_rotation_refused_by_a_sharing_violation_loses_no_line(tmp_path, monkeypatch):
    log = tmp_path / "picsafe.log"
    for i in (1, 2, 3):
        (tmp_path / f"picsafe.log.{i}").write_text(f"backup {i}\n", encoding="utf-8")
    real_rename = os.rename

    def rename(src, dst):  # another process holds the live file: Windows refuses to move it
        if os.fspath(src) == str(log):
            raise SharingViolation(src)
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    handler = _handler(log)
    handler.retry_seconds = 0.0  # try on every record: the worst case for the old shifting
    for n in range(40):
        _emit(handler, f"line {n:02d} while the other process holds the file")
    for i in (1, 2, 3):  # no backup shifted, none dropped
        assert (tmp_path / f"picsafe.log.{i}").read_text(encoding="utf-8") == f"backup {i}\n"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines == [f"line {n:02d} while the other process holds the file" for n in range(40)]

    monkeypatch.setattr(os, "rename", real_rename)  # the other process let go
    _emit(handler, "line after")
    handler.close()
    assert log.read_text(encoding="utf-8") == "line after\n"
    assert (tmp_path / "picsafe.log.1").read_text(encoding="utf-8").splitlines() == lines
    assert (tmp_path / "picsafe.log.2").read_text(encoding="utf-8") == "backup 1\n"
    assert (tmp_path / "picsafe.log.3").read_text(encoding="utf-8") == "backup 2\n"
    assert not list(tmp_path.glob("*.rotating"))


def test_a_refused_retry_waits_and_the_file_keeps_growing(tmp_path, monkeypatch):
    log = tmp_path / "picsafe.log"
    tries = []

    def rename(src, dst):
        tries.append(src)
        raise SharingViolation(src)

    monkeypatch.setattr(os, "rename", rename)
    handler = _handler(log)
    for n in range(30):
        _emit(handler, f"line {n:02d} of a busy ward PC log")
    handler.close()
    assert len(tries) == 1  # one try, then quiet for retry_seconds
    assert len(log.read_text(encoding="utf-8").splitlines()) == 30


def test_a_failed_shift_keeps_the_moved_file(tmp_path, monkeypatch):
    log = tmp_path / "picsafe.log"
    (tmp_path / "picsafe.log.1").write_text("backup 1\n", encoding="utf-8")
    real_replace = os.replace

    def replace(src, dst):  # a scanner holds the first backup
        if os.fspath(src).endswith(".log.1"):
            raise SharingViolation(src)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    handler = _handler(log, max_bytes=60)
    for n in range(4):
        _emit(handler, f"line {n} of the first file")
    handler.close()
    assert _all_lines(tmp_path).count("backup 1") == 1
    assert sorted(line for line in _all_lines(tmp_path) if line.startswith("line")) == [
        f"line {n} of the first file" for n in range(4)
    ]
    assert list(tmp_path.glob("picsafe.log.*.rotating"))  # kept under its own name


def test_a_process_follows_the_live_file_after_the_other_one_rotated(tmp_path):
    """Process B keeps the file that process A rotated away: B's next lines used to go into a
    backup, which A's later rotations deleted - lost lines (POSIX; on Windows with
    FILE_SHARE_DELETE too)."""
    log = tmp_path / "picsafe.log"
    a, b = _handler(log, max_bytes=120, backups=2), _handler(log, max_bytes=10_000, backups=2)
    _emit(b, "B first")
    for n in range(20):  # A rotates several times: B's old file is dropped as the oldest
        _emit(a, f"A line {n:02d} with some padding")
    _emit(b, "B after A rotated")
    a.close()
    b.close()
    assert "B after A rotated" in log.read_text(encoding="utf-8").splitlines()


def test_windows_opens_the_log_with_share_delete(tmp_path, monkeypatch):
    calls = []

    class Kernel32:
        class CreateFileW:  # noqa: N801 - the Windows function's name
            def __new__(cls, path, access, share, security, disposition, flags, template):
                calls.append((path, access, share, disposition))
                return 1234

    fds = []

    def open_osfhandle(handle, flags):
        assert handle == 1234 and flags & os.O_APPEND
        fd = os.open(calls[-1][0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fds.append(fd)
        return fd

    msvcrt = types.SimpleNamespace(open_osfhandle=open_osfhandle)
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    monkeypatch.setattr(logsetup, "_kernel32", Kernel32)
    monkeypatch.setattr(logsetup.winfs, "is_windows", lambda: True)
    handler = _handler(tmp_path / "picsafe.log")
    _emit(handler, "through the shared-delete handle")
    handler.close()
    path, access, share, disposition = calls[0]
    assert path == str(tmp_path / "picsafe.log")
    assert share & 0x4  # FILE_SHARE_DELETE: another process may rename it
    assert access & 0x4  # FILE_APPEND_DATA: writes of both processes land at the end
    assert disposition == 4  # OPEN_ALWAYS
    written = (tmp_path / "picsafe.log").read_text(encoding="utf-8")
    assert written == "through the shared-delete handle\n"


def test_a_failing_windows_open_falls_back_to_the_plain_one(tmp_path, monkeypatch):
    def refuse(path, flags):
        raise OSError(5, "denied")

    monkeypatch.setattr(logsetup, "open_shared_delete", refuse)
    monkeypatch.setattr(logsetup.winfs, "is_windows", lambda: True)
    handler = _handler(tmp_path / "picsafe.log")
    _emit(handler, "plain")
    handler.close()
    assert (tmp_path / "picsafe.log").read_text(encoding="utf-8") == "plain\n"


@pytest.mark.parametrize("backups", [0])
def test_no_backups_means_the_stock_behaviour(tmp_path, backups):
    handler = _handler(tmp_path / "picsafe.log", max_bytes=30, backups=backups)
    for n in range(5):
        _emit(handler, f"line {n}")
    handler.close()
    assert [p.name for p in tmp_path.iterdir()] == ["picsafe.log"]
