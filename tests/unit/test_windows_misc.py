"""Windows permissions and smaller findings (issue 18, findings 6 and 7), faked on Linux."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path

import pytest

from picsafe_desktop import atomic, gui, logsetup, winacl, winfs
from picsafe_desktop.export import files as export_files
from picsafe_desktop.export.types import ExportError
from picsafe_desktop.importer import dropfolder
from tests.unit.windows_fakes import SharingViolation, patch_os

# A drop folder created under C:\ inherits this: Users may read and create.
INHERITED_FROM_C = (
    "D:AI(A;OICIID;FA;;;BA)(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)"
    "(A;CIID;LC;;;BU)(A;CIID;DC;;;BU)(A;OICIIOID;GA;;;CO)"
)
OWNER_ONLY = "D:PAI(A;OICI;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;OICI;FA;;;SY)"


def test_sddl_open_to_users_or_everyone_is_recognised():
    assert winacl.open_to_all(INHERITED_FROM_C) == ["Users"]
    assert winacl.open_to_all("D:(A;;FR;;;WD)(A;;GA;;;AU)") == ["Everyone", "Authenticated Users"]
    assert winacl.open_to_all("D:(A;;FA;;;S-1-5-21-1-2-3-513)") == ["Domain Users"]
    assert winacl.open_to_all(OWNER_ONLY) == []
    assert winacl.open_to_all("D:(D;;FA;;;WD)") == []  # a deny ACE grants nothing
    assert winacl.open_to_all("D:(A;;0x100000;;;BU)") == []  # SYNCHRONIZE only: no read


def test_a_new_folder_gets_an_owner_only_acl_on_windows(tmp_path, monkeypatch):
    monkeypatch.setenv("USERDOMAIN", "WARD")
    monkeypatch.setenv("USERNAME", "nurse")
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return types.SimpleNamespace(returncode=0)

    folder = tmp_path / "logs" / "PicSafe"
    assert winacl.make_private_dir(folder, windows=True, run=run) is True
    assert folder.is_dir()
    assert calls == [
        [
            "icacls",
            str(folder),
            "/inheritance:r",
            "/grant:r",
            "WARD\\nurse:(OI)(CI)F",
            "*S-1-5-18:(OI)(CI)F",
            "/Q",
        ]
    ]
    assert winacl.make_private_dir(folder, windows=True, run=run) is False  # IT's ACL stays
    assert len(calls) == 1


def test_a_drop_folder_open_to_every_user_is_refused_not_watched(tmp_path, monkeypatch):
    monkeypatch.setattr(winacl, "drop_folder_problem", _problem)
    refused = []
    open_folder, private_folder = tmp_path / "open", tmp_path / "private"
    open_folder.mkdir()
    watcher = dropfolder.DropFolderWatcher(
        [open_folder, private_folder],
        stable_seconds=0.1,
        on_batch=lambda *a: None,
        on_refusals=lambda root, refusals: refused.append((root, refusals)),
    )
    watcher.start()
    try:
        assert [s.root for s in watcher.settlers] == [private_folder]
        [(root, [refusal])] = refused
        assert root == open_folder
        assert "readable by Users" in refusal.reason and "not watched" in refusal.reason
    finally:
        watcher.stop()


_REAL_PROBLEM = winacl.drop_folder_problem


def _problem(root):
    sddl = {"open": INHERITED_FROM_C, "private": OWNER_ONLY}[Path(root).name]
    return _REAL_PROBLEM(root, windows=True, read_sddl=lambda p: sddl)


def test_rotation_blocked_by_another_process_keeps_logging_without_errors(tmp_path, monkeypatch):
    log_file = tmp_path / "picsafe-desktop.log"
    errors = []
    monkeypatch.setattr(logging.Handler, "handleError", lambda self, record: errors.append(1))
    handler = logsetup.SharedRotatingFileHandler(log_file, maxBytes=200, backupCount=2)

    def held(src, dst):  # the other PicSafe process has the file open (Windows)
        raise SharingViolation(src)

    handler.rotator = held
    logger = logging.getLogger("test.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for i in range(40):
            logger.warning("line %d of a busy ward morning", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert errors == []
    assert "line 39" in log_file.read_text()


def test_a_pdf_open_in_a_viewer_is_reported_as_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr(winfs, "RETRY_DELAYS", (0.0,))
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF old")

    def held(src, dst, **kw):
        raise SharingViolation(dst)

    patch_os(monkeypatch, winfs, replace=held)
    with pytest.raises(ExportError) as err:
        export_files.write_file(target, b"%PDF new")
    assert "open in another program" in str(err.value)
    assert "choose a folder you can write to" not in str(err.value)
    assert target.read_bytes() == b"%PDF old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_temp_names_stay_short_beside_a_long_file_name(tmp_path, monkeypatch):
    seen = []
    real = atomic.tempfile.mkstemp

    def mkstemp(**kw):
        fd, name = real(**kw)
        seen.append(Path(name).name)
        return fd, name

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    long_name = "wound review " + "x" * 180 + ".pdf"
    atomic.write_atomically(tmp_path / long_name, b"%PDF")
    assert len(seen[0]) < 32


def test_the_gui_entry_point_shows_start_up_errors_in_a_dialog(monkeypatch):
    from picsafe_desktop import cli

    shown = []
    monkeypatch.setattr(gui, "show_error", shown.append)
    monkeypatch.setattr(sys, "stderr", None)  # pythonw: no console at all

    def broken_config(argv):
        print("picsafe-desktop: C:\\ProgramData\\PicSafe\\site.toml: line 3: bad", file=sys.stderr)
        return 2

    monkeypatch.setattr(cli, "main", broken_config)
    assert gui.main([]) == 2
    assert shown and "site.toml: line 3" in shown[0]

    def crash(argv):
        raise RuntimeError("internal detail that must not reach the user")

    shown.clear()
    monkeypatch.setattr(cli, "main", crash)
    monkeypatch.setattr(logsetup, "log_crash", lambda *a, **k: None)
    assert gui.main([]) == 1
    assert "unexpected error" in shown[0] and "internal detail" not in shown[0]

    shown.clear()
    monkeypatch.setattr(cli, "main", lambda argv: 0)
    assert gui.main([]) == 0 and shown == []


def test_a_vault_on_a_network_share_is_refused(tmp_path, monkeypatch):
    from picsafe_desktop.vault import Vault, VaultError

    monkeypatch.setattr(winfs, "is_network_path", lambda p, **kw: True)
    with pytest.raises(VaultError, match="network drive"):
        Vault.create(tmp_path / "vault", "picsafe-test-unused")
    with pytest.raises(VaultError, match="network drive"):
        Vault.open(tmp_path / "vault", "picsafe-test-unused")
    assert not (tmp_path / "vault").exists()
