"""Live sources feeding the real pipeline: a watched drop folder and a phone that gets mounted."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from picsafe_desktop.deid import scrub
from picsafe_desktop.importer.dropfolder import DropFolderWatcher
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.importer.volumes import VolumePoller
from tests.importer_support import make_vault, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus, pytest.mark.slow]
STABLE = 1.5  # seconds; the writer pauses only 0.05 s between chunks, far below this
DEADLINE = 90  # generous: only guards against hanging, never measures speed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_slowly(path, data: bytes, chunks: int = 8) -> None:
    step = len(data) // chunks + 1
    with open(path, "wb") as f:
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            time.sleep(0.05)


def test_drop_folder_imports_each_slowly_written_file_once_complete(tmp_path, keyring_service):
    drop = tmp_path / "drop"
    drop.mkdir()
    photos = {
        f"photo {i}.jpg": unique_jpeg(src.read_bytes(), f"drop{i}")
        for i, src in enumerate(small_jpegs()[:4])
    }
    names = list(photos)
    (drop / names[0]).write_bytes(photos[names[0]])  # already there at start-up
    vault = make_vault(tmp_path / "vault", keyring_service)
    importer = Importer(vault, actor="test")
    offered: list[tuple[str, int]] = []
    results = []
    all_done = threading.Event()

    def on_batch(folder, candidates):
        offered.extend((c.path.name, c.size) for c in candidates)
        results.extend(importer.run(candidates, source_label="Drop folder").results)
        if len(results) >= len(photos):
            all_done.set()

    watcher = DropFolderWatcher([drop], stable_seconds=STABLE, on_batch=on_batch)
    watcher.start()
    try:
        _write_slowly(drop / names[1], photos[names[1]])
        sub = drop / "ward 7"  # staff drop whole folders too
        sub.mkdir()
        _write_slowly(sub / names[2], photos[names[2]])
        # A browser download: written under .part, renamed when finished.
        _write_slowly(drop / (names[3] + ".part"), photos[names[3]])
        (drop / (names[3] + ".part")).rename(drop / names[3])
        assert all_done.wait(DEADLINE), f"only {len(results)} of {len(photos)} imported"
    finally:
        watcher.stop()
    with vault:
        assert sorted(offered) == sorted((n, len(d)) for n, d in photos.items())  # complete only
        assert [r.outcome for r in results] == [Outcome.IMPORTED] * len(photos)
        assert len(vault.list_items()) == len(photos)
        for data in photos.values():
            item_id = vault.find_original(_sha(data))
            assert b"".join(vault.open_stream(item_id)) == scrub(data).data
    assert list(drop.iterdir()) == []  # the emptied "ward 7" folder went too


def test_a_phone_mounted_with_a_dcim_folder_is_offered_and_imported(tmp_path, keyring_service):
    media = tmp_path / "media" / "nurse"
    gvfs = tmp_path / "run" / "gvfs"
    media.mkdir(parents=True)
    gvfs.mkdir(parents=True)
    appeared = []
    poller = VolumePoller(on_appeared=appeared.append, roots=[media, gvfs])
    poller.poll()
    assert appeared == []
    # The phone is plugged in: the desktop mounts it over MTP with a DCIM folder...
    camera = gvfs / "mtp:host=Apple_iPhone_00008110" / "Internal Storage" / "DCIM" / "100APPLE"
    camera.mkdir(parents=True)
    photos = {}
    for i, src in enumerate(small_jpegs()[:2]):
        path = camera / f"IMG_{i:04d}.JPG"
        path.write_bytes(unique_jpeg(src.read_bytes(), f"phone{i}"))
        photos[path] = path.read_bytes()
    # ... and a camera card appears as a USB disk.
    card = media / "EOS_DIGITAL" / "DCIM" / "100CANON"
    card.mkdir(parents=True)
    card_photo = card / "IMG_0100.JPG"
    card_photo.write_bytes(unique_jpeg(small_jpegs()[2].read_bytes(), "card"))
    photos[card_photo] = card_photo.read_bytes()
    poller.poll()
    assert sorted(v.label for v in appeared) == ["Apple iPhone 00008110", "EOS_DIGITAL"]
    with make_vault(tmp_path / "vault", keyring_service) as vault:
        importer = Importer(vault, actor="test")
        for volume in appeared:
            scan = volume.scan(delete_after_import=True)
            result = importer.run(scan.candidates, source_label=f"Mounted {volume.kind}")
            assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * len(scan.candidates)
            assert all(r.source_removed for r in result.results)
        for data in photos.values():
            assert vault.find_original(_sha(data)) is not None
    assert not any(p.exists() for p in photos)
