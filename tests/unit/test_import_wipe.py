"""Secure wipe: overwrite, rename, unlink - and refuse cleanly when it cannot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from picsafe_desktop.importer.wipe import (
    WIPE_PREFIX,
    WipeError,
    finish_wipe,
    secure_wipe,
    wipe_name,
)
from tests.importer_support import read_only_folder
from tests.platform_marks import posix_only

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _replace_with(path: Path, data: bytes) -> None:
    """Put a different file under `path` (written while the old one exists: a new inode)."""
    new = path.with_name("new.tmp")
    new.write_bytes(data)
    os.replace(new, path)


@posix_only("a file held open cannot be renamed or deleted on Windows")
def test_wipe_overwrites_content_then_removes_every_name(tmp_path):
    path = tmp_path / "smith ulcer.jpg"
    path.write_bytes(PHOTO)
    # An open descriptor still sees the inode after unlink: it must show random bytes now.
    with open(path, "rb") as held:
        secure_wipe(path, "t0k3n", identity=_identity(path))
        held.seek(0)
        after = held.read()
    assert len(after) == len(PHOTO)
    assert after != PHOTO
    assert PHOTO[4:68] not in after
    assert list(tmp_path.iterdir()) == []


def test_wipe_removes_inside_hard_links_too(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    link = tmp_path / "sub" / "b.jpg"
    link.parent.mkdir()
    os.link(path, link)
    secure_wipe(path, "tok", identity=_identity(path), other_links=(link,))
    assert not path.exists() and not link.exists()
    assert list(link.parent.iterdir()) == []


def test_wipe_refuses_a_replaced_file(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    old_identity = _identity(path)
    _replace_with(path, b"someone else's photo")
    with pytest.raises(WipeError, match="replaced") as err:
        secure_wipe(path, "tok", identity=old_identity)
    assert not err.value.by_hand
    assert path.read_bytes() == b"someone else's photo"


@posix_only("creating a symbolic link needs a privilege on Windows")
def test_wipe_never_follows_a_symlink(tmp_path):
    target = tmp_path / "outside.jpg"
    target.write_bytes(PHOTO)
    link = tmp_path / "link.jpg"
    link.symlink_to(target)
    with pytest.raises(WipeError, match="symbolic link"):
        secure_wipe(link, "tok")
    assert target.read_bytes() == PHOTO
    assert link.is_symlink()


@posix_only("os.mkfifo")
def test_wipe_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(WipeError, match="not a regular file"):
        secure_wipe(fifo, "tok")
    assert fifo.exists()


@posix_only("a read-only folder from chmod bits or a tmpfs mount")
def test_read_only_source_is_reported_and_left_intact():
    with read_only_folder({"photo.jpg": PHOTO}) as folder:
        path = folder / "photo.jpg"
        with pytest.raises(WipeError, match="delete it by hand") as err:
            secure_wipe(path, "tok", identity=_identity(path))
        assert err.value.by_hand
        assert path.read_bytes() == PHOTO
        assert sorted(p.name for p in folder.iterdir()) == ["photo.jpg"]


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        secure_wipe(tmp_path / "gone.jpg", "tok")


def test_finish_wipe_unlinks_the_leftover_random_name(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    identity = _identity(path)
    leftover = wipe_name(path, "tok")
    os.rename(path, leftover)  # as if killed between rename and unlink
    assert leftover.name.startswith(WIPE_PREFIX)
    assert finish_wipe(path, "tok", identity) is True
    assert list(tmp_path.iterdir()) == []


def test_finish_wipe_completes_an_interrupted_overwrite(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    identity = _identity(path)
    with open(path, "r+b") as f:  # half overwritten when the process died
        f.write(os.urandom(len(PHOTO) // 2))
    assert finish_wipe(path, "tok", identity) is True
    assert list(tmp_path.iterdir()) == []


def test_finish_wipe_leaves_a_new_file_of_the_same_name(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    identity = _identity(path)
    _replace_with(path, b"new photo")
    assert finish_wipe(path, "tok", identity) is False
    assert path.read_bytes() == b"new photo"
