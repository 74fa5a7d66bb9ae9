"""Writing the one file the user asked for: atomically, so a crash leaves no half export."""

from __future__ import annotations

import errno
from pathlib import Path

from picsafe_desktop import winfs
from picsafe_desktop.atomic import write_atomically
from picsafe_desktop.export.types import ExportError

_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_file(path: Path, data: bytes) -> None:
    """Write an export file atomically (temp name beside it, fsync, rename).

    Any failure to write (disk full, read-only or protected folder) is an ExportError that
    names the file and the fix; nothing is left behind (the temp file is removed).
    """
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name for the export")
    if not path.parent.is_dir():
        raise ExportError(f"the folder {path.parent} does not exist")
    try:
        write_atomically(path, data)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            fix = "free space on that drive or choose another folder"
        elif winfs.in_use(exc):  # Windows: the old export is open in a PDF viewer
            fix = "the file is open in another program (a PDF viewer?); close it, or choose "
            fix += "another file name"
        else:
            fix = "choose a folder you can write to"
        raise ExportError(
            f"{path}: cannot be written ({exc.strerror or type(exc).__name__}); {fix}; "
            "nothing was exported"
        ) from None
