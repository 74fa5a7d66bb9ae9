"""Drop folders: photos copied into a watched folder are offered as a batch once complete.

`watchdog` wakes the watcher when anything changes; the decision "is this file complete" is made
by `Settler` from repeated scans: size and modification time unchanged for `stable_seconds` and
the file openable for reading. Files already present at start-up are picked up by the first
scan. Symlinks, FIFOs, devices and outside hard links are refused by `files.scan_folder`.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from picsafe_desktop import winacl
from picsafe_desktop.importer.files import FileCandidate, prune_empty_dirs, scan_folder
from picsafe_desktop.importer.source import Refusal

log = logging.getLogger(__name__)

_O_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _openable(path: Path) -> OSError | None:
    """None if the file opens for reading now; on Windows a writer's lock makes this fail."""
    try:
        os.close(os.open(path, _O_FLAGS))
    except OSError as exc:
        return exc
    return None


@dataclass
class _Seen:
    stamp: tuple[int, int, int, int]
    since: float  # when this stamp was first seen
    offered: bool = False
    hold_until: float = 0.0  # left in place by a vault fault: offered again from then on


@dataclass
class Settler:
    """Debounce for one folder: call `observe(now)` after each change or tick.

    A batch is emitted when at least one file is complete and no other photo in the folder is
    still changing (so a 30-photo copy becomes one batch), or when complete files have waited
    `max_wait_factor` times the stable interval (so one stuck file cannot hold the rest back).
    """

    root: Path
    stable_seconds: float
    max_wait_factor: float = 10.0
    _seen: dict[Path, _Seen] = field(default_factory=dict)
    _refused: set[tuple[str, str]] = field(default_factory=set)
    #: whether the last `observe` saw a file appear, change or go away
    changed: bool = False

    def observe(self, now: float) -> tuple[list[FileCandidate], list[Refusal]]:
        scan = scan_folder(self.root)
        self.changed = False
        refusals = []
        for refusal in scan.refusals:
            key = (refusal.display, refusal.reason)
            if key not in self._refused:
                self._refused.add(key)
                refusals.append(refusal)
        current = {c.path: c for c in scan.candidates}
        gone = set(self._seen) - set(current)
        self.changed = bool(gone)
        # Offered files that went away were imported (or removed by the user): drop subfolders
        # they leave empty, whenever the consumer finished with them.
        prune_empty_dirs([p for p in gone if self._seen[p].offered], self.root)
        for path in gone:
            del self._seen[path]
        # Forget refusals of files that went away, so a new file of that name is reported.
        present = {r.display for r in scan.refusals} | {str(p) for p in current}
        self._refused = {k for k in self._refused if k[0] in present}
        ready: list[FileCandidate] = []
        unsettled = False
        oldest_ready = now
        for path, cand in current.items():
            seen = self._seen.get(path)
            if seen is None or seen.stamp != cand.stamp:
                self._seen[path] = _Seen(cand.stamp, now)
                unsettled = self.changed = True
                continue
            if seen.offered or now < seen.hold_until:
                continue
            seen.hold_until = 0.0  # due (or never held): an ordinary waiting file again
            if now - seen.since < self.stable_seconds:
                unsettled = True
                continue
            problem = _openable(path)
            if problem is not None:
                if problem.errno in (errno.EACCES, errno.EPERM):
                    key = (str(path), "unreadable")
                    if key not in self._refused:
                        self._refused.add(key)
                        refusals.append(
                            Refusal(
                                str(path),
                                "cannot be opened for reading (permission denied or still "
                                "locked by the program writing it); it will be imported once "
                                "readable",
                            )
                        )
                continue
            ready.append(cand)
            oldest_ready = min(oldest_ready, seen.since + self.stable_seconds)
        if not ready:
            return [], refusals
        if unsettled and now - oldest_ready < self.stable_seconds * self.max_wait_factor:
            return [], refusals
        for cand in ready:
            self._seen[cand.path].offered = True
        return ready, refusals

    @property
    def pending(self) -> bool:
        """True while some file is not yet offered (the watcher then keeps ticking); files
        held for a retry wait for `next_retry` instead."""
        return any(not s.offered and not s.hold_until for s in self._seen.values())

    def next_retry(self) -> float | None:
        """When the earliest held file is due to be offered again."""
        held = [s.hold_until for s in self._seen.values() if not s.offered and s.hold_until]
        return min(held) if held else None

    def retry_later(self, paths, *, now: float, delay: float) -> None:
        """Offer these files again after `delay` seconds: they were left in place because the
        vault could not take them (full, read-only, busy) - a drop folder has no other "try
        again", and a photo must not lie there in the clear until someone notices."""
        for path in paths:
            seen = self._seen.get(Path(path))
            if seen is not None:
                seen.offered = False
                seen.hold_until = now + delay

    def forget(self, path: Path) -> None:
        """Offer this file again (e.g. after a failed import the user wants to retry)."""
        self._seen.pop(Path(path), None)
        self._refused = {k for k in self._refused if k[0] != str(path)}


BatchCallback = Callable[[Path, list[FileCandidate]], None]
RefusalCallback = Callable[[Path, list[Refusal]], None]


