"""HEIC/HEIF: rebuilt losslessly at the container level.

The clean file is written from scratch around the primary image: a fresh `ftyp` (known
brands only), a fresh `meta` (handler, data reference, primary item, item list, references,
properties, idat, item locations) and one `mdat` holding the primary image's coded data copied
byte for byte. Kept, because decoding needs them: the primary item, and for a `grid` or `iden`
derived image the tiles its `dimg` references name; an alpha plane; the properties decoding
and display need (hvcC with only its parameter sets, ispe, pixi, colr nclx, a standard ICC
profile, irot, imir, clap, pasp). Every other item and box is dropped: EXIF and XMP items and
their `cdsc` references, thumbnails (`thmb`), depth maps, HDR gain maps and other auxiliary
images (`auxl`), other top-level images, entity groups (`grpl`), item names, vendor boxes
(Samsung `sefd`, `uuid` ...), and SEI units in the HEVC stream (x265 writes its version and
settings there). Item ids are renumbered and item locations rewritten.

Pixels: the coded slices are copied unchanged, so the clean file decodes to exactly the
original's pixels, at the original bit depth. Rotation and mirroring stay in the container
(irot/imir), where HEIF viewers apply them; the EXIF Orientation that repeats them goes with
the EXIF item. A well-formed file whose structure this rebuild does not handle falls back to
decoding and writing a JPEG (`heif_jpeg.py`), and the notes say so.
"""

from __future__ import annotations

import struct
from collections import Counter

from picsafe_desktop.deid import icc, tiff
from picsafe_desktop.deid.errors import CorruptImage
from picsafe_desktop.deid.isobmff import (
    MAX_ITEMS,
    Box,
    HeifUnsupported,
    Meta,
    Reader,
    box,
    boxes,
    full_box,
    item_bytes,
    parse_meta,
)
from picsafe_desktop.deid.limits import check_pixels
from picsafe_desktop.deid.result import ScrubResult, kind_name
from picsafe_desktop.model import PhotoFacts

MEDIA_TYPE = "image/heic"
_IMAGE_TYPES = {b"hvc1", b"grid", b"iden"}
_DERIVED = {b"grid", b"iden"}
_MAX_DEPTH = 4  # derived images of derived images
_MAX_NALS = 4096  # per coded item; a tile holds a handful
_PARAMETER_SETS = {32, 33, 34}  # VPS, SPS, PPS
_ALPHA_URNS = {b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"}
_DEPTH_URNS = (b"urn:mpeg:hevc:2015:auxid:2", b"depth")
_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"mif2", b"miaf", b"MiHE", b"MiHA",
           b"MiHB", b"MiPr"}  # fmt: skip
_SILENT_TOP = {b"ftyp", b"meta", b"mdat", b"free", b"skip"}


def scrub_heif(data: bytes) -> ScrubResult:
    try:
        return _rebuild(data)
    except HeifUnsupported as exc:
        from picsafe_desktop.deid.heif_jpeg import reencode_heif_as_jpeg

        result = reencode_heif_as_jpeg(data)
        result.notes.insert(0, f"HEIF re-encoded as JPEG because {exc}")
        return result


class _Scrub:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.removed: Counter[str] = Counter()
        self.notes: list[str] = []


def _looks_like_box(data: bytes, pos: int) -> bool:
    """A box header at `pos`: a printable four-character type and a size that fits."""
    if pos + 8 > len(data):
        return False
    size, kind = struct.unpack_from(">I4s", data, pos)
    if not all(48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 32 for c in kind):
        return False
    if size == 1:
        return pos + 16 <= len(data) and 16 <= struct.unpack_from(">Q", data, pos + 8)[0]
    return size == 0 or 8 <= size <= len(data) - pos


def _trailing_bytes(data: bytes) -> int:
    """Bytes after a complete image (ftyp, meta and mdat seen) that do not start a box (a
    vendor box such as Samsung's `sefd` does): zero padding from a copy tool, or data a
    messenger app appended. Not a truncated image: they are dropped and named. 0 when the file
    ends with its last box, or looks truncated (the box walk then says so)."""
    pos, seen = 0, set()
    while pos < len(data):
        if {b"ftyp", b"meta", b"mdat"} <= seen and not _looks_like_box(data, pos):
            return len(data) - pos
        if pos + 8 > len(data):
            return 0
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            if pos + 16 > len(data):
                return 0
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:
            return 0  # runs to the end of the file
        if size < 8:
            return 0
        seen.add(kind)
        pos += size
    return 0


