"""SIGTERM ends the CLI and the GUI cleanly (issue 13, finding 15, part): a log line, the photo
in hand finished, the vault closed only after its workers are done - every photo verified in
the vault or untouched at its source, no journal entry or partial file left behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg
from tests.integration.test_import_hostile_cli import Setup, _blob_count, _cli_process

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]


def _big_photos(folder, count: int, tag: str) -> dict[str, str]:
    big = max(small_jpegs()[0].parent.glob("*.jpg"), key=lambda p: p.stat().st_size)
    folder.mkdir(parents=True, exist_ok=True)
    originals = {}
    for i in range(count):
        path = folder / f"IMG_{i:02}.jpg"
        path.write_bytes(unique_jpeg(big.read_bytes(), f"{tag}{i}"))
        originals[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return originals


def _wait_for_blobs(vault_dir, child, count: int) -> None:
    deadline = time.monotonic() + 120
    while _blob_count(vault_dir) < count:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def _check_consistent(vault_dir, service, folder, originals) -> list:
    with Vault.open(vault_dir, service) as vault:
        assert vault.journal_entries() == [], "a half-done step was left in the journal"
        stored = {name for name, sha in originals.items() if vault.find_original(sha)}
        items = vault.list_items()
    left = {p.name for p in folder.iterdir()} if folder.exists() else set()
    for name, sha in originals.items():
        if name in left:
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
        else:
            assert name in stored, f"{name} lost"
    assert not list((vault_dir / "tmp").iterdir()), "a partial file was left in the vault"
    assert left, "the signal came after the whole batch: nothing was tested"
    return items


def test_sigterm_stops_a_cli_import_after_the_photo_in_hand(tmp_path, keyring_service):
    setup = Setup(tmp_path, keyring_service)
    originals = _big_photos(setup.photos, 12, "term")
    child = _cli_process(setup, setup.photos)
    try:
        _wait_for_blobs(setup.vault_dir, child, 2)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert "termination requested" in err, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert child.returncode == 1, err  # the rest were not imported: a check failed
    assert "import cancelled; left at its source" in err
    items = _check_consistent(setup.vault_dir, keyring_service, setup.photos, originals)
    # What was stored before the signal got its consent, as the output says.
    assert items and all(i.state == ItemState.ACTIVE for i in items)
    assert f"Imported {len(items)} photo(s)" in out


def test_sigterm_closes_the_gui_after_its_workers_finish(tmp_path, keyring_service):
    """The real app (`python -m picsafe_desktop`) importing from a drop folder while locked."""
    from picsafe_desktop.services import KEYRING_SERVICE

    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, KEYRING_SERVICE).close()
    drop = tmp_path / "drop"
    log_file = tmp_path / "picsafe.log"
    site = tmp_path / "site.toml"
    site.write_text(
        f'[vault]\npath = "{vault_dir}"\n[logging]\nlevel = "INFO"\nfile = "{log_file}"\n'
        f'[import]\ndrop_folders = ["{drop}"]\nstable_seconds = 0.2\n'
    )
    originals = _big_photos(drop, 10, "gui")
    env = dict(os.environ, PICSAFE_CONFIG=str(site))
    child = subprocess.Popen(
        [sys.executable, "-m", "picsafe_desktop"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for_blobs(vault_dir, child, 2)
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=180)
        logged = log_file.read_text()
        assert child.returncode == 0, err
        assert "termination requested" in logged and "closed cleanly" in logged, logged
        assert "Traceback" not in err + logged
        items = _check_consistent(vault_dir, KEYRING_SERVICE, drop, originals)
        assert items and all(i.state == ItemState.AWAITING_CONSENT for i in items)
    finally:
        child.kill()
        _forget_key()


def _forget_key() -> None:
    """The app's own keyring service was used: remove this vault's entry from the test keyring."""
    import secretstorage

    from picsafe_desktop.services import KEYRING_SERVICE

    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        for item in collection.search_items({"service": KEYRING_SERVICE}):
            item.delete()
