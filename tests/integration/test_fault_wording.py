"""Disk full and read-only, on real file systems: `vault list`, `vault verify`, `audit verify`
and every export say which file or folder and what to do, never a traceback.

A vault on a full drive failed every read-only command with "the drive reported an
input/output error (SQLITE_IOERR_SHMSIZE) ... check that the drive is connected": SQLite cannot
grow the WAL index there and says I/O, not "full". Each fault is a real tmpfs (filled, or
remounted read-only), as the disk-full import tests use.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.importer_support import import_consented
from tests.integration.test_export_cli import CONSENT

pytestmark = [
    pytest.mark.keyring,
    pytest.mark.corpus,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]


def _mount(point, size):
    point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], check=True)


def _fill(folder):
    st = os.statvfs(folder)
    with open(folder / "filler", "wb") as f:
        f.write(b"\0" * (st.f_bavail * st.f_frsize))


def _run(*args):
    done = subprocess.run(
        [sys.executable, "-m", "picsafe_desktop", *args],
        capture_output=True, text=True, timeout=300, input="a long enough passphrase\n",
    )  # fmt: skip
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def drives(tmp_path, keyring_service):
    """A vault with two consented photos on its own 8 MB drive, and a 1 MB export drive."""
    vault_fs, out_fs = tmp_path / "vault-drive", tmp_path / "export-drive"
    _mount(vault_fs, "8m")
    _mount(out_fs, "1m")
    try:
        vault_dir = vault_fs / "vault"
        base, items = import_consented(vault_dir, tmp_path, keyring_service, CONSENT, "fault")
        yield vault_fs, out_fs, base, items[0].consent_id, tmp_path
    finally:
        for point in (vault_fs, out_fs):
            subprocess.run(["umount", "-l", str(point)], check=False)


def _exports(consent_id, base, folder):
    return {
        "pdf": ["export", "pdf", "--consent", consent_id, *base, "--out", str(folder / "r.pdf")],
        "dicom": ["export", "dicom", "--consent", consent_id, *base, "--out", str(folder / "dcm")],
        "package": [
            "export", "package", "--consent", consent_id, *base, "--passphrase",
            "--out", str(folder / "case.age"),
        ],
    }  # fmt: skip


def test_exports_to_a_full_or_read_only_folder_name_it_and_the_fix(drives):
    _, out_fs, base, consent_id, _ = drives
    (out_fs / "dcm").mkdir()
    _fill(out_fs)
    for kind, args in _exports(consent_id, base, out_fs).items():
        code, _, err = _run(*args)
        assert code != 0, kind
        assert f"{out_fs}" in err and "No space left on device" in err, err
        assert "free space on that drive or choose another folder" in err, err
        assert "nothing was exported" in err, err
    subprocess.run(["mount", "-o", "remount,ro", str(out_fs)], check=True)
    for kind, args in _exports(consent_id, base, out_fs).items():
        code, _, err = _run(*args)
        assert code != 0, kind
        assert f"{out_fs}" in err and "choose a folder you can write to" in err, err


def test_vault_commands_on_a_full_drive_say_full_and_name_the_index(drives):
    vault_fs, _, base, consent_id, tmp_path = drives
    _fill(vault_fs)
    index = vault_fs / "vault" / "index.sqlite3"
    commands = [
        ["vault", "list", *base],
        ["vault", "list", "--json", *base],
        ["vault", "verify", *base],
        ["audit", "verify", *base],
        _exports(consent_id, base, tmp_path)["pdf"],
    ]
    for args in commands:
        code, _, err = _run(*args)
        assert code != 0, args
        assert f"{index}: the disk is full; free space on that drive" in err, (args, err)
        assert "input/output" not in err and "damaged" not in err, err
    assert not (tmp_path / "r.pdf").exists()


def test_a_vault_on_a_read_only_drive_lists_verifies_and_refuses_export_clearly(drives):
    vault_fs, _, base, consent_id, tmp_path = drives
    subprocess.run(["mount", "-o", "remount,ro", str(vault_fs)], check=True)
    code, out, err = _run("vault", "list", *base)
    assert code == 0 and "2 item(s)" in out, err
    code, out, _ = _run("vault", "verify", *base)
    assert code == 0 and out.startswith("ok:")
    code, _, err = _run(*_exports(consent_id, base, tmp_path)["pdf"])
    assert code != 0
    assert f"{vault_fs / 'vault'}" in err and "Read-only file system" in err, err
    assert "copy a read-only backup to a writable drive" in err, err
