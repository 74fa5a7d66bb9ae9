"""Phones and cards on Windows (issue 18, finding 4), faked on Linux.

- Drive polling: only removable letters, with "No disk" boxes off (a fake kernel32 with a fixed
  disk, a card reader and a mapped home drive holding DCIM).
- Phones: the WPD source against a fake COM layer, through the same pipeline as every source.
- gphoto's fallback message no longer claims mounted phones work where they are never mounted.
"""

from __future__ import annotations

import sys

import pytest

from picsafe_desktop import winfs
from picsafe_desktop.importer import gphoto, volumes, wpd
from picsafe_desktop.importer.gphoto import DeviceError, DeviceState
from picsafe_desktop.importer.source import RemoveError, SourceError
from tests.platform_marks import posix_only
from tests.unit.windows_fakes import FakeKernel32, windows_os

DRIVE_FIXED, DRIVE_REMOVABLE, DRIVE_REMOTE, DRIVE_CDROM = 3, 2, 4, 5


@pytest.fixture
def kernel32(monkeypatch):
    fake = FakeKernel32(
        {"C": DRIVE_FIXED, "D": DRIVE_REMOVABLE, "E": DRIVE_CDROM, "H": DRIVE_REMOTE}
    )
    monkeypatch.setattr(winfs, "_kernel32", lambda: fake)
    monkeypatch.setattr(volumes, "os", windows_os())
    return fake


def test_only_removable_drive_letters_are_polled(kernel32):
    roots = volumes.default_mount_roots()
    assert [str(r) for r in roots] == ["D:\\"]


def test_a_poll_runs_with_no_disk_boxes_off_and_asks_for_letters_each_time(
    kernel32, monkeypatch, tmp_path
):
    card = tmp_path / "card"
    (card / "DCIM").mkdir(parents=True)
    probes = []

    def roots():
        probes.append(kernel32.errors_suppressed)
        return [card]

    monkeypatch.setattr(volumes, "default_mount_roots", roots)
    seen = []
    poller = volumes.VolumePoller(on_appeared=seen.append)
    poller.poll()
    poller.poll()
    assert len(probes) == 2  # a card reader gets its letter when a card goes in
    assert [v.dcim for v in seen] == [card / "DCIM"]
    assert kernel32.error_modes[0] & winfs.SEM_FAILCRITICALERRORS
    assert kernel32.error_modes[-1] == 0  # restored afterwards


def test_a_vault_on_a_network_drive_is_recognised(monkeypatch):
    fake = FakeKernel32({"C": DRIVE_FIXED, "H": DRIVE_REMOTE})
    monkeypatch.setattr(winfs, "is_windows", lambda: True)
    monkeypatch.setattr(winfs.os.path, "abspath", lambda p: p)
    assert winfs.is_network_path("H:\\PicSafe", kernel32=fake)
    assert winfs.is_network_path("\\\\fileserver\\ward\\PicSafe", kernel32=fake)
    assert not winfs.is_network_path("C:\\Users\\nurse\\PicSafe", kernel32=fake)


@posix_only("/proc/self/mounts is Linux's")
def test_a_vault_on_nfs_or_cifs_is_recognised_on_linux():
    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/export /home/nurse/share nfs4 rw 0 0\n"
        "//fs/ward /mnt/ward\\040drive cifs rw 0 0\n"
    )
    assert winfs.is_network_path("/home/nurse/share/vault", mounts=mounts)
    assert winfs.is_network_path("/mnt/ward drive/v", mounts=mounts)
    assert not winfs.is_network_path("/home/nurse/vault", mounts=mounts)


def test_gphoto_fallback_message_does_not_promise_mounted_phones_on_windows(monkeypatch):
    monkeypatch.setattr(gphoto, "_gp", None)
    monkeypatch.setattr(gphoto, "_load_error", None)
    monkeypatch.setitem(sys.modules, "gphoto2", None)  # import fails, as on Windows
    monkeypatch.setattr(gphoto, "os", windows_os())
    available, reason = gphoto.status()
    assert not available
    assert "Mounted phones" not in reason
    assert "Windows Portable Devices" in reason


