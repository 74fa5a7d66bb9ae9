"""What belongs at the top of a vault folder (docs/vault-format.md, section 1).

Anything else there was put by someone or something other than PicSafe (a person, a backup or
sync tool, malware). The vault never reads, moves or deletes it - it only names it, at open
and in `vault verify`, so IT can look.
"""

from __future__ import annotations

import re
from pathlib import Path

from picsafe_desktop.vault.records import INDEX_FILE, LOCK_FILE

KNOWN = frozenset(
    {
        "vault.json",
        INDEX_FILE,
        INDEX_FILE + "-wal",
        INDEX_FILE + "-shm",
        INDEX_FILE + "-journal",
        "blobs",
        "tmp",
        "quarantine",
        LOCK_FILE,
        "staff.json",
        "staff-pins.json",  # written by versions before staff.json; never read again
    }
)
# Left by PicSafe itself: an interrupted atomic write, or a staff list set aside by `staff reset`.
_OURS = re.compile(r"vault\.json\.part|\.picsafe-[^/]*\.part|staff\.json\.rejected-\d{8}T\d{6}Z")


# blobs/ holds only the folders `<first 2 hex digits of an item id>` (vault/blobs.py).
_BLOB_FOLDER = re.compile(r"[0-9a-f]{2}")


def unknown(root: Path) -> list[Path]:
    """Entries PicSafe did not put there, sorted: at the top of the vault folder, and directly
    in blobs/. Only blobs/ itself is listed (256 folders at most), not blobs/<xx>/, so that a
    large vault's open does not list every photo a second time."""
    try:
        entries = list(Path(root).iterdir())
    except OSError:
        return []  # the open or the check that needs the folder says what is wrong
    found = [p for p in entries if p.name not in KNOWN and not _OURS.fullmatch(p.name)]
    try:
        found += [p for p in (Path(root) / "blobs").iterdir() if not _blob_folder(p)]
    except OSError:
        pass  # a missing or unreadable blobs/ is reported by the open itself
    return sorted(found)


def _blob_folder(path: Path) -> bool:
    return bool(_BLOB_FOLDER.fullmatch(path.name)) and path.is_dir() and not path.is_symlink()


def describe(path: Path) -> str:
    kind = "folder" if path.is_dir() and not path.is_symlink() else "file"
    return (
        f"{path}: a {kind} PicSafe did not put in the vault folder (kept, not read); IT: find "
        "out who put it there, then move it out of the vault folder"
    )
