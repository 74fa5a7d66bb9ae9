"""File-system behaviour that differs on Windows, in one Qt-free place.

- Sharing violations: Windows refuses to rename or delete a file while another program holds
  it without FILE_SHARE_DELETE (Defender scanning a new file, the search indexer, OneDrive,
  Explorer's thumbnailer, Acrobat showing a PDF). Those holds are short, so renames and deletes
  are retried with back-off, and what still fails is reported as "in use", not "read-only".
- Identity: `st_ino` of 0 means the file system gave no identity (Windows `DirEntry.stat()`,
  some mapped drives even through `lstat`). Such a file is never grouped with others by its
  inode and never wiped on the strength of it.
- Junctions and other name-surrogate reparse points are links: never followed.
- Long paths: past MAX_PATH (260) a path needs the `\\\\?\\` prefix.
- Drives: only removable drive letters are polled for cards, with "No disk" error boxes off;
  a vault on a remote drive (SMB share, mapped letter, NFS/CIFS on Linux) is refused.

Everything here is a no-op or a plain pass-through on POSIX except where noted, so callers do
not branch on the platform themselves. Tests fake `os.name`, `winerror` and the kernel32 calls.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import stat
import string
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
SHARING_VIOLATIONS = frozenset({32, 33})
#: Back-off for a file held by a scanner or indexer: about 3 s in all.
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
IN_USE_HINT = (
    "it is open in another program (an antivirus scan, the search indexer, OneDrive, Explorer's "
    "preview or a viewer); close that program or wait a moment, then try again"
)

_REPARSE_NAME_SURROGATE = 0x20000000  # symlinks and junctions (mount points) carry this bit
_MAX_PATH = 260

# GetDriveTypeW results
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
# SetThreadErrorMode flags: no "There is no disk in the drive" message box from a probe
SEM_FAILCRITICALERRORS = 0x0001
SEM_NOOPENFILEERRORBOX = 0x8000

#: file systems that are network shares on Linux/macOS (SQLite WAL is unsafe on them)
NETWORK_FS_TYPES = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "afpfs", "9p", "davfs"}
)


def is_windows() -> bool:
    return os.name == "nt"


def in_use(exc: BaseException) -> bool:
    """Whether `exc` is Windows' "the file is being used by another process"."""
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in SHARING_VIOLATIONS


def retry_in_use(
    fn: Callable[..., T],
    *args: Any,
    delays: tuple[float, ...] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call `fn(*args)`, retrying with back-off while it fails with a sharing violation."""
    for delay in RETRY_DELAYS if delays is None else delays:
        try:
            return fn(*args)
        except OSError as exc:
            if not in_use(exc):
                raise
            (sleep or time.sleep)(delay)
    return fn(*args)


def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """`os.replace`, patient with a file another program holds for a moment."""
    retry_in_use(os.replace, long_path(src), long_path(dst))


def unlink(path: str | os.PathLike[str]) -> None:
    """`os.unlink`, patient with a file another program holds for a moment."""
    retry_in_use(os.unlink, long_path(path))


# Files whose content is already destroyed (overwritten, key gone) but whose name could not be
# removed because another program held it: retried on later removals and at exit.
_deferred: set[str] = set()
_deferred_lock = threading.Lock()


def remove_or_defer(path: str | os.PathLike[str]) -> bool:
    """Unlink `path`; on a lasting sharing violation keep it for a later try. True if removed.

    Only for files whose content no longer matters (an overwritten shredded blob): the caller
    has done its duty, a leftover name must not turn into an error after the key is gone.
    """
    retry_deferred()
    try:
        unlink(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        if not in_use(exc):
            raise
        with _deferred_lock:
            _deferred.add(os.fspath(path))
        log.warning("a removed file is held by another program; its deletion is deferred")
        return False
    return True


def retry_deferred() -> int:
    """Try the deferred removals again; return how many are still pending."""
    with _deferred_lock:
        pending = list(_deferred)
    for name in pending:
        try:
            os.unlink(long_path(name))
        except FileNotFoundError:
            pass
        except OSError:
            continue
        with _deferred_lock:
            _deferred.discard(name)
    with _deferred_lock:
        return len(_deferred)


atexit.register(retry_deferred)  # the holder (a scanner) has usually let go by then


def deferred() -> set[str]:
    with _deferred_lock:
        return set(_deferred)


def long_path(path: str | os.PathLike[str]) -> str:
    """The path in a form Windows accepts past MAX_PATH (`\\\\?\\` prefix); unchanged elsewhere."""
    text = os.fspath(path)
    if not is_windows() or len(text) < _MAX_PATH - 12 or text.startswith("\\\\?\\"):
        return text
    text = text.replace("/", "\\")
    if text.startswith("\\\\"):  # \\server\share\... -> \\?\UNC\server\share\...
        return "\\\\?\\UNC\\" + text[2:]
    if len(text) >= 3 and text[1:3] == ":\\":
        return "\\\\?\\" + text
    return text  # relative: the caller's problem, and rare (every path here is absolute)


# ---- identity ---------------------------------------------------------------------------------


def identity_known(st: os.stat_result) -> bool:
    """False when the file system reported no file id (inode 0): never group or wipe on it."""
    return st.st_ino != 0


def is_link_like(st: os.stat_result) -> bool:
    """A symbolic link or a Windows junction / other name-surrogate reparse point."""
    if stat.S_ISLNK(st.st_mode):
        return True
    tag = getattr(st, "st_reparse_tag", 0) or 0
    return bool(tag & _REPARSE_NAME_SURROGATE)


# ---- drives -----------------------------------------------------------------------------------


def _kernel32() -> Any:
    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


@contextlib.contextmanager
def no_disk_dialogs(kernel32: Any = None) -> Iterator[None]:
    """Suppress Windows' "There is no disk in the drive" box for probes on this thread."""
    if kernel32 is None:
        kernel32 = _kernel32()
    old = ctypes.c_uint(0)
    kernel32.SetThreadErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX, ctypes.byref(old))
    try:
        yield
    finally:
        kernel32.SetThreadErrorMode(old.value, None)


