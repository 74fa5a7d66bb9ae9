"""The import pipeline's stages overlap (issue 17) without giving up its crash-safety order.

Each test gates a real stage (the real scrub, the real wipe) on an event the *next* photo's
stage sets: a pipeline that runs the stages one after the other never sets it and the gate
times out. No timing is asserted.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading

import pytest

from picsafe_desktop.importer import files as import_files
from picsafe_desktop.importer import pipeline
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.files import scan_paths
from picsafe_desktop.importer.journal import REMOVING, Journal
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]
ACTOR = "test:nurse"
GATE = 15  # seconds a gated stage waits for the next photo's stage before giving up


def _drop(tmp_path, count: int, tag: str) -> tuple[list, dict]:
    drop = tmp_path / "drop"
    drop.mkdir()
    originals = {}
    for i in range(count):
        src = small_jpegs()[i % len(small_jpegs())]
        path = drop / f"IMG_{i:02}.jpg"
        path.write_bytes(unique_jpeg(src.read_bytes(), f"{tag}{i}"))
        originals[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    cands = sorted(scan_paths([drop]).candidates, key=lambda c: c.path.name)
    return cands, originals


def test_a_source_wipe_runs_beside_the_next_photos_store_once_journaled(
    tmp_path, keyring_service, monkeypatch
):
    cands, originals = _drop(tmp_path, 3, "ov")
    vault = make_vault(tmp_path / "vault", keyring_service)
    real_wipe, real_put = import_files.secure_wipe, vault.put
    second_stored = threading.Event()
    wipes: list[dict] = []
    puts = 0

    def put(*args, **kwargs):
        nonlocal puts
        item_id = real_put(*args, **kwargs)
        puts += 1
        if puts == 2:
            second_stored.set()
        return item_id

    def wipe(path, token, **kwargs):
        # What a crash at this instant would find: the entry naming this wipe's token.
        journaled = {e.token for e in Journal(vault).pending() if e.step == REMOVING}
        seen = {"thread": threading.current_thread(), "journaled": token in journaled}
        if not wipes:  # the first photo's wipe waits until the second photo is stored
            seen["overlapped"] = second_stored.wait(GATE)
        wipes.append(seen)
        real_wipe(path, token, **kwargs)

    monkeypatch.setattr(vault, "put", put)
    monkeypatch.setattr(import_files, "secure_wipe", wipe)
    try:
        result = Importer(vault, actor=ACTOR).run(cands, source_label="Drop folder")
        assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 3
        assert all(r.source_removed for r in result.results)
        assert wipes[0]["overlapped"], "photo 2 was not stored while photo 1's source was wiped"
        assert all(w["journaled"] for w in wipes), "a wipe started before it was journaled"
        assert all(w["thread"] is not threading.current_thread() for w in wipes)
        assert not any(path.exists() for path in originals)
        assert Journal(vault).pending() == []
        assert len(vault.list_items()) == 3
    finally:
        vault.close()


def test_two_photos_scrub_at_once(tmp_path, keyring_service, monkeypatch):
    cands, _ = _drop(tmp_path, 3, "sc")
    real_scrub = pipeline.scrub_source
    second_started = threading.Event()
    calls: list[bool] = []
    lock = threading.Lock()

    def scrub(data):
        with lock:
            first = not calls
            calls.append(True)
        if first:
            calls[0] = second_started.wait(GATE)
        else:
            second_started.set()
        return real_scrub(data)

    monkeypatch.setattr(pipeline, "scrub_source", scrub)
    vault = make_vault(tmp_path / "vault", keyring_service)
    try:
        result = Importer(vault, actor=ACTOR).run(cands, source_label="Drop folder")
        assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 3
        assert calls[0], "the second photo's scrub did not start while the first one ran"
    finally:
        vault.close()


def _freeze(vault_dir, flag: str) -> None:
    """The index and its WAL made immutable (stops root too; see test_import_hostile_cli)."""
    paths = [p for p in vault_dir.glob("index.sqlite3*") if not p.name.endswith("-shm")]
    subprocess.run(["chattr", flag, *map(str, paths)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CAP_LINUX_IMMUTABLE)")
def test_a_vault_fault_while_a_wipe_runs_reports_each_photo_as_it_is(
    tmp_path, keyring_service, monkeypatch
):
    """The fault comes while photo 1's source is wiped on the wipe thread: photo 1 is in the
    vault and its source gone (its journal entry could not be cleared: the next start does);
    no later photo is reported stored unless it is, and no source is lost."""
    cands, originals = _drop(tmp_path, 4, "vf")
    vault_dir = tmp_path / "vault"
    vault = make_vault(vault_dir, keyring_service)
    real_wipe, real_put = import_files.secure_wipe, vault.put
    frozen = threading.Event()

    def wipe(path, token, **kwargs):
        if not frozen.is_set():
            _freeze(vault_dir, "+i")
            frozen.set()
        real_wipe(path, token, **kwargs)

    puts = []

    def put(*args, **kwargs):
        puts.append(True)
        if len(puts) > 1:  # the second photo is stored only once the fault has come
            assert frozen.wait(GATE)
        return real_put(*args, **kwargs)

    monkeypatch.setattr(import_files, "secure_wipe", wipe)
    monkeypatch.setattr(vault, "put", put)
    try:
        result = Importer(vault, actor=ACTOR).run(cands, source_label="Drop folder")
    finally:
        _freeze(vault_dir, "-i")
        vault.close()
    first = result.results[0]
    assert first.outcome == Outcome.IMPORTED and first.source_removed, first
    assert result.vault_fault
    assert [r.outcome for r in result.results[1:]] == [Outcome.FAILED] * 3
    with Vault.open(vault_dir, keyring_service) as vault:
        for cand, r in zip(cands, result.results, strict=True):
            stored = vault.find_original(originals[cand.path])
            if r.outcome == Outcome.IMPORTED:
                assert stored == r.item_id
            if cand.path.exists():  # left in place, unchanged
                assert not r.source_removed
                assert hashlib.sha256(cand.path.read_bytes()).hexdigest() == originals[cand.path]
            else:
                assert stored, f"{cand.path.name} was wiped but is not in the vault"
        report = Importer(vault, actor=ACTOR).resume()
        assert report.completed >= 1  # photo 1's REMOVING entry, finished at start-up
        assert Journal(vault).pending() == []


def test_each_photo_costs_two_index_commits(tmp_path, keyring_service):
    """Each commit is an fsync (synchronous=FULL): the journal's STORING entry commits with the
    item's row and a finished photo's entry is cleared with the next one's - two commits per
    photo (the row, then REMOVING before the wipe) where there were four."""
    cands, originals = _drop(tmp_path, 6, "cm")
    vault = make_vault(tmp_path / "vault", keyring_service)
    commits = []
    vault._db().set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    try:
        result = Importer(vault, actor=ACTOR).run(cands, source_label="Drop folder")
        assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 6
        # + the batch row, the batch's audit row and the last photo's clear
        assert len(commits) <= 2 * 6 + 3, len(commits)
        assert Journal(vault).pending() == []
        assert not any(path.exists() for path in originals)
    finally:
        vault.close()