def _rebuild(data: bytes) -> ScrubResult:
    trailing = _trailing_bytes(data)
    if trailing:
        data = data[: len(data) - trailing]
    s = _Scrub(data)
    if trailing:
        s.removed["heif:trailing bytes"] += 1
        s.notes.append(f"dropped {trailing} bytes found after the end of the HEIF image")
    top = boxes(data, 0, len(data), "file")
    if not top or top[0].kind != b"ftyp":
        raise CorruptImage("the HEIF file does not start with a file-type box")
    metas = [b for b in top if b.kind == b"meta"]
    if len(metas) != 1:
        raise CorruptImage("the HEIF file must hold exactly one 'meta' box")
    for b in top:
        if b.kind not in _SILENT_TOP:
            s.removed[f"heif:{kind_name(b.kind)} box"] += 1
    spans = [(b.body, b.end) for b in top if b.kind == b"mdat"]
    meta = parse_meta(data, metas[0])
    for kind in meta.dropped:
        s.removed[f"heif:{kind_name(kind)} box"] += 1

    kept = _kept_items(data, meta)
    _count_dropped_items(s, meta, set(kept))
    summary = tiff.summarise_exif(
        _exif_block(data, meta, spans),
        s.removed,
        s.notes,
        unreadable="EXIF block unreadable: no capture time taken from it",
    )
    if tiff.valid_orientation(summary.orientation) != 1:
        s.notes.append(
            "kept the HEIF container's rotation (irot/imir); the EXIF Orientation repeating "
            "it was dropped with the EXIF"
        )

    new_id = {old: i + 1 for i, old in enumerate(kept)}
    properties: list[bytes] = []
    prop_index: dict[int, int] = {}
    associations: dict[int, list[tuple[int, bool]]] = {}
    payloads: dict[int, tuple[int, list]] = {}  # new id -> (construction method, pieces)
    for old in kept:
        item = meta.items[old]
        length_size = 0
        assoc: list[tuple[int, bool]] = []
        for prop, essential in meta.props(old):
            if prop.kind == b"hvcC":
                length_size = _hvcc_length_size(data, prop)
            if prop.start not in prop_index:
                clean = _clean_property(s, prop)
                if clean is None:
                    if essential:
                        raise HeifUnsupported(
                            f"an essential '{kind_name(prop.kind)}' property is not understood"
                        )
                    continue
                properties.append(clean)
                prop_index[prop.start] = len(properties)
            assoc.append((prop_index[prop.start], essential))
        associations[new_id[old]] = assoc
        if item.kind == b"hvc1":
            if not length_size:
                raise CorruptImage("a HEIF image item has no HEVC decoder configuration")
            blob = item_bytes(data, meta, old, spans)
            payloads[new_id[old]] = (0, _coded_slices(s, blob, length_size))
        elif item.kind == b"grid":
            blob = item_bytes(data, meta, old, spans)
            tiles = len(meta.refs_from(old, b"dimg"))
            method = meta.locations[old].method
            payloads[new_id[old]] = (method, [_grid(blob, tiles)])
        else:
            payloads[new_id[old]] = (0, [])  # iden: no data of its own

    refs = []
    for kind in (b"dimg", b"auxl"):
        for ref_kind, source, targets in meta.refs:
            if ref_kind == kind and source in new_id:
                kept_targets = [new_id[t] for t in targets if t in new_id]
                if kept_targets:
                    refs.append((kind, new_id[source], kept_targets))
    hidden = {new_id[old]: old != meta.primary for old in kept}
    kinds = {new_id[old]: meta.items[old].kind for old in kept}
    ftyp = _ftyp(data, top[0])
    clean = _write(ftyp, kinds, hidden, refs, properties, associations, payloads)
    width, height = _verify(clean)
    s.notes.append("HEIF rebuilt at the container level; the HEVC image data is unchanged")
    facts = PhotoFacts(width, height, 1, summary.capture_time)
    counts = {k: v for k, v in s.removed.items() if v}
    return ScrubResult(clean, MEDIA_TYPE, facts, counts, s.notes, pixels_preserved=True)


