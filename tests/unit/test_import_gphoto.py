"""What libgphoto2 failures tell the user to do, and how an unavailable library is reported."""

from __future__ import annotations

import sys

import pytest

from tests.platform_marks import ON_WINDOWS

if ON_WINDOWS:  # the module cannot even be imported there: its parameters are gphoto2's codes
    pytest.skip("only on POSIX: libgphoto2 has no Windows build", allow_module_level=True)

import gphoto2 as gp  # noqa: E402

from picsafe_desktop.importer import gphoto  # noqa: E402
from picsafe_desktop.importer.gphoto import DeviceState, classify  # noqa: E402


@pytest.mark.parametrize(
    ("code", "messages", "state", "advice"),
    [
        (gp.GP_ERROR_IO_USB_CLAIM, [], DeviceState.HELD, "gio mount -s mtp"),
        (gp.GP_ERROR_IO_LOCK, [], DeviceState.HELD, "Eject it in the file manager"),
        (gp.GP_ERROR, ["PTP Access Denied"], DeviceState.NOT_ALLOWED, "tap 'Trust'"),
        (gp.GP_ERROR_IO_USB_FIND, [], DeviceState.DISCONNECTED, "Reconnect it"),
        (gp.GP_ERROR_MODEL_NOT_FOUND, [], DeviceState.DISCONNECTED, "Reconnect it"),
        (gp.GP_ERROR_CAMERA_BUSY, [], DeviceState.HELD, "keep the phone unlocked"),
        (gp.GP_ERROR_FILE_NOT_FOUND, [], DeviceState.ERROR, "not found"),
        (gp.GP_ERROR, ["Could not delete: No such file or directory"], DeviceState.ERROR,
         "not found"),
        (gp.GP_ERROR_IO, ["PTP I/O error"], DeviceState.ERROR, "PTP I/O error"),
    ],
)  # fmt: skip
def test_errors_map_to_states_with_advice(code, messages, state, advice):
    err = classify(code, messages, "Pixel 7")
    assert err.state == state
    assert advice in str(err)
    assert str(err).startswith("Pixel 7: ")
    assert err.stops_batch == (state != DeviceState.ERROR)


def test_status_reports_the_library_version():
    available, reason = gphoto.status()
    assert available and reason.startswith("libgphoto2 2.")


def test_unloadable_library_makes_the_source_unavailable(monkeypatch):
    # As on a platform without the wheel: importing gphoto2 fails.
    monkeypatch.setitem(sys.modules, "gphoto2", None)
    monkeypatch.setattr(gphoto, "_gp", None)
    monkeypatch.setattr(gphoto, "_load_error", None)
    available, reason = gphoto.status()
    assert not available
    assert "not available on this computer (ModuleNotFoundError" in reason
    assert "drop folders" in reason
    with pytest.raises(gphoto.DeviceError) as err:
        gphoto.list_devices()
    assert err.value.state == DeviceState.UNAVAILABLE


class _Camera:
    """A device whose download fails or comes back short, as an unplugged phone's does."""

    def __init__(self, outcome):
        self.info = gphoto.DeviceInfo("Pixel 8", "usb:001,004")
        self.outcome = outcome

    def download(self, folder, name):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_a_device_photo_is_named_read_whole_and_size_checked_by_the_shared_base():
    from picsafe_desktop.importer.source import DevicePhoto, SourceError

    for body in ("display", "removable", "read"):
        assert body not in gphoto.DeviceCandidate.__dict__  # one implementation, in source.py
    photo = gphoto.DeviceCandidate(_Camera(b"\xff\xd8ok"), "/DCIM/Camera", "IMG_1.jpg", 4, 0, True)
    assert isinstance(photo, DevicePhoto)
    assert photo.display == "Pixel 8:/DCIM/Camera/IMG_1.jpg"
    assert photo.removable
    assert photo.read() == b"\xff\xd8ok"
    photo.device.outcome = b"\xff\xd8"
    with pytest.raises(SourceError, match="2 bytes, the device listed 4; nothing was stored"):
        photo.read()
    gone = gphoto.DeviceError(DeviceState.DISCONNECTED, "Pixel 8 was disconnected.", 7)
    photo.device.outcome = gone
    with pytest.raises(gphoto.DeviceError) as err:
        photo.read()
    # the device's own error, named for the user, keeps its state and stops the batch
    assert str(err.value) == "Pixel 8:/DCIM/Camera/IMG_1.jpg: Pixel 8 was disconnected."
    assert (err.value.state, err.value.code, err.value.stops_batch) == (
        DeviceState.DISCONNECTED,
        7,
        True,
    )
