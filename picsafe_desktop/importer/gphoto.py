"""Phones and cameras over USB (PTP/MTP) through libgphoto2, via the `gphoto2` package.

- `status()` says whether libgphoto2 loaded; if not, this source is unavailable with the reason
  and everything else keeps working.
- `list_devices()` autodetects connected cameras/phones; `Device(model, port)` opens one.
  libgphoto2's directory driver (model "Directory Browse", port "disk:/some/folder") serves a
  folder as a camera, and its virtual USB camera (`VCAMERADIR` set before `gphoto2` is first
  imported) runs the real PTP driver: tests use both, so this exact code runs without hardware.
- Photos are downloaded whole with `file_get` (partial reads are not supported by every driver).
- Errors are mapped to the situations people meet with real phones: locked, access not yet
  allowed on the phone, or held by the desktop's own MTP mount (gvfs).

libgphoto2 is not thread-safe for one camera: use a `Device` from one thread at a time.
"""

from __future__ import annotations

import logging
import os
import posixpath
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from picsafe_desktop.importer.source import (
    DevicePhoto,
    RemoveError,
    SourceError,
    is_partial_name,
    is_photo_name,
)

log = logging.getLogger(__name__)

DIRECTORY_MODEL = "Directory Browse"


class DeviceState(StrEnum):
    READY = "ready"
    LOCKED = "locked"  # no storage visible: screen locked (Android/iOS hide storage then)
    NOT_ALLOWED = "not_allowed"  # "Allow access" / "Trust this computer" not accepted yet
    HELD = "held"  # claimed by another program, usually the desktop's gvfs MTP mount
    DISCONNECTED = "disconnected"
    UNAVAILABLE = "unavailable"  # libgphoto2 cannot be loaded on this computer
    ERROR = "error"


