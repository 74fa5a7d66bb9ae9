"""The phone banner's check reads each photo once per run, not on every check (issue 12)."""

from __future__ import annotations

import os

import pytest

from picsafe_desktop import config
from picsafe_desktop.importer import gphoto
from picsafe_desktop.importer.files import FileCandidate
from picsafe_desktop.importer.volumes import Volume
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests.ui.journey_photos import phone_photo
from tests.unit.vault_support import TEST_KDF

pytestmark = [pytest.mark.keyring]

NURSE = Staff("Sam Okafor", "Staff nurse", "N4411")


@pytest.fixture
def services(tmp_path, keyring_service):
    site = config.from_dict(
        {"vault": {"path": str(tmp_path / "vault")}, "staff": {"allow_unverified_names": True}}
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    svc = Services(site, vault)
    svc.sign_in(NURSE)
    yield svc
    svc.close()


def _phone(root, n=3):
    dcim = root / "DCIM" / "100APPLE"
    dcim.mkdir(parents=True)
    for i in range(n):
        (dcim / f"IMG_{i:04}.JPG").write_bytes(
            phone_photo(f"2025:05:06 10:0{i}:00", "#c0504d", f"photo {i}")
        )
    return dcim


@pytest.fixture
def reads(monkeypatch):
    """Names of the photos read from the phone (the real read runs; it is only counted)."""
    seen: list[str] = []
    for cls in (FileCandidate, gphoto.DeviceCandidate):
        real = cls.read

        def counted(self, _real=real):
            seen.append(os.path.basename(self.display))
            return _real(self)

        monkeypatch.setattr(cls, "read", counted)
    return seen


def test_a_second_check_of_a_mounted_phone_reads_nothing(services, tmp_path, reads):
    dcim = _phone(tmp_path / "phone")
    volume = Volume(dcim.parent, "phone")
    services.import_volume(volume)
    reads.clear()

    first = services.check_phone(volume)
    assert (first.total, first.in_vault) == (3, 3)
    assert len(reads) == 3
    reads.clear()

    again = services.check_phone(volume)
    assert (again.total, again.in_vault) == (3, 3)
    assert reads == [], "every photo was already hashed in this run"

    # A new photo is read, and only it; a photo changed on the phone is read again.
    (dcim / "IMG_0009.JPG").write_bytes(phone_photo("2025:05:06 11:00:00", "#4f81bd", "new"))
    changed = dcim / "IMG_0000.JPG"
    changed.write_bytes(phone_photo("2025:05:06 10:00:00", "#9bbb59", "edited on the phone"))
    os.utime(changed, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    third = services.check_phone(volume)
    assert sorted(reads) == ["IMG_0000.JPG", "IMG_0009.JPG"]
    assert (third.total, third.in_vault) == (4, 2)


def test_a_second_check_of_a_usb_phone_reads_nothing(services, tmp_path, reads):
    _phone(tmp_path / "cam")
    device = gphoto.DeviceInfo(gphoto.DIRECTORY_MODEL, f"disk:{tmp_path / 'cam'}")
    services.import_device(device)
    reads.clear()
    assert services.check_phone(device).in_vault == 3
    assert len(reads) == 3
    reads.clear()
    assert services.check_phone(device).in_vault == 3
    assert reads == []


def test_deleting_from_the_phone_still_reads_every_photo_back(services, tmp_path, reads):
    dcim = _phone(tmp_path / "phone")
    volume = Volume(dcim.parent, "phone")
    services.import_volume(volume)
    services.check_phone(volume)
    reads.clear()
    assert services.delete_from_phone(volume) == (3, 0)
    assert len(reads) == 3, "a deletion is decided on the bytes, never on the check's memory"
