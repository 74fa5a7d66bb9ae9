"""Why a write to the vault failed, told apart by result code, in words a ward user can act on.

The vault raises `VaultError`s whose wording is about the vault itself; an import needs to say
what happened to *this batch*: which photos are safe in the vault, which were left in place,
and what to do. A full disk and a read-only folder are not damage - calling them "damaged,
restore from backup" sent people to restore an old index, which loses photos. So the cause is
read from the SQLite result code (`sqlite3.Error.sqlite_errorcode`) or the OS errno found in the
exception chain, never from the message text.
"""

from __future__ import annotations

import errno
import os
import sqlite3

from picsafe_desktop.vault.errors import DiskFull, IntegrityError, VaultBusy

FULL, READ_ONLY, IO, DAMAGED, BUSY, OTHER = "full", "read-only", "io", "damaged", "busy", "other"

# Primary SQLite result codes (the low byte of an extended code).
_SQLITE = {
    13: FULL,  # SQLITE_FULL
    8: READ_ONLY,  # SQLITE_READONLY
    3: READ_ONLY,  # SQLITE_PERM
    23: READ_ONLY,  # SQLITE_AUTH
    14: READ_ONLY,  # SQLITE_CANTOPEN
    10: IO,  # SQLITE_IOERR
    11: DAMAGED,  # SQLITE_CORRUPT
    26: DAMAGED,  # SQLITE_NOTADB
    5: BUSY,  # SQLITE_BUSY
    6: BUSY,  # SQLITE_LOCKED
}
_ERRNO = {
    errno.ENOSPC: FULL,
    getattr(errno, "EDQUOT", errno.ENOSPC): FULL,
    errno.EROFS: READ_ONLY,
    errno.EACCES: READ_ONLY,
    errno.EPERM: READ_ONLY,
    errno.EIO: IO,
}

_ADVICE = {
    FULL: "the disk holding the vault is full; free space on that drive, then try again",
    READ_ONLY: "the vault folder cannot be written (read-only, or permission denied); make it "
    "writable for this user (ask IT), then try again",
    IO: "the disk holding the vault refused a write (it may have become read-only or be "
    "failing); ask IT to check that drive, then try again",
    DAMAGED: "the vault index could not be read back; run `picsafe-desktop vault verify` and "
    "call IT before anything else (do not replace any file in the vault folder)",
    BUSY: "another program is holding the vault; close it (or wait a minute), then try again",
    OTHER: "the vault could not store it",
}


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


# SQLite reports some writes that failed for lack of space (growing the WAL index in shared
# memory, a short write) as a plain I/O error: with less than this free on the vault's drive,
# an I/O error is taken to be the full disk it almost certainly is.
NEARLY_FULL = 1 << 20


def classify(exc: BaseException, where: str | os.PathLike[str] | None = None) -> str:
    """FULL, READ_ONLY, IO, DAMAGED, BUSY or OTHER for an exception from a vault write.

    `where` (the vault folder) lets an I/O error on a nearly full drive count as FULL.
    """
    kind = _classify(exc)
    if kind == IO and where is not None:
        try:
            st = os.statvfs(where)
        except (OSError, AttributeError):  # no statvfs on Windows
            return kind
        if st.f_bavail * st.f_frsize < NEARLY_FULL:
            return FULL
    return kind


def _classify(exc: BaseException) -> str:
    for link in _chain(exc):
        if isinstance(link, sqlite3.Error):
            code = getattr(link, "sqlite_errorcode", None)
            if code is not None and (code & 0xFF) in _SQLITE:
                return _SQLITE[code & 0xFF]
        if isinstance(link, OSError) and link.errno in _ERRNO:
            return _ERRNO[link.errno]
    for link in _chain(exc):
        if isinstance(link, DiskFull):
            return FULL
        if isinstance(link, VaultBusy):
            return BUSY
        if isinstance(link, IntegrityError):
            return DAMAGED
    return OTHER


def advice(exc: BaseException, where: str | os.PathLike[str] | None = None) -> str:
    """What happened and what to do, without the vault's own (possibly misleading) wording."""
    return _ADVICE[classify(exc, where)]


def is_fault(exc: BaseException, where: str | os.PathLike[str] | None = None) -> bool:
    """True when the vault's surroundings (disk, permissions, another program) are at fault,
    not the vault's content: then nothing is damaged and no repair or restore is called for."""
    return classify(exc, where) in (FULL, READ_ONLY, IO, BUSY)
