"""Secure wipe of a source file after its verified import: rename, overwrite, fsync, unlink.

What this can and cannot do, honestly:

- On a plain magnetic disk or a FAT/exFAT card in a simple reader, overwriting the file's
  blocks in place with random bytes and syncing them makes the old content unrecoverable by
  normal means, and renaming to a random name first keeps the patient-revealing file name out
  of the directory entry that stays behind.
- On SSDs, eMMC/SD flash with wear levelling, copy-on-write file systems (btrfs, ZFS, APFS),
  journaling file systems that journal data, snapshots, backups or cloud-synced folders, the
  overwrite may go to *new* blocks while the old ones survive until the device reuses them.
  No user-space program can guarantee erasure there. The wipe still removes the file from every
  normal view and makes casual recovery much harder, but it is a best effort.
- The real guarantee is for data inside the vault: each item is encrypted under its own key, and
  deleting the wrapped key (crypto-shredding) destroys the photo wherever its ciphertext lies.
  Keeping plaintext out of drop folders in the first place (import promptly, use full-disk
  encryption on the PC) is what makes the drop-folder copy short-lived.

The order is rename, then overwrite, then unlink, because only trying proves a name can be
removed: `os.access` ignores folder ACLs on Windows, and a share that allows writing but not
deleting would otherwise be left holding random bytes under a patient's file name. A file whose
name cannot be changed (read-only card, such a share, a file another program holds) is never
touched: `WipeError` is raised with every name as it was and the caller reports that the file
must be removed by hand. A file the file system gives no identity (inode 0: some mapped drives)
is never wiped, since PicSafe cannot prove it is still the file it imported.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from pathlib import Path

from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.importer.source import RemoveError
from picsafe_desktop.winfs import (
    IN_USE_HINT,
    identity_known,
    in_use,
    is_link_like,
    long_path,
    replace,
    retry_in_use,
    unlink,
)

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
    """The random name a file is renamed to before it is overwritten and unlinked.

    Derived from the token and the old name so two hard links in one folder get two names
    (renaming one link onto another of the same file does nothing); short, so it stays within
    MAX_PATH wherever the original did.
    """
    name = os.fsencode(path.name)  # not .encode(): POSIX names need not be UTF-8
    tag = hashlib.sha256(token.encode() + b"\0" + name).hexdigest()[:8]
    return path.with_name(f"{WIPE_PREFIX}{token[:12]}-{tag}")


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


def _unknown_identity(path: Path) -> WipeError:
    return WipeError(
        f"{path}: imported and verified, but this drive gives files no stable identity (a "
        "mapped network or cloud drive), so PicSafe cannot prove it would wipe the same file; "
        "delete it by hand"
    )


def _not_removable(name: Path, exc: OSError) -> WipeError:
    if in_use(exc):
        return WipeError(f"{name}: imported and verified, but it could not be wiped: {IN_USE_HINT}")
    if exc.errno in _READ_ONLY_ERRNOS:
        return WipeError(
            f"{name}: imported and verified, but this user may not delete files in its folder "
            f"({exc.strerror}: a write-protected card, or a share that allows writing but not "
            "deleting), so it was left untouched; delete it by hand or ask IT for delete access"
        )
    return WipeError(f"{name}: could not be renamed for wiping ({exc.strerror}); left untouched")


def _check(path: Path, identity: tuple[int, int] | None) -> os.stat_result:
    """lstat `path` and refuse links, non-files, replaced files and files without identity."""
    st = os.lstat(long_path(path))  # FileNotFoundError: already gone, the caller knows
    if is_link_like(st):
        raise WipeError(f"{path}: is a symbolic link now; not wiped", by_hand=False)
    if not stat.S_ISREG(st.st_mode):
        raise WipeError(f"{path}: is not a regular file; not wiped", by_hand=False)
    if not identity_known(st) or (identity is not None and identity[1] == 0):
        raise _unknown_identity(path)
    if identity is not None and (st.st_dev, st.st_ino) != tuple(identity):
        raise WipeError(
            f"{path}: was replaced by another file after import; the new file was left alone",
            by_hand=False,
        )
    return st


def _overwrite_file(target: Path, expected: os.stat_result, shown: Path) -> None:
    """Overwrite `target` (already under its random name) if it is still `expected`."""
    flags = os.O_WRONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY | _O_CLOEXEC
    fd = retry_in_use(os.open, long_path(target), flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (
            expected.st_dev,
            expected.st_ino,
        ):
            raise WipeError(
                f"{shown}: was replaced by another file while wiping; left alone", by_hand=False
            )
        _overwrite(fd, st.st_size)
    finally:
        os.close(fd)


def _undo(moved: list[tuple[Path, Path]]) -> None:
    """Put renamed names back (best effort: a name that exists again is not clobbered)."""
    for name, target in reversed(moved):
        with contextlib.suppress(OSError):
            if not os.path.lexists(long_path(name)):
                replace(target, name)


def secure_wipe(
    path: Path,
    token: str,
    *,
    identity: tuple[int, int] | None = None,
    other_links: tuple[Path, ...] = (),
) -> None:
    """Rename `path` (and its other links) to random names, overwrite, fsync, unlink.

    `identity` is the (st_dev, st_ino) the caller read; if the name now points at another file
    the wipe refuses. `other_links` are further hard-link names of the same file (all inside the
    caller's folder); they are renamed and unlinked too so no name keeps the overwritten data.
    Raises `WipeError` (every name left as it was, unless the message says otherwise) or
    `FileNotFoundError` (already gone).
    """
    path = Path(path)
    st = _check(path, identity)
    moved: list[tuple[Path, Path]] = []
    for name in (path, *map(Path, other_links)):
        target = wipe_name(name, token)
        try:
            replace(name, target)
        except FileNotFoundError:
            if name == path:
                raise
            continue  # another link already gone
        except OSError as exc:
            _undo(moved)
            raise _not_removable(name, exc) from exc
        moved.append((name, target))
    try:
        _overwrite_file(moved[0][1], st, path)
    except WipeError:
        _undo(moved)
        raise
    except OSError as exc:
        _undo(moved)
        if exc.errno == errno.ELOOP:
            raise WipeError(f"{path}: is a symbolic link now; not wiped", by_hand=False) from exc
        if in_use(exc) or exc.errno in _READ_ONLY_ERRNOS:
            raise _not_removable(path, exc) from exc
        raise WipeError(f"{path}: wiping failed ({exc.strerror}); delete it by hand") from exc
    for name, target in moved:
        try:
            unlink(target)
            fsync_dir(name.parent)
        except FileNotFoundError:
            continue
        except OSError as exc:
            why = IN_USE_HINT if in_use(exc) else exc.strerror
            raise WipeError(
                f"{target}: overwritten with random bytes under this name, but it could not be "
                f"removed ({why}); delete it by hand"
            ) from exc


def finish_wipe(path: Path, token: str, identity: tuple[int, int]) -> bool:
    """Finish a wipe interrupted by a crash. Returns True if something was left to do.

    The original name is wiped only if it still holds the same file (same device and inode);
    the random name, if it holds the same file, is overwritten (the crash may have come between
    the rename and the overwrite) and unlinked.
    """
    path = Path(path)
    if identity[1] == 0:
        raise _unknown_identity(path)
    did = False
    try:
        st = os.lstat(long_path(path))
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == tuple(identity):
        secure_wipe(path, token, identity=identity)
        did = True
    leftover = wipe_name(path, token)
    try:
        st = os.lstat(long_path(leftover))
    except FileNotFoundError:
        return did
    if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == tuple(identity):
        try:
            _overwrite_file(leftover, st, leftover)
            unlink(leftover)
            fsync_dir(leftover.parent)
        except OSError as exc:
            why = IN_USE_HINT if in_use(exc) else exc.strerror
            raise WipeError(f"{leftover}: could not be removed ({why})") from exc
        did = True
    return did
