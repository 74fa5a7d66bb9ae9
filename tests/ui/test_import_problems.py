"""Import problems reach the person at the window (issue 13, finding 12): drop-folder refusals
are shown naming each file, and what failed while the window was locked is shown after sign-in
- never before, and never in the status bar."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from picsafe_desktop import config
from picsafe_desktop.ui.main_window import MainWindow
from picsafe_desktop.ui.sources import SourceMonitor
from tests.ui.test_desktop import PHOTOS, services, sign_in, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]


def problem_box() -> QMessageBox | None:
    for top in QApplication.topLevelWidgets():
        if isinstance(top, QMessageBox) and top.objectName() == "importProblems":
            if top.isVisible():
                return top
    return None


def box_text(box: QMessageBox) -> str:
    return "\n".join((box.text(), box.informativeText(), box.detailedText()))


@pytest.fixture
def watched(qtbot, site, services, tmp_path):  # noqa: F811 - pytest fixtures
    folder = tmp_path / "drop"
    folder.mkdir()
    site_with_drop = config.from_dict(
        {
            "vault": {"path": site.vault.path},
            "import": {"drop_folders": [str(folder)], "stable_seconds": 0.2},
        }
    )
    monitor = SourceMonitor(site_with_drop, mount_roots=[tmp_path / "no-mounts"])
    win = MainWindow(site, services, monitor)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win, monitor, folder
    monitor.stop()
    if win.consent_dialog is not None:
        win.consent_dialog.close_without_decision()
    box = problem_box()
    if box is not None:
        box.close()


def hostile_entries(folder, outside):
    outside.write_bytes(b"someone else's file")
    os.symlink(outside, folder / "Quenby link.jpg")
    os.mkfifo(folder / "Quenby pipe.jpg")
    (folder / "Quenby notes.docx").write_bytes(b"not a photo")
    os.link(outside, folder / "Quenby hardlink.jpg")
    return ["Quenby link.jpg", "Quenby pipe.jpg", "Quenby notes.docx", "Quenby hardlink.jpg"]


def test_drop_folder_refusals_are_shown_naming_each_file(qtbot, watched, tmp_path):
    win, monitor, folder = watched
    sign_in(qtbot, win)
    names = hostile_entries(folder, tmp_path / "outside.jpg")
    monitor.start()
    qtbot.waitUntil(lambda: problem_box() is not None, timeout=15000)
    qtbot.waitUntil(lambda: all(n in box_text(problem_box()) for n in names), timeout=15000)
    text = box_text(problem_box())
    assert "symbolic link" in text and "named pipe" in text
    assert "not a photo type" in text and "hard-linked" in text


def test_problems_while_locked_wait_for_sign_in(qtbot, watched, tmp_path, corpus):
    win, monitor, folder = watched
    assert win.locked
    names = hostile_entries(folder, tmp_path / "outside.jpg")
    (folder / "Quenby broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    shutil.copy(corpus / PHOTOS[0], folder / "wound.jpg")
    monitor.start()
    # The good photo is imported while locked; the broken one failed and stays.
    qtbot.waitUntil(lambda: not (folder / "wound.jpg").exists(), timeout=30000)
    qtbot.waitUntil(lambda: len(win._waiting_problems) >= 2, timeout=15000)
    assert problem_box() is None, "nothing is shown to nobody"
    assert "Quenby" not in win.statusBar().currentMessage()
    assert "sign in" in win.statusBar().currentMessage()
    sign_in(qtbot, win)
    qtbot.waitUntil(lambda: problem_box() is not None, timeout=15000)
    text = box_text(problem_box())
    for name in [*names, "Quenby broken.jpg"]:
        assert name in text
    assert (folder / "Quenby broken.jpg").exists()


@contextlib.contextmanager
def vault_made_read_only(path):
    """The vault folder turned read-only under the running app: a read-only bind mount of it
    onto itself (root ignores permission bits; a normal user gets them)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_vault_read_only_mid_session_is_named_not_called_a_damaged_photo(
    qtbot, watched, corpus, tmp_path
):
    """The real window, the vault folder made read-only while it runs (bench/walk_faults.py
    found it): the box named the good photo "could not be read as a photo (damaged or
    unsupported)" - the nurse would throw away a good photo and never call IT."""
    from pathlib import Path

    win, _monitor, _folder = watched
    sign_in(qtbot, win)
    photo = tmp_path / "IMG_0200.JPG"
    shutil.copy(corpus / PHOTOS[0], photo)
    with vault_made_read_only(Path(win.site.vault.path)):
        win.start_import([str(photo)])
        qtbot.waitUntil(lambda: problem_box() is not None, timeout=30000)
        text = box_text(problem_box())
    assert "IMG_0200.JPG" in text
    assert "could not be read as a photo" not in text, text
    assert "cannot be written" in text and "ask IT" in text, text
    assert problem_box().text().startswith("The vault stopped taking photos"), text
    assert photo.exists(), "the photo stays where it was"


