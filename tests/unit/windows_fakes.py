"""Fakes of Windows file-system behaviour for unit tests run on Linux.

No Windows machine is available, so the Windows code paths are driven by faking what Windows
reports: zeroed `DirEntry` stats, a sharing violation (`winerror` 32), reparse tags, a drive
list from kernel32.
"""

from __future__ import annotations

import errno
import os
import types


class SharingViolation(PermissionError):
    """What Windows raises when another process holds the file (ERROR_SHARING_VIOLATION)."""

    winerror = 32

    def __init__(self, filename: object = None) -> None:
        super().__init__(
            errno.EACCES,
            "The process cannot access the file because it is being used by another process",
            filename,
        )


def zeroed(st: os.stat_result, *, keep_dev: bool = False) -> os.stat_result:
    """`st` as Windows' DirEntry.stat() (or a WebDAV drive's lstat) reports it: no inode."""
    return os.stat_result(
        (
            st.st_mode,
            0,
            st.st_dev if keep_dev else 0,
            0,
            st.st_uid,
            st.st_gid,
            st.st_size,
            int(st.st_atime),
            int(st.st_mtime),
            int(st.st_ctime),
        ),
        {
            "st_atime": st.st_atime,
            "st_mtime": st.st_mtime,
            "st_ctime": st.st_ctime,
            "st_atime_ns": st.st_atime_ns,
            "st_mtime_ns": st.st_mtime_ns,
            "st_ctime_ns": st.st_ctime_ns,
        },
    )


class WindowsDirEntry:
    """An os.DirEntry whose stat() has st_ino, st_dev and st_nlink of 0, as on Windows."""

    def __init__(self, entry: os.DirEntry) -> None:
        self._entry = entry
        self.name = entry.name
        self.path = entry.path

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return zeroed(self._entry.stat(follow_symlinks=follow_symlinks))

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def inode(self) -> int:
        return 0


class _ScandirResult(list):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def windows_scandir(real_scandir):
    def scandir(path="."):
        with real_scandir(path) as entries:
            return _ScandirResult(WindowsDirEntry(e) for e in entries)

    return scandir


IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003  # a junction


class ReparseStat:
    """A stat result carrying Windows' st_reparse_tag (a junction, seen through lstat)."""

    def __init__(self, st: os.stat_result, tag: int = IO_REPARSE_TAG_MOUNT_POINT) -> None:
        self._st = st
        self.st_reparse_tag = tag

    def __getattr__(self, name: str):
        return getattr(self._st, name)


def windows_os(**overrides) -> types.SimpleNamespace:
    """A stand-in for a module's `os` with `name == "nt"` (pathlib keeps the real one)."""
    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake.name = "nt"
    for key, value in overrides.items():
        setattr(fake, key, value)
    return fake


def patch_os(monkeypatch, *modules, **overrides) -> None:
    """Replace `os` functions as seen by `modules` only (never the real module: pytest's own
    clean-up must keep working)."""
    for module in modules:
        fake = types.SimpleNamespace(
            **{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
        )
        for key, value in overrides.items():
            setattr(fake, key, value)
        monkeypatch.setattr(module, "os", fake)


class FakeKernel32:
    """GetLogicalDrives / GetDriveTypeW / SetThreadErrorMode over a dict of letter -> type."""

    def __init__(self, drives: dict[str, int]) -> None:
        self.drives = drives
        self.error_modes: list[int] = []
        self.probes_with_errors_off: list[str] = []

    def GetLogicalDrives(self) -> int:  # noqa: N802 - the Win32 name
        mask = 0
        for letter in self.drives:
            mask |= 1 << (ord(letter) - ord("A"))
        return mask

    def GetDriveTypeW(self, root: str) -> int:  # noqa: N802
        return self.drives.get(root[0].upper(), 1)  # 1 = DRIVE_NO_ROOT_DIR

    def SetThreadErrorMode(self, mode: int, old) -> int:  # noqa: N802
        if old is not None:
            old._obj.value = self.error_modes[-1] if self.error_modes else 0
        self.error_modes.append(mode)
        return 1

    @property
    def errors_suppressed(self) -> bool:
        return bool(self.error_modes) and self.error_modes[-1] & 0x0001 != 0
