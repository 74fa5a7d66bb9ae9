"""Lock when Windows locks: Win+L, fast user switching, a remote-desktop disconnect, sleep.

Windows has no D-Bus: it tells a window. A hidden native window registers for session
notifications (`WTSRegisterSessionNotification`), and a `QAbstractNativeEventFilter` watches
every message the app receives for
- `WM_WTSSESSION_CHANGE` with lock, console/remote disconnect or log-off, and
- `WM_POWERBROADCAST` with `PBT_APMSUSPEND` (sent to every top-level window before sleep),
calling back with a reason the lock code already understands. KeePassXC's Windows screen-lock
listener works the same way.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractNativeEventFilter, QCoreApplication
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

WM_WTSSESSION_CHANGE = 0x02B1
WM_POWERBROADCAST = 0x0218
PBT_APMSUSPEND = 0x0004
NOTIFY_FOR_THIS_SESSION = 0

_SESSION_REASONS = {
    0x2: "console disconnect",  # WTS_CONSOLE_DISCONNECT: fast user switching
    0x4: "remote disconnect",  # WTS_REMOTE_DISCONNECT
    0x6: "log off",  # WTS_SESSION_LOGOFF
    0x7: "session lock",  # WTS_SESSION_LOCK: Win+L, Ctrl+Alt+Del > Lock
}


def lock_reason(message: int, wparam: int) -> str | None:
    """The reason to lock for one window message, or None."""
    if message == WM_WTSSESSION_CHANGE:
        return _SESSION_REASONS.get(wparam)
    if message == WM_POWERBROADCAST and wparam == PBT_APMSUSPEND:
        return "sleep"
    return None


class _Msg(ctypes.Structure):
    """The leading fields of Win32 MSG (hwnd, message, wParam, lParam), 64-bit layout."""

    _fields_ = [
        ("hwnd", ctypes.c_void_p),
        ("message", ctypes.c_uint),
        ("wParam", ctypes.c_size_t),
        ("lParam", ctypes.c_ssize_t),
    ]


class WindowsLockFilter(QAbstractNativeEventFilter):
    """Calls `on_lock(reason)` for the messages above; never swallows a message."""

    def __init__(self, on_lock: Callable[[str], None]) -> None:
        super().__init__()
        self._on_lock = on_lock

    def nativeEventFilter(self, event_type, message) -> tuple[bool, int]:  # noqa: N802
        if bytes(event_type) in (b"windows_generic_MSG", b"windows_dispatcher_MSG"):
            try:
                msg = _Msg.from_address(int(message))
                reason = lock_reason(msg.message, msg.wParam)
            except (TypeError, ValueError):
                reason = None
            if reason:
                log.info("Windows reported %s: locking", reason)
                self._on_lock(reason)
        return False, 0


class WindowsSessionListener:
    """Owns the hidden window, its registration and the filter; `close()` undoes all three."""

    def __init__(self, on_lock: Callable[[str], None], wtsapi32: Any = None) -> None:
        self.filter = WindowsLockFilter(on_lock)
        QCoreApplication.instance().installNativeEventFilter(self.filter)
        # A native window that is never shown: the session notifications are sent to it.
        self._window = QWidget()
        self._window.setObjectName("picsafeSessionNotifications")
        self.hwnd = int(self._window.winId())
        self._wts = wtsapi32 if wtsapi32 is not None else ctypes.WinDLL("wtsapi32")  # type: ignore[attr-defined]
        self.registered = bool(
            self._wts.WTSRegisterSessionNotification(self.hwnd, NOTIFY_FOR_THIS_SESSION)
        )
        if not self.registered:
            log.warning(
                QCoreApplication.translate(
                    "WindowsSessionListener",
                    "Windows session notifications unavailable; idle lock still applies",
                )
            )

    def close(self) -> None:
        app = QCoreApplication.instance()
        if app is not None:
            app.removeNativeEventFilter(self.filter)
        if self.registered:
            self._wts.WTSUnRegisterSessionNotification(self.hwnd)
            self.registered = False
        self._window.deleteLater()
