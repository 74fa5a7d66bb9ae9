"""Logging that is honest for IT and never carries patient data.

The rule is that code never passes patient data to a logger. As a second line of defence every
handler runs `PhiFilter`, which blanks values the app has registered as sensitive at run time
(MRNs, names, birth dates entered in a consent) and source file names, which staff often name
after the patient.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
import time
from pathlib import Path

from picsafe_desktop import winacl

REDACTED = "[redacted]"
_sensitive: set[str] = set()
_lock = threading.Lock()
# Photo, video and document file names can carry a patient's name ("smith ulcer.jpg"): keep
# only the extension. Code paths in tracebacks (.py) stay, IT needs them.
_EXTENSIONS = (
    "jpe?g|heic|heif|hif|png|webp|tiff?|dng|cr2|cr3|nef|arw|raf|orf|rw2|gif|bmp|mpo|"
    "mov|mp4|m4v|3gp|avi|json|pdf|dcm|age|zip|txt|csv|docx?|xlsx?|odt"
)
_PATH_RE = re.compile(
    rf"(?:[A-Za-z]:)?[\\/][^\n'\"<>|]*?\.(?:{_EXTENSIONS})\b",
    re.IGNORECASE,
)
# Any other quoted absolute path (a folder named after a patient, an unknown extension).
_QUOTED_PATH_RE = re.compile(r"""(['"])((?:[A-Za-z]:)?[\\/](?:(?!\1)[^\n])*)\1""")


def _quoted_path(match: re.Match) -> str:
    quote, path = match.group(1), match.group(2)
    return match.group(0) if path.endswith(".py") else f"{quote}<path>{quote}"


def register_sensitive(*values: str) -> None:
    """Mark values (e.g. a patient's MRN and name) that must never appear in a log line."""
    with _lock:
        _sensitive.update(v.strip() for v in values if v and len(v.strip()) >= 3)


def redact(text: str) -> str:
    text = _PATH_RE.sub(lambda m: "<file" + Path(m.group(0)).suffix + ">", text)
    text = _QUOTED_PATH_RE.sub(_quoted_path, text)
    with _lock:
        values = sorted(_sensitive, key=len, reverse=True)
    for value in values:
        text = re.sub(re.escape(value), REDACTED, text, flags=re.IGNORECASE)
    return text


# Any quoted value ('x', "x", b'x') in another library's message: those print file names bare
# (watchdog: `name=b'smith ulcer.jpg'`), which the path patterns above cannot recognise.
_QUOTED_RE = re.compile(r"""(?:\b[bru])?(['"])(?:(?!\1)[^\n\\]|\\.)*\1""")
OUR_LOGGER = "picsafe_desktop"


def _ours(record: logging.LogRecord) -> bool:
    return record.name == OUR_LOGGER or record.name.startswith(OUR_LOGGER + ".")


class PhiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not _ours(record):
            message = _QUOTED_RE.sub("<value>", message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that survives a second PicSafe process writing the same log file.

    On Windows a file another process holds open cannot be renamed (a sharing violation), and on
    any platform the other process may have rotated first. A failed rotation is not an error
    worth a traceback on every line: keep writing to the current file and try again later.
    """

    retry_seconds = 60.0
    _next_try = 0.0

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802
        if time.monotonic() < self._next_try:
            return False
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:  # noqa: N802
        try:
            super().doRollover()
        except OSError:
            self._next_try = time.monotonic() + self.retry_seconds
            if self.stream is None:
                self.stream = self._open()


def configure(site, verbose: bool = False) -> Path | None:
    """Log to stderr and to the site's log file (created with owner-only permissions)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_picsafe", False):
            root.removeHandler(handler)
            handler.close()
    level = logging.DEBUG if verbose else getattr(logging, site.logging.level)
    # The site's level is for our own code. Libraries stay at WARNING: their debug output
    # (watchdog logs every file event with its bare name) was written for developers, not for
    # a ward PC's log.
    root.setLevel(max(level, logging.WARNING))
    logging.getLogger(OUR_LOGGER).setLevel(level)
    logging.captureWarnings(True)  # warnings.warn text (watchdog's hold paths) gets the filter
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setLevel(level if verbose else logging.WARNING)
    log_file: Path | None = Path(site.logging.file)
    try:
        winacl.make_private_dir(log_file.parent)  # Windows: owner-only ACL
        log_file.touch(mode=0o600, exist_ok=True)
        handlers.append(
            SharedRotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        )
    except OSError as exc:
        print(f"picsafe-desktop: cannot write log file {log_file}: {exc}", file=sys.stderr)
        log_file = None
    for handler in handlers:
        handler._picsafe = True  # type: ignore[attr-defined]
        handler.addFilter(PhiFilter())
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    _route_crashes_through_the_filter()
    return log_file


def log_crash(exc_type, exc, tb, where: str = "") -> None:
    """An uncaught exception, logged (file and stderr) through PhiFilter, never printed raw."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("picsafe_desktop.crash").critical(
        "unexpected error%s", f" in {where}" if where else "", exc_info=(exc_type, exc, tb)
    )


def _route_crashes_through_the_filter() -> None:
    """Python prints an uncaught exception's message raw to stderr, which a desktop session
    keeps on disk (journal, .xsession-errors); messages can hold file names or consent values.
    Install the hooks only where nobody else (a test runner, a debugger) has put their own."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = log_crash
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = lambda a: log_crash(
            a.exc_type, a.exc_value, a.exc_traceback, f"thread {a.thread.name if a.thread else ''}"
        )
