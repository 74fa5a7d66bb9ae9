"""Hand-built HEIF files for the deid tests: grids, idat, SEI and hostile structures.

Written independently of the product's writer (plain struct packing), from HEVC tiles that
pillow-heif (libheif + x265) encodes, so every file decodes with libheif.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import pillow_heif
from PIL import Image

SECRET = b"SECRET-SERIAL-4711"


def bx(kind: bytes, *parts: bytes) -> bytes:
    return struct.pack(">I4s", 8 + sum(map(len, parts)), kind) + b"".join(parts)


def fb(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return bx(kind, struct.pack(">I", version << 24 | flags), *parts)


def _walk(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    out, pos = {}, start
    while pos < end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.setdefault(kind, (pos, pos + size))
        pos += size
    return out


@dataclass
class Tile:
    hvcc: bytes  # the whole hvcC box
    coded: bytes  # length-prefixed NAL units
    size: tuple[int, int]


def tile(colour: tuple[int, int, int], size=(64, 64)) -> Tile:
    im = Image.new("RGB", size, colour)
    im.paste((255 - colour[0], 40, 200), (4, 4, 20, 12))
    buf = io.BytesIO()
    pillow_heif.from_pillow(im).save(buf, quality=70)
    data = buf.getvalue()
    top = _walk(data, 0, len(data))
    m0, m1 = top[b"meta"]
    meta = _walk(data, m0 + 12, m1)
    p0, p1 = meta[b"iprp"]
    c0, c1 = _walk(data, p0 + 8, p1)[b"ipco"]
    h0, h1 = _walk(data, c0 + 8, c1)[b"hvcC"]
    l0, _ = meta[b"iloc"]
    assert data[l0 + 8] == 0 and data[l0 + 12 : l0 + 14] == b"\x44\x40"  # v0, 4/4/4 sizes
    # First item: id, data_reference_index, base_offset, extent_count, offset, length.
    _, _, base, count, offset, length = struct.unpack_from(">HHIHII", data, l0 + 16)
    assert count == 1
    return Tile(data[h0:h1], data[base + offset : base + offset + length], size)


@dataclass
class Item:
    kind: bytes
    data: bytes = b""
    props: list[int] = field(default_factory=list)  # 1-based ipco indexes
    hidden: bool = False
    in_idat: bool = False
    essential: set[int] = field(default_factory=set)
    extents: list[tuple[int, int]] | None = None  # absolute, overrides the computed one
    method: int | None = None


def heif(
    items: dict[int, Item],
    properties: list[bytes],
    refs: list[tuple[bytes, int, list[int]]],
    primary: int,
    extra_top: bytes = b"",
    brands: bytes = b"heicmif1",
) -> bytes:
    """ftyp, meta (hdlr, pitm, iinf, iref, iprp, idat, iloc v1) and mdat, offsets absolute."""
    ftyp = bx(b"ftyp", b"heic", b"\x00" * 4, brands)
    infe = [fb(b"infe", 2, int(it.hidden), struct.pack(">HH", i, 0), it.kind, b"name\x00",
               b"application/rdf+xml\x00" if it.kind == b"mime" else b"")
            for i, it in items.items()]  # fmt: skip
    ipma = [struct.pack(">HB", i, len(it.props))
            + bytes((0x80 if p in it.essential else 0) | p for p in it.props)
            for i, it in items.items()]  # fmt: skip
    iref = [bx(k, struct.pack(">HH", f, len(to)), *(struct.pack(">H", t) for t in to))
            for k, f, to in refs]  # fmt: skip
    idat = b"".join(it.data for it in items.values() if it.in_idat)

    def meta(mdat_start: int) -> bytes:
        locs, pos, ipos = [], mdat_start, 0
        for i, it in items.items():
            method = it.method if it.method is not None else int(it.in_idat)
            if it.extents is not None:
                extents = it.extents
            elif it.in_idat:
                extents, ipos = [(ipos, len(it.data))], ipos + len(it.data)
            else:
                extents, pos = [(pos, len(it.data))], pos + len(it.data)
            locs.append(struct.pack(">HHHH", i, method, 0, len(extents))
                        + b"".join(struct.pack(">II", o, n) for o, n in extents))  # fmt: skip
        children = [
            fb(b"hdlr", 0, 0, b"\x00" * 4, b"pict", b"\x00" * 12, b"handler\x00"),
            fb(b"pitm", 0, 0, struct.pack(">H", primary)),
            fb(b"iinf", 0, 0, struct.pack(">H", len(items)), *infe),
            fb(b"iref", 0, 0, *iref),
            bx(
                b"iprp",
                bx(b"ipco", *properties),
                fb(b"ipma", 0, 0, struct.pack(">I", len(items)), *ipma),
            ),  # fmt: skip
        ]
        if idat:
            children.append(bx(b"idat", idat))
        children.append(fb(b"iloc", 1, 0, struct.pack(">HH", 0x4400, len(items)), *locs))
        return fb(b"meta", 0, 0, *children)

    start = len(ftyp) + len(meta(0)) + 8
    mdat = b"".join(it.data for it in items.values() if not it.in_idat and it.extents is None)
    return ftyp + meta(start) + bx(b"mdat", mdat) + extra_top


def ispe(w: int, h: int) -> bytes:
    return fb(b"ispe", 0, 0, struct.pack(">II", w, h))


def grid_data(rows: int, cols: int, w: int, h: int) -> bytes:
    return bytes([0, 0, rows - 1, cols - 1]) + struct.pack(">HH", w, h)


def exif_item() -> bytes:
    # IFD0 with one entry, Make (ASCII), whose value follows the IFD at offset 26.
    entry = struct.pack(">HHII", 0x010F, 2, len(SECRET) + 1, 26)
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + entry + b"\x00" * 4 + SECRET + b"\x00"
    return struct.pack(">I", 6) + b"Exif\x00\x00" + tiff


def sei_nal() -> bytes:
    """A prefix SEI (type 39), user_data_unregistered carrying the secret, length-prefixed."""
    payload = b"\x11" * 16 + SECRET
    nal = b"\x4e\x01" + bytes([5, len(payload)]) + payload + b"\x80"
    return struct.pack(">I", len(nal)) + nal


def hvcc_with_sei(hvcc: bytes) -> bytes:
    """The hvcC box with one more array: a prefix SEI carrying the secret."""
    body = bytearray(hvcc[8:])
    body[22] += 1
    nal = sei_nal()[4:]
    body += bytes([0x80 | 39]) + struct.pack(">HH", 1, len(nal)) + nal
    return bx(b"hvcC", bytes(body))


def grid_photo(sei: bool = False, grid_in_idat: bool = True, **overrides) -> bytes:
    """A 2x1 grid of two 64x64 tiles, rotated by irot, with an EXIF item, a thumbnail image,
    an XMP item and a vendor box - the shape of an iPhone HEIC, in miniature."""
    left, right = tile((200, 30, 30)), tile((20, 160, 60))
    thumb = tile((90, 90, 90), (32, 32))
    hvcc = hvcc_with_sei(left.hvcc) if sei else left.hvcc
    properties = [hvcc, ispe(64, 64), ispe(128, 64), bx(b"irot", b"\x01"), thumb.hvcc,
                  ispe(32, 32), bx(b"fake", SECRET)]  # fmt: skip
    coded_left = (sei_nal() + left.coded) if sei else left.coded
    items = {
        1: Item(b"grid", grid_data(1, 2, 128, 64), [3, 4, 7], in_idat=grid_in_idat),
        2: Item(b"hvc1", coded_left, [1, 2], hidden=True),
        3: Item(b"hvc1", right.coded, [1, 2], hidden=True),
        4: Item(b"Exif", exif_item(), hidden=True),
        5: Item(b"hvc1", thumb.coded, [5, 6]),
        6: Item(b"mime", b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>", hidden=True),
    }
    refs = [(b"dimg", 1, [2, 3]), (b"cdsc", 4, [1]), (b"thmb", 5, [1]), (b"cdsc", 6, [1])]
    spec = {"items": items, "properties": properties, "refs": refs, "primary": 1,
            "extra_top": bx(b"sefd", SECRET)}  # fmt: skip
    spec.update(overrides)
    return heif(**spec)
