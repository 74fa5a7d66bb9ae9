"""Phones on Windows: Windows Portable Devices (MTP), through `comtypes`.

Every current Android phone and iPhone appears on Windows as a WPD device with no drive letter,
and libgphoto2 has no Windows build, so this is the phone source there. It offers the same
shape as `gphoto.py` - `status()`, `list_devices()`, `Device(info)` as a context manager with
`photos(delete_after_import=...)` - and its candidates go through the same pipeline.

Two layers:
- `WpdBackend` is the COM boundary: enumerate devices, open one, list an object's children,
  read an object's properties, read its default resource, delete it. `ComtypesBackend` does
  that with the WPD API (PortableDeviceApi.dll through comtypes; some generated wrappers pass
  preallocated arrays as [out] parameters, so those calls use the raw `__com_` methods).
- Everything above it (walking storages for photos, size checks, identity on removal, mapping
  HRESULTs to what the user must do) is plain Python, tested against a fake backend.
"""

from __future__ import annotations

import ctypes
import logging
import posixpath
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from picsafe_desktop.importer.gphoto import DeviceError, DeviceState
from picsafe_desktop.importer.source import (
    DevicePhoto,
    RemoveError,
    is_partial_name,
    is_photo_name,
)

log = logging.getLogger(__name__)

DEVICE_OBJECT = "DEVICE"  # WPD_DEVICE_OBJECT_ID: the root of every device's object tree

# HRESULTs (as unsigned) that mean something to the person at the phone
E_ACCESSDENIED = 0x80070005
E_WPD_DEVICE_IS_HUNG = 0x802A000A
HRESULT_BUSY = 0x800700AA  # ERROR_BUSY
HRESULT_NOT_FOUND = 0x80070490  # ERROR_NOT_FOUND
HRESULT_FILE_NOT_FOUND = 0x80070002
HRESULT_GEN_FAILURE = 0x8007001F  # unplugged mid-transfer
HRESULT_DEVICE_NOT_CONNECTED = 0x8007048F


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    is_folder: bool
    size: int
    modified: datetime | None = None


class WpdSession(Protocol):
    def children(self, object_id: str) -> list[str]: ...
    def info(self, object_id: str) -> ObjectInfo: ...
    def read(self, object_id: str) -> bytes: ...
    def delete(self, object_id: str) -> None: ...
    def close(self) -> None: ...


class WpdBackend(Protocol):
    def device_ids(self) -> list[str]: ...
    def friendly_name(self, device_id: str) -> str: ...
    def open(self, device_id: str) -> WpdSession: ...


class WpdError(Exception):
    """A failed COM call: `hresult` as an unsigned 32-bit number."""

    def __init__(self, hresult: int, text: str = "") -> None:
        super().__init__(f"0x{hresult & 0xFFFFFFFF:08X} {text}".strip())
        self.hresult = hresult & 0xFFFFFFFF


def classify(exc: WpdError, label: str) -> DeviceError:
    """Turn a WPD HRESULT into what the user must do."""
    code = exc.hresult
    if code == E_ACCESSDENIED:
        return DeviceError(
            DeviceState.NOT_ALLOWED,
            f"{label}: the phone does not let this computer read its photos. Unlock the phone; "
            "on Android choose 'File transfer' in the USB notification, on an iPhone tap "
            "'Trust' and enter the passcode; then try again.",
        )
    if code in (HRESULT_BUSY, E_WPD_DEVICE_IS_HUNG):
        return DeviceError(
            DeviceState.HELD,
            f"{label}: the phone is busy with another program (the Photos app, Explorer or a "
            "phone companion app). Close it, keep the phone unlocked, and try again.",
        )
    if code in (HRESULT_GEN_FAILURE, HRESULT_DEVICE_NOT_CONNECTED):
        return DeviceError(
            DeviceState.DISCONNECTED,
            f"{label}: the phone is not connected (any more). Reconnect it and try again.",
        )
    if code in (HRESULT_NOT_FOUND, HRESULT_FILE_NOT_FOUND):
        return DeviceError(DeviceState.ERROR, f"{label}: file not found on the phone.", code)
    return DeviceError(DeviceState.ERROR, f"{label}: device error ({exc}).", code)


_backend: WpdBackend | None = None
_load_error: str | None = None


