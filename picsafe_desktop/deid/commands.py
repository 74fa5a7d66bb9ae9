"""`picsafe-desktop scrub SRC DST`: write a de-identified copy of one photo.

The only file I/O of the deid package lives here. The output is written to a temporary
file beside DST, flushed to disk and renamed into place, so DST is either the complete clean
image or untouched; on any error the temporary file is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.atomic import write_atomically
from picsafe_desktop.deid.errors import DeidError
from picsafe_desktop.deid.limits import MAX_FILE_BYTES
from picsafe_desktop.deid.scrub import scrub

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2
_EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "image/webp": (".webp",),
               "image/heic": (".heic", ".heif", ".hif")}  # fmt: skip


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scrub",
        help="write a de-identified copy of one photo (JPEG, PNG, WebP, HEIC/HEIF)",
        description="Remove GPS, dates, serial numbers, owner names, maker notes, thumbnails, "
        "XMP, IPTC and vendor data from a photo. JPEG, PNG, WebP and HEIC keep their exact "
        "pixels (an unusual HEIF may become JPEG). The format is read from the bytes, not the "
        "name.",
    )
    parser.add_argument("src", metavar="SRC", type=Path, help="photo to read (never changed)")
    parser.add_argument(
        "dst",
        metavar="DST",
        type=Path,
        help="file to write, or an existing folder (the name then comes from SRC with the "
        "right extension); refused if it is SRC itself",
    )
    parser.add_argument(
        "--json", action="store_true", help="print what was removed as JSON (counts only)"
    )
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"{APP_ID} scrub: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    src: Path = args.src
    dst: Path = args.dst
    if not src.is_file():
        return _fail(f"{src}: no such file (give the path of a photo)")
    size = src.stat().st_size
    if size > MAX_FILE_BYTES:
        return _fail(f"{src}: {size} bytes is above the {MAX_FILE_BYTES}-byte limit")
    try:
        data = src.read_bytes()
    except OSError as exc:
        return _fail(f"{src}: cannot be read ({exc.strerror or exc})")
    try:
        result = scrub(data)
    except DeidError as exc:
        return _fail(f"{src}: {exc}")
    del data

    extensions = _EXTENSIONS[result.media_type]
    if dst.is_dir():
        dst = dst / (src.stem + extensions[0])
    elif dst.suffix.lower() not in extensions:
        return _fail(
            f"{dst}: the clean image is {result.media_type}; name the output with {extensions[0]}"
        )
    if _same_file(src, dst):
        return _fail(f"{dst}: is the source file itself; choose another output name")
    if not dst.parent.is_dir():
        return _fail(f"{dst.parent}: folder does not exist")
    try:
        write_atomically(dst, result.data)
    except OSError as exc:
        return _fail(f"{dst}: cannot be written ({exc.strerror or exc})")

    if args.json:
        report = {
            "output": str(dst),
            "media_type": result.media_type,
            "pixels_preserved": result.pixels_preserved,
            "removed": result.removed,
            "notes": result.notes,
        }
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        total = sum(result.removed.values())
        print(f"wrote {dst} ({result.media_type}, {len(result.data)} bytes); "
              f"{len(result.removed)} kinds of metadata removed ({total} items)")  # fmt: skip
        for note in result.notes:
            print(f"  note: {note}")
    return EXIT_OK


def _same_file(src: Path, dst: Path) -> bool:
    if dst.exists():
        try:
            return os.path.samefile(src, dst)
        except OSError:
            return False
    return src.resolve() == dst.resolve()
