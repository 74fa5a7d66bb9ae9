"""Mounted phones and camera cards: volumes with a `DCIM/` folder, found by polling.

Where volumes appear:
- Linux: udisks mounts under /media/$USER and /run/media/$USER (and /media, /mnt); phones
  mounted by the desktop over MTP or AFC appear under $XDG_RUNTIME_DIR/gvfs/ as
  `mtp:host=...` / `afc:host=...`, with the DCIM folder one level down on MTP
  (`Internal shared storage/DCIM`).
- Windows: removable drive letters only (card readers, USB sticks, cameras in mass-storage mode),
  asked of Windows at every poll; fixed disks, CD drives and mapped network drives are never
  probed (a home drive `H:\\DCIM` must not be offered as a card and wiped), and the probe runs
  with "There is no disk in the drive" boxes switched off. Phones on Windows have no drive
  letter: they are Windows Portable Devices (`wpd.py`).
- macOS: /Volumes.

A poll lists these few folders and looks for `DCIM` at most two levels down, so it costs a
handful of directory reads while idle.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from picsafe_desktop import winfs
from picsafe_desktop.importer.files import Scan, scan_folder

log = logging.getLogger(__name__)


def default_mount_roots() -> list[Path]:
    """Folders whose children are mounted volumes on this platform."""
    if os.name == "nt":
        return winfs.removable_drive_roots()
    if sys.platform == "darwin":
        return [Path("/Volumes")]
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    roots = [Path("/media"), Path("/mnt"), Path(runtime) / "gvfs"]
    if user:
        roots[1:1] = [Path("/media") / user, Path("/run/media") / user]
    return roots


@dataclass(frozen=True)
class Volume:
    """A folder holding a DCIM tree: a card, a phone in mass-storage mode, or a gvfs mount."""

    dcim: Path
    kind: str  # "card" (mass storage / drive letter) or "phone" (gvfs MTP/AFC)

    @property
    def root(self) -> Path:
        return self.dcim.parent

    @property
    def label(self) -> str:
        """A name for the local user's screen (may be the owner's phone name: never logged)."""
        for part in self.dcim.parts:
            if part.startswith(("mtp:host=", "afc:host=", "gphoto2:host=")):
                return part.split("=", 1)[1].replace("_", " ")
        return self.root.name or str(self.root)

    def scan(self, *, delete_after_import: bool) -> Scan:
        """The photos under DCIM. Phones over MTP/AFC are deleted plainly, cards are wiped."""
        if not delete_after_import:
            removal = "keep"
        else:
            removal = "delete" if self.kind == "phone" else "wipe"
        return scan_folder(self.dcim, removal=removal)


def _dcim_in(folder: Path) -> Path | None:
    for name in ("DCIM", "dcim"):
        candidate = folder / name
        try:
            if candidate.is_dir() and not candidate.is_symlink():
                return candidate
        except OSError:
            return None
    return None


def find_volumes(roots: list[Path]) -> list[Volume]:
    """Every DCIM folder directly in a mount or one level below it (MTP storages)."""
    found: dict[str, Volume] = {}
    with winfs.no_disk_dialogs() if os.name == "nt" else _nothing():
        _find(roots, found)
    return list(found.values())


@contextlib.contextmanager
def _nothing():
    yield


def _find(roots: list[Path], found: dict[str, Volume]) -> None:
    for root in roots:
        is_drive = os.name == "nt"
        children = [root] if is_drive else _children(root)
        for child in children:
            kind = "phone" if root.name == "gvfs" else "card"
            dcim = _dcim_in(child)
            if dcim is None and not is_drive:
                for sub in _children(child):
                    dcim = _dcim_in(sub)
                    if dcim is not None:
                        break
            if dcim is not None:
                key = os.path.realpath(dcim)
                found.setdefault(key, Volume(dcim, kind))


def _children(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [
                Path(e.path)
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []


VolumeCallback = Callable[[Volume], None]


class VolumePoller:
    """Reports volumes with a DCIM folder when they appear and when they go away."""

    def __init__(
        self,
        *,
        on_appeared: VolumeCallback,
        on_gone: VolumeCallback | None = None,
        roots: list[Path] | None = None,
        poll_seconds: float = 3.0,
    ) -> None:
        # None: asked again at every poll (on Windows a card reader gets its letter on insertion)
        self.roots = None if roots is None else [Path(r) for r in roots]
        self.poll_seconds = poll_seconds
        self.on_appeared = on_appeared
        self.on_gone = on_gone
        self._known: dict[Path, Volume] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> tuple[list[Volume], list[Volume]]:
        """One look: (appeared, gone) since the previous poll; callbacks are called too."""
        roots = default_mount_roots() if self.roots is None else self.roots
        now = {v.dcim: v for v in find_volumes(roots)}
        appeared = [v for p, v in now.items() if p not in self._known]
        gone = [v for p, v in self._known.items() if p not in now]
        self._known = now
        for volume in appeared:
            log.info("volume with DCIM appeared (%s)", volume.kind)
            self.on_appeared(volume)
        for volume in gone:
            log.info("volume with DCIM went away (%s)", volume.kind)
            if self.on_gone is not None:
                self.on_gone(volume)
        return appeared, gone

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="picsafe-volumes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - keep polling whatever one mount does
                log.exception("volume poll failed")
            self._stop.wait(self.poll_seconds)