def backend() -> WpdBackend:
    """The comtypes backend, loaded once; raises DeviceError(UNAVAILABLE) with the reason."""
    global _backend, _load_error
    if _backend is None and _load_error is None:
        try:
            _backend = ComtypesBackend()
        except Exception as exc:  # noqa: BLE001 - ImportError off Windows, COMError, OSError
            _load_error = f"{type(exc).__name__}: {exc}"
    if _backend is None:
        raise DeviceError(
            DeviceState.UNAVAILABLE,
            "Phone import over USB (Windows Portable Devices) is not available on this "
            f"computer ({_load_error}). Cards, drop folders and drag-and-drop still work.",
        )
    return _backend


def use_backend(new: WpdBackend | None) -> None:
    """Install a backend (tests: a fake COM layer; None: load comtypes again on next use)."""
    global _backend, _load_error
    _backend, _load_error = new, None


def status() -> tuple[bool, str]:
    try:
        backend()
    except DeviceError as exc:
        return False, str(exc)
    return True, "Windows Portable Devices"


@dataclass(frozen=True)
class DeviceInfo:
    """A WPD device; `model` and `port` mirror gphoto's DeviceInfo for the UI."""

    model: str
    port: str  # the PnP device id
    kind: str = field(default="wpd", compare=False)

    @property
    def label(self) -> str:
        return self.model


def list_devices() -> list[DeviceInfo]:
    api = backend()
    found = []
    for device_id in _call(api.device_ids, label="Windows Portable Devices"):
        try:
            name = api.friendly_name(device_id) or "Phone"
        except WpdError:
            name = "Phone"
        found.append(DeviceInfo(name, device_id))
    return found


def _call(fn, *args, label: str):
    try:
        return fn(*args)
    except WpdError as exc:
        raise classify(exc, label) from exc


class Device:
    """An open session with one phone. Use as a context manager, from one thread."""

    def __init__(self, info: DeviceInfo, api: WpdBackend | None = None) -> None:
        self.info = info
        self._api = api
        self._session: WpdSession | None = None

    def open(self) -> Device:
        api = self._api or backend()
        self._session = _call(api.open, self.info.port, label=self.info.label)
        return self

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            except WpdError:
                pass  # unplugged: nothing left to release
            self._session = None

    def __enter__(self) -> Device:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, fn, *args):
        return _call(fn, *args, label=self.info.label)

    @property
    def session(self) -> WpdSession:
        if self._session is None:
            raise DeviceError(DeviceState.DISCONNECTED, f"{self.info.label}: not open")
        return self._session

    def photos(self, *, delete_after_import: bool) -> list[WpdCandidate]:
        """Photos under each storage's DCIM folder (walked recursively, hidden folders skipped).

        A phone that shows no storage is locked or set to "charging only".
        """
        storages = self.call(self.session.children, DEVICE_OBJECT)
        if not storages:
            raise DeviceError(
                DeviceState.LOCKED,
                f"{self.info.label}: no storage is visible - the phone is probably locked or "
                "set to 'charging only'. Unlock it (and choose 'File transfer' if asked), keep "
                "it unlocked, and try again.",
            )
        found: list[WpdCandidate] = []
        for storage in storages:
            storage_name = self.call(self.session.info, storage).name
            for child in self.call(self.session.children, storage):
                info = self.call(self.session.info, child)
                if info.is_folder and info.name.upper() == "DCIM":
                    self._walk(child, f"{storage_name}/{info.name}", found, delete_after_import)
        return found

    def _walk(self, folder: str, path: str, found: list[WpdCandidate], delete: bool) -> None:
        for child in self.call(self.session.children, folder):
            info = self.call(self.session.info, child)
            if info.name.startswith("."):
                continue
            if info.is_folder:
                self._walk(child, posixpath.join(path, info.name), found, delete)
            elif is_photo_name(info.name) and not is_partial_name(info.name):
                found.append(WpdCandidate(self, child, path, info.name, info.size, delete))


