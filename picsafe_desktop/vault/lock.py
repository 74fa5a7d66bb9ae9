"""An exclusive lock file so two app instances never write one vault at the same time.

The OS releases the lock when the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from picsafe_desktop.vault.errors import VaultBusy, VaultError

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        # flock locks belong to the open file, so a second open in the same process is refused
        # too (POSIX record locks would not be).
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class VaultLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            # A vault on a read-only drive or in a folder this user may not write to.
            raise VaultError(
                f"{self.path.parent}: cannot open the vault's lock file {self.path.name} for "
                f"writing ({exc.strerror or exc}); PicSafe needs write access to the vault "
                "folder (copy a read-only backup to a writable drive first)"
            ) from None
        if not _try_lock(fd):
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
            except OSError:  # Windows: the locked byte cannot be read
                holder = ""
            finally:
                os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise VaultBusy(
                f"{self.path.parent}: the vault is open in another PicSafe Desktop "
                f"instance{who}; close that one first"
            )
        if sys.platform != "win32":  # the pid is only a hint for the message above
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
            except OSError:  # a full disk: the lock holds all the same, only the hint is lost
                pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)
