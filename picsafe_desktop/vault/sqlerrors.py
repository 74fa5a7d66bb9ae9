"""SQLite errors told apart by their result code, each with its own message and fix.

Matching words in SQLite's messages called a full disk "damaged" (and advised restoring an
older index, which destroys photos); the primary result code says what happened.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from picsafe_desktop.vault.errors import (
    DiskFull,
    IndexBusy,
    IndexIOError,
    IndexReadOnly,
    IntegrityError,
    VaultError,
)

# Primary result codes (https://sqlite.org/rescode.html); extended codes carry them in the
# low byte (SQLITE_IOERR_WRITE = SQLITE_IOERR | 3 << 8).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26
SQLITE_CONSTRAINT = 19


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


# Below this much free space an I/O error is taken for a full drive: SQLite reports a drive
# that cannot grow the WAL index (-shm) as SQLITE_IOERR_SHMSIZE, not SQLITE_FULL.
NEARLY_FULL = 1024 * 1024


def drive_state(path: object) -> str | None:
    """ "full" or "read-only" when the drive holding `path` is, else None (or unknown)."""
    folder = Path(str(path))
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        statvfs = getattr(os, "statvfs", None)  # POSIX; Windows says EROFS/ENOSPC itself
        if statvfs is not None and statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1):
            return "read-only"
        if shutil.disk_usage(folder).free < NEARLY_FULL:
            return "full"
    except OSError:
        return None
    return None


def classify(exc: sqlite3.Error, path: object, *, unchanged: bool = True) -> VaultError:
    """The VaultError for `exc` raised while using the index at `path`."""
    code = primary_code(exc)
    if code in (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY):
        code = {"full": SQLITE_FULL, "read-only": SQLITE_READONLY}.get(drive_state(path), code)
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    after = (
        "the vault is unchanged" if unchanged else "check it with `picsafe-desktop vault verify`"
    )
    if code == SQLITE_FULL:
        return DiskFull(
            f"{path}: the disk is full; free space on that drive (move or delete other files "
            f"there) and retry ({after})"
        )
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return IndexBusy(
            f"{path}: the vault index is locked by another program ({name}); close programs "
            f"that have it open (backup or sync tools, database browsers) and retry ({after})"
        )
    if code == SQLITE_READONLY:
        return IndexReadOnly(
            f"{path}: the vault index cannot be written ({name}); the drive or the file is "
            "read-only: give this user write access to the vault folder (or copy the vault to "
            f"a writable drive) and retry ({after})"
        )
    if code in (SQLITE_IOERR, SQLITE_CANTOPEN):
        return IndexIOError(
            f"{path}: the drive reported an input/output error ({name}); check that the drive "
            f"is connected, has free space and is not failing, then retry ({after})"
        )
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return IntegrityError(
            f"{path}: the vault index is damaged ({name}); do not delete or replace any file in "
            "the vault folder: run `picsafe-desktop vault verify` and contact IT (an older "
            "copy of the index must not simply be put back: photos stored since would be lost)"
        )
    if code == SQLITE_CONSTRAINT:
        return IntegrityError(
            f"{path}: the vault index is inconsistent ({name}); run `picsafe-desktop vault "
            "verify` and contact IT"
        )
    return VaultError(
        f"{path}: the vault index could not be used ({name}: {exc}); retry, and run "
        f"`picsafe-desktop vault verify` if it happens again ({after})"
    )
