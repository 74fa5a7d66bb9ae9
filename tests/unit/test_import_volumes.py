"""Mounted volumes with a DCIM folder: found where cards and phones mount, and polled."""

from __future__ import annotations

from picsafe_desktop.importer.volumes import VolumePoller, default_mount_roots, find_volumes
from tests.platform_marks import posix_only


def _make(path, files=("IMG_0001.JPG",)):
    path.mkdir(parents=True)
    for name in files:
        (path / name).write_bytes(b"\xff\xd8photo\xff\xd9")
    return path


def test_finds_cards_under_media_and_phones_under_gvfs(tmp_path):
    media = tmp_path / "media" / "nurse"
    _make(media / "EOS_DIGITAL" / "DCIM" / "100CANON")
    (media / "USB_STICK").mkdir()
    gvfs = tmp_path / "run" / "gvfs"
    _make(gvfs / "mtp:host=Google_Pixel_7_28111FDH" / "Internal shared storage" / "DCIM" / "Camera")
    _make(gvfs / "afc:host=00008110-001A" / "DCIM" / "100APPLE")
    volumes = {v.label: v for v in find_volumes([tmp_path / "media", media, gvfs])}
    assert set(volumes) == {"EOS_DIGITAL", "Google Pixel 7 28111FDH", "00008110-001A"}
    assert volumes["EOS_DIGITAL"].kind == "card"
    assert volumes["Google Pixel 7 28111FDH"].kind == "phone"
    assert volumes["Google Pixel 7 28111FDH"].dcim.parent.name == "Internal shared storage"


def test_scan_modes_follow_the_delete_setting(tmp_path):
    _make(tmp_path / "media" / "CARD" / "DCIM" / "100X")
    _make(tmp_path / "gvfs" / "mtp:host=Phone" / "DCIM" / "Camera")
    vols = {v.kind: v for v in find_volumes([tmp_path / "media", tmp_path / "gvfs"])}
    assert [c.removal for c in vols["card"].scan(delete_after_import=True).candidates] == ["wipe"]
    assert [c.removal for c in vols["phone"].scan(delete_after_import=True).candidates] == [
        "delete"
    ]
    assert [c.removal for c in vols["card"].scan(delete_after_import=False).candidates] == ["keep"]


def test_poller_reports_a_phone_appearing_and_going_away(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    appeared, gone = [], []
    poller = VolumePoller(on_appeared=appeared.append, on_gone=gone.append, roots=[root])
    assert poller.poll() == ([], [])
    phone = _make(root / "iPhone" / "DCIM" / "100APPLE", ["IMG_0001.HEIC", "IMG_0002.JPG"])
    poller.poll()
    assert [v.label for v in appeared] == ["iPhone"]
    scan = appeared[0].scan(delete_after_import=False)
    assert sorted(c.path.name for c in scan.candidates) == ["IMG_0001.HEIC", "IMG_0002.JPG"]
    assert poller.poll() == ([], [])  # reported once
    for f in phone.iterdir():
        f.unlink()
    phone.rmdir()
    (root / "iPhone" / "DCIM").rmdir()
    poller.poll()
    assert [v.label for v in gone] == ["iPhone"]


@posix_only("creating a symbolic link needs a privilege on Windows")
def test_a_symlinked_dcim_is_not_a_volume(tmp_path):
    real = _make(tmp_path / "elsewhere" / "DCIM")
    (tmp_path / "media" / "X").mkdir(parents=True)
    (tmp_path / "media" / "X" / "DCIM").symlink_to(real)
    assert find_volumes([tmp_path / "media"]) == []


@posix_only("Linux mount places (Windows polls removable drive letters)")
def test_default_roots_cover_the_linux_mount_places(monkeypatch):
    monkeypatch.setenv("USER", "nurse")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    roots = [str(r) for r in default_mount_roots()]
    for expected in ("/media/nurse", "/run/media/nurse", "/run/user/1000/gvfs", "/media"):
        assert expected in roots
