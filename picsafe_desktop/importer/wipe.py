"""Secure wipe of a source file after its verified import: overwrite, fsync, rename, unlink.

What this can and cannot do, honestly:

- On a plain magnetic disk or a FAT/exFAT card in a simple reader, overwriting the file's
  blocks in place with random bytes and syncing them makes the old content unrecoverable by
  normal means, and renaming to a random name before unlinking keeps the patient-revealing file
  name out of the directory entry that stays behind.
- On SSDs, eMMC/SD flash with wear levelling, copy-on-write file systems (btrfs, ZFS, APFS),
  journaling file systems that journal data, snapshots, backups or cloud-synced folders, the
  overwrite may go to *new* blocks while the old ones survive until the device reuses them.
  No user-space program can guarantee erasure there. The wipe still removes the file from every
  normal view and makes casual recovery much harder, but it is a best effort.
- The real guarantee is for data inside the vault: each item is encrypted under its own key, and
  deleting the wrapped key (crypto-shredding) destroys the photo wherever its ciphertext lies.
  Keeping plaintext out of drop folders in the first place (import promptly, use full-disk
  encryption on the PC) is what makes the drop-folder copy short-lived.

A file that cannot be written or whose folder cannot be changed (read-only card, locked file,
permissions) is never half-wiped: `WipeError` is raised before anything is touched and the
caller reports that the file must be removed by hand.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.importer.source import RemoveError

CHUNK = 1 << 20
WIPE_PREFIX = ".picsafe-wipe-"  # a dotfile, so drop-folder watchers ignore it
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must fail, not wait for a reader
_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY}


class WipeError(RemoveError):
    """The file was not wiped; the message names it and what to do."""


def wipe_name(path: Path, token: str) -> Path:
    """The random name a file is renamed to just before it is unlinked."""
    return path.with_name(WIPE_PREFIX + token)


def _overwrite(fd: int, size: int) -> None:
    # One fresh random block per file, written over every chunk: the old bytes are just as
    # gone, and the kernel's generator (17% of the import's main thread when it made every
    # byte) runs once per MiB of the first chunk only.
    os.lseek(fd, 0, os.SEEK_SET)
    block = memoryview(os.urandom(min(CHUNK, size)))
    left = size
    while left > 0:
        written = os.write(fd, block[: min(len(block), left)])
        left -= written
    os.fsync(fd)


def secure_wipe(
    path: Path,
    token: str,
    *,
    identity: tuple[int, int] | None = None,
    other_links: tuple[Path, ...] = (),
) -> None:
    """Overwrite `path` with random bytes, fsync, rename it to a random name, unlink it.

    `identity` is the (st_dev, st_ino) the caller read; if the name now points at another file
    the wipe refuses. `other_links` are further hard-link names of the same file (all inside the
    caller's folder); they are renamed and unlinked too so no name keeps the overwritten data.
    Raises `WipeError` (nothing touched) or `FileNotFoundError` (already gone).
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY | _O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WipeError(f"{path}: is a symbolic link now; not wiped", by_hand=False) from exc
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise WipeError(f"{path}: is not a regular file; not wiped", by_hand=False) from exc
        if exc.errno in _READ_ONLY_ERRNOS:
            raise WipeError(
                f"{path}: imported and verified, but the file is read-only ({exc.strerror}) "
                "and could not be wiped; delete it by hand (unlock the card's write-protect "
                "switch or ask IT for write access)"
            ) from exc
        raise WipeError(f"{path}: could not be opened for wiping: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise WipeError(f"{path}: is not a regular file; not wiped", by_hand=False)
        if identity is not None and (st.st_dev, st.st_ino) != tuple(identity):
            raise WipeError(
                f"{path}: was replaced by another file after import; the new file was left alone",
                by_hand=False,
            )
        # Refuse before overwriting if the name cannot be removed afterwards: a file with
        # random content left under its old name would help nobody.
        for name in (path, *other_links):
            if not os.access(name.parent, os.W_OK | os.X_OK):
                raise WipeError(
                    f"{name}: imported and verified, but its folder is read-only so it could not "
                    "be wiped; delete it by hand or ask IT for write access to the folder"
                )
        _overwrite(fd, st.st_size)
    except OSError as exc:
        raise WipeError(f"{path}: wiping failed ({exc.strerror}); delete it by hand") from exc
    finally:
        os.close(fd)
    for name in (path, *other_links):
        target = wipe_name(name, token)
        try:
            os.replace(name, target)
            fsync_dir(name.parent)
            os.unlink(target)
            fsync_dir(name.parent)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise WipeError(
                f"{name}: overwritten but could not be removed ({exc.strerror}); delete it by hand"
            ) from exc


def finish_wipe(path: Path, token: str, identity: tuple[int, int]) -> bool:
    """Finish a wipe interrupted by a crash. Returns True if something was left to do.

    The original name is wiped only if it still holds the same file (same device and inode);
    the random name is unlinked (it was renamed only after the overwrite was synced).
    """
    path = Path(path)
    did = False
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == tuple(identity):
        secure_wipe(path, token, identity=identity)
        did = True
    leftover = wipe_name(path, token)
    try:
        st = os.lstat(leftover)
    except FileNotFoundError:
        return did
    if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == tuple(identity):
        try:
            os.unlink(leftover)
            fsync_dir(leftover.parent)
        except OSError as exc:
            raise WipeError(f"{leftover}: could not be removed ({exc.strerror})") from exc
        did = True
    return did
