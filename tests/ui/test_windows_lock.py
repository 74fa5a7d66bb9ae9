"""Windows session lock (issue 18, finding 5), faked on Linux: the lock watcher registers for
session notifications and locks on Win+L, user switching, RDP disconnect and sleep."""

from __future__ import annotations

import ctypes

import pytest

from picsafe_desktop.ui import lock, winlock


class FakeWtsApi:
    def __init__(self) -> None:
        self.registered: list[tuple[int, int]] = []
        self.unregistered: list[int] = []

    def WTSRegisterSessionNotification(self, hwnd, flags):  # noqa: N802 - the Win32 name
        self.registered.append((hwnd, flags))
        return 1

    def WTSUnRegisterSessionNotification(self, hwnd):  # noqa: N802
        self.unregistered.append(hwnd)
        return 1


def _deliver(listener: winlock.WindowsSessionListener, message: int, wparam: int) -> None:
    msg = winlock._Msg(listener.hwnd, message, wparam, 0)
    handled = listener.filter.nativeEventFilter(b"windows_generic_MSG", ctypes.addressof(msg))
    assert handled == (False, 0)  # never swallows a message


@pytest.mark.parametrize(
    ("message", "wparam", "reason"),
    [
        (winlock.WM_WTSSESSION_CHANGE, 0x7, "session lock"),
        (winlock.WM_WTSSESSION_CHANGE, 0x2, "console disconnect"),
        (winlock.WM_WTSSESSION_CHANGE, 0x4, "remote disconnect"),
        (winlock.WM_POWERBROADCAST, winlock.PBT_APMSUSPEND, "sleep"),
    ],
)
def test_the_watcher_locks_when_windows_locks(qapp, monkeypatch, message, wparam, reason):
    wts = FakeWtsApi()
    monkeypatch.setattr(lock.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", lambda name: wts, raising=False)
    watcher = lock.SessionLockWatcher()
    seen: list[str] = []
    watcher.session_locked.connect(seen.append)
    try:
        assert "Windows session notifications" in watcher.listening
        listener = watcher.windows
        assert wts.registered == [(listener.hwnd, winlock.NOTIFY_FOR_THIS_SESSION)]
        _deliver(listener, 0x0200, 0)  # WM_MOUSEMOVE: nothing
        _deliver(listener, winlock.WM_WTSSESSION_CHANGE, 0x8)  # WTS_SESSION_UNLOCK: nothing
        assert seen == []
        _deliver(listener, message, wparam)
        assert seen == [reason]
    finally:
        watcher.windows.close()
    assert wts.unregistered == [listener.hwnd]


def test_messages_of_other_platforms_are_ignored(qapp):
    seen: list[str] = []
    flt = winlock.WindowsLockFilter(seen.append)
    assert flt.nativeEventFilter(b"xcb_generic_event_t", 0) == (False, 0)
    assert seen == []
