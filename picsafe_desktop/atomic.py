"""Durable file writes shared by every command that writes a file the user asked for."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from picsafe_desktop import winfs


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no directory handles to sync)."""
    if os.name != "posix":  # Windows cannot open a folder for fsync; NTFS journals metadata
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file beside `path` (owner-only), fsync, rename, fsync the folder.

    A crash leaves the old file or the new one, never half a file; the temp name starts with
    a dot so no viewer shows it meanwhile.
    """
    path = Path(path)
    # A short temp name: a long file name doubled could pass MAX_PATH where the target did not.
    folder = winfs.long_path(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".picsafe-", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        winfs.replace(tmp, path)  # Windows: a scanner may hold the new file for a moment
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
