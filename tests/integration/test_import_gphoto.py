"""libgphoto2 source through the real `gphoto2` code path: directory camera and virtual PTP."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from picsafe_desktop.importer import gphoto
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.importer.source import RemoveError
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, run_unprivileged, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.corpus]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _camera_folder(root: Path) -> dict[Path, bytes]:
    """A DCIM layout like a phone's, with things a walk must skip."""
    files = {}
    for i, src in enumerate(small_jpegs()[:3]):
        sub = root / "DCIM" / ("100APPLE" if i < 2 else "101APPLE")
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"IMG_{i:04d}.JPG"
        path.write_bytes(unique_jpeg(src.read_bytes(), f"ptp{i}"))
        files[path] = path.read_bytes()
    (root / "DCIM" / "100APPLE" / "notes.txt").write_text("not a photo")
    (root / "DCIM" / ".thumbnails").mkdir()
    (root / "DCIM" / ".thumbnails" / "t.jpg").write_bytes(b"\xff\xd8")
    return files


def test_directory_camera_lists_and_downloads_whole_files(tmp_path):
    files = _camera_folder(tmp_path / "cam")
    with gphoto.Device(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'cam'}") as device:
        photos = device.photos(delete_after_import=False)
        assert sorted(p.name for p in photos) == ["IMG_0000.JPG", "IMG_0001.JPG", "IMG_0002.JPG"]
        by_name = {p.name: p for p in photos}
        for path, data in files.items():
            cand = by_name[path.name]
            assert cand.size == len(data)
            assert cand.read() == data
            assert cand.locator()["removal"] == "keep"
            assert cand.display.endswith(path.name)


def test_directory_camera_missing_folder_is_disconnected(tmp_path):
    with pytest.raises(gphoto.DeviceError) as err:
        gphoto.Device(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'none'}").open()
    assert err.value.state == gphoto.DeviceState.DISCONNECTED


@pytest.mark.keyring
def test_directory_camera_photos_go_through_the_pipeline_and_are_deleted(tmp_path, keyring_service):
    files = _camera_folder(tmp_path / "cam")
    vault = make_vault(tmp_path / "vault", keyring_service)
    with vault, gphoto.Device(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'cam'}") as device:
        photos = device.photos(delete_after_import=True)
        result = Importer(vault, actor="test").run(photos, source_label="Camera")
        assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 3
        assert all(r.source_removed for r in result.results)
        for data in files.values():
            assert vault.find_original(_sha(data)) is not None
        assert device.photos(delete_after_import=True) == []
    assert not any(p.exists() for p in files)
    assert (tmp_path / "cam" / "DCIM" / "100APPLE" / "notes.txt").exists()


def test_a_photo_already_gone_from_the_device_counts_as_removed(tmp_path):
    files = _camera_folder(tmp_path / "cam")
    with gphoto.Device(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'cam'}") as device:
        cand = device.photos(delete_after_import=True)[0]
        next(p for p in files if p.name == cand.name).unlink()  # deleted on the phone meanwhile
        cand.remove("token")


def test_a_read_only_device_reports_the_photo_for_manual_removal(tmp_path):
    files = _camera_folder(tmp_path / "cam")
    with gphoto.Device(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'cam'}") as device:
        cand = device.photos(delete_after_import=True)[0]
        folder = next(p for p in files if p.name == cand.name).parent
        folder.chmod(0o555)
        try:
            out = run_unprivileged(lambda: cand.remove("token")) if os.geteuid() == 0 else None
            if out is None:
                with pytest.raises(RemoveError, match="delete it on the device"):
                    cand.remove("token")
            else:
                assert out.startswith("RemoveError") and "delete it on the device" in out
        finally:
            folder.chmod(0o755)
        assert all(p.exists() for p in files)


VCAM_CHILD = """
import json, sys
from picsafe_desktop.importer import gphoto
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.vault import Vault

vault_dir, service = sys.argv[1], sys.argv[2]
devices = [d for d in gphoto.list_devices() if d.port.startswith("usb:")]
if not devices:
    print(json.dumps({"devices": []}))
    sys.exit(0)
first = devices[0]
with Vault.open(vault_dir, service) as vault, gphoto.Device(first.model, first.port) as dev:
    photos = dev.photos(delete_after_import=True)
    result = Importer(vault, actor="test").run(photos, source_label="Phone")
    left = dev.photos(delete_after_import=True)
print(json.dumps({
    "devices": [d.model for d in devices],
    "folders": sorted({p.folder for p in photos}),
    "results": [[r.outcome.value, r.source_removed] for r in result.results],
    "left": [p.name for p in left],
}))
"""


@pytest.mark.keyring
def test_virtual_ptp_camera_runs_the_real_ptp_driver(tmp_path, keyring_service):
    import gphoto2

    if not (Path(gphoto2.__file__).parent / "libgphoto2" / "vusb").is_dir():
        pytest.skip("this gphoto2 wheel has no virtual USB camera (libgphoto2/vusb)")
    files = _camera_folder(tmp_path / "vcam")
    make_vault(tmp_path / "vault", keyring_service).close()
    env = dict(os.environ, VCAMERADIR=str(tmp_path / "vcam"))
    done = subprocess.run(
        [sys.executable, "-c", VCAM_CHILD, str(tmp_path / "vault"), keyring_service],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["devices"], "the virtual PTP camera was not autodetected"
    assert all(f.startswith("/store_") for f in report["folders"])  # PTP storage ids
    assert report["results"] == [["imported", True]] * 3
    assert report["left"] == []
    with Vault.open(tmp_path / "vault", keyring_service) as vault:
        assert len(vault.list_items()) == 3
        for data in files.values():
            assert vault.find_original(_sha(data)) is not None
