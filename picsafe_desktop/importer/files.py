"""Photos that are plain files: drop folders, mounted cards and phones, dragged files, CLI paths.

Rules shared by every file source:
- symbolic links (to files or folders) are refused and never followed or wiped;
- FIFOs, devices and sockets are refused without being opened for reading;
- a file with other hard links is refused unless every link is inside the folder being scanned
  (wiping one name overwrites the data all names share);
- dotfiles, Office lock files and partial downloads are ignored; other non-photo files are
  reported and left alone.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from picsafe_desktop.deid.limits import MAX_FILE_BYTES
from picsafe_desktop.deid.stream import BytesSource
from picsafe_desktop.importer.snapshot import FileSnapshot
from picsafe_desktop.importer.source import (
    Candidate,
    Refusal,
    RemoveError,
    SourceError,
    is_partial_name,
    is_photo_name,
)
from picsafe_desktop.importer.wipe import secure_wipe
from picsafe_desktop.winfs import identity_known, is_link_like

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after lstat must not block us
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Photos up to this size are read into memory; larger ones are read in place (snapshot.py).
STREAM_ABOVE = 32 << 20
# A file written to this recently may still be in the middle of a copy.
RECENT_SECONDS = 5.0


def fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime in ns): what must stay the same between finding and reading."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def identity_key(path: Path, st: os.stat_result) -> tuple[Any, ...]:
    """What makes two names one file: (device, inode), or the normalised path when the file
    system reports no inode (0: some mapped drives) - such files are never grouped or wiped."""
    if identity_known(st):
        return (st.st_dev, st.st_ino)
    return _path_key(path)


def _path_key(path: Path) -> tuple[str, str]:
    return ("path", os.path.normcase(os.path.abspath(path)))


def _same_file(st: os.stat_result, stamp: tuple[int, int, int, int]) -> bool:
    if stamp[1] == 0:  # no identity: size and mtime are all there is to compare
        return True
    return fingerprint(st)[:2] == stamp[:2]


@dataclass(eq=False)
class FileCandidate(Candidate):
    path: Path
    stamp: tuple[int, int, int, int]
    other_links: tuple[Path, ...] = ()
    #: "wipe" (overwrite + unlink), "delete" (plain unlink: phones mounted over MTP/AFC, where
    #: overwriting through the protocol is meaningless) or "keep" (leave the source alone)
    removal: str = "wipe"
    kind: str = field(default="file", init=False)
    _snapshot: FileSnapshot | None = field(default=None, init=False, repr=False)

    @property
    def display(self) -> str:  # type: ignore[override]
        return str(self.path)

    @property
    def size(self) -> int:  # type: ignore[override]
        return self.stamp[2]

    @property
    def removable(self) -> bool:
        return self.removal != "keep"

    def read(self) -> bytes:
        fd, st = self._open_checked()
        try:
            chunks = []
            left = st.st_size
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 22))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
            if len(data) != st.st_size or fingerprint(os.fstat(fd)) != self.stamp:
                raise self._changed_while_read()
            return data
        except OSError as exc:
            raise _read_error(self.path, exc) from exc
        finally:
            os.close(fd)

    def open(self, stream_above: int | None = None) -> BytesSource | FileSnapshot:
        """Small photos are read into memory; larger ones (above `stream_above`, default
        STREAM_ABOVE) stay in the file as a verified snapshot, so memory does not grow with
        the file. Either way the same checks run first, and the size before a byte is read."""
        limit = STREAM_ABOVE if stream_above is None else stream_above
        if self.stamp[2] <= limit:
            return BytesSource(self.read())
        fd, st = self._open_checked()
        try:
            snap = FileSnapshot.take(fd, self.path, st.st_size)
        except OSError as exc:
            raise _read_error(self.path, exc) from exc
        try:
            if fingerprint(os.fstat(fd)) != self.stamp:
                raise self._changed_while_read()
        except BaseException:
            snap.close()
            raise
        self._snapshot = snap
        return snap

    def _open_checked(self) -> tuple[int, os.stat_result]:
        """The file opened for reading (no links, no FIFOs), still the one that was found,
        and not larger than any photo: checked on the descriptor before anything is read."""
        flags = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY | _O_CLOEXEC
        try:
            fd = os.open(self.path, flags)
        except OSError as exc:
            raise _read_error(self.path, exc) from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SourceError(f"{self.path}: is not a regular file any more; not imported")
            if not _same_file(st, self.stamp):
                raise SourceError(
                    f"{self.path}: was replaced by another file while importing; it will be "
                    "picked up again"
                )
            if st.st_size > MAX_FILE_BYTES:
                # Checked on the open file before reading: a 1.2 GB file took 2.5 GB of memory.
                raise SourceError(too_large(self.path, st.st_size))
            if fingerprint(st) != self.stamp:
                raise SourceError(
                    f"{self.path}: changed while importing (still being copied?); it was left "
                    "in place and will be picked up again once complete"
                )
        except OSError as exc:
            os.close(fd)
            raise _read_error(self.path, exc) from exc
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _changed_while_read(self) -> SourceError:
        return SourceError(
            f"{self.path}: changed while it was being read; it was left in place and "
            "will be picked up again once complete"
        )

    def close(self) -> None:
        """Release the snapshot of a large photo (before its source is wiped)."""
        snap, self._snapshot = self._snapshot, None
        if snap is not None:
            snap.close()

    def still_arriving(self, cut_short: bool) -> bool:
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        recent = time.time() - st.st_mtime < RECENT_SECONDS
        return fingerprint(st) != self.stamp or (cut_short and recent)

    def remove(self, token: str) -> None:
        self.close()  # Windows cannot rename or wipe a file that is still open
        if self.stamp[1] == 0:  # no identity: never remove what cannot be proven the same file
            raise RemoveError(
                f"{self.path}: imported and verified, but this drive gives files no stable "
                "identity (a mapped network or cloud drive), so PicSafe will not delete it; "
                "delete it by hand"
            )
        if self.removal == "wipe":
            secure_wipe(self.path, token, identity=self.stamp[:2], other_links=self.other_links)
            return
        try:
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) != self.stamp[:2]:
                raise RemoveError(
                    f"{self.path}: was replaced by another file after import; left alone",
                    by_hand=False,
                )
            os.unlink(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RemoveError(
                f"{self.path}: imported and verified, but it could not be deleted from the "
                f"device ({exc.strerror}); delete it by hand"
            ) from exc

    def locator(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "removal": self.removal,
            "path": str(self.path),
            "links": [str(p) for p in self.other_links],
            "dev": self.stamp[0],
            "ino": self.stamp[1],
            "size": self.stamp[2],
            "mtime_ns": self.stamp[3],
        }


def too_large(name: object, size: int) -> str:
    return (
        f"{name}: {size / 1e9:.1f} GB is larger than any photo PicSafe imports (at most "
        f"{MAX_FILE_BYTES / 1e9:.1f} GB); it was left in place - is it really a photo?"
    )


def _read_error(path: Path, exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{path}: disappeared before it could be imported; nothing was stored")
    if exc.errno == errno.ELOOP:
        return SourceError(f"{path}: is a symbolic link; copy the photo itself instead")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return SourceError(
            f"{path}: permission denied when reading; give this user read access or copy the "
            "photo somewhere readable (nothing was stored)"
        )
    return SourceError(f"{path}: could not be read ({exc.strerror}); nothing was stored")


def _refusal_for(path: Path, st: os.stat_result) -> str | None:
    """Why this directory entry (from lstat) is not a candidate, or None if it may be one."""
    if is_link_like(st):  # symlinks, and Windows junctions
        return "is a symbolic link; links are never followed or wiped - copy the photo itself"
    if stat.S_ISFIFO(st.st_mode):
        return "is a named pipe (FIFO), not a photo file; left alone"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "is a device file, not a photo file; left alone"
    if stat.S_ISSOCK(st.st_mode):
        return "is a socket, not a photo file; left alone"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file; left alone"
    if not is_photo_name(path.name):
        return "is not a photo type PicSafe imports (JPEG, HEIC/HEIF, PNG, WebP); left alone"
    return None


@dataclass
class Scan:
    candidates: list[FileCandidate] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


# Phones and cameras nest photos two or three folders deep; staff folders add a few more. A
# tree deeper than this is hostile or broken: it is reported, never searched (a recursive walk
# of 1,100 levels overflowed the stack and stopped every later scan of the drop folder).
MAX_DEPTH = 32


def _listing(folder: Path, scan: Scan) -> list[os.DirEntry] | None:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        scan.refusals.append(Refusal(str(folder), f"folder could not be listed ({exc.strerror})"))
        return None


def _walk(root: Path, scan: Scan, found: dict[tuple[Any, ...], list[tuple[Path, os.stat_result]]]):
    """Depth-first, in name order, with an explicit stack: no recursion, bounded depth."""
    entries = _listing(root, scan)
    if entries is None:
        return
    stack = [iter(entries)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if is_partial_name(entry.name):
            continue
        path = Path(entry.path)
        try:
            # lstat, not entry.stat(): on Windows a DirEntry's inode, device and link count are 0
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            scan.refusals.append(Refusal(str(path), f"could not be examined ({exc.strerror})"))
            continue
        if stat.S_ISDIR(st.st_mode) and not is_link_like(st):
            if len(stack) >= MAX_DEPTH:
                scan.refusals.append(
                    Refusal(
                        str(path),
                        f"is nested more than {MAX_DEPTH} folders deep; nothing inside it was "
                        "searched or imported - move the photos to a shallower folder",
                    )
                )
                continue
            sub = _listing(path, scan)
            if sub:
                stack.append(iter(sub))
            continue
        reason = _refusal_for(path, st)
        if reason:
            scan.refusals.append(Refusal(str(path), reason))
            continue
        found.setdefault(identity_key(path, st), []).append((path, st))


def _group(found, scan: Scan, *, removal: str) -> None:
    for names in found.values():
        first_path, st = names[0]
        if identity_known(st) and st.st_nlink > len(names):
            for path, _ in names:
                scan.refusals.append(
                    Refusal(
                        str(path),
                        "is hard-linked to a file outside this folder; wiping it would destroy "
                        "that copy too, so it is left alone - copy the photo instead",
                    )
                )
            continue
        scan.candidates.append(
            FileCandidate(
                first_path,
                fingerprint(st),
                other_links=tuple(p for p, _ in names[1:]),
                removal=removal,
            )
        )


def scan_folder(root: Path, *, removal: str = "wipe") -> Scan:
    """Every photo under `root` (recursively, never through links), and what was refused."""
    scan = Scan()
    found: dict[tuple[Any, ...], list[tuple[Path, os.stat_result]]] = {}
    _walk(Path(root), scan, found)
    _group(found, scan, removal=removal)
    return scan


def scan_paths(paths: Iterable[str | os.PathLike[str]], *, removal: str = "wipe") -> Scan:
    """Files and folders named by the user (command line, drag-and-drop)."""
    scan = Scan()
    for raw in paths:
        path = Path(raw)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            scan.refusals.append(Refusal(str(path), "does not exist"))
            continue
        except OSError as exc:
            scan.refusals.append(Refusal(str(path), f"could not be examined ({exc.strerror})"))
            continue
        if stat.S_ISDIR(st.st_mode) and not is_link_like(st):
            sub = scan_folder(path, removal=removal)
            scan.candidates += sub.candidates
            scan.refusals += sub.refusals
            continue
        reason = _refusal_for(path, st)
        if reason is None and st.st_nlink > 1:
            reason = (
                f"has {st.st_nlink} hard links; wiping it would destroy the other copies too, "
                "so it is left alone - copy the photo instead"
            )
        if reason:
            scan.refusals.append(Refusal(str(path), reason))
        else:
            scan.candidates.append(FileCandidate(path, fingerprint(st), removal=removal))
    # The same file named twice (or inside a named folder too) is one photo.
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for cand in scan.candidates:
        key = cand.stamp[:2] if cand.stamp[1] else _path_key(cand.path)
        if key not in seen:
            seen.add(key)
            unique.append(cand)
    scan.candidates = unique
    return scan


def prune_empty_dirs(files: Iterable[Path], root: Path) -> None:
    """Remove folders below `root` left empty after their photos were wiped.

    Staff name folders after patients as often as files; `root` itself (the drop folder or
    the folder the user named) stays. Folders that still hold anything are left alone.
    """
    root = Path(root)
    for path in files:
        folder = Path(path).parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def prune_emptied_sources(roots: Iterable[str | os.PathLike[str]], candidates) -> None:
    """After importing the folders the user named, remove the subfolders the import emptied."""
    files = [c.path for c in candidates if isinstance(c, FileCandidate)]
    for root in map(Path, roots):
        if root.is_dir() and not root.is_symlink():
            prune_empty_dirs(files, root)
