"""Just enough ISO-BMFF (ISO/IEC 14496-12) and HEIF (ISO/IEC 23008-12) to rebuild a HEIC.

Everything here reads untrusted bytes. Each box size is checked against its parent's end,
each count against the bytes it needs and against a fixed cap, and nesting follows the fixed
grammar below (file -> meta -> iinf/iref/iprp -> ipco/ipma), never a generic recursion. So a
hostile file gives CorruptImage (malformed) or HeifUnsupported (valid, but a structure the
lossless rebuild does not handle), never a hang, a huge allocation or another exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from picsafe_desktop.deid.errors import CorruptImage

MAX_BOXES = 4096  # children of any one box
MAX_ITEMS = 8192  # a 256 MP grid of 512x512 tiles has about 1,000
MAX_EXTENTS = 1024  # per item
MAX_ASSOCIATIONS = 255


class HeifUnsupported(Exception):
    """A well-formed HEIF that uses a feature the container-level rebuild does not handle."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # first byte of the header
    body: int  # first byte after the header
    end: int


def boxes(data: bytes, start: int, end: int, where: str = "file") -> list[Box]:
    """The boxes laid end to end in data[start:end]; any overrun is CorruptImage."""
    out: list[Box] = []
    pos = start
    while pos < end:
        if len(out) >= MAX_BOXES:
            raise CorruptImage(f"the HEIF {where} holds too many boxes")
        if pos + 8 > end:
            raise CorruptImage(f"the HEIF {where} ends inside a box header (truncated)")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise CorruptImage(f"the HEIF {where} ends inside a box header (truncated)")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos  # "to the end of the file/container"
        if size < header:
            raise CorruptImage("the HEIF file has an invalid box size")
        if pos + size > end:
            raise CorruptImage(
                f"a HEIF box runs past the end of the {where} (truncated or malformed)"
            )
        out.append(Box(kind, pos, pos + header, pos + size))
        pos += size
    return out


class Reader:
    """Bounds-checked big-endian fields inside one box."""

    def __init__(self, data: bytes, start: int, end: int, name: str) -> None:
        self.data, self.pos, self.end, self.name = data, start, end, name

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise CorruptImage(f"the HEIF '{self.name}' box is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big") if n else 0

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def u32(self) -> int:
        return self.uint(4)

    def full(self) -> tuple[int, int]:
        """FullBox version and flags."""
        word = self.u32()
        return word >> 24, word & 0xFFFFFF

    def cstring(self) -> bytes:
        """A NUL-terminated string (a missing NUL at the box end is tolerated)."""
        stop = self.data.find(b"\x00", self.pos, self.end)
        stop = self.end if stop < 0 else stop
        out = bytes(self.data[self.pos : stop])
        self.pos = min(stop + 1, self.end)
        return out

    def remaining(self) -> int:
        return self.end - self.pos

    def count(self, n: int, each: int, cap: int, what: str) -> int:
        """A declared count, refused when it exceeds the cap or the bytes that remain."""
        if n > cap or n * each > self.remaining():
            raise CorruptImage(
                f"the HEIF '{self.name}' box declares {n} {what}, more than it holds"
            )
        return n


@dataclass
class Item:
    item_id: int
    kind: bytes  # item_type, e.g. b"hvc1", b"grid", b"Exif", b"mime"
    hidden: bool
    content_type: bytes = b""


@dataclass
class Location:
    method: int  # 0: file offsets, 1: inside idat
    extents: list[tuple[int, int]]  # (absolute offset in the file, length)


@dataclass
class Meta:
    primary: int
    items: dict[int, Item] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    refs: list[tuple[bytes, int, list[int]]] = field(default_factory=list)
    properties: list[Box] = field(default_factory=list)  # ipco children; index i+1
    associations: dict[int, list[tuple[int, bool]]] = field(default_factory=dict)
    idat: Box | None = None
    dropped: list[bytes] = field(default_factory=list)  # meta children not understood/kept

    def refs_from(self, item_id: int, kind: bytes) -> list[int]:
        return [t for k, f, to in self.refs if k == kind and f == item_id for t in to]

    def refs_to(self, item_id: int, kind: bytes) -> list[int]:
        return [f for k, f, to in self.refs if k == kind and item_id in to]

    def props(self, item_id: int) -> list[tuple[Box, bool]]:
        return [(self.properties[i - 1], ess) for i, ess in self.associations.get(item_id, [])]