# ---- WPD against a fake COM layer ------------------------------------------------------------


class FakeSession:
    """A phone's object tree as WPD shows it: DEVICE -> storages -> folders -> objects."""

    def __init__(self, tree: dict, files: dict, infos: dict) -> None:
        self.tree, self.files, self.infos = tree, files, infos
        self.deleted: list[str] = []
        self.closed = False
        self.fail: dict[str, wpd.WpdError] = {}

    def children(self, object_id):
        if "children" in self.fail:
            raise self.fail["children"]
        return list(self.tree.get(object_id, []))

    def info(self, object_id):
        if object_id not in self.infos:
            raise wpd.WpdError(wpd.HRESULT_NOT_FOUND)
        return self.infos[object_id]

    def read(self, object_id):
        if "read" in self.fail:
            raise self.fail["read"]
        return self.files[object_id]

    def delete(self, object_id):
        if "delete" in self.fail:
            raise self.fail["delete"]
        self.deleted.append(object_id)
        del self.infos[object_id]

    def close(self):
        self.closed = True


class FakeBackend:
    def __init__(self, session: FakeSession) -> None:
        self.session = session

    def device_ids(self):
        return ["\\\\?\\usb#vid_18d1&pid_4ee1#serial#{6ac27878-a6fa-4155-ba85-f98f491d4f33}"]

    def friendly_name(self, device_id):
        return "Pixel 8"

    def open(self, device_id):
        return self.session


def _phone() -> FakeSession:
    folder = wpd.ObjectInfo
    return FakeSession(
        tree={
            "DEVICE": ["s1"],
            "s1": ["dcim", "docs"],
            "dcim": ["camera", "thumbs"],
            "camera": ["o1", "o2", "o3"],
            "thumbs": ["o4"],
            "docs": ["o5"],
        },
        files={"o1": b"\xff\xd8one\xff\xd9", "o2": b"\xff\xd8two\xff\xd9"},
        infos={
            "s1": folder("Internal shared storage", True, 0),
            "dcim": folder("DCIM", True, 0),
            "camera": folder("Camera", True, 0),
            "thumbs": folder(".thumbnails", True, 0),
            "docs": folder("Documents", True, 0),
            "o1": folder("PXL_1.jpg", False, 7),
            "o2": folder("PXL_2.jpg", False, 7),
            "o3": folder("notes.txt", False, 3),
            "o4": folder("t.jpg", False, 3),
            "o5": folder("scan.jpg", False, 3),
        },
    )


@pytest.fixture
def phone():
    session = _phone()
    wpd.use_backend(FakeBackend(session))
    yield session
    wpd.use_backend(None)


def test_wpd_lists_the_phone_and_finds_photos_under_dcim_only(phone):
    assert wpd.status() == (True, "Windows Portable Devices")
    [info] = wpd.list_devices()
    assert info.label == "Pixel 8" and info.kind == "wpd"
    with wpd.Device(info) as device:
        found = device.photos(delete_after_import=True)
        assert [c.display for c in found] == [
            "Pixel 8:Internal shared storage/DCIM/Camera/PXL_1.jpg",
            "Pixel 8:Internal shared storage/DCIM/Camera/PXL_2.jpg",
        ]
        assert found[0].read() == b"\xff\xd8one\xff\xd9"
        found[0].remove("tok")
        assert phone.deleted == ["o1"]
        assert found[1].locator()["object_id"] == "o2"
    assert phone.closed


def test_wpd_checks_size_and_refuses_to_delete_an_edited_photo(phone):
    [info] = wpd.list_devices()
    with wpd.Device(info) as device:
        first, second = device.photos(delete_after_import=True)
        phone.files["o1"] = b"short"
        with pytest.raises(SourceError, match="the phone listed 7"):
            first.read()
        phone.infos["o2"] = wpd.ObjectInfo("PXL_2.jpg", False, 12)  # edited on the phone
        with pytest.raises(RemoveError, match="changed on the phone") as err:
            second.remove("tok")
        assert not err.value.by_hand
        assert phone.deleted == []
        del phone.infos["o1"]
        first.remove("tok")  # already gone: nothing to do


