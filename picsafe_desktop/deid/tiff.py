"""Just enough of TIFF/EXIF to read the facts we keep and count what we drop.

Everything here reads untrusted bytes, so every offset is bounds-checked, loops are capped
and a visited set stops IFD cycles. Nothing in an EXIF block is ever returned except the
orientation and the capture time; other tags are only counted by group for the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from collections import Counter
from dataclasses import dataclass, field

EXIF_PREFIX = b"Exif\x00\x00"

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_ENTRIES = 4096
_MAX_IFDS = 16

# Tag numbers we read.
ORIENTATION = 0x0112
_EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 0x8769, 0x8825, 0xA005
_THUMB_OFFSET = 0x0201
_MAKER_NOTE = 0x927C
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9011, 0x9012
_SUBSEC_ORIGINAL, _SUBSEC_DIGITIZED = 0x9291, 0x9292


class TiffError(ValueError):
    """The EXIF/TIFF block is malformed."""


@dataclass
class ExifSummary:
    orientation: int | None = None
    capture_time: dt.datetime | None = None
    groups: dict[str, int] = field(default_factory=dict)  # e.g. {"exif:GPS": 12}


@dataclass
class _Entry:
    tag: int
    typ: int
    count: int
    value_offset: int  # absolute offset of the value bytes inside the TIFF block


class _Reader:
    def __init__(self, data: bytes) -> None:
        if data[:6] == EXIF_PREFIX:
            data = data[6:]
        if len(data) < 8:
            raise TiffError("EXIF block too short")
        order = data[:2]
        if order == b"II":
            self.e = "<"
        elif order == b"MM":
            self.e = ">"
        else:
            raise TiffError("EXIF block has no byte-order mark")
        self.data = data
        if self.u16(2) != 42:
            raise TiffError("EXIF block has a bad TIFF magic number")

    def u16(self, pos: int) -> int:
        if pos < 0 or pos + 2 > len(self.data):
            raise TiffError("EXIF offset points outside the block")
        return struct.unpack_from(self.e + "H", self.data, pos)[0]

    def u32(self, pos: int) -> int:
        if pos < 0 or pos + 4 > len(self.data):
            raise TiffError("EXIF offset points outside the block")
        return struct.unpack_from(self.e + "I", self.data, pos)[0]

    def first_ifd(self) -> int:
        return self.u32(4)

    def ifd(self, pos: int) -> tuple[list[_Entry], int]:
        """Entries of the IFD at pos and the offset of the next IFD (0 if none)."""
        if pos < 8 or pos + 2 > len(self.data):
            raise TiffError("EXIF IFD offset outside the block")
        count = self.u16(pos)
        if count > _MAX_ENTRIES or pos + 2 + 12 * count > len(self.data):
            raise TiffError("EXIF IFD is truncated")
        entries = []
        for i in range(count):
            at = pos + 2 + 12 * i
            tag, typ, n = struct.unpack_from(self.e + "HHI", self.data, at)
            size = _TYPE_SIZES.get(typ, 0) * n
            value_at = at + 8 if size <= 4 else self.u32(at + 8)
            entries.append(_Entry(tag, typ, n, value_at))
        next_at = pos + 2 + 12 * count
        nxt = self.u32(next_at) if next_at + 4 <= len(self.data) else 0
        return entries, nxt

    def short(self, entry: _Entry) -> int | None:
        if entry.typ == 3 and entry.count >= 1:
            return self.u16(entry.value_offset)
        if entry.typ == 4 and entry.count >= 1:
            return self.u32(entry.value_offset)
        return None

    def ascii(self, entry: _Entry) -> str | None:
        if entry.typ not in (2, 7) or entry.count > 256:
            return None
        end = entry.value_offset + entry.count
        if entry.value_offset < 0 or end > len(self.data):
            return None
        raw = self.data[entry.value_offset : end].split(b"\x00", 1)[0]
        try:
            return raw.decode("ascii").strip()
        except UnicodeDecodeError:
            return None


def _capture_time(date: str | None, subsec: str | None, offset: str | None) -> dt.datetime | None:
    if not date:
        return None
    m = re.fullmatch(r"(\d{4})[:-](\d\d)[:-](\d\d)[ T](\d\d):(\d\d):(\d\d)", date)
    if not m:
        return None
    try:
        value = dt.datetime(*(int(g) for g in m.groups()))
    except ValueError:  # "0000:00:00 00:00:00" and other impossible dates
        return None
    if subsec and subsec.isdigit():
        value = value.replace(microsecond=int(subsec[:6].ljust(6, "0")))
    if offset:
        om = re.fullmatch(r"([+-])(\d\d):(\d\d)", offset)
        if om and int(om.group(2)) <= 23 and int(om.group(3)) <= 59:
            delta = dt.timedelta(hours=int(om.group(2)), minutes=int(om.group(3)))
            value = value.replace(tzinfo=dt.timezone(-delta if om.group(1) == "-" else delta))
    return value


def read_exif(data: bytes) -> ExifSummary:
    """Read orientation and capture time and count tags per group; raises TiffError."""
    r = _Reader(bytes(data))
    summary = ExifSummary()
    groups = summary.groups
    seen: set[int] = set()

    def walk(pos: int, group: str) -> tuple[list[_Entry], int]:
        if pos in seen or len(seen) >= _MAX_IFDS:
            raise TiffError("EXIF IFDs form a loop")
        seen.add(pos)
        try:
            entries, nxt = r.ifd(pos)
        except (TiffError, struct.error):
            if group == "exif:IFD0":
                raise
            # A broken sub-IFD (a real camera's bad GPS block) must not lose the other facts.
            groups["exif:unreadable"] = groups.get("exif:unreadable", 0) + 1
            return [], 0
        groups[group] = groups.get(group, 0) + len(entries)
        return entries, nxt

    ifd0_at = r.first_ifd()
    if ifd0_at == 0:
        return summary
    ifd0, ifd1_at = walk(ifd0_at, "exif:IFD0")
    exif_ifd: list[_Entry] = []
    for e in ifd0:
        if e.tag == ORIENTATION:
            summary.orientation = r.short(e)
        elif e.tag == _EXIF_IFD:
            pointer = r.short(e)
            if pointer:
                exif_ifd, _ = walk(pointer, "exif:ExifIFD")
        elif e.tag == _GPS_IFD:
            pointer = r.short(e)
            if pointer:
                walk(pointer, "exif:GPS")
    texts: dict[int, str | None] = {}
    for e in exif_ifd:
        if e.tag == _MAKER_NOTE:
            groups["exif:MakerNotes"] = 1
        elif e.tag == _INTEROP_IFD:
            pointer = r.short(e)
            if pointer:
                walk(pointer, "exif:InteropIFD")
        elif e.tag in (
            _DATETIME_ORIGINAL,
            _DATETIME_DIGITIZED,
            _OFFSET_ORIGINAL,
            _OFFSET_DIGITIZED,
            _SUBSEC_ORIGINAL,
            _SUBSEC_DIGITIZED,
        ):
            texts[e.tag] = r.ascii(e)
    if ifd1_at:
        ifd1, _ = walk(ifd1_at, "exif:IFD1")
        if any(e.tag == _THUMB_OFFSET for e in ifd1):
            groups["exif:ThumbnailImage"] = 1
    summary.capture_time = _capture_time(
        texts.get(_DATETIME_ORIGINAL), texts.get(_SUBSEC_ORIGINAL), texts.get(_OFFSET_ORIGINAL)
    ) or _capture_time(
        texts.get(_DATETIME_DIGITIZED),
        texts.get(_SUBSEC_DIGITIZED),
        texts.get(_OFFSET_DIGITIZED),
    )
    return summary


def read_exif_lenient(data: bytes) -> tuple[ExifSummary, bool]:
    """Like read_exif but never raises: (summary, ok). A broken block just yields no facts."""
    try:
        return read_exif(data), True
    except (TiffError, struct.error):
        return ExifSummary(groups={"exif:unreadable": 1}), False


UNREADABLE_NOTE = "EXIF block unreadable: no capture time or orientation taken from it"


def summarise_exif(
    block: bytes | None,
    removed: Counter[str],
    notes: list[str],
    *,
    unreadable: str = UNREADABLE_NOTE,
) -> ExifSummary:
    """The facts of an EXIF block that is about to be dropped; its tag groups go into `removed`.

    No block gives an empty summary; a broken one gives no facts and the `unreadable` note.
    """
    if block is None:
        return ExifSummary()
    summary, ok = read_exif_lenient(block)
    removed.update({k: v for k, v in summary.groups.items() if v})
    if not ok:
        notes.append(unreadable)
    return summary


def valid_orientation(value: int | None) -> int:
    """EXIF orientation 1-8, with anything missing or out of range treated as 1."""
    return value if value is not None and 1 <= value <= 8 else 1


def orientation_only_tiff(orientation: int) -> bytes:
    """A TIFF block whose single IFD holds only the Orientation tag (big-endian)."""
    if not 1 <= orientation <= 8:
        raise ValueError("orientation must be 1-8")
    return (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">HHHIHH", 1, ORIENTATION, 3, 1, orientation, 0)
        + b"\x00\x00\x00\x00"
    )


def read_u32_tag(data: bytes, tag: int) -> int | None:
    """Value of one SHORT/LONG tag of IFD0 (used for the MPF image count); None if absent."""
    r = _Reader(bytes(data))
    pos = r.first_ifd()
    if not pos:
        return None
    entries, _ = r.ifd(pos)
    for e in entries:
        if e.tag == tag:
            return r.short(e)
    return None
