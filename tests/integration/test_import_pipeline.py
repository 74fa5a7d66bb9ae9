"""The import pipeline end to end: corpus photos -> scrub -> real vault -> verify -> wipe."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading

import pytest

from picsafe_desktop.deid import scrub
from picsafe_desktop.importer import journal
from picsafe_desktop.importer.events import BatchFinished, BatchStarted, FileDone, Outcome
from picsafe_desktop.importer.files import scan_paths
from picsafe_desktop.importer.pipeline import Importer, import_paths
from picsafe_desktop.importer.source import Candidate, SourceError
from picsafe_desktop.importer.wipe import wipe_name
from picsafe_desktop.model import ItemState
from tests.importer_support import make_vault, read_only_folder, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]
ACTOR = "test:nurse"


@pytest.fixture
def vault(tmp_path, keyring_service):
    v = make_vault(tmp_path / "vault", keyring_service)
    yield v
    v.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _drop(tmp_path, count=3, tag="a"):
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    originals = {}
    for i, src in enumerate(small_jpegs()[:count]):
        data = unique_jpeg(src.read_bytes(), f"{tag}{i}")
        path = drop / f"patient smith {tag}{i}.jpg"
        path.write_bytes(data)
        originals[path] = data
    return drop, originals


def _content(vault, item_id: str) -> bytes:
    return b"".join(vault.open_stream(item_id))


def test_photos_are_stored_scrubbed_verified_and_sources_wiped(tmp_path, vault):
    drop, originals = _drop(tmp_path)
    events = []
    result = import_paths(vault, [drop], actor=ACTOR, progress=events.append)
    assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 3
    assert all(r.source_removed and not r.source_note for r in result.results)
    assert list(drop.iterdir()) == []
    items = vault.list_items(batch_id=result.batch_id)
    assert {i.state for i in items} == {ItemState.AWAITING_CONSENT}
    assert len(items) == 3
    for data in originals.values():
        item_id = vault.find_original(_sha(data))
        assert item_id is not None
        assert _content(vault, item_id) == scrub(data).data
        meta = vault.read_metadata(item_id)
        assert "smith" not in repr(meta).lower()
        assert meta["clean_sha256"] == _sha(scrub(data).data)
        assert vault.read_thumbnail(item_id)[:2] == b"\xff\xd8"
    assert vault.journal_entries() == []
    assert isinstance(events[0], BatchStarted) and events[0].total == 3
    done = [e for e in events if isinstance(e, FileDone)]
    assert [e.done for e in done] == [1, 2, 3]
    assert done[-1].done_bytes == done[-1].total_bytes == sum(map(len, originals.values()))
    assert isinstance(events[-1], BatchFinished)


def test_same_original_twice_is_reported_not_stored_twice(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=1)
    data = next(iter(originals.values()))
    first = import_paths(vault, [drop], actor=ACTOR)
    again = drop / "copy of the same photo.jpg"
    again.write_bytes(data)
    second = import_paths(vault, [again], actor=ACTOR)
    assert second.results[0].outcome == Outcome.DUPLICATE
    assert second.results[0].item_id == first.results[0].item_id
    assert "already in the vault" in second.results[0].message
    assert second.batch_id is None  # nothing new: no empty batch waiting for consent
    assert len(vault.list_items()) == 1
    assert not again.exists()  # the vault holds a verified copy, so the source goes


def test_undecodable_photo_fails_and_stays_at_its_source(tmp_path, vault, corpus):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(corpus / "broken-truncated__truncated_jpeg.jpg", drop / "broken.jpg")
    (drop / "notes.jpg").write_text("not a photo at all")
    before = {p: p.read_bytes() for p in drop.iterdir()}
    result = import_paths(vault, [drop], actor=ACTOR)
    assert [r.outcome for r in result.results] == [Outcome.FAILED, Outcome.FAILED]
    assert all("left in place" in r.message for r in result.results)
    assert {p: p.read_bytes() for p in drop.iterdir()} == before
    assert vault.list_items() == [] and vault.batches() == []


def test_read_only_source_is_imported_and_reported_for_manual_removal(vault):
    data = unique_jpeg(small_jpegs()[0].read_bytes(), "ro")
    with read_only_folder({"card photo.jpg": data}) as card:
        result = import_paths(vault, [card], actor=ACTOR)
        (r,) = result.results
        assert r.outcome == Outcome.IMPORTED and not r.source_removed
        assert "delete it by hand" in r.source_note
        assert result.manual_removals == [r] and not result.ok
        assert (card / "card photo.jpg").read_bytes() == data
    assert vault.find_original(_sha(data)) == r.item_id


def test_links_fifos_and_vanishing_files_lose_nothing(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=2)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(unique_jpeg(small_jpegs()[2].read_bytes(), "outside"))
    (drop / "link.jpg").symlink_to(outside)
    os.mkfifo(drop / "pipe.jpg")
    scan = scan_paths([drop])
    vanishing, staying = sorted(scan.candidates, key=lambda c: c.path.name)
    vanishing.path.unlink()  # deleted by the user between detection and import
    result = Importer(vault, actor=ACTOR).run(
        scan.candidates, source_label="Drop folder", refusals=scan.refusals
    )
    by_name = {os.path.basename(r.display): r for r in result.results}
    assert by_name["link.jpg"].outcome == Outcome.REFUSED
    assert by_name["pipe.jpg"].outcome == Outcome.REFUSED
    assert by_name[vanishing.path.name].outcome == Outcome.FAILED
    assert "disappeared" in by_name[vanishing.path.name].message
    assert by_name[staying.path.name].outcome == Outcome.IMPORTED
    assert outside.read_bytes()[:2] == b"\xff\xd8" and (drop / "link.jpg").is_symlink()
    assert (drop / "pipe.jpg").exists()
    assert len(vault.list_items()) == 1
    assert vault.find_original(_sha(originals[vanishing.path])) is None


# -- start-up recovery from each journaled step ---------------------------------------------


def _storing_entry(vault, cand, data, batch_id):
    entry = journal.Entry(
        journal.new_entry_id(),
        journal.STORING,
        batch_id,
        cand.locator(),
        _sha(data),
        _sha(scrub(data).data),
    )
    journal.Journal(vault).write(entry)
    return entry


def _put(vault, data, batch_id):
    from picsafe_desktop.deid import make_thumbnail

    clean = scrub(data)
    return vault.put(
        clean.data,
        batch_id=batch_id,
        media_type=clean.media_type,
        thumbnail=make_thumbnail(clean.data),
        metadata={},
        original_sha256=_sha(data),
        actor=ACTOR,
    )


def test_resume_rolls_back_a_photo_that_never_reached_the_vault(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=1)
    (cand,) = scan_paths([drop]).candidates
    batch = vault.create_batch("Drop folder", ACTOR)
    _storing_entry(vault, cand, originals[cand.path], batch)
    report = Importer(vault, actor=ACTOR).resume()
    assert (report.rolled_back, report.completed) == (1, 0)
    assert cand.path.read_bytes() == originals[cand.path]
    assert vault.journal_entries() == []


def test_resume_finishes_a_stored_photo_by_wiping_its_source(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=1)
    (cand,) = scan_paths([drop]).candidates
    data = originals[cand.path]
    batch = vault.create_batch("Drop folder", ACTOR)
    _storing_entry(vault, cand, data, batch)
    item_id = _put(vault, data, batch)  # killed after put committed, before the journal moved on
    report = Importer(vault, actor=ACTOR).resume()
    assert (report.rolled_back, report.completed) == (0, 1)
    assert list(drop.iterdir()) == []
    assert vault.find_original(_sha(data)) == item_id
    assert vault.journal_entries() == []


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes only on POSIX")
def test_file_name_that_is_not_utf8_is_imported_and_wiped(tmp_path, vault):
    """A card written on a Latin-1 system ("Jos\\xe9 ulcer.jpg"): the journal payload holding
    the path could not be encoded, and the whole batch stopped with a traceback."""
    drop = tmp_path / "drop"
    drop.mkdir()
    data = unique_jpeg(small_jpegs()[0].read_bytes(), "latin1")
    name = drop / os.fsdecode(b"Jos\xe9 ulcer.jpg")
    name.write_bytes(data)
    result = import_paths(vault, [drop], actor=ACTOR)
    assert [r.outcome for r in result.results] == [Outcome.IMPORTED], result.results
    assert list(drop.iterdir()) == []
    assert vault.find_original(_sha(data)) == result.item_ids[0]


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes only on POSIX")
def test_resume_wipes_a_source_whose_name_is_not_utf8(tmp_path, vault):
    drop = tmp_path / "drop"
    drop.mkdir()
    data = unique_jpeg(small_jpegs()[1].read_bytes(), "latin1-resume")
    (drop / os.fsdecode(b"M\xfcller.jpg")).write_bytes(data)
    (cand,) = scan_paths([drop]).candidates
    batch = vault.create_batch("Drop folder", ACTOR)
    _storing_entry(vault, cand, data, batch)
    _put(vault, data, batch)  # killed after put committed, before the journal moved on
    report = Importer(vault, actor=ACTOR).resume()
    assert (report.rolled_back, report.completed, report.notes) == (0, 1, ())
    assert list(drop.iterdir()) == []


def test_resume_leaves_a_source_that_changed_after_it_was_read(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=1)
    (cand,) = scan_paths([drop]).candidates
    data = originals[cand.path]
    batch = vault.create_batch("Drop folder", ACTOR)
    _storing_entry(vault, cand, data, batch)
    _put(vault, data, batch)
    with open(cand.path, "ab") as f:
        f.write(b"edited later")
    report = Importer(vault, actor=ACTOR).resume()
    assert report.completed == 1 and "changed after it was imported" in report.notes[0]
    assert cand.path.read_bytes() == data + b"edited later"


@pytest.mark.parametrize("stage", ["half-overwritten", "renamed"])
def test_resume_finishes_an_interrupted_wipe(tmp_path, vault, stage):
    drop, originals = _drop(tmp_path, count=1)
    (cand,) = scan_paths([drop]).candidates
    data = originals[cand.path]
    batch = vault.create_batch("Drop folder", ACTOR)
    entry = _storing_entry(vault, cand, data, batch)
    item_id = _put(vault, data, batch)
    token = journal.new_token()
    journal.Journal(vault).write(
        journal.Entry(
            **{**entry.__dict__, "step": journal.REMOVING, "item_id": item_id, "token": token}
        )  # fmt: skip
    )
    with open(cand.path, "r+b") as f:
        f.write(os.urandom(len(data) // 3))
    if stage == "renamed":
        os.rename(cand.path, wipe_name(cand.path, token))
    report = Importer(vault, actor=ACTOR).resume()
    assert report.completed == 1 and report.notes == ()
    assert list(drop.iterdir()) == []
    assert vault.journal_entries() == []


# -- batch control ---------------------------------------------------------------------------


class _UnpluggedDevice(Candidate):
    """A device photo whose read fails the way an unplugged phone does."""

    kind = "gphoto2"
    display = "Phone:/DCIM/IMG_0001.JPG"
    size = 1000
    removable = False

    def read(self) -> bytes:
        err = SourceError("Phone: the device is not connected (any more).")
        err.stops_batch = True
        raise err

    def remove(self, token: str) -> None:
        raise AssertionError("never read, so never removed")

    def locator(self) -> dict:
        return {"kind": self.kind}


def test_a_device_wide_failure_stops_the_rest_of_the_batch(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=2)
    first, second = scan_paths([drop]).candidates
    result = Importer(vault, actor=ACTOR).run(
        [first, _UnpluggedDevice(), second], source_label="Mixed"
    )
    assert [r.outcome for r in result.results] == [Outcome.IMPORTED, Outcome.FAILED, Outcome.FAILED]
    assert "not connected" in result.results[1].message
    assert result.results[2].message.startswith("not imported: Phone: the device is not connected")
    assert second.path.read_bytes() == originals[second.path]


def test_cancel_leaves_the_remaining_photos_at_their_source(tmp_path, vault):
    # Six photos: two are read and scrubbing ahead of the one being stored, and a photo is
    # reported done once its source wipe (on the wipe thread) has finished.
    drop, originals = _drop(tmp_path, count=6)
    cands = sorted(scan_paths([drop]).candidates, key=lambda c: c.path.name)
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, FileDone) and event.done == 1:
            cancel.set()  # the user presses Cancel after the first photo

    result = Importer(vault, actor=ACTOR).run(
        cands, source_label="Drop folder", on_event=on_event, cancel=cancel
    )
    outcomes = [r.outcome for r in result.results]
    # The photos already read when Cancel came are finished; nothing after them is touched.
    assert outcomes[0] == Outcome.IMPORTED and outcomes[-1] == Outcome.FAILED
    assert "cancelled" in result.results[-1].message
    for cand, r in zip(cands, result.results, strict=True):
        if r.outcome == Outcome.FAILED:
            assert cand.path.read_bytes() == originals[cand.path]
        else:
            assert not cand.path.exists()
    assert len(vault.list_items()) == outcomes.count(Outcome.IMPORTED)


def test_the_same_photo_twice_in_one_batch_is_stored_once(tmp_path, vault):
    drop, originals = _drop(tmp_path, count=1)
    data = next(iter(originals.values()))
    (drop / "second copy.jpg").write_bytes(data)
    result = import_paths(vault, [drop], actor=ACTOR)
    assert sorted(r.outcome for r in result.results) == [Outcome.DUPLICATE, Outcome.IMPORTED]
    assert len(vault.list_items()) == 1
    assert list(drop.iterdir()) == []
