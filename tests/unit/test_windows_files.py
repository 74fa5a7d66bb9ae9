"""Windows file behaviour (issue 18, findings 1-3 and junctions), faked on Linux.

Each test reproduces what Windows reports - zeroed DirEntry stats, inode 0 on a mapped drive,
a folder ACL that allows writing but not deleting, sharing violations from a virus scanner, a
junction - and checks that no photo is collapsed, half-wiped or wiped on a guess.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from picsafe_desktop import atomic, winfs
from picsafe_desktop.importer import files, wipe
from picsafe_desktop.importer.files import scan_folder, scan_paths
from picsafe_desktop.importer.source import RemoveError
from picsafe_desktop.importer.wipe import WipeError, finish_wipe, secure_wipe, wipe_name
from picsafe_desktop.vault import blobs
from picsafe_desktop.vault.blobs import BlobStore
from tests.platform_marks import posix_only
from tests.unit.windows_fakes import (
    ReparseStat,
    SharingViolation,
    patch_os,
    windows_scandir,
    zeroed,
)

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(winfs, "RETRY_DELAYS", (0.0, 0.0, 0.0))


def _photos(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"patient {i}.jpg"
        path.write_bytes(PHOTO + bytes([i]))
        paths.append(path)
    return paths


def _identity(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_dev, st.st_ino


# ---- finding 1: identity ---------------------------------------------------------------------


def test_zeroed_direntry_stats_do_not_collapse_a_folder_into_one_photo(tmp_path, monkeypatch):
    paths = _photos(tmp_path, 3)
    patch_os(monkeypatch, files, scandir=windows_scandir(os.scandir))
    scan = scan_folder(tmp_path)
    assert sorted(c.path for c in scan.candidates) == paths
    assert all(c.other_links == () for c in scan.candidates)
    assert scan.refusals == []
    for cand, path in zip(sorted(scan.candidates, key=lambda c: c.path), paths, strict=True):
        assert cand.read() == path.read_bytes()


def test_a_drive_without_inodes_imports_every_file_but_never_wipes_or_deletes(
    tmp_path, monkeypatch
):
    paths = _photos(tmp_path, 2)
    real_lstat, real_fstat = os.lstat, os.fstat
    patch_os(
        monkeypatch,
        files,
        wipe,
        lstat=lambda p, **kw: zeroed(real_lstat(p, **kw), keep_dev=True),
        fstat=lambda fd: zeroed(real_fstat(fd), keep_dev=True),
    )
    scan = scan_folder(tmp_path)
    assert len(scan.candidates) == 2
    for removal in ("wipe", "delete"):
        for cand in scan_folder(tmp_path, removal=removal).candidates:
            assert cand.read() == cand.path.read_bytes()
            with pytest.raises(RemoveError, match="no stable identity") as err:
                cand.remove("tok")
            assert err.value.by_hand
    with pytest.raises(WipeError, match="no stable identity"):
        secure_wipe(paths[0], "tok")
    with pytest.raises(WipeError, match="no stable identity"):
        finish_wipe(paths[0], "tok", (5, 0))
    assert [p.read_bytes() for p in paths] == [PHOTO + b"\0", PHOTO + b"\1"]
    # Named on the command line twice, still one photo (no inode to compare: the path is used).
    assert len(scan_paths([paths[0], paths[0], tmp_path]).candidates) == 2


# ---- finding 2: rename first -----------------------------------------------------------------


def test_a_share_that_allows_writing_but_not_deleting_leaves_the_photo_untouched(
    tmp_path, monkeypatch
):
    path = tmp_path / "smith ulcer.jpg"
    path.write_bytes(PHOTO)
    identity = _identity(path)

    def denied(src, dst, **kw):
        raise PermissionError(errno.EACCES, "Access is denied", str(src))

    # Windows: os.access ignores the folder ACL; the rename is what is refused
    patch_os(monkeypatch, wipe, winfs, access=lambda *a, **k: True, replace=denied)
    with pytest.raises(WipeError, match="may not delete files") as err:
        secure_wipe(path, "tok", identity=identity)
    assert err.value.by_hand
    assert path.read_bytes() == PHOTO  # not random bytes under the patient's name
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_read_only_file_in_a_writable_folder_is_renamed_back_untouched(tmp_path, monkeypatch):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    real_open = os.open

    def no_write(p, flags, *a, **kw):
        if flags & os.O_WRONLY:
            raise PermissionError(errno.EACCES, "Access is denied", str(p))
        return real_open(p, flags, *a, **kw)

    patch_os(monkeypatch, wipe, open=no_write)
    with pytest.raises(WipeError, match="delete it by hand"):
        secure_wipe(path, "tok", identity=_identity(path))
    assert path.read_bytes() == PHOTO
    assert [p.name for p in tmp_path.iterdir()] == ["a.jpg"]


def test_two_hard_links_in_one_folder_get_two_wipe_names(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    os.link(path, tmp_path / "b.jpg")
    assert wipe_name(path, "tok") != wipe_name(tmp_path / "b.jpg", "tok")
    secure_wipe(path, "tok", identity=_identity(path), other_links=(tmp_path / "b.jpg",))
    assert list(tmp_path.iterdir()) == []


@posix_only("the test's open handle blocks deletion on Windows")
def test_a_crash_between_rename_and_overwrite_is_finished_with_an_overwrite(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    identity = _identity(path)
    leftover = wipe_name(path, "tok")
    os.rename(path, leftover)
    with open(leftover, "rb") as held:
        assert finish_wipe(path, "tok", identity) is True
        assert held.read() != PHOTO
    assert list(tmp_path.iterdir()) == []


# ---- finding 3: files in use -----------------------------------------------------------------


def _flaky(real, failures: int):
    calls = {"n": 0}

    def fn(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise SharingViolation(str(args[0]))
        return real(*args, **kwargs)

    return fn, calls


def test_wipe_waits_out_a_scanner_holding_the_file(tmp_path, monkeypatch):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    replace, calls = _flaky(os.replace, 2)
    unlink, _ = _flaky(os.unlink, 2)
    patch_os(monkeypatch, wipe, winfs, replace=replace, unlink=unlink)
    secure_wipe(path, "tok", identity=_identity(path))
    assert calls["n"] == 3
    assert list(tmp_path.iterdir()) == []


def test_a_file_held_for_good_is_reported_in_use_and_left_intact(tmp_path, monkeypatch):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    replace, _ = _flaky(os.replace, 1000)
    patch_os(monkeypatch, wipe, winfs, replace=replace)
    with pytest.raises(WipeError) as err:
        secure_wipe(path, "tok", identity=_identity(path))
    assert "open in another program" in str(err.value)
    assert "read-only" not in str(err.value)
    assert path.read_bytes() == PHOTO


def test_blob_write_and_shred_survive_a_scanner(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)
    store.create_dirs()
    replace, calls = _flaky(os.replace, 2)
    patch_os(monkeypatch, blobs, winfs, replace=replace)
    store.write("ab" + "0" * 30, [b"ciphertext"])
    assert calls["n"] == 3
    blob = store.path("ab" + "0" * 30)
    assert blob.read_bytes() == b"ciphertext"
    real_unlink = os.unlink

    def held(p, *a, **kw):
        if os.fspath(p) == os.fspath(blob):
            raise SharingViolation(str(p))
        return real_unlink(p, *a, **kw)

    patch_os(monkeypatch, blobs, winfs, unlink=held)
    monkeypatch.setattr(type(blob), "unlink", lambda self, *a, **k: held(self))  # old code path
    store.shred("ab" + "0" * 30)  # the key is gone already: no error, removal deferred
    assert os.fspath(blob) in winfs.deferred()
    assert blob.read_bytes() == bytes(len(b"ciphertext"))
    patch_os(monkeypatch, winfs)
    assert winfs.retry_deferred() == 0
    assert not blob.exists()


def test_write_atomically_waits_out_a_scanner(tmp_path, monkeypatch):
    replace, calls = _flaky(os.replace, 2)
    patch_os(monkeypatch, atomic, winfs, replace=replace)
    atomic.write_atomically(tmp_path / "report.pdf", b"%PDF")
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF"
    assert calls["n"] == 3


# ---- finding 7: junctions --------------------------------------------------------------------


def test_a_junction_is_not_followed(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.jpg").write_bytes(PHOTO)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "own.jpg").write_bytes(PHOTO)
    junction = drop / "linked folder"
    junction.mkdir()  # on Windows: mklink /J; here a folder that lstat reports as a junction
    (junction / "through junction.jpg").write_bytes(PHOTO)
    real_lstat = os.lstat

    def lstat(p, **kw):
        st = real_lstat(p, **kw)
        return ReparseStat(st) if os.fspath(p) == os.fspath(junction) else st

    patch_os(monkeypatch, files, lstat=lstat, scandir=windows_scandir(os.scandir))
    scan = scan_folder(drop)
    assert [c.path.name for c in scan.candidates] == ["own.jpg"]
    assert [(Path(r.display).name, "symbolic link" in r.reason) for r in scan.refusals] == [
        ("linked folder", True)
    ]
    named = scan_paths([junction])
    assert named.candidates == [] and "symbolic link" in named.refusals[0].reason


# ---- long paths ------------------------------------------------------------------------------


def test_long_paths_get_the_extended_prefix_on_windows(monkeypatch):
    monkeypatch.setattr(winfs, "is_windows", lambda: True)
    deep = "C:\\Drop\\" + "\\".join(["a very long folder name"] * 12) + "\\photo.jpg"
    assert winfs.long_path(deep) == "\\\\?\\" + deep
    unc = "\\\\server\\share\\" + "x" * 300
    assert winfs.long_path(unc) == "\\\\?\\UNC\\server\\share\\" + "x" * 300
    assert winfs.long_path("C:\\short.jpg") == "C:\\short.jpg"
    monkeypatch.setattr(winfs, "is_windows", lambda: False)
    assert winfs.long_path("/" + "a" * 300) == "/" + "a" * 300