def _one(children: list[Box], kind: bytes, required: bool) -> Box | None:
    found = [b for b in children if b.kind == kind]
    if len(found) > 1:
        raise CorruptImage(f"the HEIF file has more than one '{kind.decode('latin-1')}' box")
    if required and not found:
        raise CorruptImage(f"the HEIF file has no '{kind.decode('latin-1')}' box")
    return found[0] if found else None


_META_KNOWN = {b"hdlr", b"pitm", b"iloc", b"iinf", b"iref", b"iprp", b"idat", b"dinf"}


def parse_meta(data: bytes, meta: Box) -> Meta:
    r = Reader(data, meta.body, meta.end, "meta")
    version, _ = r.full()
    if version != 0:
        raise CorruptImage("the HEIF 'meta' box has an unknown version")
    children = boxes(data, r.pos, meta.end, "meta box")
    hdlr = _one(children, b"hdlr", True)
    assert hdlr is not None
    h = Reader(data, hdlr.body, hdlr.end, "hdlr")
    h.full()
    h.u32()
    if h.take(4) != b"pict":
        raise HeifUnsupported("the HEIF metadata is not an image ('pict') handler")
    pitm = _one(children, b"pitm", True)
    assert pitm is not None
    p = Reader(data, pitm.body, pitm.end, "pitm")
    out = Meta(primary=p.u16() if p.full()[0] == 0 else p.u32())
    out.idat = _one(children, b"idat", False)
    iinf = _one(children, b"iinf", True)
    iloc = _one(children, b"iloc", True)
    assert iinf is not None and iloc is not None
    _parse_iinf(data, iinf, out)
    _parse_iloc(data, iloc, out)
    iref = _one(children, b"iref", False)
    if iref is not None:
        _parse_iref(data, iref, out)
    iprp = _one(children, b"iprp", False)
    if iprp is not None:
        _parse_iprp(data, iprp, out)
    out.dropped = [b.kind for b in children if b.kind not in _META_KNOWN]
    if out.primary not in out.items:
        raise CorruptImage("the HEIF primary item is not listed")
    return out


def _parse_iinf(data: bytes, box: Box, out: Meta) -> None:
    r = Reader(data, box.body, box.end, "iinf")
    version, _ = r.full()
    declared = r.u16() if version == 0 else r.u32()
    entries = boxes(data, r.pos, box.end, "item list")
    if declared > MAX_ITEMS or len(entries) > MAX_ITEMS:
        raise CorruptImage("the HEIF file declares too many items")
    for infe in entries:
        if infe.kind != b"infe":
            continue
        e = Reader(data, infe.body, infe.end, "infe")
        version, flags = e.full()
        if version < 2:
            raise HeifUnsupported("HEIF item entries of version 0/1 are not supported")
        item_id = e.u16() if version == 2 else e.u32()
        if e.u16() != 0:
            raise HeifUnsupported("the HEIF file holds protected (encrypted) items")
        kind = e.take(4)
        e.cstring()  # item name: never kept
        content_type = e.cstring() if kind == b"mime" else b""
        if item_id in out.items:
            raise CorruptImage("the HEIF file lists one item id twice")
        out.items[item_id] = Item(item_id, kind, bool(flags & 1), content_type)