class DropFolderWatcher:
    """Watches drop folders on a background thread and reports batches through callbacks.

    `on_batch(folder, candidates)` runs on the watcher thread; hand the work to the importer
    (directly or on a worker). A folder that does not exist yet is created, private to the user.
    """

    def __init__(
        self,
        folders: list[str | os.PathLike[str]],
        *,
        stable_seconds: float,
        on_batch: BatchCallback,
        on_refusals: RefusalCallback | None = None,
        rescan_seconds: float = 30.0,
        retry_seconds: float = 60.0,
    ) -> None:
        self.settlers = [Settler(Path(f), stable_seconds) for f in folders]
        self.stable_seconds = stable_seconds
        self.rescan_seconds = rescan_seconds  # safety net for file systems that miss events
        self.retry_seconds = retry_seconds  # a photo the vault could not take: tried again
        self._retries: list[tuple[Path, list[Path]]] = []  # handed in from other threads
        self._retries_lock = threading.Lock()
        self.on_batch = on_batch
        self.on_refusals = on_refusals
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer = None

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        wake = self._wake

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                wake.set()

        self._observer = Observer()
        for settler in list(self.settlers):
            winacl.make_private_dir(settler.root)  # Windows: owner-only ACL, not the parent's
            if problem := winacl.drop_folder_problem(settler.root):  # open to every user
                self.settlers.remove(settler)
                if self.on_refusals is not None:
                    self.on_refusals(settler.root, [Refusal(str(settler.root), problem)])
                continue
            self._observer.schedule(_Handler(), str(settler.root), recursive=True)
        self._observer.daemon = True
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="picsafe-drop-folder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._thread is not None:
            self._thread.join()

    def check_now(self) -> None:
        self._wake.set()

    def retry_later(self, folder, paths) -> None:
        """From any thread: offer these files of `folder` again after `retry_seconds` (see
        Settler.retry_later); the watcher thread applies it."""
        with self._retries_lock:
            self._retries.append((Path(folder), [Path(p) for p in paths]))
        self._wake.set()

    def _apply_retries(self) -> None:
        with self._retries_lock:
            retries, self._retries = self._retries, []
        now = time.monotonic()
        for folder, paths in retries:
            for settler in self.settlers:
                if settler.root == folder:
                    settler.retry_later(paths, now=now, delay=self.retry_seconds)

    def _report(self, folder: Path, refusals: list[Refusal]) -> None:
        if self.on_refusals is None:
            return
        try:
            self.on_refusals(folder, refusals)
        except Exception:  # noqa: BLE001 - a failing consumer must not stop watching
            log.exception("drop folder refusal handler failed")

    def _run(self) -> None:
        polling = False  # set once notifications proved unreliable: then poll briskly
        woken = True
        while not self._stop.is_set():
            self._wake.clear()
            self._apply_retries()
            missed = False
            for settler in self.settlers:
                try:
                    self._check(settler)
                except Exception as exc:  # noqa: BLE001 - the watcher must survive anything
                    # The type only: a message can hold a file name (it still goes to the user).
                    log.error("drop folder scan failed (%s)", type(exc).__name__)
                    self._report(
                        settler.root,
                        [
                            Refusal(
                                str(settler.root),
                                f"could not be searched ({type(exc).__name__}: {exc}); photos "
                                "in it were left in place and the folder is checked again - "
                                "tell IT if this repeats",
                            )
                        ],
                    )
                    continue
                # A change found by a timed rescan that no notification announced: watchdog's
                # threads can die on a hostile tree (a 1,100-level folder did), so stop
                # trusting them rather than leave photos lying in the clear.
                missed = missed or (settler.changed and not woken and not self._wake.is_set())
            if missed and not polling and not self._stop.is_set():
                polling = True
                log.warning("drop folder change notifications missed a change; polling instead")
                for settler in self.settlers:
                    self._report(
                        settler.root,
                        [
                            Refusal(
                                str(settler.root),
                                "change notifications stopped working for this folder (a "
                                "folder in it may be nested too deep); PicSafe now checks it "
                                "every few seconds instead",
                            )
                        ],
                    )
            busy = any(s.pending for s in self.settlers)
            idle_wait = max(self.stable_seconds, 1.0) if polling else self.rescan_seconds
            due = [t for t in (s.next_retry() for s in self.settlers) if t is not None]
            if due:
                idle_wait = min(idle_wait, max(min(due) - time.monotonic(), 0.05))
            woken = self._wake.wait(self.stable_seconds / 4 if busy else idle_wait)

    def _check(self, settler: Settler) -> None:
        ready, refusals = settler.observe(time.monotonic())
        if settler.changed or ready or refusals:
            log.debug(  # counts only: names can carry a patient's name
                "drop folder scan: %d tracked, %d ready, %d refused",
                len(settler._seen),
                len(ready),
                len(refusals),
            )
        if refusals:
            self._report(settler.root, refusals)
        if ready:
            log.info("drop folder: %d photo(s) complete", len(ready))
            try:
                self.on_batch(settler.root, ready)
            except Exception:  # noqa: BLE001 - a failing consumer must not stop watching
                log.exception("drop folder batch handler failed")
            prune_empty_dirs([c.path for c in ready], settler.root)