def _kept_items(data: bytes, meta: Meta) -> list[int]:
    """The primary image, the images it is derived from, and its alpha plane, in order."""
    order: list[int] = []

    def visit(item_id: int, path: tuple[int, ...]) -> None:
        if item_id in path:
            raise CorruptImage("HEIF derived images refer to each other in a loop")
        if len(path) > _MAX_DEPTH:
            raise HeifUnsupported("derived images are nested too deeply")
        item = meta.items.get(item_id)
        if item is None:
            raise CorruptImage("a HEIF image refers to an item that does not exist")
        if item.kind not in _IMAGE_TYPES:
            raise HeifUnsupported(f"an image of type '{kind_name(item.kind)}' is not HEVC")
        if item_id not in order:
            order.append(item_id)
        inputs = meta.refs_from(item_id, b"dimg")
        if item.kind in _DERIVED and not inputs:
            raise CorruptImage("a HEIF derived image names no input images")
        if item.kind == b"iden" and len(inputs) != 1:
            raise CorruptImage("a HEIF identity-derived image must have one input")
        if item.kind == b"hvc1" and inputs:
            raise CorruptImage("a coded HEIF image claims input images")
        if len(order) > MAX_ITEMS:
            raise CorruptImage("the HEIF image has too many tiles")
        for child in inputs:
            visit(child, (*path, item_id))

    visit(meta.primary, ())
    for aux in sorted(set(meta.refs_to(meta.primary, b"auxl"))):
        item = meta.items.get(aux)
        if item and item.kind == b"hvc1" and _aux_urn(data, meta, aux) in _ALPHA_URNS:
            order.append(aux)
    return order


def _aux_urn(data: bytes, meta: Meta, item_id: int) -> bytes:
    for prop, _ in meta.props(item_id):
        if prop.kind == b"auxC":
            r = Reader(data, prop.body, prop.end, "auxC")
            r.full()
            return r.cstring()
    return b""


def _count_dropped_items(s: _Scrub, meta: Meta, kept: set[int]) -> None:
    """Audit counts by kind of what is left out (never a value)."""
    thumbs = {f for k, f, _ in meta.refs if k == b"thmb"}
    aux = {f for k, f, _ in meta.refs if k == b"auxl"}
    others = 0
    for item_id, item in meta.items.items():
        if item_id in kept:
            continue
        if item.kind == b"Exif":
            s.removed["heif:EXIF"] += 1
        elif item.kind == b"mime" and b"xml" in item.content_type.lower():
            s.removed["heif:XMP"] += 1
        elif item_id in thumbs:
            s.removed["heif:thumbnail"] += 1
        elif item_id in aux:
            urn = _aux_urn(s.data, meta, item_id)
            depth = any(d in urn for d in _DEPTH_URNS)
            s.removed["heif:depth map" if depth else "heif:auxiliary image"] += 1
        elif item.kind in _IMAGE_TYPES and not item.hidden:
            others += 1
        else:
            s.removed[f"heif:{kind_name(item.kind)} item"] += 1
    if others:
        s.removed["heif:other images"] += others
        s.notes.append(f"kept primary image of {others + 1} (HEIF)")
    if any(k == b"grpl" for k in meta.dropped):
        s.notes.append("dropped HEIF entity groups (bursts, alternatives)")


def _exif_block(data: bytes, meta: Meta, spans: list[tuple[int, int]]) -> bytes | None:
    """The primary image's EXIF (the one whose `cdsc` names it), else the first EXIF item."""
    exif = [i for i, item in meta.items.items() if item.kind == b"Exif"]
    if not exif:
        return None
    described = set(meta.refs_to(meta.primary, b"cdsc"))
    chosen = next((i for i in exif if i in described), exif[0])
    try:
        blob = bytes(item_bytes(data, meta, chosen, spans))
    except (CorruptImage, HeifUnsupported):
        return b""  # counted as unreadable; never copied anyway
    if len(blob) < 4:
        return b""
    offset = struct.unpack_from(">I", blob, 0)[0]
    return blob[4 + offset :] if 4 + offset <= len(blob) else b""


def _hvcc_length_size(data: bytes, prop: Box) -> int:
    r = Reader(data, prop.body, prop.end, "hvcC")
    head = r.take(22)
    size = (head[21] & 3) + 1
    if size == 3:
        raise CorruptImage("the HEVC configuration has an invalid NAL length size")
    return size


