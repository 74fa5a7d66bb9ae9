"""Drop-folder debounce: a file is offered once, only after it stopped changing."""

from __future__ import annotations

import os

from picsafe_desktop.importer.dropfolder import Settler
from tests.platform_marks import posix_only

STABLE = 2.0


def _names(cands) -> list[str]:
    return sorted(c.path.name for c in cands)


def test_file_is_offered_once_after_the_stable_interval(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"photo")
    settler = Settler(tmp_path, STABLE)
    assert settler.observe(100.0) == ([], [])
    assert settler.observe(101.9)[0] == []
    ready, _ = settler.observe(102.0)
    assert _names(ready) == ["a.jpg"]
    assert settler.observe(110.0)[0] == []
    assert not settler.pending


def test_growing_file_restarts_the_interval(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"part")
    settler = Settler(tmp_path, STABLE)
    settler.observe(0.0)
    with open(path, "ab") as f:
        f.write(b"more")
    assert settler.observe(1.9)[0] == []  # changed: the clock starts again
    assert settler.observe(3.8)[0] == []
    assert _names(settler.observe(3.9)[0]) == ["a.jpg"]


def test_batch_waits_for_files_still_being_copied(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"done")
    settler = Settler(tmp_path, STABLE, max_wait_factor=10)
    settler.observe(0.0)
    (tmp_path / "b.jpg").write_bytes(b"starting")
    settler.observe(1.0)
    assert settler.observe(2.5)[0] == []  # a.jpg complete, b.jpg not yet: hold the batch
    assert _names(settler.observe(3.0)[0]) == ["a.jpg", "b.jpg"]


def test_a_file_that_never_settles_does_not_hold_the_rest_forever(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"done")
    busy = tmp_path / "b.jpg"
    busy.write_bytes(b"x")
    settler = Settler(tmp_path, STABLE, max_wait_factor=3)
    settler.observe(0.0)
    now = 0.0
    ready: list = []
    while not ready:
        now += 1.0
        with open(busy, "ab") as f:
            f.write(b"x")
        ready, _ = settler.observe(now)
    assert _names(ready) == ["a.jpg"]
    assert now == STABLE + STABLE * 3


@posix_only("os.mkfifo")
def test_refusals_are_reported_once_and_again_for_a_new_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    settler = Settler(tmp_path, STABLE)
    _, refusals = settler.observe(0.0)
    assert [r.reason for r in refusals] == ["is a named pipe (FIFO), not a photo file; left alone"]
    assert settler.observe(1.0)[1] == []
    (tmp_path / "pipe.jpg").unlink()
    settler.observe(2.0)
    os.mkfifo(tmp_path / "pipe.jpg")
    assert len(settler.observe(3.0)[1]) == 1


def test_a_replaced_file_is_offered_again(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"first")
    settler = Settler(tmp_path, STABLE)
    settler.observe(0.0)
    assert _names(settler.observe(2.0)[0]) == ["a.jpg"]
    path.unlink()  # imported and wiped
    settler.observe(3.0)
    path.write_bytes(b"second photo, same name")
    settler.observe(4.0)
    assert _names(settler.observe(6.0)[0]) == ["a.jpg"]


def test_forget_offers_a_file_again(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    settler = Settler(tmp_path, STABLE)
    settler.observe(0.0)
    settler.observe(2.0)
    settler.forget(tmp_path / "a.jpg")
    settler.observe(3.0)
    assert _names(settler.observe(5.0)[0]) == ["a.jpg"]


def test_subfolder_emptied_by_an_import_is_removed_on_the_next_scan(tmp_path):
    sub = tmp_path / "Smith John"
    sub.mkdir()
    (sub / "a.jpg").write_bytes(b"x")
    (tmp_path / "empty by choice").mkdir()
    settler = Settler(tmp_path, STABLE)
    settler.observe(0.0)
    assert _names(settler.observe(2.0)[0]) == ["a.jpg"]
    (sub / "a.jpg").unlink()  # imported and wiped by a consumer on another thread
    settler.observe(3.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty by choice"]


def test_a_photo_the_vault_could_not_take_is_offered_again_later(tmp_path):
    """The real window with the vault's drive full (bench/walk_faults.py): the photo was left
    in the drop folder "free space, then try again" - and never offered again, so it lay there
    in the clear until someone noticed. Held for the retry interval, it does not hold back
    files that arrive meanwhile, nor keep the watcher busy."""
    (tmp_path / "a.jpg").write_bytes(b"x")
    settler = Settler(tmp_path, STABLE)
    settler.observe(0.0)
    assert _names(settler.observe(2.0)[0]) == ["a.jpg"]
    settler.retry_later([tmp_path / "a.jpg"], now=3.0, delay=60.0)
    assert not settler.pending, "a held file does not keep the watcher polling"
    (tmp_path / "b.jpg").write_bytes(b"y")
    settler.observe(4.0)
    assert _names(settler.observe(6.0)[0]) == ["b.jpg"], "new files are not held back"
    assert settler.observe(62.0)[0] == []
    assert _names(settler.observe(63.0)[0]) == ["a.jpg"]
    assert settler.observe(200.0)[0] == [], "offered once per retry"
