"""The one import pipeline every source feeds (ARCHITECTURE.md, "Life of a photo").

For each photo: read it (into memory, or in place if large: snapshot.py), hash the original,
look for a duplicate, scrub it, store it encrypted as AWAITING_CONSENT with a thumbnail, read
it back and compare, then remove the source copy. Every step that changes anything is
journaled first (see `journal.py`), so `Importer.resume()` at start-up finishes or rolls back
whatever a crash interrupted: a photo is either verified in the vault or untouched at its
source, never both lost and never stored twice.

Nothing here writes photo bytes to disk: the only copies are the source, memory, and the
vault's ciphertext.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    """A photo read and hashed, its scrub running (None when it is a duplicate)."""

    original: str
    existing: str | None
    clean: Future | None


def _scrub(source: Any) -> tuple[Any, bytes]:
    clean = scrub_source(source)  # a JPEG streams: `clean.data` reads `source` on demand
    # The thumbnail reuses the scrub's verification decode (JPEG: 1/8 scale): one decode.
    thumbnail = make_thumbnail(clean)
    return replace(clean, preview=None), thumbnail


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
        self._stored: str | None = None  # item stored and verified for the current photo
        self._removed = False  # ... and its source removed

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
        # Two stages overlap: while photo n is stored, verified and its source removed on this
        # thread, photo n+1 is scrubbed on a worker (pure CPU work; Pillow releases the GIL).
        # All source I/O - reads, wipes, device calls - stays on this thread, in order.
        stop_reason = ""
        pending: tuple[Candidate, _Prepared | FileResult] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="picsafe-scrub") as pool:
            for cand in candidates:
                if not stop_reason and self.cancel is not None and self.cancel.is_set():
                    stop_reason = "import cancelled; left at its source"
                if not stop_reason and shutdown.requested.is_set():
                    stop_reason = "PicSafe is shutting down; left at its source"
                item: _Prepared | FileResult
                if self.vault_fault and not stop_reason:
                    stop_reason = self.vault_fault
                if stop_reason:
                    item = FileResult(cand.display, Outcome.FAILED, message=stop_reason)
                else:
                    try:
                        item = self.prepare(cand, pool)
                    except SourceError as exc:
                        item = FileResult(cand.display, Outcome.FAILED, message=str(exc))
                        if exc.stops_batch:
                            stop_reason = f"not imported: {exc}"
                    except (VaultError, OSError) as exc:
                        item = self.vault_failed(cand, exc)
                if pending is not None:
                    record(self.finish(*pending), pending[0].size)
                pending = (cand, item)
            if pending is not None:
                record(self.finish(*pending), pending[0].size)
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

    def prepare(self, cand: Candidate, pool: ThreadPoolExecutor) -> _Prepared:
        """Read and hash now; scrub on the worker unless the original is already stored."""
        if cand.size > MAX_FILE_BYTES:  # as listed by the source: never read it at all
            raise SourceError(too_large(cand.display, cand.size))
        source = cand.open()  # a large file stays in place (importer/snapshot.py)
        try:
            original = source.sha256()
            existing = self.vault.find_original(original)
        except BaseException:
            cand.close()
            raise
        clean = None if existing is not None else pool.submit(_scrub, source)
        return _Prepared(original, existing, clean)

    def finish(self, cand: Candidate, item: _Prepared | FileResult) -> FileResult:
        """One photo to its end; a vault that stops taking writes ends the batch, and the
        result says exactly whether this photo is safe in the vault."""
        if isinstance(item, FileResult):
            return item
        if self.vault_fault:
            cand.close()  # read ahead before the vault failed: release it (never stored)
            return FileResult(cand.display, Outcome.FAILED, message=self.vault_fault)
        self._stored, self._removed = None, False
        try:
            return self._finish(cand, item)
        except (VaultError, OSError) as exc:
            return self.vault_failed(cand, exc)
        finally:
            self._stored, self._removed = None, False
            cand.close()

    def vault_failed(self, cand: Candidate, exc: BaseException) -> FileResult:
        """The vault refused a write: say what is safe where, and stop the batch.

        `_stored`/`_removed` describe `cand` only inside `finish`; elsewhere they are None.
        """
        where = getattr(self.vault, "path", None)
        kind = faults.classify(exc, where)
        advice = faults.advice(exc, where)
        log.error("import stopped: the vault refused a write (%s)", kind)
        self.vault_fault = f"not imported: {advice}; the file was left in place"
        item_id, removed = self._stored, self._removed
        self._stored, self._removed = None, False
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

    def _finish(self, cand: Candidate, item: _Prepared) -> FileResult:
        original = item.original
        if item.existing is not None:
            return self.duplicate(cand, original, item.existing)
        try:
            clean, thumbnail = item.clean.result()
            clean_sha = clean.sha256()
        except SourceError as exc:  # a large file rewritten while it was read (snapshot.py)
            return FileResult(cand.display, Outcome.FAILED, message=str(exc))
        except DeidError as exc:
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
        if self.batch_id is None:
            self.batch_id = self.vault.create_batch(self.source_label, actor=self.actor)
        entry = Entry(new_entry_id(), STORING, self.batch_id, cand.locator(), original, clean_sha)
        self.journal.write(entry)
        try:
            item_id = self.vault.put(
                clean.open(),  # read in chunks as it is encrypted: never held whole
                batch_id=self.batch_id,
                media_type=clean.media_type,
                thumbnail=thumbnail,
                metadata=_metadata(cand, clean, clean_sha),
                original_sha256=original,
                actor=self.actor,
                state=ItemState.AWAITING_CONSENT,
            )
        except DuplicateOriginal as exc:
            self.journal.clear(entry)
            return self.duplicate(cand, original, exc.item_id)
        except SourceError as exc:  # nothing was stored (the blob is removed by the vault)
            self.journal.clear(entry)
            return FileResult(cand.display, Outcome.FAILED, message=str(exc))
        except VaultError as exc:
            if faults.classify(exc, getattr(self.vault, "path", None)) != faults.OTHER:
                raise  # the vault stopped taking writes: the batch ends (see vault_failed)
            self.journal.clear(entry)
            return FileResult(
                cand.display,
                Outcome.FAILED,
                message=f"{cand.display}: not stored ({exc}); the file was left in place",
            )
        problem = self.imp._verify(item_id, clean_sha)
        if problem:
            self.imp._discard(item_id, problem)
            self.journal.clear(entry)
            return FileResult(
                cand.display,
                Outcome.FAILED,
                message=f"{cand.display}: the vault copy failed verification ({problem}); it "
                "was destroyed and the file was left in place",
            )
        self._stored = item_id
        return self.remove_source(cand, entry, item_id, Outcome.IMPORTED, "")

    def duplicate(self, cand: Candidate, original: str, item_id: str) -> FileResult:
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
    ) -> FileResult:
        """Journal REMOVING (reusing a STORING entry's id), remove the source, clear."""
        if not cand.removable:
            if entry.step == STORING:
                self.journal.clear(entry)
            return FileResult(cand.display, outcome, item_id, message)
        removing = replace(entry, step=REMOVING, item_id=item_id, token=new_token())
        self.journal.write(removing)
        try:
            cand.remove(removing.token)
            self._removed = True
        except FileNotFoundError:
            self._removed = True  # already gone: nothing left to remove
        except RemoveError as exc:
            self.journal.clear(removing)
            log.warning("import: a source copy could not be removed (%s)", cand.kind)
            note = str(exc) if exc.by_hand else ""
            return FileResult(cand.display, outcome, item_id, message or str(exc), False, note)
        self.journal.clear(removing)
        return FileResult(cand.display, outcome, item_id, message, True)


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