def test_drop_folder_photo_left_by_a_read_only_vault_is_imported_once_writable(
    qtbot, watched, corpus
):
    """The drop folder's photo that the vault could not take (read-only, full) was told "try
    again" but never offered again: it lay in the drop folder in the clear. Now the watcher
    offers it again after its retry interval, and it is imported once the vault is writable."""
    from pathlib import Path

    win, monitor, folder = watched
    monitor.drop_watcher.retry_seconds = 2.0
    sign_in(qtbot, win)
    with vault_made_read_only(Path(win.site.vault.path)):
        shutil.copy(corpus / PHOTOS[0], folder / "IMG_0500.JPG")
        monitor.start()
        qtbot.waitUntil(lambda: problem_box() is not None, timeout=30000)
        assert "IMG_0500.JPG" in box_text(problem_box())
        problem_box().close()
    qtbot.waitUntil(lambda: not (folder / "IMG_0500.JPG").exists(), timeout=30000)
    # Stored, and waiting for its consent (the intake shows it).
    qtbot.waitUntil(lambda: win.intake_dialog is not None, timeout=15000)


def test_a_big_drop_folder_import_shows_its_progress(qtbot, watched, corpus):
    """1,000 photos put in the drop folder (bench/walk_faults.py, drill "many"): the window
    showed nothing at all while they were imported - no row, no bar - though every import has
    a progress bar. The drop folder's batch has one now (without Cancel: a cancelled drop
    folder photo would not be offered again)."""
    from picsafe_desktop.ui.importing import ImportProgress

    win, monitor, folder = watched
    sign_in(qtbot, win)
    body = (corpus / PHOTOS[0]).read_bytes()
    staging = folder.parent / "staging"
    staging.mkdir()
    for n in range(40):
        (staging / f"IMG_{n:04d}.JPG").write_bytes(body + n.to_bytes(4, "big"))
    staging.rename(folder / "many")
    seen: list[str] = []

    def progress_row() -> bool:
        rows = [r for r in win.findChildren(ImportProgress) if r.isVisible()]
        seen.extend(r.label.text() for r in rows)
        return bool(rows)

    monitor.start()
    qtbot.waitUntil(progress_row, timeout=30000)
    assert not any(r.cancel_button.isVisible() for r in win.findChildren(ImportProgress))
    qtbot.waitUntil(lambda: not any((folder / "many").glob("*.JPG")), timeout=120000)
    assert any("Importing" in text for text in seen), seen


def test_a_patient_named_drop_subfolder_goes_once_its_photos_are_imported(
    services,  # noqa: F811 - pytest fixture
    corpus,
    tmp_path,
):
    """The fault walk left "Quenby Philippa RX7700001/" in the drop folder, empty, minutes
    after its photo was imported: the watcher pruned before the import had run, and the
    import (unlike an import of named folders) pruned nothing - a patient's name and MRN left
    on disk outside the vault. The import of a drop-folder batch removes what it emptied."""
    from picsafe_desktop.importer.files import scan_folder

    folder = tmp_path / "drop"
    patient = folder / "Quenby Philippa RX7700001"
    patient.mkdir(parents=True)
    shutil.copy(corpus / PHOTOS[0], patient / "IMG_0101.JPG")
    (folder / "kept").mkdir()
    (folder / "kept" / "notes.docx").write_bytes(b"not a photo")
    report = services.import_dropped(folder, scan_folder(folder).candidates)
    assert len(report.item_ids) == 1
    assert not patient.exists()
    assert (folder / "kept" / "notes.docx").exists(), "a folder holding anything stays"
    assert folder.is_dir(), "the drop folder itself stays"


def test_a_waiting_photo_whose_file_went_missing_does_not_hide_the_others(
    qtbot,
    watched,
    services,  # noqa: F811 - pytest fixture
    corpus,
    tmp_path,
):
    """The fault walk deleted one waiting photo's encrypted file from the vault folder: after
    sign-in the window said only "Could not check for photos waiting for consent" and showed
    "No photos yet" - the intact photo beside it could no longer be given its consent. Now the
    intact photo opens in the intake and the missing one is named, with what to do."""
    from picsafe_desktop.importer.files import scan_folder

    win, _monitor, _folder = watched
    source = tmp_path / "phone"
    source.mkdir()
    body = (corpus / PHOTOS[0]).read_bytes()
    for n in range(2):
        (source / f"IMG_{n}.JPG").write_bytes(body + bytes([n]))
    report = services.import_dropped(source, scan_folder(source).candidates)
    lost, kept = report.item_ids
    blob = next(Path(win.site.vault.path).glob(f"blobs/??/{lost}.psv"))
    blob.unlink()
    sign_in(qtbot, win)
    qtbot.waitUntil(lambda: win.intake_dialog is not None, timeout=15000)
    shown = [i for s in win.intake_dialog.batch.sets for i in s.item_ids]
    assert shown == [kept]
    qtbot.waitUntil(lambda: problem_box() is not None, timeout=15000)
    text = box_text(problem_box())
    assert lost in text and "missing" in text and "IT" in text, text
    assert "nothing was lost" not in text, "its file is missing: do not say nothing was lost"
    assert services.vault.list_items()  # nothing was removed