def _clean_property(s: _Scrub, prop: Box) -> bytes | None:
    """A fresh copy of a property decoding or display needs; None for anything else."""
    r = Reader(s.data, prop.body, prop.end, kind_name(prop.kind))
    kind = prop.kind
    if kind == b"ispe":
        r.full()
        return full_box(kind, 0, 0, struct.pack(">II", r.u32(), r.u32()))
    if kind == b"irot":
        return box(kind, bytes([r.u8() & 3]))
    if kind == b"imir":
        return box(kind, bytes([r.u8() & 1]))
    if kind == b"pixi":
        r.full()
        n = r.u8()
        return full_box(kind, 0, 0, bytes([n]), r.take(n))
    if kind == b"clap":
        return box(kind, r.take(32))
    if kind == b"pasp":
        return box(kind, r.take(8))
    if kind == b"colr":
        return _colr(s, r)
    if kind == b"hvcC":
        return _hvcc(s, r)
    if kind == b"auxC":
        r.full()
        urn = r.cstring()
        return full_box(kind, 0, 0, urn, b"\x00") if urn in _ALPHA_URNS else None
    s.removed[f"heif:{kind_name(kind)} property"] += 1
    return None


def _colr(s: _Scrub, r: Reader) -> bytes | None:
    colour_type = r.take(4)
    if colour_type == b"nclx":
        primaries, transfer, matrix, full_range = r.u16(), r.u16(), r.u16(), r.u8()
        return box(b"colr", b"nclx", struct.pack(">HHHB", primaries, transfer, matrix,
                                                 full_range & 0x80))  # fmt: skip
    if colour_type in (b"prof", b"rICC"):
        profile = r.take(r.remaining())
        if icc.is_clean_icc(profile):
            if "kept a standard ICC colour profile" not in s.notes:
                s.notes.append("kept a standard ICC colour profile")
            return box(b"colr", colour_type, profile)
        s.removed["heif:ICC profile"] += 1
        s.notes.append("dropped an ICC profile that is not a known standard one")
        return None
    s.removed["heif:colr property"] += 1
    return None


def _hvcc(s: _Scrub, r: Reader) -> bytes:
    """The decoder configuration with only its parameter sets (no SEI arrays)."""
    head = r.take(22)
    arrays = []
    for _ in range(r.u8()):
        nal_type = r.u8()
        count = r.count(r.u16(), 2, _MAX_NALS, "NAL units")
        units = [r.take(r.u16()) for _ in range(count)]
        if nal_type & 0x3F in _PARAMETER_SETS:
            body = b"".join(struct.pack(">H", len(u)) + u for u in units)
            arrays.append(bytes([nal_type]) + struct.pack(">H", count) + body)
        elif count:
            s.removed[_nal_kind(nal_type & 0x3F)] += count
    return box(b"hvcC", head, bytes([len(arrays)]), *arrays)


def _nal_kind(nal_type: int) -> str:
    return "heif:SEI" if nal_type in (39, 40) else "heif:HEVC non-image unit"


def _coded_slices(s: _Scrub, blob, length_size: int) -> list:
    """The item's NAL units minus SEI and other non-image units; views, not copies."""
    view = memoryview(blob)
    n = len(view)
    pos = 0
    kept: list = []
    pictures = dropped = 0
    while pos < n:
        if len(kept) + dropped >= _MAX_NALS:
            raise CorruptImage("a HEIF image holds too many HEVC units")
        if pos + length_size > n:
            raise CorruptImage("the HEVC data of a HEIF image is truncated")
        size = int.from_bytes(view[pos : pos + length_size], "big")
        end = pos + length_size + size
        if size < 2 or end > n:
            raise CorruptImage("the HEVC data of a HEIF image is truncated or malformed")
        nal_type = (view[pos + length_size] >> 1) & 0x3F
        if nal_type < 32 or nal_type in _PARAMETER_SETS:
            kept.append(view[pos:end])
            pictures += nal_type < 32
        else:
            s.removed[_nal_kind(nal_type)] += 1
            dropped += 1
        pos = end
    if not pictures:
        raise CorruptImage("a HEIF image item holds no coded picture")
    return [view] if not dropped else kept


def _grid(blob, tiles: int) -> bytes:
    g = bytes(blob)
    if len(g) < 8 or g[0] != 0:
        raise CorruptImage("the HEIF image grid description is malformed")
    wide = g[1] & 1
    if len(g) < (12 if wide else 8):
        raise CorruptImage("the HEIF image grid description is truncated")
    rows, cols = g[2] + 1, g[3] + 1
    width, height = struct.unpack_from(">II" if wide else ">HH", g, 4)
    if rows * cols != tiles:
        raise CorruptImage("the HEIF image grid names a different number of tiles")
    check_pixels(width, height)
    return bytes([0, wide, rows - 1, cols - 1]) + struct.pack(">II" if wide else ">HH",
                                                               width, height)  # fmt: skip


