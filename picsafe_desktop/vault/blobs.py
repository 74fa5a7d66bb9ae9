"""Encrypted content files: atomic, durable writes and overwrite-then-unlink removal.

A blob is only ever created by writing `tmp/<name>.part`, fsyncing it, renaming it into
`blobs/<2 hex>/<item id>.psv` and fsyncing the directory. The index row that holds its key
is committed after that, so a crash leaves at worst a blob nobody can decrypt (moved to
quarantine/ at the next open; see quarantine.py).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from picsafe_desktop import winfs
from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.vault.errors import DiskFull, IntegrityError, VaultError

SUFFIX = ".psv"
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_WIPE_BLOCK = 1 << 20


def no_space(exc: OSError) -> bool:
    return exc.errno in _NO_SPACE


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.dir = root / "blobs"
        self.tmp = root / "tmp"

    def create_dirs(self) -> None:
        for d in (self.dir, self.tmp):
            d.mkdir(mode=0o700)

    def path(self, item_id: str) -> Path:
        return self.dir / item_id[:2] / (item_id + SUFFIX)

    def write(self, item_id: str, chunks: Iterable[bytes]) -> int:
        """Write the chunks durably as the blob of item_id; return its size in bytes."""
        final = self.path(item_id)
        part = self.tmp / f"{item_id}.{secrets.token_hex(4)}.part"
        size = 0
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600)
            with open(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            try:  # two threads may create the same subfolder at once
                final.parent.mkdir(mode=0o700)
            except FileExistsError:
                pass
            else:
                fsync_dir(self.dir)
            winfs.replace(part, final)  # patient with a scanner holding the new file
            fsync_dir(final.parent)
        except BaseException as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, OSError) and no_space(exc):
                raise DiskFull(
                    f"{self.dir.parent}: the disk is full while storing a photo; free space on "
                    "that drive and retry (the vault is unchanged)"
                ) from exc
            raise
        return size

    def open(self, item_id: str) -> BinaryIO:
        path = self.path(item_id)
        try:
            return open(path, "rb")  # the caller closes it
        except FileNotFoundError:
            raise self._missing(item_id) from None

    def missing(self, item_id: str) -> IntegrityError | None:
        """The error a read would raise when the item's file is gone (a stat, not a read)."""
        return None if self.path(item_id).is_file() else self._missing(item_id)

    def _missing(self, item_id: str) -> IntegrityError:
        return IntegrityError(
            f"{self.path(item_id)}: the encrypted file of item {item_id} is missing; nothing was "
            "changed. Do not replace files in the vault folder: run `picsafe-desktop vault "
            "repair` (it looks in quarantine/) and contact IT"
        )

    def shred(self, item_id: str) -> None:
        """Overwrite then unlink. The key is already gone; this removes the ciphertext too."""
        shred_file(self.path(item_id))

    def ids(self) -> set[str]:
        """Item ids of `blobs/??/*.psv` (what `Path.glob` matched, dot-names and the system's
        case rules included), listed with os.scandir: 2/3 of the glob's CPU (a writable open
        lists every blob: 100,000 files in a large vault)."""
        out: set[str] = set()
        cut = len(SUFFIX)
        try:
            folders = [e.path for e in os.scandir(self.dir) if len(e.name) == 2 and e.is_dir()]
        except FileNotFoundError:
            return out
        for folder in folders:
            try:
                with os.scandir(folder) as entries:
                    out.update(
                        e.name[:-cut] for e in entries if os.path.normcase(e.name).endswith(SUFFIX)
                    )
            except (FileNotFoundError, NotADirectoryError):
                continue
        return out

    def clear_tmp(self) -> list[Path]:
        """Remove the vault's own half-written files (`<item id>.<8 hex>.part`) left by a crash:
        their key was never stored, so nothing can read them. Anything else in tmp/ is not ours
        to remove: it is returned for the caller to quarantine."""
        self.tmp.mkdir(mode=0o700, exist_ok=True)
        removed, foreign = 0, []
        for part in self.tmp.iterdir():
            if _PART.fullmatch(part.name) and part.is_file() and not part.is_symlink():
                part.unlink()
                removed += 1
            else:
                foreign.append(part)
        if removed:
            fsync_dir(self.tmp)
        return foreign


def shred_file(path: Path) -> None:
    """Overwrite with zeros, fsync, unlink, fsync the folder; a missing file is already gone."""
    try:
        with open(path, "r+b") as f:
            remaining = os.fstat(f.fileno()).st_size
            zeros = bytes(min(remaining, _WIPE_BLOCK))
            while remaining > 0:
                remaining -= f.write(zeros[: min(remaining, _WIPE_BLOCK)])
            f.flush()
            os.fsync(f.fileno())
        winfs.remove_or_defer(path)  # held by a scanner: content is zeros, key gone - later
    except FileNotFoundError:
        return
    except OSError as exc:
        if winfs.in_use(exc):  # the key is already gone: remove the name later, not fail now
            winfs.remove_or_defer(path)
            return
        raise VaultError(f"{path}: could not remove the encrypted file: {exc}") from exc
    fsync_dir(path.parent)


_PART = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{8}\.part")
_BINARY = getattr(os, "O_BINARY", 0)
