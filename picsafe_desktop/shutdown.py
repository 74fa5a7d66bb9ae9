"""SIGTERM (a logout, `systemctl stop`, an admin's `kill`) ends PicSafe cleanly, never midway.

Python's default for SIGTERM is to die on the spot. Instead: a log line, then
- inside `graceful()` (an import), `requested` is set and the work stops after the current
  photo, which it finishes (stored and verified, or left at its source); the command then
  returns normally and the vault is closed;
- anywhere else in a command, `SystemExit` unwinds it: `with vault:` closes the vault, an open
  transaction rolls back, a blob being written is removed;
- in the GUI, `on_request` closes the window; the vault closes after the workers finish.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

EXIT_TERMINATED = 128 + signal.SIGTERM
requested = threading.Event()
_graceful = 0
_on_request: Callable[[], None] | None = None


def _handle(signum: int, _frame) -> None:
    first = not requested.is_set()
    requested.set()
    if first:
        log.warning("termination requested (signal %d): stopping cleanly", signum)
    if _on_request is not None:
        _on_request()
    elif not _graceful:
        raise SystemExit(EXIT_TERMINATED)


def install(on_request: Callable[[], None] | None = None) -> None:
    """Handle SIGTERM (main thread only). `on_request` is called instead of exiting (GUI)."""
    global _on_request
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (a CLI called from a worker: default)
    _on_request = on_request
    requested.clear()
    signal.signal(signal.SIGTERM, _handle)


@contextlib.contextmanager
def graceful() -> Iterator[threading.Event]:
    """Within this block SIGTERM only sets the returned event: the work checks it and stops
    at its next safe point."""
    global _graceful
    _graceful += 1
    try:
        yield requested
    finally:
        _graceful -= 1
