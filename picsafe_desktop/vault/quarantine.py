"""quarantine/: files in the vault folder that its index does not explain.

The vault never destroys what it cannot explain: a blob without an index row may be a photo
whose row was deleted or rolled back outside PicSafe. Such files are moved here (same name,
never overwritten) and reported; `picsafe-desktop vault repair` puts back what it can verify,
and only `vault repair --shred-quarantine` (an audited admin action) removes them.
"""

from __future__ import annotations

import os
from pathlib import Path

from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.vault.blobs import shred_file

FOLDER = "quarantine"


def folder(root: Path) -> Path:
    return root / FOLDER


def move(root: Path, path: Path) -> Path:
    """Move `path` into quarantine/ under a name not yet taken there; return the new path."""
    target_dir = folder(root)
    target_dir.mkdir(mode=0o700, exist_ok=True)
    target = target_dir / path.name
    n = 1
    while target.exists():
        target = target_dir / f"{path.name}.{n}"
        n += 1
    os.replace(path, target)
    fsync_dir(path.parent)
    fsync_dir(target_dir)
    return target


def files(root: Path) -> list[Path]:
    where = folder(root)
    return sorted(p for p in where.iterdir() if p.is_file()) if where.is_dir() else []


def item_id_of(path: Path) -> str | None:
    """The item id a quarantined blob was stored under, if its name is one."""
    stem = path.name.split(".", 1)[0]
    if len(stem) == 32 and all(c in "0123456789abcdef" for c in stem) and ".psv" in path.name:
        return stem
    return None


def shred(path: Path) -> None:
    shred_file(path)
