"""Every photo of the shared corpus, scrubbed, then judged by exiftool and by byte walkers.

exiftool (`-a -u -G1 -s`) is the independent judge of what metadata a clean file still
shows; the container allow-lists in deid_checks catch what exiftool does not decode (vendor
APPn segments, trailers after EOI, odd WebP chunk ids, HEIF vendor boxes).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageOps

from picsafe_desktop.deid import CorruptImage, DeidError, ScrubResult, scrub
from tests.unit.deid_checks import assert_allow_list, decoded, exiftool, exiftool_tags

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
EXPECTED = CORPUS / "expected.tsv"

# Files that cannot be decoded at all (SOURCES.md): each must give CorruptImage.
UNDECODABLE = {
    "broken-truncated-sony-xperia-z5c-E5823__User-Comment-Encoding.jpg",
    "broken-truncated__truncated_jpeg.jpg",
    "broken-truncated__truncated.heic",  # mdat one byte short: refused, not half-decoded
    "broken-truncated__truncated_image.png",
    "broken-empty__empty.heic",
    "broken-heif-invalid-atom__NegativeArraySizeException.HeifReader.processBoxes.heif",
}

# What exiftool may still report on a clean file: file facts, rendering data, a vetted ICC
# profile, and the single Orientation tag.
ALLOWED_GROUPS = {
    "ExifTool",
    "System",
    "File",
    "Composite",
    "JFIF",
    "Adobe",
    "PNG",
    "PNG-pHYs",
    "RIFF",
    "ICC-header",
    "ICC_Profile",
    "ICC-meas",
    "ICC-view",
    "QuickTime",
    "Meta",
}  # fmt: skip  (HEIF: brands, handler, hvcC, ispe, irot)
FORBIDDEN = re.compile(
    r"GPS|Serial|Owner|Maker|XMP|IPTC|Thumbnail|Preview|Date|Time|Software|Make|Model|Artist|"
    r"Copyright|Comment|UniqueID|Lens|Warning|City|Country|Location|By-?line|Caption|Keyword",
    re.IGNORECASE,
)
# Vendor data exiftool does not decode (SOURCES.md "Container") and container markers.
VENDOR_SENTINELS = [b"ssuniqueid", b"MMIMETA", b"SEFT", b"Image_UTC_Data", b"Qualcomm",
                    b"XMP\x00", b"sefd", b"xmpmeta", b"Photoshop 3.0", b"MPF\x00", b"8BIM",
                    b"Exif\x00\x00II", b"http://ns.adobe.com"]  # fmt: skip
VALUE_TAGS = re.compile(
    r"^(Make|Model|Software|.*SerialNumber|.*OwnerName|Artist|Copyright|LensModel|LensMake|"
    r"HostComputer|ImageUniqueID|By-line|City|Country.*|DateTimeOriginal|CreateDate|Headline|"
    r"Caption-Abstract|ImageDescription|UserComment|CreatorTool)$"
)


def _rows() -> list[dict[str, str]]:
    if not EXPECTED.is_file():
        return []
    with EXPECTED.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ROWS = {row["filename"]: row for row in _rows()}
NAMES = sorted(ROWS) or ["(corpus missing)"]
DECODABLE = [n for n in NAMES if n not in UNDECODABLE]


@dataclass
class Outcome:
    source: bytes
    result: ScrubResult | None
    error: DeidError | None
    out_path: Path | None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    if not ROWS:
        pytest.skip(f"photo corpus not found at {CORPUS} (it lives beside the repository)")
    out_dir = tmp_path_factory.mktemp("clean")
    found: dict[str, Outcome] = {}
    for name in ROWS:
        source = (CORPUS / name).read_bytes()
        try:
            result = scrub(source)
        except DeidError as exc:
            found[name] = Outcome(source, None, exc, None)
            continue
        # Written to disk only so exiftool, a separate program, can judge the bytes.
        ext = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
               "image/heic": ".heic"}  # fmt: skip
        path = out_dir / (name + ext[result.media_type])
        path.write_bytes(result.data)
        found[name] = Outcome(source, result, None, path)
    return found


@pytest.fixture(scope="module")
def clean_tags(outcomes) -> dict[str, list[tuple[str, str, str]]]:
    exiftool()
    paths = [o.out_path for o in outcomes.values() if o.out_path is not None]
    return exiftool_tags(paths)


@pytest.fixture(scope="module")
def source_tags(outcomes) -> dict[str, list[tuple[str, str, str]]]:
    exiftool()
    return exiftool_tags([CORPUS / name for name, o in outcomes.items() if o.result is not None])


def _ok(outcomes: dict[str, Outcome], name: str) -> Outcome:
    outcome = outcomes[name]
    assert outcome.result is not None, f"{name}: {outcome.error}"
    return outcome


@pytest.mark.parametrize("name", NAMES)
def test_outcome(outcomes, name):
    outcome = outcomes[name]
    if name in UNDECODABLE:
        assert isinstance(outcome.error, CorruptImage), outcome.error
        assert outcome.result is None
    else:
        assert outcome.error is None, f"{name}: {outcome.error}"


@pytest.mark.parametrize("name", DECODABLE)
def test_exiftool_finds_nothing_identifying(outcomes, clean_tags, name):
    outcome = _ok(outcomes, name)
    assert outcome.out_path is not None
    tags = clean_tags[outcome.out_path.name]
    assert tags, "exiftool printed nothing"
    for group, tag, value in tags:
        if group == "IFD0" and tag == "Orientation":
            continue
        assert group in ALLOWED_GROUPS, f"{group}:{tag} = {value!r} survived"
        if group in ("System", "ExifTool") or group.startswith("ICC"):
            continue  # file-system facts; the ICC profile is vetted by the allow-list
        assert not FORBIDDEN.search(tag), f"{group}:{tag} survived"
    shown = {f"{g}:{t}" for g, t, _ in tags}
    identifying = [t for t in ROWS[name]["identifying_tags"].split(",") if t]
    for tag in identifying:
        if tag == "MakerNotes:*":
            assert not any(s.startswith("MakerNotes:") for s in shown)
        else:
            assert tag not in shown, f"{tag} survived"


@pytest.mark.parametrize("name", DECODABLE)
def test_container_allow_list_and_no_vendor_bytes(outcomes, source_tags, name):
    outcome = _ok(outcomes, name)
    data = outcome.result.data
    assert_allow_list(data)
    for sentinel in VENDOR_SENTINELS:
        assert sentinel not in data, f"{sentinel!r} survived"
    for _, tag, value in source_tags[name]:
        if VALUE_TAGS.match(tag) and len(value) >= 6 and not value.startswith("("):
            assert value.encode("latin-1", "replace") not in data, f"{tag} value survived"


def _heif_reference(source: bytes) -> Image.Image:
    return pillow_heif.open_heif(source).to_pillow().convert("RGB")


def _heif_pixels(data: bytes) -> tuple[tuple[int, int], str, bytes]:
    """libheif's decode at the file's own bit depth, with its rotation/mirror applied."""
    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=False)
    primary = heif[heif.primary_index]
    return primary.size, primary.mode, bytes(primary.data)


HEIC_NAMES = [n for n in DECODABLE if n.lower().endswith((".heic", ".heif", ".hif"))]


@pytest.mark.parametrize("name", HEIC_NAMES)
def test_heic_is_rebuilt_losslessly(outcomes, source_tags, name):
    """The vault keeps HEIC: same decoded pixels (10-bit stays 10-bit), same orientation."""
    outcome = _ok(outcomes, name)
    result = outcome.result
    assert result.media_type == "image/heic" and result.pixels_preserved
    assert _heif_pixels(result.data) == _heif_pixels(outcome.source), "pixels changed"
    tags: dict[str, str] = {}
    for group, tag, value in source_tags[name]:
        tags.setdefault(f"{group}:{tag}", value)  # first = primary image
    width, height = int(tags["File:ImageWidth"]), int(tags["File:ImageHeight"])
    if tags.get("QuickTime:Rotation", "0") in ("90", "270"):
        width, height = height, width
    assert (result.facts.width, result.facts.height) == (width, height)


@pytest.mark.parametrize("name", DECODABLE)
def test_pixels_and_orientation(outcomes, source_tags, name):
    outcome = _ok(outcomes, name)
    result = outcome.result
    if result.media_type == "image/heic":
        return  # test_heic_is_rebuilt_losslessly
    clean = decoded(result.data)
    if result.pixels_preserved:
        original = decoded(outcome.source)
        assert clean.mode == original.mode
        assert clean.tobytes() == original.tobytes(), "pixels changed"
        # A viewer applies EXIF orientation: the clean file must look the same.
        upright_before = ImageOps.exif_transpose(original)
        upright_after = ImageOps.exif_transpose(clean)
        assert upright_after.size == upright_before.size
        assert upright_after.tobytes() == upright_before.tobytes()
        return
    # HEIF: re-encoded. Size must be the stored extent turned by the container rotation
    # (exiftool's reading, independent of libheif), turned once only.
    tags: dict[str, str] = {}
    for group, tag, value in source_tags[name]:
        tags.setdefault(f"{group}:{tag}", value)  # first = primary image
    width, height = int(tags["File:ImageWidth"]), int(tags["File:ImageHeight"])
    if tags.get("QuickTime:Rotation", "0") in ("90", "270"):
        width, height = height, width
    assert clean.size == (width, height)
    assert ImageOps.exif_transpose(clean).size == clean.size  # nothing left to turn
    reference = _heif_reference(outcome.source)
    assert reference.size == clean.size
    diff = np.abs(
        np.asarray(reference, dtype=np.int16) - np.asarray(clean.convert("RGB"), dtype=np.int16)
    )
    assert diff.mean() < 3.0, "re-encoded image does not match the decoded HEIF"


@pytest.mark.parametrize("name", DECODABLE)
def test_facts_and_audit_counts(outcomes, source_tags, name):
    outcome = _ok(outcomes, name)
    result = outcome.result
    row = ROWS[name]
    tags = {f"{g}:{t}": v for g, t, v in source_tags[name]}
    original = tags.get("ExifIFD:DateTimeOriginal")
    if original and result.facts.capture_time is not None:
        assert result.facts.capture_time.strftime("%Y:%m:%d %H:%M:%S") == original
    elif original and not original.startswith("0000"):
        pytest.fail("capture time was not read before stripping")
    if result.pixels_preserved and result.media_type != "image/heic":
        expected = 1 if row["orientation"] == "none" else int(row["orientation"])
        assert result.facts.orientation == expected
    else:
        assert result.facts.orientation == 1  # HEIF: the container's irot is authoritative
    if result.media_type == "image/heic":
        heif = pillow_heif.open_heif(result.data)
        size = heif[heif.primary_index].size
    else:
        size = Image.open(io.BytesIO(result.data)).size
    assert (result.facts.width, result.facts.height) == size
    if row["has_gps"] == "yes":
        assert result.removed.get("exif:GPS", 0) > 0
    if row["has_xmp"] == "yes" and result.pixels_preserved:
        # (HEIF XMP may belong to a gain-map item rather than the primary image: nothing
        # of either is copied, but only the primary's is counted.)
        assert any("XMP" in k or k == "png:iTXt" for k in result.removed), result.removed
    if row["has_iptc"] == "yes":
        assert any("IPTC" in k or k == "png:zTXt" for k in result.removed), result.removed
    for key in result.removed:
        assert re.fullmatch(r"[a-z]+:[A-Za-z0-9 /()\\\-]+", key), key
