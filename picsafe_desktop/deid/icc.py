"""Decide whether an embedded ICC colour profile may be kept.

A profile is kept only when it is one of the well-known colour-space profiles phones and
cameras embed: every tag is a colorimetric tag (no private or display-specific tags such as
Apple's 'mmod', which holds a display's serial number), every text tag says one of the
known profile names or a vendor copyright, and no bytes hide outside the header, tag table
and tag data. Anything else is dropped; colours may then render slightly differently, which
is the lesser harm.
"""

from __future__ import annotations

import re
import struct

MAX_ICC_BYTES = 1 << 20

# Tags that only describe colour.
_COLOUR_TAGS = {
    b"wtpt", b"bkpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"kTRC",
    b"chad", b"chrm", b"lumi", b"meas", b"tech", b"view", b"gamt", b"cicp", b"rig0",
    b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"D2B1", b"D2B2", b"D2B3",
    b"B2D0", b"B2D1", b"B2D2", b"B2D3", b"pre0", b"pre1", b"pre2", b"clro", b"clrt", b"clot",
    b"ncl2", b"resp", b"rpoc", b"ciis",
}  # fmt: skip
_TEXT_TAGS = {b"desc", b"cprt", b"dmnd", b"dmdd", b"vued"}

# Text found in the standard profiles (sRGB, Display P3, Adobe RGB ...) as shipped by OS and
# camera vendors. Compared after trimming; case-sensitive on purpose.
_KNOWN_TEXT = {
    "sRGB", "sRGB IEC61966-2.1", "sRGB IEC61966-2-1 black scaled", "sRGB built-in",
    "sRGB v1.31 (Canon)", "Display P3", "Adobe RGB (1998)", "ProPhoto RGB", "ROMM-RGB",
    "DCI-P3", "DCI-P3 D65", "P3 D65", "Rec. ITU-R BT.709-5", "Rec. ITU-R BT.2020-1",
    "ITU-R BT.2020", "Generic Gray Gamma 2.2 Profile", "Gray Gamma 2.2", "Dot Gain 20%",
    "Linear sRGB", "scRGB", "Camera RGB Profile", "Apple RGB", "Generic RGB Profile",
    "U.S. Web Coated (SWOP) v2", "Coated FOGRA39 (ISO 12647-2:2004)",
    "IEC http://www.iec.ch", "IEC 61966-2.1 Default RGB colour space - sRGB",
    "Reference Viewing Condition in IEC61966-2.1", "Canon Inc.", "Apple Inc.",
    "Apple Computer Inc.", "Google Inc.", "Google", "Adobe Systems Incorporated",
    "Samsung Electronics", "Sony Corporation", "Nikon Corporation", "FUJIFILM Corporation",
    "Kodak",
}  # fmt: skip
_COPYRIGHT = re.compile(
    r"(Copyright|\(c\)|©|No copyright|Public Domain|CC0)[ A-Za-z0-9.,()©&/:_-]{0,100}"
)


class _Unclean(Exception):
    pass


def _text_ok(sig: bytes, text: str) -> bool:
    text = text.strip("\x00 \t\r\n")
    if not text:
        return True
    if text in _KNOWN_TEXT:
        return True
    return sig == b"cprt" and _COPYRIGHT.fullmatch(text) is not None


def _texts(body: bytes) -> list[str]:
    """Every string in a 'text', 'desc' (ICC v2) or 'mluc' (ICC v4) tag; raises _Unclean."""
    kind = body[:4]
    if kind == b"text":
        return [body[8:].decode("latin-1")]
    if kind == b"desc":
        n = struct.unpack_from(">I", body, 8)[0]
        pos = 12 + n
        ascii_text = body[12:pos].decode("latin-1")
        _lang, m = struct.unpack_from(">II", body, pos)
        pos += 8
        uni = body[pos : pos + 2 * m].decode("utf-16-be", errors="replace")
        pos += 2 * m
        script_count = body[pos + 2] if pos + 2 < len(body) else 0
        script = body[pos + 3 : pos + 3 + min(script_count, 67)].decode("latin-1")
        # Anything after the script-code field would be hidden data.
        if any(body[pos + 3 + 67 :]):
            raise _Unclean
        return [ascii_text, uni, script]
    if kind == b"mluc":
        count, rec_size = struct.unpack_from(">II", body, 8)
        if rec_size != 12 or count > 64:
            raise _Unclean
        out = []
        for i in range(count):
            length, offset = struct.unpack_from(">II", body, 16 + 12 * i + 4)
            if offset + length > len(body):
                raise _Unclean
            out.append(body[offset : offset + length].decode("utf-16-be", errors="replace"))
        return out
    raise _Unclean


def is_clean_icc(profile: bytes) -> bool:
    """True when the profile is a standard colour-space profile with no identifying text."""
    try:
        _check(bytes(profile))
    except (_Unclean, struct.error, IndexError, UnicodeDecodeError):
        return False
    return True


def _check(icc: bytes) -> None:
    if not 132 <= len(icc) <= MAX_ICC_BYTES or icc[36:40] != b"acsp":
        raise _Unclean
    if struct.unpack_from(">I", icc, 0)[0] != len(icc):
        raise _Unclean
    count = struct.unpack_from(">I", icc, 128)[0]
    table_end = 132 + 12 * count
    if count > 100 or table_end > len(icc):
        raise _Unclean
    ranges = [(0, table_end)]
    for i in range(count):
        sig, off, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if off < table_end or off + size > len(icc) or size < 8:
            raise _Unclean
        body = icc[off : off + size]
        if sig in _TEXT_TAGS:
            if not all(_text_ok(sig, t) for t in _texts(body)):
                raise _Unclean
        elif sig not in _COLOUR_TAGS:
            raise _Unclean
        ranges.append((off, off + size))
    # Bytes referenced by no tag could hide anything: they must all be zero (padding).
    ranges.sort()
    end = 0
    for start, stop in ranges:
        if start > end and any(icc[end:start]):
            raise _Unclean
        end = max(end, stop)
    if any(icc[end:]):
        raise _Unclean
