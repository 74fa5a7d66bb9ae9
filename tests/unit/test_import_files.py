"""File sources: what is taken, what is refused, and reads that notice changes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from picsafe_desktop.importer.files import (
    FileCandidate,
    fingerprint,
    prune_empty_dirs,
    scan_folder,
    scan_paths,
)
from picsafe_desktop.importer.source import SourceError, is_partial_name
from tests.importer_support import open_folder, run_unprivileged
from tests.platform_marks import posix_only

PHOTO = b"\xff\xd8\xff\xe0fake jpeg body\xff\xd9"


def _reasons(scan) -> dict[str, str]:
    return {Path(r.display).name: r.reason for r in scan.refusals}


def test_scan_takes_photos_recursively_and_ignores_partials(tmp_path):
    (tmp_path / "a.jpg").write_bytes(PHOTO)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.HEIC").write_bytes(PHOTO)
    for name in (".hidden.jpg", "c.jpg.part", "d.jpg.crdownload", "~$e.jpg"):
        (tmp_path / name).write_bytes(PHOTO)
    (tmp_path / ".thumbnails").mkdir()
    (tmp_path / ".thumbnails" / "t.jpg").write_bytes(PHOTO)
    scan = scan_folder(tmp_path)
    assert sorted(c.path.name for c in scan.candidates) == ["a.jpg", "b.HEIC"]
    assert scan.refusals == []


@posix_only("symbolic links and os.mkfifo")
def test_scan_refuses_links_fifos_and_other_types(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "real.jpg").write_bytes(PHOTO)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "link.jpg").symlink_to(outside / "real.jpg")
    (drop / "linkdir").symlink_to(outside)
    os.mkfifo(drop / "pipe.jpg")
    (drop / "notes.txt").write_text("x")
    scan = scan_folder(drop)
    assert scan.candidates == []
    reasons = _reasons(scan)
    assert "symbolic link" in reasons["link.jpg"]
    assert "symbolic link" in reasons["linkdir"]
    assert "FIFO" in reasons["pipe.jpg"]
    assert "not a photo type" in reasons["notes.txt"]
    assert (outside / "real.jpg").read_bytes() == PHOTO


@posix_only("device nodes (os.mknod)")
def test_scan_refuses_device_files(tmp_path):
    try:
        os.mknod(tmp_path / "dev.jpg", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root (CAP_MKNOD)")
    scan = scan_folder(tmp_path)
    assert scan.candidates == []
    assert "device file" in _reasons(scan)["dev.jpg"]


def test_hard_link_to_outside_is_refused_inside_links_are_one_photo(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (tmp_path / "elsewhere.jpg").write_bytes(PHOTO)
    os.link(tmp_path / "elsewhere.jpg", drop / "linked.jpg")
    (drop / "one.jpg").write_bytes(PHOTO)
    os.link(drop / "one.jpg", drop / "two.jpg")
    scan = scan_folder(drop)
    assert "hard-linked to a file outside" in _reasons(scan)["linked.jpg"]
    assert len(scan.candidates) == 1
    cand = scan.candidates[0]
    assert {cand.path.name, *(p.name for p in cand.other_links)} == {"one.jpg", "two.jpg"}


def test_scan_paths_takes_files_and_folders_once(tmp_path):
    (tmp_path / "a.jpg").write_bytes(PHOTO)
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "b.png").write_bytes(PHOTO)
    scan = scan_paths([tmp_path / "a.jpg", tmp_path / "f", tmp_path / "a.jpg", tmp_path / "no.jpg"])
    assert sorted(c.path.name for c in scan.candidates) == ["a.jpg", "b.png"]
    assert "does not exist" in _reasons(scan)["no.jpg"]


def test_named_file_with_another_hard_link_is_refused(tmp_path):
    (tmp_path / "a.jpg").write_bytes(PHOTO)
    os.link(tmp_path / "a.jpg", tmp_path / "b.jpg")
    scan = scan_paths([tmp_path / "a.jpg"])
    assert scan.candidates == []
    assert "hard links" in _reasons(scan)["a.jpg"]


def test_read_returns_the_bytes_and_notices_changes(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    cand = scan_paths([path]).candidates[0]
    assert cand.read() == PHOTO
    with open(path, "ab") as f:
        f.write(b"more")
    with pytest.raises(SourceError, match="changed while importing"):
        cand.read()


def test_read_of_a_vanished_file_says_nothing_was_stored(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    cand = scan_paths([path]).candidates[0]
    path.unlink()
    with pytest.raises(SourceError, match="disappeared"):
        cand.read()


@posix_only("os.mkfifo")
def test_read_refuses_a_fifo_swapped_in_after_the_scan(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    cand = scan_paths([path]).candidates[0]
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block forever without O_NONBLOCK
    with pytest.raises(SourceError, match="not a regular file"):
        cand.read()


@posix_only("creating a symbolic link needs a privilege on Windows")
def test_read_refuses_a_symlink_swapped_in_after_the_scan(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    cand = scan_paths([path]).candidates[0]
    (tmp_path / "other.jpg").write_bytes(PHOTO)
    path.unlink()
    path.symlink_to(tmp_path / "other.jpg")
    with pytest.raises(SourceError, match="symbolic link"):
        cand.read()


@posix_only("chmod permission bits, os.fork and setuid")
def test_unreadable_file_gives_a_permission_message():
    with open_folder() as folder:
        path = folder / "a.jpg"
        path.write_bytes(PHOTO)
        path.chmod(0o000)
        cand = scan_paths([path]).candidates[0]
        out = run_unprivileged(cand.read)
        assert out.startswith("SourceError") and "permission denied" in out
        path.chmod(0o600)
        assert path.read_bytes() == PHOTO


def test_locator_round_trips_identity(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(PHOTO)
    cand = FileCandidate(path, fingerprint(os.lstat(path)))
    loc = cand.locator()
    assert loc["kind"] == "file" and loc["removal"] == "wipe"
    assert (loc["dev"], loc["ino"], loc["size"], loc["mtime_ns"]) == cand.stamp


@pytest.mark.parametrize(
    ("name", "partial"),
    [("a.jpg", False), (".a.jpg", True), ("a.jpg.part", True), ("~$a.jpg", True),
     ("A.JPG.CRDOWNLOAD", True), ("IMG_1.HEIC", False)],
)  # fmt: skip
def test_partial_names(name, partial):
    assert is_partial_name(name) is partial


def test_prune_removes_emptied_subfolders_but_keeps_the_root_and_other_content(tmp_path):
    deep = tmp_path / "Smith John" / "day 1"
    deep.mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    prune_empty_dirs([deep / "gone.jpg", other / "gone.jpg", tmp_path / "top.jpg"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other"]
    assert (other / "keep.txt").exists()