def removable_drive_roots(kernel32: Any = None) -> list[Path]:
    """Drive letters D: to Z: that are removable media (card readers, USB sticks, cameras).

    Fixed disks, CD drives and mapped network drives are never polled: a home drive `H:\\DCIM`
    must not be offered as a card and wiped. A and B are floppy letters; probing them stalls.
    """
    if kernel32 is None:
        kernel32 = _kernel32()
    mask = kernel32.GetLogicalDrives()
    roots = []
    for index, letter in enumerate(string.ascii_uppercase):
        if index < 3 or not mask & (1 << index):
            continue
        root = f"{letter}:\\"
        if kernel32.GetDriveTypeW(root) == DRIVE_REMOVABLE:
            roots.append(Path(root))
    return roots


def _drive_root(path: Path) -> str | None:
    text = os.fspath(path)
    if len(text) >= 2 and text[1] == ":":
        return text[0].upper() + ":\\"
    return None


def is_network_path(
    path: str | os.PathLike[str],
    *,
    kernel32: Any = None,
    mounts: str | None = None,
) -> bool:
    """Whether `path` lives on a network share (UNC path, mapped drive, NFS/CIFS/sshfs mount)."""
    target = Path(os.path.abspath(os.fspath(path)))
    if is_windows():
        text = os.fspath(target)
        if text.startswith(("\\\\", "//")) and not text.startswith("\\\\?\\"):
            return True
        if text.startswith("\\\\?\\UNC\\"):
            return True
        root = _drive_root(target)
        if root is None:
            return False
        if kernel32 is None:
            kernel32 = _kernel32()
        return kernel32.GetDriveTypeW(root) == DRIVE_REMOTE
    if mounts is None:
        try:
            with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
                mounts = f.read()
        except OSError:
            return False
    best, best_type = "", ""
    text = os.fspath(target)
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = text == point or text.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type in NETWORK_FS_TYPES


def network_vault_problem(root: str | os.PathLike[str]) -> str | None:
    """Why a vault must not live at `root` (a network share), or None.

    SQLite's write-ahead log needs shared memory between processes on one machine; over SMB or
    NFS locks and that memory are unreliable, and an index can be corrupted silently.
    """
    if not is_network_path(root):
        return None
    return (
        f"{os.fspath(root)}: is on a network drive; a vault must be on a disk of this PC (its "
        "database is not safe over a network share). Choose a local folder - back it up to the "
        "network instead (docs/deployment.md, Backup)"
    )
