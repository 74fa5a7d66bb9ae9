"""Writing the one file the user asked for: atomically, so a crash leaves no half export."""

from __future__ import annotations

from pathlib import Path

from picsafe_desktop.atomic import write_atomically
from picsafe_desktop.export.types import ExportError


def write_file(path: Path, data: bytes) -> None:
    """Write an export file atomically (temp name beside it, fsync, rename)."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name for the export")
    if not path.parent.is_dir():
        raise ExportError(f"the folder {path.parent} does not exist")
    write_atomically(path, data)
