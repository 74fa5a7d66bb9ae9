"""Hostile folder trees in a source (issue 13, finding 8): bounded depth, a named refusal, and
a drop-folder watcher that keeps importing the good photo lying beside the bad tree."""

from __future__ import annotations

import threading
import time

import pytest

from picsafe_desktop.importer import files
from picsafe_desktop.importer.dropfolder import DropFolderWatcher
from picsafe_desktop.importer.files import scan_folder, scan_paths
from tests.platform_marks import posix_only


@posix_only("builds the tree with os.open of folders and dir_fd")
def test_a_1100_level_tree_is_refused_by_name_and_the_photo_beside_it_is_found(tmp_path, deep_tree):
    top = deep_tree(tmp_path)
    (tmp_path / "good.jpg").write_bytes(b"photo")
    scan = scan_folder(tmp_path)
    assert [c.path.name for c in scan.candidates] == ["good.jpg"]
    (refusal,) = scan.refusals
    assert refusal.display.startswith(str(top))
    assert f"more than {files.MAX_DEPTH} folders deep" in refusal.reason
    assert "move the photos to a shallower folder" in refusal.reason


@posix_only("builds the tree with os.open of folders and dir_fd")
def test_named_deep_folder_on_the_command_line_is_refused_not_a_crash(tmp_path, deep_tree):
    top = deep_tree(tmp_path)
    (top / "IMG_1.jpg").write_bytes(b"photo")
    scan = scan_paths([top])
    assert [c.path.name for c in scan.candidates] == ["IMG_1.jpg"]
    assert len(scan.refusals) == 1


def test_photos_at_the_depth_limit_are_still_found(tmp_path):
    inner = tmp_path
    for i in range(files.MAX_DEPTH - 1):
        inner = inner / f"f{i}"
    inner.mkdir(parents=True)
    (inner / "deep.jpg").write_bytes(b"photo")
    scan = scan_folder(tmp_path)
    assert [c.path.name for c in scan.candidates] == ["deep.jpg"] and scan.refusals == []


# watchdog's own thread dies on the tree (an uncaught RecursionError, open scandir iterators,
# a RuntimeWarning): that is the fault under test, not a failure of this test.
@posix_only("builds the tree with os.open of folders and dir_fd")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_watcher_survives_a_deep_tree_and_imports_the_good_photo_dropped_after(tmp_path, deep_tree):
    """watchdog's own thread dies on the tree (its recursive os.walk overflows); the watcher
    notices the missed change, says so, and keeps importing by polling."""
    batches: list = []
    refusals: list = []
    got = threading.Event()

    def on_batch(folder, cands):
        batches.append([c.path.name for c in cands])
        got.set()

    watcher = DropFolderWatcher(
        [tmp_path],
        stable_seconds=0.3,
        rescan_seconds=1.0,
        on_batch=on_batch,
        on_refusals=lambda folder, found: refusals.extend(found),
    )
    watcher.start()
    try:
        time.sleep(0.3)
        deep_tree(tmp_path)
        time.sleep(1.5)
        (tmp_path / "good.jpg").write_bytes(b"photo")
        assert got.wait(20), f"the good photo was never offered; refusals: {refusals}"
        assert watcher._thread.is_alive()
    finally:
        watcher.stop()
    assert batches == [["good.jpg"]]
    reasons = " | ".join(r.reason for r in refusals)
    assert "folders deep" in reasons


def test_watcher_reports_a_failing_scan_and_keeps_running(tmp_path, monkeypatch):
    from picsafe_desktop.importer import dropfolder

    calls = {"n": 0}
    real = dropfolder.scan_folder

    def flaky(root, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real(root, **kw)

    monkeypatch.setattr(dropfolder, "scan_folder", flaky)
    got = threading.Event()
    refusals: list = []
    (tmp_path / "good.jpg").write_bytes(b"photo")
    watcher = DropFolderWatcher(
        [tmp_path],
        stable_seconds=0.2,
        rescan_seconds=0.5,
        on_batch=lambda f, c: got.set(),
        on_refusals=lambda f, found: refusals.extend(found),
    )
    watcher.start()
    try:
        assert got.wait(10)
    finally:
        watcher.stop()
    assert any("could not be searched (RecursionError" in r.reason for r in refusals)


@posix_only("builds the tree with os.open of folders and dir_fd")
def test_a_deep_tree_is_removed_without_recursing(tmp_path):
    """pytest's recursive clean-up of an old temp folder holding such a tree killed a later
    run at its very end (RecursionError); the fixture removes every tree it builds."""
    import shutil

    from tests import deep_trees

    top = deep_trees.build(tmp_path)
    (top / "IMG_1.jpg").write_bytes(b"photo")
    with pytest.raises(RecursionError):
        shutil.rmtree(top)
    deep_trees.remove(top)
    assert not top.exists() and list(tmp_path.iterdir()) == []
