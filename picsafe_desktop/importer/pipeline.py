"""The one import pipeline every source feeds (ARCHITECTURE.md, "Life of a photo").

For each photo: read it (into memory, or in place if large: snapshot.py), hash the original,
look for a duplicate, scrub it, store it encrypted as AWAITING_CONSENT with a thumbnail, read
it back and compare, then remove the source copy. Every step that changes anything is
journaled first, or in the same commit (see `journal.py`), so `Importer.resume()` at start-up
finishes or rolls back whatever a crash interrupted: a photo is either verified in the vault or
untouched at its source, never both lost and never stored twice.

Nothing here writes photo bytes to disk: the only copies are the source, memory, and the
vault's ciphertext.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from picsafe_desktop import shutdown
from picsafe_desktop.deid import DeidError, make_thumbnail, scrub_source
from picsafe_desktop.deid.limits import MAX_FILE_BYTES
from picsafe_desktop.importer import faults
from picsafe_desktop.importer.events import (
    BatchFinished,
    BatchResult,
    BatchStarted,
    EventCallback,
    FileDone,
    FileResult,
    ImportEvent,
    Outcome,
    ResumeReport,
)
from picsafe_desktop.importer.files import prune_emptied_sources, scan_paths, too_large
from picsafe_desktop.importer.journal import (
    REMOVING,
    STORING,
    Entry,
    Journal,
    new_entry_id,
    new_token,
)
from picsafe_desktop.importer.source import Candidate, Refusal, RemoveError, SourceError
from picsafe_desktop.importer.wipe import WipeError, finish_wipe
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault.errors import DuplicateOriginal, VaultError

log = logging.getLogger(__name__)


class Importer:
    """Runs import batches into one vault. Thread-safe: batches run one at a time."""

    def __init__(self, vault: Any, *, actor: str) -> None:
        self.vault = vault
        self.actor = actor
        self.journal = Journal(vault)
        self._lock = threading.Lock()

    # -- a batch -------------------------------------------------------------------------
    def run(
        self,
        candidates: Sequence[Candidate],
        *,
        source_label: str,
        refusals: Iterable[Refusal] = (),
        batch_id: str | None = None,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> BatchResult:
        """Import `candidates` as one batch (created when the first new photo is stored).

        `refusals` from the source scan are reported in the result so one list shows the user
        everything that was not imported. Returns once every photo is done.
        """
        with self._lock:
            return _BatchRun(self, source_label, batch_id, on_event, cancel).run(
                list(candidates), list(refusals)
            )

    # -- start-up recovery ---------------------------------------------------------------
    def resume(self) -> ResumeReport:
        """Finish or roll back every photo a crash left half-imported. Call before importing."""
        with self._lock:
            rolled_back = completed = 0
            notes: list[str] = []
            for entry in self.journal.pending():
                was_storing = entry.step == STORING
                if was_storing:
                    item_id = self.vault.find_original(entry.original_sha256)
                    if item_id is None:
                        self.journal.clear(entry)  # never stored: the source is untouched
                        rolled_back += 1
                        continue
                    problem = self._verify(item_id, entry.clean_sha256)
                    if problem:
                        self._discard(item_id, problem)
                        self.journal.clear(entry)
                        rolled_back += 1
                        continue
                    entry = replace(entry, step=REMOVING, item_id=item_id, token=new_token())
                    self.journal.write(entry)
                note = _finish_removal(entry.source, entry.token or new_token(), was_storing)
                if note:
                    notes.append(note)
                self.journal.clear(entry)
                completed += 1
            if rolled_back or completed:
                log.info("import recovery: %d rolled back, %d completed", rolled_back, completed)
                self.vault.audit(
                    "import_recovered",
                    actor=self.actor,
                    subject="import",
                    details={"rolled_back": rolled_back, "completed": completed},
                )
            return ResumeReport(rolled_back, completed, tuple(notes))

    # -- helpers shared by a batch and recovery -------------------------------------------
    def _verify(self, item_id: str, clean_sha256: str | None) -> str | None:
        """None if the stored item decrypts (and matches the scrubbed hash when known).

        Streams the content (each chunk authenticated) instead of `vault.read`, which would
        audit a staff view: this is the machine checking its own write.
        """
        digest = hashlib.sha256()
        try:
            for chunk in self.vault.open_stream(item_id):
                digest.update(chunk)
        except VaultError as exc:
            return f"reading it back failed ({exc})"
        if clean_sha256 is not None and digest.hexdigest() != clean_sha256:
            return "the stored copy does not match what was written"
        return None

    def _discard(self, item_id: str, why: str) -> None:
        log.error("import: stored item failed verification and is destroyed: %s", why)
        self.vault.delete(item_id, actor=self.actor, reason=f"import verification failed: {why}")


def _finish_removal(source: dict[str, Any], token: str, untouched: bool) -> str | None:
    """Complete a journaled source removal after a crash; a note if the user must act.

    `untouched` is True when the crash came before REMOVING was journaled: nothing touched the
    file yet, so it must still be the exact copy that was read, or it is someone else's.
    """
    removal = source.get("removal", "keep")
    if removal == "keep":
        return None
    if source.get("kind") == "file":
        path = Path(source["path"])
        identity = (source["dev"], source["ino"])
        if untouched and os.path.lexists(path) and not _unchanged(path, source):
            return f"{path}: changed after it was imported; it was left in place"
        try:
            if removal == "wipe":
                for name in (path, *(Path(p) for p in source.get("links", []))):
                    finish_wipe(name, token, identity)
            else:
                st = os.lstat(path)
                if (st.st_dev, st.st_ino) == identity:
                    os.unlink(path)
        except FileNotFoundError:
            return None
        except (OSError, WipeError) as exc:
            return f"{path}: is in the vault but could not be removed ({exc}); delete it by hand"
        return None
    return (
        f"{source.get('model', 'device')}:{source.get('folder', '')}/{source.get('name', '')}: "
        "is in the vault, but the import was interrupted before it was deleted from the "
        "device; delete it on the device (importing it again reports it as already imported)"
    )


def _unchanged(path: Path, source: dict[str, Any]) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(st.st_mode) and (
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
    ) == (source["dev"], source["ino"], source.get("size"), source.get("mtime_ns"))


@dataclass
class _Prepared:
    """A photo read; its hash, duplicate check and scrub running on a worker (`_Scrubbed`)."""

    work: Future


@dataclass
class _Scrubbed:
    """A worker's result: the original's hash and either the item that already holds it, the
    clean copy (with its thumbnail and hash), or why it cannot be de-identified."""

    original: str
    existing: str | None = None
    clean: Any = None
    thumbnail: bytes = b""
    clean_sha: str = ""
    error: DeidError | None = None


# Photos read and scrubbing while the oldest is stored: one per core; fewer when they are large.
_AHEAD = 2
_AHEAD_BYTES = 128 << 20
# Photos stored and verified whose source wipe may still be running on the wipe thread.
_WIPES = 2


def _scrub(source: Any) -> tuple[Any, bytes, str]:
    """Worker-thread half of a photo: scrub, thumbnail, hash of the clean bytes."""
    clean = scrub_source(source)  # a JPEG streams: `clean.data` reads `source` on demand
    # The thumbnail reuses the scrub's verification decode (JPEG: 1/8 scale): one decode.
    thumbnail = make_thumbnail(clean)
    return replace(clean, preview=None), thumbnail, clean.sha256()


def _drop(item: _Prepared) -> None:
    """A photo read ahead that will not be stored: its scrub result is not wanted."""
    item.work.cancel()


@dataclass
class _Removal:
    """A source removal journaled (REMOVING) and running on the wipe thread, or done.

    Its journal entry is cleared, and its result recorded, on the batch's thread in order.
    """

    cand: Candidate
    entry: Entry
    outcome: Outcome
    message: str
    future: Future


class _BatchRun:
    def __init__(self, importer: Importer, source_label, batch_id, on_event, cancel) -> None:
        self.imp = importer
        self.vault = importer.vault
        self.actor = importer.actor
        self.journal = importer.journal
        self.source_label = source_label
        self.batch_id = batch_id
        self.on_event = on_event
        self.cancel = cancel
        # Set when the vault stops taking writes: the rest of the batch is left in place.
        self.vault_fault: str = ""
        # Set when the rest of the batch cannot be read (device unplugged) or is not wanted.
        self.stop_reason: str = ""
        self.wiper: ThreadPoolExecutor | None = None  # the wipe thread while the batch runs
        self._stored: str | None = None  # item stored and verified for the photo in finish()
        # Journal entries of photos whose work is done. Each is cleared in the same commit as
        # the next entry written (or at the batch's end) rather than in one of its own: until
        # then a crash leaves a REMOVING entry whose finishing finds nothing left to remove.
        self._done: list[Entry] = []

    def emit(self, event: ImportEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def run(self, candidates: list[Candidate], refusals: list[Refusal]) -> BatchResult:
        total_bytes = sum(c.size for c in candidates)
        total = len(candidates) + len(refusals)
        result = BatchResult(self.batch_id, self.source_label)
        self.emit(BatchStarted(self.source_label, total, total_bytes))
        log.debug(  # counts only: file names can carry a patient's name
            "import batch started: %d photo(s), %d refused, %d bytes",
            len(candidates),
            len(refusals),
            total_bytes,
        )
        done_bytes = 0

        def record(file_result: FileResult, size: int = 0) -> None:
            nonlocal done_bytes
            done_bytes += size
            result.results.append(file_result)
            self.emit(FileDone(file_result, len(result.results), total, done_bytes, total_bytes))

        for refusal in refusals:
            record(FileResult(refusal.display, Outcome.REFUSED, message=refusal.reason))
        # The stages overlap on two cores: while photo n is stored and verified on this
        # thread, photos n+1 and n+2 are scrubbed on two workers (CPU work; Pillow, libheif
        # and hashlib release the GIL), and photo n-1's file is wiped on a third thread (mostly
        # waiting on fsync). Every journal and vault write stays on this thread, in order, and
        # a wipe starts only once its REMOVING entry is committed (see remove_source); device
        # sources (one USB connection) are read and removed on this thread only. Results are
        # recorded in candidate order.
        ahead: deque[tuple[Candidate, _Prepared | FileResult]] = deque()
        outbox: deque[tuple[Candidate, FileResult | _Removal]] = deque()

        def flush(wait_all: bool = False) -> None:
            """Record finished photos in order; at most _WIPES photos wait on their wipe."""
            while outbox:
                cand, done = outbox[0]
                if isinstance(done, _Removal):
                    if not (wait_all or len(outbox) > _WIPES or done.future.done()):
                        return
                    done = self.complete_removal(done)
                outbox.popleft()
                record(done, cand.size)

        def finish_oldest() -> None:
            cand, item = ahead.popleft()
            outbox.append((cand, self.finish(cand, item)))
            flush()

        with (
            ThreadPoolExecutor(max_workers=_AHEAD, thread_name_prefix="picsafe-scrub") as pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="picsafe-wipe") as wiper,
        ):
            self.wiper = wiper
            try:
                for cand in candidates:
                    item = self.next_item(cand, pool)
                    ahead.append((cand, item))
                    # Up to _AHEAD photos scrub while the oldest is stored; only one when they
                    # are large, so memory stays a small multiple of one photo.
                    while len(ahead) > _AHEAD or (
                        len(ahead) > 1 and sum(c.size for c, _ in ahead) > _AHEAD_BYTES
                    ):
                        finish_oldest()
                while ahead:
                    finish_oldest()
            finally:
                # Every journaled wipe runs to its end and is recorded, whatever happened.
                flush(wait_all=True)
                self.wiper = None
                self.clear_done()
        result.batch_id = self.batch_id
        result.vault_fault = self.vault_fault
        counts = {o.value: result.count(o) for o in Outcome}
        log.info("import batch finished: %s", counts)
        if result.results and not self.vault_fault:
            try:
                self.vault.audit(
                    "import_batch",
                    actor=self.actor,
                    subject=self.batch_id or "none",
                    details=dict(counts, sources_left=len(result.manual_removals)),
                )
            except (VaultError, OSError) as exc:  # each stored photo has its own audit row
                log.warning("import batch audit row not written (%s)", faults.classify(exc))
        self.emit(BatchFinished(result))
        return result

    def halted(self) -> str:
        """Why no further photo may be started (Cancel, or SIGTERM), or ""."""
        if self.cancel is not None and self.cancel.is_set():
            return "import cancelled; left at its source"
        if shutdown.requested.is_set():
            return "PicSafe is shutting down; left at its source"
        return ""

    def next_item(self, cand: Candidate, pool: ThreadPoolExecutor) -> _Prepared | FileResult:
        """Read `cand` and start its scrub, or the result saying why it was left alone."""
        if not self.stop_reason:
            self.stop_reason = self.halted() or self.vault_fault
        if self.stop_reason:
            return FileResult(cand.display, Outcome.FAILED, message=self.stop_reason)
        try:
            return self.prepare(cand, pool)
        except SourceError as exc:
            if exc.stops_batch:
                self.stop_reason = f"not imported: {exc}"
            return FileResult(cand.display, Outcome.FAILED, message=str(exc))
        except (VaultError, OSError) as exc:
            return self.vault_failed(cand, exc, None, False)

    def prepare(self, cand: Candidate, pool: ThreadPoolExecutor) -> _Prepared:
        """Read now (sources are read on this thread, in order); hash, look up and scrub on a
        worker, off the thread every store waits on."""
        if cand.size > MAX_FILE_BYTES:  # as listed by the source: never read it at all
            raise SourceError(too_large(cand.display, cand.size))
        source = cand.open()  # a large file stays in place (importer/snapshot.py)
        return _Prepared(pool.submit(self._hash_and_scrub, source))

    def _hash_and_scrub(self, source: Any) -> _Scrubbed:
        """Worker half of `prepare`: no scrub for an original the vault already holds (a
        vault fault here surfaces in `finish`, for this photo only; so does a large file
        rewritten while it is read, as SourceError)."""
        original = source.sha256()
        existing = self.vault.find_original(original)
        if existing is not None:
            return _Scrubbed(original, existing)
        try:
            clean, thumbnail, clean_sha = _scrub(source)
        except DeidError as exc:
            return _Scrubbed(original, error=exc)
        return _Scrubbed(original, None, clean, thumbnail, clean_sha)

    def finish(self, cand: Candidate, item: _Prepared | FileResult) -> FileResult | _Removal:
        """One photo to its end, or to its source wipe running on the wipe thread; a vault
        that stops taking writes ends the batch, and the result says exactly whether this
        photo is safe in the vault."""
        if isinstance(item, FileResult):
            return item
        stop = self.vault_fault or self.halted()
        if stop:  # read ahead, nothing written for it yet: it stays at its source
            _drop(item)
            cand.close()
            return FileResult(cand.display, Outcome.FAILED, message=stop)
        self._stored = None
        try:
            return self._finish(cand, item)
        except (VaultError, OSError) as exc:
            # Its source is untouched: a removal that ran reports through complete_removal.
            return self.vault_failed(cand, exc, self._stored, False)
        finally:
            self._stored = None
            cand.close()  # a large file's snapshot (the wipe thread releases it first too)

    def vault_failed(
        self, cand: Candidate, exc: BaseException, item_id: str | None, removed: bool
    ) -> FileResult:
        """The vault refused a write: say what is safe where, and stop the batch.

        `item_id` is `cand`'s item when it was stored and verified, `removed` whether its
        source is gone: always `cand`'s own, never another photo's in flight.
        """
        where = getattr(self.vault, "path", None)
        kind = faults.classify(exc, where)
        advice = faults.advice(exc, where)
        log.error("import stopped: the vault refused a write (%s)", kind)
        self.vault_fault = f"not imported: {advice}; the file was left in place"
        if item_id is None:
            return FileResult(cand.display, Outcome.FAILED, message=self.vault_fault)
        if removed:
            return FileResult(cand.display, Outcome.IMPORTED, item_id, "", True)
        # Stored and verified, but the removal could not be journaled: the original stays
        # (its STORING journal entry lets the next start finish the job, as after a crash).
        return FileResult(
            cand.display,
            Outcome.IMPORTED,
            item_id,
            "stored in the vault and verified; the original was left in place because the "
            "vault stopped taking writes (it is removed when PicSafe next starts)",
        )

    def _finish(self, cand: Candidate, item: _Prepared) -> FileResult | _Removal:
        try:
            ready: _Scrubbed = item.work.result()
        except SourceError as exc:  # a large file rewritten while it was read (snapshot.py)
            return FileResult(cand.display, Outcome.FAILED, message=str(exc))
        original = ready.original
        if ready.existing is not None:
            return self.duplicate(cand, original, ready.existing)
        if ready.error is not None:
            exc = ready.error
            if cand.still_arriving(cut_short="truncated" in str(exc)):
                return FileResult(
                    cand.display,
                    Outcome.FAILED,
                    message=f"{cand.display}: still being copied; it was left in place - a "
                    "drop folder imports it once complete, otherwise import it again when "
                    "the copy has finished",
                )
            return FileResult(
                cand.display,
                Outcome.FAILED,
                message=f"{cand.display}: not imported, PicSafe cannot de-identify it ({exc}); "
                "the file was left in place",
            )
        clean, thumbnail, clean_sha = ready.clean, ready.thumbnail, ready.clean_sha
        if self.batch_id is None:
            self.batch_id = self.vault.create_batch(self.source_label, actor=self.actor)
        entry = Entry(new_entry_id(), STORING, self.batch_id, cand.locator(), original, clean_sha)
        done = tuple(self._done)

        def journal_stored(conn: Any, item_id: str) -> None:
            # STORING commits with the item's row (and the clears of finished photos): one
            # commit where there were two, and no entry ever names a photo not stored.
            self.journal.write_in(conn, replace(entry, item_id=item_id), clear=done)

        try:
            # put() returns once the blob is written, fsynced, read back, decrypted and its
            # SHA-256 matched against these very bytes (clean_sha): the verification the
            # source's removal waits for. Decrypting it a second time here proved nothing more.
            item_id = self.vault.put(
                clean.open(),  # read in chunks as it is encrypted: never held whole
                batch_id=self.batch_id,
                media_type=clean.media_type,
                thumbnail=thumbnail,
                metadata=_metadata(cand, clean, clean_sha),
                original_sha256=original,
                actor=self.actor,
                state=ItemState.AWAITING_CONSENT,
                then=journal_stored,
                sha256=clean_sha or None,  # hashed on the scrub worker: one pass fewer here
            )
        except DuplicateOriginal as exc:
            return self.duplicate(cand, original, exc.item_id)
        except SourceError as exc:  # nothing stored, nothing journaled: put() rolled both back
            return FileResult(cand.display, Outcome.FAILED, message=str(exc))
        except VaultError as exc:
            if faults.classify(exc, getattr(self.vault, "path", None)) != faults.OTHER:
                raise  # the vault stopped taking writes: the batch ends (see vault_failed)
            return FileResult(
                cand.display,
                Outcome.FAILED,
                message=f"{cand.display}: not stored ({exc}); the file was left in place",
            )
        del self._done[: len(done)]
        self._stored = item_id
        return self.remove_source(cand, entry, item_id, Outcome.IMPORTED, "")

    def duplicate(self, cand: Candidate, original: str, item_id: str) -> FileResult | _Removal:
        """Already stored: not stored twice; the source is removed once the copy verifies."""
        problem = self.imp._verify(item_id, None)
        if problem:
            return FileResult(
                cand.display,
                Outcome.FAILED,
                message=f"{cand.display}: already in the vault as item {item_id}, but that copy "
                f"cannot be read ({problem}); the file was left in place - run `vault verify`",
            )
        entry = Entry(new_entry_id(), REMOVING, self.batch_id or "", cand.locator(), original)
        return self.remove_source(
            cand, entry, item_id, Outcome.DUPLICATE, f"already in the vault as item {item_id}"
        )

    def remove_source(
        self, cand: Candidate, entry: Entry, item_id: str, outcome: Outcome, message: str
    ) -> FileResult | _Removal:
        """Journal REMOVING (reusing a STORING entry's id), then remove the source: a file on
        the wipe thread (complete_removal() collects its result), a device here.
        """
        if not cand.removable:
            if entry.step == STORING:
                self._done.append(entry)
            return FileResult(cand.display, outcome, item_id, message)
        removing = replace(entry, step=REMOVING, item_id=item_id, token=new_token())
        # Committed before the wipe starts: a crash at any instant of the wipe (on whichever
        # thread) is finished by resume() with this token.
        done = tuple(self._done)
        self.journal.update(removing, clear=done)
        del self._done[: len(done)]
        removal = _Removal(cand, removing, outcome, message, Future())
        if self.wiper is not None and cand.kind == "file":
            removal.future = self.wiper.submit(cand.remove, removing.token)
            return removal
        try:
            cand.remove(removing.token)
        except (FileNotFoundError, RemoveError) as exc:
            removal.future.set_exception(exc)
        else:
            removal.future.set_result(None)
        return self.complete_removal(removal)

    def complete_removal(self, removal: _Removal) -> FileResult:
        """Wait for a removal and say what happened to the photo; its journal entry is cleared
        with the next journal write (see `_done`)."""
        cand, entry = removal.cand, removal.entry
        item_id = entry.item_id or ""
        try:
            removal.future.result()
        except FileNotFoundError:
            pass  # already gone: nothing left to remove
        except RemoveError as exc:
            log.warning("import: a source copy could not be removed (%s)", cand.kind)
            self._done.append(entry)
            note = str(exc) if exc.by_hand else ""
            return FileResult(
                cand.display, removal.outcome, item_id, removal.message or str(exc), False, note
            )
        except OSError as exc:  # not explained by the wipe: left journaled for the next start
            return self.vault_failed(cand, exc, item_id, False)
        self._done.append(entry)
        return FileResult(cand.display, removal.outcome, item_id, removal.message, True)

    def clear_done(self) -> None:
        """Clear the entries of finished photos still in the journal (end of the batch)."""
        if not self._done:
            return
        try:
            self.journal.update(clear=self._done)
        except (VaultError, OSError) as exc:  # their photos are done: the next start clears
            log.warning("import journal not cleared (%s)", faults.classify(exc))
        self._done.clear()


def _metadata(cand: Candidate, clean: Any, clean_sha: str) -> dict[str, Any]:
    """Encrypted per-item facts. Never the file name: staff often name files after patients."""
    facts = clean.facts
    return {
        "source": cand.kind,
        "width": facts.width,
        "height": facts.height,
        "orientation": facts.orientation,
        "capture_time": facts.capture_time.isoformat() if facts.capture_time else None,
        "removed_metadata": dict(clean.removed),
        "deid_notes": list(clean.notes),
        "clean_sha256": clean_sha,
    }


def import_paths(
    vault: Any,
    paths: Iterable[str | os.PathLike[str]],
    *,
    actor: str,
    progress: EventCallback | None = None,
    source_label: str = "Dropped files",
    cancel: threading.Event | None = None,
) -> BatchResult:
    """Drag-and-drop / "Import files..." entry point: files and folders as one batch.

    Runs synchronously (call it on a worker thread); `progress` receives the events.
    """
    paths = [Path(p) for p in paths]
    scan = scan_paths(paths)
    result = Importer(vault, actor=actor).run(
        scan.candidates,
        source_label=source_label,
        refusals=scan.refusals,
        on_event=progress,
        cancel=cancel,
    )
    prune_emptied_sources(paths, scan.candidates)
    return result