class DeviceError(SourceError):
    """A device problem with the state the UI shows and a message that says what to do."""

    def __init__(self, state: DeviceState, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.state = state
        self.code = code  # the libgphoto2 error code, 0 when the problem was found by us
        self.stops_batch = state != DeviceState.ERROR


_gp: Any = None
_load_error: str | None = None


def _module() -> Any:
    """The `gphoto2` module, loaded once; raises DeviceError(UNAVAILABLE) with the reason."""
    global _gp, _load_error
    if _gp is None and _load_error is None:
        try:
            import gphoto2

            _gp = gphoto2
        except Exception as exc:  # noqa: BLE001 - ImportError, OSError from a missing .so, ...
            _load_error = f"{type(exc).__name__}: {exc}"
    if _gp is None:
        raise DeviceError(
            DeviceState.UNAVAILABLE,
            "Phone import over USB (libgphoto2) is not available on this computer "
            f"({_load_error}). {_what_still_works()}",
        )
    return _gp


def _what_still_works() -> str:
    # Only the Linux desktop mounts phones as folders (gvfs); elsewhere a phone has no folder.
    if os.name == "nt":
        return (
            "Phones are imported through Windows Portable Devices instead; cards, drop folders "
            "and drag-and-drop still work."
        )
    if sys.platform == "darwin":
        return (
            "Copy a phone's photos with Image Capture into the drop folder; cards, drop folders "
            "and drag-and-drop still work."
        )
    return (
        "Phones the desktop mounts itself (shown in the file manager), cards, drop folders and "
        "drag-and-drop still work."
    )


def status() -> tuple[bool, str]:
    """(available, reason): whether the libgphoto2 source can be used here."""
    try:
        gp = _module()
    except DeviceError as exc:
        return False, str(exc)
    return True, f"libgphoto2 {gp.gp_library_version(gp.GP_VERSION_SHORT)[0]}"


@dataclass(frozen=True)
class DeviceInfo:
    model: str
    port: str

    @property
    def label(self) -> str:
        return self.model


def classify(code: int, messages: list[str], label: str) -> DeviceError:
    """Turn a libgphoto2 error code and the context's messages into what the user must do."""
    gp = _module()
    text = " ".join(messages).lower()
    if code in (gp.GP_ERROR_IO_USB_CLAIM, gp.GP_ERROR_IO_LOCK) or "claim" in text:
        return DeviceError(
            DeviceState.HELD,
            f"{label}: the device is in use by another program - usually the desktop's file "
            "manager, which mounts phones automatically (gvfs). Eject it in the file manager "
            "(or run `gio mount -s mtp` and `gio mount -s gphoto2`), then try again.",
        )
    if "access denied" in text or "200f" in text:
        return DeviceError(
            DeviceState.NOT_ALLOWED,
            f"{label}: the phone has not allowed this computer access. On the phone tap "
            "'Allow' (Android: choose 'File transfer' or 'PTP' in the USB notification; "
            "iPhone: tap 'Trust' and enter the passcode), then try again.",
        )
    if code in (
        gp.GP_ERROR_IO_USB_FIND,
        gp.GP_ERROR_MODEL_NOT_FOUND,
        gp.GP_ERROR_UNKNOWN_PORT,
        gp.GP_ERROR_IO_INIT,
    ):
        return DeviceError(
            DeviceState.DISCONNECTED,
            f"{label}: the device is not connected (any more). Reconnect it and try again.",
        )
    if code == gp.GP_ERROR_CAMERA_BUSY or "busy" in text:
        return DeviceError(
            DeviceState.HELD,
            f"{label}: the device reports it is busy. Close other photo programs, keep the "
            "phone unlocked, and try again.",
        )
    if code == gp.GP_ERROR_FILE_NOT_FOUND or "no such file" in text:
        # Some drivers report a vanished file only in the message text.
        return DeviceError(
            DeviceState.ERROR, f"{label}: file not found on the device.", gp.GP_ERROR_FILE_NOT_FOUND
        )
    detail = "; ".join(messages) or gp.gp_result_as_string(code)
    return DeviceError(DeviceState.ERROR, f"{label}: device error ({detail}).", code)


def list_devices() -> list[DeviceInfo]:
    """Cameras and phones libgphoto2 can see on USB now (empty if none)."""
    gp = _module()
    found = gp.Camera.autodetect()
    return [DeviceInfo(found.get_name(i), found.get_value(i)) for i in range(found.count())]


class Device:
    """An open session with one camera/phone. Use as a context manager."""

    def __init__(self, model: str, port: str) -> None:
        self.info = DeviceInfo(model, port)
        self.gp = self._gp = _module()
        self._messages: list[str] = []
        self._context = self._gp.Context()
        # Keep the callback objects alive for the context's lifetime.
        self._callbacks = [
            self._context.set_error_func(self._on_message, None),
            self._context.set_message_func(self._on_message, None),
        ]
        self._camera = None

    def _on_message(self, _context: Any, text: str | bytes, _data: Any) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self._messages.append(text.strip())

    def _call(self, func, *args):
        """Run one libgphoto2 call; map failures to DeviceError."""
        self._messages.clear()
        try:
            return func(*args)
        except self._gp.GPhoto2Error as exc:
            raise classify(exc.code, list(self._messages), self.info.label) from exc

    def open(self) -> Device:
        gp = self._gp
        if self.info.port.startswith("disk:") and not os.path.isdir(self.info.port[5:]):
            raise DeviceError(
                DeviceState.DISCONNECTED,
                f"{self.info.port}: folder not found for the directory camera",
            )
        abilities = gp.CameraAbilitiesList()
        self._call(abilities.load, self._context)
        ports = gp.PortInfoList()
        self._call(ports.load)
        camera = gp.Camera()
        index = self._call(abilities.lookup_model, self.info.model)
        camera.set_abilities(abilities.get_abilities(index))
        index = self._call(ports.lookup_path, self.info.port)
        camera.set_port_info(ports[index])
        self._call(camera.init, self._context)
        self._camera = camera
        return self

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.exit(self._context)
            except self._gp.GPhoto2Error:
                pass  # unplugged: nothing left to release
            self._camera = None

    def __enter__(self) -> Device:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _storage_dirs(self) -> list[str]:
        try:
            infos = self._call(self._camera.get_storageinfo, self._context)
        except DeviceError as exc:
            if exc.state != DeviceState.ERROR:
                raise
            return ["/"]  # drivers without storage info: walk from the top
        dirs = []
        for info in infos:
            if info.fields & self._gp.GP_STORAGEINFO_BASE:
                dirs.append(info.basedir)
        if not infos:
            raise DeviceError(
                DeviceState.LOCKED,
                f"{self.info.label}: no storage is visible - the phone is probably locked or "
                "set to 'charging only'. Unlock it (and choose 'File transfer' if asked), keep "
                "it unlocked, and try again.",
            )
        return dirs or ["/"]

    def photos(self, *, delete_after_import: bool) -> list[DeviceCandidate]:
        """Every photo on the device's storage (walked recursively; hidden folders skipped)."""
        found: list[DeviceCandidate] = []
        for base in self._storage_dirs():
            self._walk(base, found, delete_after_import)
        return found

    def _walk(self, folder: str, found: list[DeviceCandidate], delete: bool) -> None:
        files = self._call(self._camera.folder_list_files, folder, self._context)
        for i in range(files.count()):
            name = files.get_name(i)
            if is_partial_name(name) or not is_photo_name(name):
                continue
            info = self._call(self._camera.file_get_info, folder, name, self._context)
            found.append(
                DeviceCandidate(
                    self, folder, name, int(info.file.size), int(info.file.mtime), delete
                )
            )
        folders = self._call(self._camera.folder_list_folders, folder, self._context)
        for i in range(folders.count()):
            name = folders.get_name(i)
            if not name.startswith("."):
                self._walk(posixpath.join(folder, name), found, delete)

    def download(self, folder: str, name: str) -> bytes:
        camera_file = self._call(
            self._camera.file_get, folder, name, self._gp.GP_FILE_TYPE_NORMAL, None, self._context
        )
        return bytes(memoryview(camera_file.get_data_and_size()))

    def delete(self, folder: str, name: str) -> None:
        self._call(self._camera.file_delete, folder, name, self._context)


@dataclass(eq=False)
class DeviceCandidate(DevicePhoto):
    device: Device
    folder: str
    name: str
    size: int  # type: ignore[misc]
    mtime: int
    delete_after_import: bool = False
    kind: str = field(default="gphoto2", init=False)

    def download(self) -> bytes:
        return self.device.download(self.folder, self.name)

    def remove(self, token: str) -> None:
        """Delete the photo on the device, in the same session that downloaded it.

        libgphoto2 caches the listing for the session and addresses the object it listed
        (on PTP/MTP an object handle, which a new or edited photo does not reuse), so this
        deletes the object that was read; one that vanished meanwhile counts as removed.
        """
        try:
            self.device.delete(self.folder, self.name)
        except DeviceError as exc:
            if exc.code == self.device.gp.GP_ERROR_FILE_NOT_FOUND:
                return
            raise RemoveError(
                f"{self.display}: imported and verified, but it could not be deleted from the "
                f"device ({exc}); delete it on the device"
            ) from exc

    def locator(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.device.info.model,
            "port": self.device.info.port,
            "folder": self.folder,
            "name": self.name,
            "size": self.size,
            "mtime": self.mtime,
            "removal": "delete" if self.delete_after_import else "keep",
        }