def _ftyp(data: bytes, ftyp: Box) -> bytes:
    r = Reader(data, ftyp.body, ftyp.end, "ftyp")
    major = r.take(4)
    r.u32()
    compatible = []
    while r.remaining() >= 4 and len(compatible) < 64:
        brand = r.take(4)
        if brand in _BRANDS and brand not in compatible:
            compatible.append(brand)
    major = major if major in _BRANDS else b"heic"
    for needed in (b"mif1", major):
        if needed not in compatible:
            compatible.insert(0, needed)
    return box(b"ftyp", major, b"\x00" * 4, *compatible)


def _write(ftyp, kinds, hidden, refs, properties, associations, payloads) -> bytes:
    ids = sorted(kinds)
    infe = [full_box(b"infe", 2, int(hidden[i]), struct.pack(">HH", i, 0), kinds[i], b"\x00")
            for i in ids]  # fmt: skip
    wide = len(properties) > 127
    ipma = []
    for i in ids:
        assoc = associations[i]
        fmt = ">H" if wide else ">B"
        top = 0x8000 if wide else 0x80
        entries = b"".join(struct.pack(fmt, (top if ess else 0) | idx) for idx, ess in assoc)
        ipma.append(struct.pack(">HB", i, len(assoc)) + entries)
    iref = [box(k, struct.pack(">HH", f, len(to)), *(struct.pack(">H", t) for t in to))
            for k, f, to in refs]  # fmt: skip
    idat = b"".join(b"".join(bytes(p) for p in pieces)
                    for i in ids for method, pieces in [payloads[i]] if method == 1)  # fmt: skip

    def meta(mdat_start: int) -> bytes:
        locs, mdat_pos, idat_pos = [], mdat_start, 0
        for i in ids:
            method, pieces = payloads[i]
            length = sum(len(p) for p in pieces)
            if not pieces:
                locs.append(struct.pack(">HHHH", i, 0, 0, 0))
                continue
            at = idat_pos if method == 1 else mdat_pos
            locs.append(struct.pack(">HHHHII", i, method, 0, 1, at, length))
            if method == 1:
                idat_pos += length
            else:
                mdat_pos += length
        children = [
            full_box(b"hdlr", 0, 0, b"\x00" * 4, b"pict", b"\x00" * 12, b"\x00"),
            box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1))),
            full_box(b"pitm", 0, 0, struct.pack(">H", ids[0])),
            full_box(b"iinf", 0, 0, struct.pack(">H", len(ids)), *infe),
        ]
        if iref:
            children.append(full_box(b"iref", 0, 0, *iref))
        children.append(
            box(
                b"iprp",
                box(b"ipco", *properties),
                full_box(b"ipma", 0, int(wide), struct.pack(">I", len(ids)), *ipma),
            )
        )
        if idat:
            children.append(box(b"idat", idat))
        children.append(full_box(b"iloc", 1, 0, struct.pack(">HH", 0x4400, len(ids)), *locs))
        return full_box(b"meta", 0, 0, *children)

    size = len(meta(0))  # every field has a fixed width, so the size does not depend on offsets
    mdat_start = len(ftyp) + size + 8
    coded = [p for i in ids for method, pieces in [payloads[i]] if method == 0 for p in pieces]
    mdat_len = 8 + sum(len(p) for p in coded)
    if mdat_start + mdat_len >= 1 << 32:
        raise HeifUnsupported("the image data is larger than 4 GB")
    return b"".join([ftyp, meta(mdat_start), struct.pack(">I4s", mdat_len, b"mdat"), *coded])


def _verify(clean: bytes) -> tuple[int, int]:
    """Parse the clean file again (ours, then libheif's, without decoding): (width, height)
    of the primary image as displayed. The pipeline's thumbnail decode proves the pixels."""
    top = boxes(clean, 0, len(clean), "file")
    parse_meta(clean, next(b for b in top if b.kind == b"meta"))
    from picsafe_desktop.deid.heif_jpeg import open_heif_checked

    heif = open_heif_checked(clean)
    if len(heif) != 1:
        raise CorruptImage("the rebuilt HEIF does not hold exactly one image")
    width, height = heif[heif.primary_index].size
    check_pixels(width, height)
    return width, height