@dataclass(eq=False)
class WpdCandidate(DevicePhoto):
    device: Device
    object_id: str
    folder: str
    name: str
    size: int  # type: ignore[misc]
    delete_after_import: bool = False
    kind: str = field(default="wpd", init=False)
    device_word = "phone"

    def download(self) -> bytes:
        return self.device.call(self.device.session.read, self.object_id)

    def remove(self, token: str) -> None:
        """Delete the object that was read. WPD object ids are not reused within a session, but
        the name and size are checked again so a photo edited meanwhile is left alone."""
        session = self.device.session
        try:
            info = session.info(self.object_id)
        except WpdError as exc:
            if exc.hresult in (HRESULT_NOT_FOUND, HRESULT_FILE_NOT_FOUND):
                return  # already gone
            raise self._remove_error(exc) from exc
        if (info.name, info.size) != (self.name, self.size):
            raise RemoveError(
                f"{self.display}: changed on the phone after import; left alone", by_hand=False
            )
        try:
            session.delete(self.object_id)
        except WpdError as exc:
            if exc.hresult in (HRESULT_NOT_FOUND, HRESULT_FILE_NOT_FOUND):
                return
            raise self._remove_error(exc) from exc

    def _remove_error(self, exc: WpdError) -> RemoveError:
        return RemoveError(
            f"{self.display}: imported and verified, but it could not be deleted from the "
            f"phone ({classify(exc, self.device.info.label)}); delete it on the phone"
        )

    def locator(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.device.info.model,
            "port": self.device.info.port,
            "object_id": self.object_id,
            "folder": self.folder,
            "name": self.name,
            "size": self.size,
            "removal": "delete" if self.delete_after_import else "keep",
        }


# ---- the real COM layer (Windows only; not run on Linux) ---------------------------------------

# PROPERTYKEYs: (fmtid, pid) from PortableDevice.h
_OBJECT_FMTID = "{EF6B490D-5CD8-437A-AFFC-DA8B60EE4A3C}"
_FOLDER_TYPES = {
    "{27E2E392-A111-48E0-AB0C-E17705A05F85}",  # WPD_CONTENT_TYPE_FOLDER
    "{99ED0160-17FF-4C44-9D98-1D7A6F941921}",  # WPD_CONTENT_TYPE_FUNCTIONAL_OBJECT (storage)
}
_RESOURCE_DEFAULT = ("{E81E79BE-34F0-41BF-B53F-F1A06AE87842}", 0)
_VT_ERROR, _VT_LPWSTR, _VT_UI8 = 10, 31, 21
_STGM_READ = 0
_DELETE_NO_RECURSION = 0


class ComtypesBackend:
    """WPD through comtypes. Needs Windows; built with the COM wrappers comtypes generates from
    PortableDeviceApi.dll and PortableDeviceTypes.dll (collected into the bundle at build time).
    """

    def __init__(self) -> None:
        import comtypes  # noqa: F401 - ImportError off Windows: the source is unavailable
        import comtypes.client as cc

        cc.GetModule("portabledeviceapi.dll")
        cc.GetModule("portabledevicetypes.dll")
        import comtypes.gen.PortableDeviceApiLib as port
        import comtypes.gen.PortableDeviceTypesLib as types

        self._cc, self._port, self._types = cc, port, types
        self._manager = self._create(port.PortableDeviceManager, port.IPortableDeviceManager)

    def _create(self, coclass: Any, interface: Any) -> Any:
        import comtypes

        return self._cc.CreateObject(
            coclass, clsctx=comtypes.CLSCTX_INPROC_SERVER, interface=interface
        )

    def _key(self, fmtid: str, pid: int) -> Any:
        import comtypes

        key = self._port._tagpropertykey()
        key.fmtid = comtypes.GUID(fmtid)
        key.pid = pid
        return ctypes.pointer(key)

    def device_ids(self) -> list[str]:
        with _com_errors():
            self._manager.RefreshDeviceList()
            count = ctypes.c_ulong(0)
            self._manager.GetDevices(ctypes.POINTER(ctypes.c_wchar_p)(), ctypes.pointer(count))
            if count.value == 0:
                return []
            ids = (ctypes.c_wchar_p * count.value)()
            self._manager.GetDevices(
                ctypes.cast(ids, ctypes.POINTER(ctypes.c_wchar_p)), ctypes.pointer(count)
            )
            return [i for i in ids[: count.value] if i]

    def friendly_name(self, device_id: str) -> str:
        with _com_errors():
            length = ctypes.c_ulong(0)
            self._manager.GetDeviceFriendlyName(
                device_id, ctypes.POINTER(ctypes.c_ushort)(), ctypes.pointer(length)
            )
            buf = ctypes.create_unicode_buffer(length.value)
            self._manager.GetDeviceFriendlyName(
                device_id, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)), ctypes.pointer(length)
            )
            return buf.value

    def open(self, device_id: str) -> _ComtypesSession:
        with _com_errors():
            client = self._create(
                self._types.PortableDeviceValues, self._port.IPortableDeviceValues
            )
            device = self._create(self._port.PortableDevice, self._port.IPortableDevice)
            device.Open(device_id, client)
            return _ComtypesSession(self, device)