def test_wpd_errors_say_what_to_do_on_the_phone(phone):
    [info] = wpd.list_devices()
    with wpd.Device(info) as device:
        phone.fail["children"] = wpd.WpdError(wpd.E_ACCESSDENIED)
        with pytest.raises(DeviceError) as err:
            device.photos(delete_after_import=False)
        assert err.value.state == DeviceState.NOT_ALLOWED and "Trust" in str(err.value)
        del phone.fail["children"]
        [cand, _] = device.photos(delete_after_import=True)
        phone.fail["read"] = wpd.WpdError(wpd.HRESULT_GEN_FAILURE)
        with pytest.raises(DeviceError) as err:
            cand.read()
        assert err.value.state == DeviceState.DISCONNECTED and err.value.stops_batch
        phone.fail["delete"] = wpd.WpdError(wpd.HRESULT_BUSY)
        with pytest.raises(RemoveError, match="delete it on the phone"):
            cand.remove("tok")


def test_a_locked_phone_shows_no_storage(phone):
    phone.tree["DEVICE"] = []
    [info] = wpd.list_devices()
    with wpd.Device(info) as device, pytest.raises(DeviceError) as err:
        device.photos(delete_after_import=False)
    assert err.value.state == DeviceState.LOCKED


def test_without_comtypes_the_source_is_unavailable_with_a_reason(monkeypatch):
    wpd.use_backend(None)
    monkeypatch.setitem(sys.modules, "comtypes", None)
    available, reason = wpd.status()
    assert not available and "not available" in reason
    wpd.use_backend(None)


@pytest.mark.keyring
def test_wpd_photos_go_through_the_import_pipeline(phone, tmp_path, keyring_service):
    """The same Importer that takes files takes WPD candidates and deletes them afterwards."""
    from picsafe_desktop.importer.pipeline import Importer
    from tests.unit.vault_support import jpeg_with_exif, new_vault

    vault, _ = new_vault(tmp_path, keyring_service)
    phone.files = {"o1": jpeg_with_exif(size=(32, 24)), "o2": jpeg_with_exif(size=(40, 30))}
    for oid, name in (("o1", "PXL_1.jpg"), ("o2", "PXL_2.jpg")):
        phone.infos[oid] = wpd.ObjectInfo(name, False, len(phone.files[oid]))
    [info] = wpd.list_devices()
    with wpd.Device(info) as device:
        candidates = device.photos(delete_after_import=True)
        result = Importer(vault, actor="nurse").run(candidates, source_label="Pixel 8")
    assert sorted(phone.deleted) == ["o1", "o2"]
    assert len(result.item_ids) == 2
    vault.close()


def test_services_use_wpd_for_phones_on_windows(phone, monkeypatch):
    from picsafe_desktop import services

    monkeypatch.setattr(services, "os", windows_os())
    module = services._phone_module(gphoto)
    assert module is wpd
    assert [d.label for d in module.list_devices()] == ["Pixel 8"]


def test_wpd_and_gphoto_photos_share_one_device_photo_base(phone):
    from picsafe_desktop.importer.source import DevicePhoto

    for cls in (wpd.WpdCandidate, gphoto.DeviceCandidate):
        assert issubclass(cls, DevicePhoto)
        for body in ("display", "removable", "read"):
            assert body not in cls.__dict__, f"{cls.__name__}.{body}"  # one body, in source.py
    [info] = wpd.list_devices()
    with wpd.Device(info) as device:
        first, _ = device.photos(delete_after_import=False)
        assert not first.removable
        phone.fail["read"] = wpd.WpdError(wpd.HRESULT_GEN_FAILURE)  # unplugged mid-transfer
        with pytest.raises(DeviceError) as err:
            first.read()
        named = "Pixel 8:Internal shared storage/DCIM/Camera/PXL_1.jpg: "
        assert str(err.value).startswith(named)
        assert err.value.stops_batch