def _parse_iloc(data: bytes, box: Box, out: Meta) -> None:
    r = Reader(data, box.body, box.end, "iloc")
    version, _ = r.full()
    if version > 2:
        raise CorruptImage("the HEIF 'iloc' box has an unknown version")
    sizes = r.u16()
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_size, index_size = (sizes >> 4) & 15, sizes & 15 if version else 0
    if any(s not in (0, 4, 8) for s in (offset_size, length_size, base_size, index_size)):
        raise CorruptImage("the HEIF 'iloc' box uses an invalid field size")
    count = r.u16() if version < 2 else r.u32()
    per_item = (2 if version < 2 else 4) + (2 if version else 0) + 2 + base_size + 2
    r.count(count, per_item, MAX_ITEMS, "item locations")
    for _ in range(count):
        item_id = r.u16() if version < 2 else r.u32()
        method = r.u16() & 15 if version else 0
        if r.u16() != 0:
            raise HeifUnsupported("the HEIF file refers to data in another file")
        base = r.uint(base_size)
        n = r.count(r.u16(), index_size + offset_size + length_size, MAX_EXTENTS, "extents")
        extents = []
        for _ in range(n):
            r.uint(index_size)
            offset, length = r.uint(offset_size), r.uint(length_size)
            extents.append((base + offset, length))
        if method not in (0, 1):
            raise HeifUnsupported(f"HEIF item construction method {method} is not supported")
        if item_id in out.locations:
            raise CorruptImage("the HEIF file locates one item twice")
        out.locations[item_id] = Location(method, extents)


def _parse_iref(data: bytes, box: Box, out: Meta) -> None:
    r = Reader(data, box.body, box.end, "iref")
    version, _ = r.full()
    width = 2 if version == 0 else 4
    for ref in boxes(data, r.pos, box.end, "reference list"):
        f = Reader(data, ref.body, ref.end, "iref")
        from_id = f.uint(width)
        n = f.count(f.u16(), width, MAX_ITEMS, "references")
        out.refs.append((ref.kind, from_id, [f.uint(width) for _ in range(n)]))


def _parse_iprp(data: bytes, box: Box, out: Meta) -> None:
    children = boxes(data, box.body, box.end, "property box")
    ipco = _one(children, b"ipco", True)
    assert ipco is not None
    out.properties = boxes(data, ipco.body, ipco.end, "property list")
    for ipma in (b for b in children if b.kind == b"ipma"):
        r = Reader(data, ipma.body, ipma.end, "ipma")
        version, flags = r.full()
        count = r.count(r.u32(), 3 if version < 1 else 5, MAX_ITEMS, "associations")
        for _ in range(count):
            item_id = r.u16() if version < 1 else r.u32()
            n = r.count(r.u8(), 2 if flags & 1 else 1, MAX_ASSOCIATIONS, "properties")
            assoc = []
            for _ in range(n):
                if flags & 1:
                    word = r.u16()
                    essential, index = bool(word >> 15), word & 0x7FFF
                else:
                    word = r.u8()
                    essential, index = bool(word >> 7), word & 0x7F
                if index > len(out.properties):
                    raise CorruptImage("a HEIF item refers to a property that does not exist")
                if index:
                    assoc.append((index, essential))
            out.associations.setdefault(item_id, []).extend(assoc)


def item_bytes(data: bytes, meta: Meta, item_id: int, spans: list[tuple[int, int]]) -> bytes:
    """An item's bytes; every extent must lie inside one of `spans` (mdat bodies) or idat."""
    loc = meta.locations.get(item_id)
    if loc is None:
        raise CorruptImage("a HEIF image item has no data location")
    if loc.method == 1:
        if meta.idat is None:
            raise CorruptImage("a HEIF item refers to an 'idat' box that does not exist")
        allowed = [(0, meta.idat.end - meta.idat.body)]
        shift = meta.idat.body
    else:
        allowed, shift = spans, 0
    view = memoryview(data)
    parts = []
    for offset, length in loc.extents:
        if length == 0:
            raise HeifUnsupported("HEIF extents of unspecified length are not supported")
        if not any(lo <= offset and offset + length <= hi for lo, hi in allowed):
            raise CorruptImage("a HEIF item's data lies outside the file's media data")
        parts.append(view[shift + offset : shift + offset + length])
    if len(parts) == 1:
        return parts[0]  # a view: no copy of the (large) coded data
    return b"".join(parts)


def box(kind: bytes, *parts: bytes) -> bytes:
    size = 8 + sum(len(p) for p in parts)
    return struct.pack(">I4s", size, kind) + b"".join(parts)


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)