class _ComtypesSession:
    def __init__(self, api: ComtypesBackend, device: Any) -> None:
        self._api = api
        self._device = device
        self._content = device.Content()
        self._properties = self._content.Properties()
        keys = api._create(
            api._types.PortableDeviceKeyCollection, api._port.IPortableDeviceKeyCollection
        )
        self._name, self._original, self._type, self._size = (
            api._key(_OBJECT_FMTID, 4),  # WPD_OBJECT_NAME
            api._key(_OBJECT_FMTID, 12),  # WPD_OBJECT_ORIGINAL_FILE_NAME
            api._key(_OBJECT_FMTID, 7),  # WPD_OBJECT_CONTENT_TYPE
            api._key(_OBJECT_FMTID, 11),  # WPD_OBJECT_SIZE
        )
        for key in (self._name, self._original, self._type, self._size):
            keys.Add(key)
        self._keys = keys

    def children(self, object_id: str) -> list[str]:
        with _com_errors():
            enum = self._content.EnumObjects(ctypes.c_ulong(0), object_id, None)
            found: list[str] = []
            while True:
                block = (ctypes.c_wchar_p * 32)()
                fetched = ctypes.pointer(ctypes.c_ulong(0))
                # the generated Next() treats the preallocated array as [out]: call it raw
                enum._IEnumPortableDeviceObjectIDs__com_Next(
                    ctypes.c_ulong(32),
                    ctypes.cast(block, ctypes.POINTER(ctypes.c_wchar_p)),
                    fetched,
                )
                if fetched.contents.value == 0:
                    return found
                found += [block[i] for i in range(fetched.contents.value)]

    def _string(self, values: Any, key: Any) -> str | None:
        value = values.GetValue(key)
        if value.vt != _VT_LPWSTR:
            return None
        return values.GetStringValue(key)

    def info(self, object_id: str) -> ObjectInfo:
        with _com_errors():
            values = self._properties.GetValues(object_id, self._keys)
            name = self._string(values, self._original) or self._string(values, self._name) or ""
            kind = str(values.GetGuidValue(self._type)).upper()
            size_value = values.GetValue(self._size)
            size = (
                values.GetUnsignedLargeIntegerValue(self._size) if size_value.vt == _VT_UI8 else 0
            )
            return ObjectInfo(name, kind in _FOLDER_TYPES, int(size))

    def read(self, object_id: str) -> bytes:
        with _com_errors():
            resources = self._content.Transfer()
            optimal = ctypes.pointer(ctypes.c_ulong(0))
            optimal, stream = resources.GetStream(
                object_id, self._api._key(*_RESOURCE_DEFAULT), ctypes.c_uint(_STGM_READ), optimal
            )
            block = max(optimal.contents.value, 1 << 16)
            parts = []
            while True:
                buffer, length = stream.RemoteRead(block)
                if length == 0:
                    return b"".join(parts)
                parts.append(bytes(bytearray(buffer)[:length]))

    def delete(self, object_id: str) -> None:
        with _com_errors():
            api = self._api
            ids = api._create(
                api._types.PortableDevicePropVariantCollection,
                api._port.IPortableDevicePropVariantCollection,
            )
            variant = api._port.tag_inner_PROPVARIANT()
            variant.vt = _VT_LPWSTR
            inner = getattr(variant, "__MIDL____MIDL_itf_PortableDeviceApi_0001_00000001")
            inner.pwszVal = ctypes.c_wchar_p(object_id)
            ids.Add(ctypes.pointer(variant))
            self._content.Delete(_DELETE_NO_RECURSION, ids, None)

    def close(self) -> None:
        with _com_errors():
            self._device.Close()


class _com_errors:  # noqa: N801 - used as a context manager
    """Turn comtypes' COMError into WpdError (the layer above never sees comtypes)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and type(exc).__name__ == "COMError":
            raise WpdError(int(exc.hresult), str(getattr(exc, "text", "") or "")) from exc
        return False
