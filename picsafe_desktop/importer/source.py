"""What every photo source hands to the pipeline: a `Candidate` it can read and later remove.

Sources only *find* photos (ARCHITECTURE.md, "Device import"); reading, hashing, scrubbing,
storing, verifying and removing the source copy are the pipeline's job, driven through this
small interface so a drop-folder file and a photo on a phone go through the same code.
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Protocol

from picsafe_desktop.deid.stream import BytesSource

# Formats de-identification handles (JPEG, HEIF family, PNG, WebP). Other files are left alone.
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif", ".png", ".webp"})
# Names browsers, office tools and copy programs use while a file is still being written.
PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".temp", ".!ut")


def is_partial_name(name: str) -> bool:
    """Dotfiles, Office lock files and in-progress downloads are never taken."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(PARTIAL_SUFFIXES)


def is_photo_name(name: str) -> bool:
    return PurePath(name).suffix.lower() in PHOTO_SUFFIXES


class PhotoSource(Protocol):
    size: int

    def read_at(self, offset: int, n: int) -> bytes: ...

    def sha256(self) -> str: ...

    def close(self) -> None: ...


class SourceError(Exception):
    """A photo could not be read from its source; the message names it and says what to do.

    The source copy is untouched whenever this is raised. `stops_batch` is set when the rest
    of the batch cannot be read either (device unplugged, locked, claimed by another program).
    """

    stops_batch = False


class RemoveError(Exception):
    """The source copy could not be removed after a verified import.

    `by_hand` is True when the user must delete it themselves (read-only card, locked file).
    """

    def __init__(self, message: str, *, by_hand: bool = True) -> None:
        super().__init__(message)
        self.by_hand = by_hand


@dataclass(frozen=True)
class Refusal:
    """Something a source found and will not import (symlink, FIFO, other file type...).

    `display` is for the local user's screen only: it may contain a patient's name, so it is
    never logged.
    """

    display: str
    reason: str


class Candidate(ABC):
    """One photo found by a source, not yet read."""

    #: journal kind, e.g. "file" or "gphoto2"
    kind: str
    #: the name shown to the local user (may contain patient data: never log it)
    display: str
    #: size in bytes as listed by the source (for progress)
    size: int

    @abstractmethod
    def read(self) -> bytes:
        """The whole original file, read into memory. Raises `SourceError`."""

    def open(self) -> PhotoSource:
        """The original for the pipeline: random access (`size`, `read_at`), its `sha256()`
        and `close()`. By default read into memory; a file source keeps a large photo in
        place instead (files.py). Raises `SourceError`."""
        return BytesSource(self.read())

    def close(self) -> None:
        """Release what `open` holds; the pipeline calls it when the photo is done."""
        return None  # nothing is held by a photo read into memory

    @property
    @abstractmethod
    def removable(self) -> bool:
        """Whether the pipeline should remove the source copy after a verified import."""

    @abstractmethod
    def remove(self, token: str) -> None:
        """Remove the source copy (secure wipe or delete on the device). Raises `RemoveError`.

        `token` is a random string the pipeline has journaled first, so a crash in the middle
        can be finished at start-up (see `journal.py`).
        """

    def still_arriving(self, cut_short: bool) -> bool:
        """True if the source copy is evidently still being written: it changed since it was
        found or - when the decoder found it `cut_short` (truncated) - moments ago. A decode
        failure then means "not complete yet", not "damaged"."""
        return False

    @abstractmethod
    def locator(self) -> dict[str, Any]:
        """JSON-able description saved in the import journal to find this copy again."""


class DevicePhoto(Candidate):
    """A photo listed on a phone or camera: libgphoto2's `DeviceCandidate` (Linux) and WPD's
    `WpdCandidate` (Windows) share this.

    Shown as `<device label>:<folder>/<name>`; removed only when the user chose "delete after
    import"; read whole and checked against the size the device listed, so a short download
    (a phone unplugged or locked mid-transfer) is never stored. Subclasses are dataclasses with
    `device` (whose `info.label` names it), `folder`, `name`, `size` and `delete_after_import`,
    and say how to download the bytes.
    """

    device: Any
    folder: str
    name: str
    delete_after_import: bool
    #: what the messages call the device ("phone" for WPD, where every device is one)
    device_word = "device"

    @property
    def display(self) -> str:  # type: ignore[override]
        return f"{self.device.info.label}:{posixpath.join(self.folder, self.name)}"

    @property
    def removable(self) -> bool:
        return self.delete_after_import

    @abstractmethod
    def download(self) -> bytes:
        """The whole file from the device. Raises `SourceError` (the device's own kind)."""

    def read(self) -> bytes:
        try:
            data = self.download()
        except SourceError as exc:
            # the same error (its kind, device state and stops_batch), named for the user
            exc.args = (f"{self.display}: {exc}",)
            raise
        if len(data) != self.size:
            raise SourceError(
                f"{self.display}: the download was {len(data)} bytes, the {self.device_word} "
                f"listed {self.size}; nothing was stored - reconnect the phone and try again"
            )
        return data
