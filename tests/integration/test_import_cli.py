"""`picsafe-desktop import --consent FILE.json --vault DIR SRC...` against a real vault."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from picsafe_desktop import cli
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

CONSENT = {
    "patient": {"mrn": "RX0012345", "name": "Ada Example"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
}


def _tree(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def setup(tmp_path, keyring_service):
    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, keyring_service).close()
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(CONSENT))
    photos = tmp_path / "photos"
    photos.mkdir()
    originals = {}
    for i, src in enumerate(small_jpegs()[:2]):
        path = photos / ("Ada Example" if i else "") / f"IMG_{i}.jpg"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(unique_jpeg(src.read_bytes(), f"cli{i}"))
        originals[path] = path.read_bytes()

    def run(*sources, consent_file=consent, extra=()):
        return cli.main(
            [*extra, "import", "--consent", str(consent_file), "--vault", str(vault_dir),
             "--keyring-service", keyring_service, *map(str, sources)]
        )  # fmt: skip

    def items():
        with Vault.open(vault_dir, keyring_service) as vault:
            return vault.list_items(), vault

    return run, items, photos, originals, tmp_path, keyring_service, vault_dir


def test_valid_consent_imports_one_active_batch_and_wipes_sources(setup, capsys):
    run, items, photos, originals, *_ = setup
    assert run(photos) == 0
    out = capsys.readouterr()
    assert "Imported 2 photo(s)" in out.out
    assert list(photos.iterdir()) == []  # the emptied "Ada Example" subfolder went too
    stored, _ = items()
    assert len(stored) == 2
    assert {i.state for i in stored} == {ItemState.ACTIVE}
    assert len({i.batch_id for i in stored}) == 1 and len({i.consent_id for i in stored}) == 1


def test_consent_record_is_stored_with_the_batch(setup):
    run, _, photos, _, _, service, vault_dir = setup
    assert run(photos) == 0
    with Vault.open(vault_dir, service) as vault:
        (item, *_) = vault.list_items()
        record = vault.read_consent(item.consent_id, actor="test")
        assert record["patient"]["mrn"] == "RX0012345"
        assert vault.consent_batch(item.consent_id) == item.batch_id


def test_invalid_consent_refuses_and_touches_nothing(setup, capsys):
    run, items, photos, originals, tmp_path, *_ = setup
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**CONSENT, "patient": {"mrn": ""}}))
    assert run(photos, consent_file=bad) == 2
    err = capsys.readouterr().err
    assert "patient.mrn" in err and "nothing was imported" in err
    assert "RX0012345" not in err
    assert _tree(photos) == originals
    assert items()[0] == []


def test_missing_consent_file_refuses(setup, capsys):
    run, items, photos, originals, tmp_path, *_ = setup
    assert run(photos, consent_file=tmp_path / "nope.json") == 2
    assert "nothing was imported" in capsys.readouterr().err
    assert _tree(photos) == originals


def test_a_missing_source_stops_before_anything_is_imported(setup, capsys):
    run, items, photos, originals, tmp_path, *_ = setup
    assert run(photos, tmp_path / "typo") == 2
    assert "does not exist" in capsys.readouterr().err
    assert _tree(photos) == originals
    assert items()[0] == []


def test_refused_entries_are_listed_and_exit_1(setup, capsys):
    run, items, photos, *_ = setup
    os.mkfifo(photos / "pipe.jpg")
    assert run(photos) == 1
    err = capsys.readouterr().err
    assert "named pipe" in err
    assert len(items()[0]) == 2


def test_gphoto2_directory_camera_and_files_in_one_batch(setup, capsys):
    run, items, photos, originals, tmp_path, *_ = setup
    camera = tmp_path / "camera" / "DCIM" / "100TEST"
    camera.mkdir(parents=True)
    cam_photo = camera / "IMG_9000.JPG"
    cam_photo.write_bytes(unique_jpeg(small_jpegs()[3].read_bytes(), "cam"))
    assert run(photos, f"gphoto2:disk:{tmp_path / 'camera'}") == 0
    stored, _ = items()
    assert len(stored) == 3 and len({i.batch_id for i in stored}) == 1
    assert cam_photo.exists()  # delete_from_device defaults to false
    with Vault.open(setup[6], setup[5]) as vault:
        sha = hashlib.sha256(cam_photo.read_bytes()).hexdigest()
        assert vault.find_original(sha) is not None


def test_delete_from_device_setting_deletes_camera_photos(setup):
    run, items, photos, originals, tmp_path, *_ = setup
    camera = tmp_path / "camera" / "DCIM"
    camera.mkdir(parents=True)
    (camera / "IMG_1.JPG").write_bytes(unique_jpeg(small_jpegs()[3].read_bytes(), "cam1"))
    config = tmp_path / "site.toml"
    config.write_text("[import]\ndelete_from_device = true\n")
    assert run(f"gphoto2:disk:{tmp_path / 'camera'}", extra=["--config", str(config)]) == 0
    assert list(camera.iterdir()) == []
    assert len(items()[0]) == 1


def test_unknown_gphoto2_port_is_a_clear_error(setup, capsys):
    run, items, photos, originals, *_ = setup
    assert run(photos, "gphoto2:usb:999,999") == 1
    err = capsys.readouterr().err
    assert "no camera or phone found on port usb:999,999" in err
    assert _tree(photos) == originals
