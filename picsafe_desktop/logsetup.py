"""Logging that is honest for IT and never carries patient data.

The rule is that code never passes patient data to a logger. As a second line of defence every
handler runs `PhiFilter`, which blanks values the app has registered as sensitive at run time
(MRNs, names, birth dates entered in a consent) and source file names, which staff often name
after the patient.
"""

from __future__ import annotations

import ctypes
import logging
import logging.handlers
import os
import re
import sys
import threading
import time
from pathlib import Path

from picsafe_desktop import winacl, winfs

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


class TerminalFormatter(logging.Formatter):
    """The terminal gets an error's last line ("OSError: ..."), never a traceback (ours on a
    crash, or a library's such as pynetdicom's reader thread): the log file keeps the whole
    traceback for IT."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            lines = [ln for ln in record.exc_text.splitlines() if ln.strip()]
            record.exc_info, record.exc_text = None, lines[-1] if lines else ""
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


# CreateFileW arguments for a log file that another process may rename while it is open.
_FILE_APPEND_DATA = 0x0004  # every write lands at the end, whoever else appends
_FILE_READ_ATTRIBUTES = 0x0080  # for fstat (size and identity)
_SYNCHRONIZE = 0x00100000
_FILE_SHARE_ALL = 0x1 | 0x2 | 0x4  # read, write, delete (delete covers rename)
_OPEN_ALWAYS = 4
_FILE_ATTRIBUTE_NORMAL = 0x80


def _kernel32():
    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


def open_shared_delete(path: str, flags: int, kernel32=None) -> int:
    """`open()` opener for Windows: an append-only descriptor opened with FILE_SHARE_DELETE.

    Python's own open() leaves FILE_SHARE_DELETE out, so while one PicSafe process has the log
    open no other can rename it for rotation (sharing violation, winerror 32). With it, a rename
    by another process succeeds and this handle follows the renamed file, as on POSIX.
    """
    import msvcrt  # Windows only

    k32 = kernel32 or _kernel32()
    k32.CreateFileW.restype = ctypes.c_void_p
    k32.CreateFileW.argtypes = [
        ctypes.c_wchar_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_void_p,
    ]
    handle = k32.CreateFileW(
        path,
        _FILE_APPEND_DATA | _FILE_READ_ATTRIBUTES | _SYNCHRONIZE,
        _FILE_SHARE_ALL,
        None,
        _OPEN_ALWAYS,
        _FILE_ATTRIBUTE_NORMAL,
        None,
    )
    if handle is None or handle == ctypes.c_void_p(-1).value:
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    return msvcrt.open_osfhandle(handle, os.O_APPEND | (flags & getattr(os, "O_NOINHERIT", 0)))


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Size-based rotation that two PicSafe processes writing one log file survive, losing no line.

    - The live file is moved aside *first* and the backups are shifted only once that worked.
      The stock handler shifts `.1`->`.2`->`.3` first and renames the live file last; on Windows
      that last rename fails while another process holds the file (winerror 32), and every retry
      shifted the backups again, deleting the oldest each time: a few retries lost every older
      line. A refused move here changes nothing; this process keeps appending to the live file
      and tries again after `retry_seconds` (the file may pass its size limit meanwhile).
    - A move aside that worked but a shift that failed leaves the moved file under its own
      unique name (`<log>.<pid>-<n>.rotating`): kept, never overwritten.
    - When another process rotated, the file this one holds is now a backup: before each record
      the live name is checked and reopened, so no process writes into a file that a later
      rotation deletes.
    - On Windows the file is opened with FILE_SHARE_DELETE so that the other process's rename
      works at all (`open_shared_delete`); if that open fails, the plain open is used.
    """

    retry_seconds = 60.0

    def __init__(self, *args, **kwargs) -> None:
        self._next_try = 0.0
        self._asides = 0
        super().__init__(*args, **kwargs)

    def _open(self):
        if winfs.is_windows():
            try:
                return self._builtin_open(
                    self.baseFilename,
                    self.mode,
                    encoding=self.encoding,
                    errors=self.errors,
                    opener=open_shared_delete,
                )
            except (OSError, AttributeError, ValueError):
                pass
        return super()._open()

    def _follow_live_file(self) -> None:
        if self.stream is None:
            return
        try:
            live = os.stat(self.baseFilename)
            held = os.fstat(self.stream.fileno())
        except FileNotFoundError:
            live = held = None
        except OSError:
            return
        if live is None or (live.st_ino, live.st_dev) != (held.st_ino, held.st_dev):
            self.stream.close()
            self.stream = self._open()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._follow_live_file()
        except Exception:  # noqa: BLE001 - logging must never raise into the app
            self.handleError(record)
            return
        super().emit(record)

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802
        if time.monotonic() < self._next_try:
            return False
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:  # noqa: N802
        if self.backupCount <= 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
            self.stream = None
        self._asides += 1
        aside = f"{self.baseFilename}.{os.getpid()}-{self._asides}.rotating"
        try:
            os.rename(self.baseFilename, aside)  # Windows: refused while another holds it
            for i in range(self.backupCount - 1, 0, -1):
                older = f"{self.baseFilename}.{i}"
                if os.path.exists(older):
                    os.replace(older, f"{self.baseFilename}.{i + 1}")  # drops the oldest
            os.replace(aside, f"{self.baseFilename}.1")
        except OSError:
            self._next_try = time.monotonic() + self.retry_seconds
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
    handlers[0].setFormatter(TerminalFormatter(FORMAT))
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
