"""Run slow calls (disk, crypto, network) on QThreadPool and deliver results on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class Task(QRunnable):
    """Calls `fn(*args)` (plus `progress=emit` if asked); never raises on the pool thread."""

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False) -> None:
        super().__init__()
        self.fn, self.args, self.with_progress = fn, args, with_progress
        self.signals = _Signals()
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            if self.with_progress:
                result = self.fn(*self.args, progress=self.signals.progress.emit)
            else:
                result = self.fn(*self.args)
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI, which tells the user
            # Type and place only: the message may name a patient's file.
            log.debug("background task failed: %s", type(exc).__name__, exc_info=True)
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


# Tasks stay referenced until they finish so their signal objects are not collected early.
_running: set[Task] = set()


def submit(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    pool: QThreadPool | None = None,
) -> Task:
    task = Task(fn, *args, with_progress=on_progress is not None)
    _running.add(task)

    def finish(_: object) -> None:
        _running.discard(task)

    task.signals.done.connect(finish)
    task.signals.failed.connect(finish)
    if on_done:
        task.signals.done.connect(on_done)
    if on_error:
        task.signals.failed.connect(on_error)
    if on_progress:
        task.signals.progress.connect(on_progress)
    (pool or QThreadPool.globalInstance()).start(task)
    return task


# Imports get a pool of their own, one thread: batches run one at a time anyway (the importer
# holds a lock), and a queued import must wait in this queue, not on a thread of the global
# pool, where two of them used to leave no thread for the UI's reads (thumbnails, viewer).
_import_pool: QThreadPool | None = None


def import_pool() -> QThreadPool:
    global _import_pool
    if _import_pool is None:
        _import_pool = QThreadPool()
        _import_pool.setObjectName("picsafe-imports")
        _import_pool.setMaxThreadCount(1)
    return _import_pool


def submit_import(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """`submit` on the import pool: for import batches only."""
    return submit(fn, *args, pool=import_pool(), **kwargs)


def wait_for_done(msecs: int = 30000) -> bool:
    """Wait for every background task, imports included (before the vault is closed)."""
    imports_done = import_pool().waitForDone(msecs)
    return QThreadPool.globalInstance().waitForDone(msecs) and imports_done
