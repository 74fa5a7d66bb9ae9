"""Turn an EXIF-rotated JPEG upright without re-encoding it: jpegtran's lossless transform.

DICOM viewers and PACS previews ignore EXIF Orientation, so a photo stored on its side must be
turned before it goes into Pixel Data. libjpeg-turbo's `jpegtran` rotates and mirrors in the DCT
domain (the quantised coefficients are moved, never decoded to pixels and compressed again), so
no quality is lost. The bytes go through pipes only: nothing touches the disk.

Partial edge blocks: a transform is exact only when the edges it moves are whole MCUs (8 or 16
pixels). We ask for `-perfect` first; when the picture's size does not allow it, `-trim` drops
the partial MCU row/column at the affected edge (at most 15 pixels) and the caller records that
in the object. Photos with orientation 1 are never touched: their bytes stay bit-exact.
"""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 - runs jpegtran with fixed arguments, no shell
import sys
from dataclasses import dataclass
from pathlib import Path

from picsafe_desktop.export.types import ExportError

# EXIF Orientation -> the jpegtran operation that shows the stored picture upright.
_OPERATIONS: dict[int, tuple[str, ...]] = {
    2: ("-flip", "horizontal"),
    3: ("-rotate", "180"),
    4: ("-flip", "vertical"),
    5: ("-transpose",),
    6: ("-rotate", "90"),
    7: ("-transverse",),
    8: ("-rotate", "270"),
}
_TIMEOUT = 120.0


@dataclass(frozen=True)
class Upright:
    jpeg: bytes
    turned: bool  # the pixels were transformed
    trimmed: bool  # a partial edge block was dropped (the size was not a multiple of the MCU)


def _bundled(name: str) -> str | None:
    """The copy inside a frozen bundle (PyInstaller's _MEIPASS, the spec puts it there)."""
    base = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or not base:
        return None
    candidate = Path(base) / name
    return str(candidate) if candidate.is_file() else None


def jpegtran() -> str:
    windows = sys.platform == "win32"
    # The Windows bundle carries libjpeg-turbo's jpegtran.exe (installer spec); elsewhere the
    # system's is used (the .deb depends on libjpeg-turbo-progs).
    path = _bundled("jpegtran.exe" if windows else "jpegtran") or shutil.which("jpegtran")
    if path is None:
        where = (
            "reinstall PicSafe Desktop (its installer carries jpegtran.exe)"
            if windows
            else "ask IT to install it (Debian: libjpeg-turbo-progs)"
        )
        raise ExportError(
            "jpegtran (libjpeg-turbo) is not installed, so photos stored on their side cannot "
            f"be turned upright for DICOM; {where}"
        )
    return path


# A console tool started from the windowless GUI would flash a console window on Windows.
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    # nosec B603: the tool path comes from PATH lookup, the arguments are constants
    return subprocess.run(  # noqa: S603  # nosec B603
        args,
        input=data,
        capture_output=True,
        timeout=_TIMEOUT,
        check=False,
        creationflags=_NO_WINDOW,
    )


def make_upright(data: bytes, orientation: int, label: str = "photo") -> Upright:
    """`data` turned as EXIF `orientation` says (ICC profile kept, EXIF dropped)."""
    operation = _OPERATIONS.get(orientation)
    if operation is None:
        return Upright(data, turned=False, trimmed=False)
    base = [jpegtran(), "-copy", "icc"]
    try:
        done = _run([*base, "-perfect", *operation], data)
        trimmed = False
        if done.returncode != 0 or not done.stdout:
            done = _run([*base, "-trim", *operation], data)
            trimmed = True
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExportError(f"{label}: jpegtran could not turn it upright ({exc})") from None
    if done.returncode != 0 or done.stdout[:2] != b"\xff\xd8":
        # jpegtran's message names only its own stdin, never patient data
        reason = done.stderr.decode("utf-8", "replace").strip()[:200]
        raise ExportError(f"{label}: jpegtran could not turn it upright ({reason})")
    return Upright(done.stdout, turned=True, trimmed=trimmed)
