"""HEIC/HEIF: rebuilt at the container level, pixels untouched, nothing else kept.

Before the container-level rebuild every HEIC was decoded and re-encoded as JPEG (quality 92,
8 bits): the tests on media type, bit-exact pixels, irot and SEI all failed then.
"""

from __future__ import annotations

import io
import struct

import piexif
import pillow_heif
import pytest
from PIL import Image

from picsafe_desktop.deid import (
    CorruptImage,
    DeidError,
    Redaction,
    make_thumbnail,
    redact,
    scrub,
    to_jpeg,
)
from tests.unit import heif_files as hf
from tests.unit.deid_checks import assert_heif_allow_list, bmff_boxes, decoded

SECRET = hf.SECRET


def heic(orientation: int = 6, size=(64, 32), thumbnails=(16,), bit_depth: int = 8) -> bytes:
    """A HEIC like an iPhone's: HEIF rotation (irot) *and* the same EXIF Orientation."""
    im = Image.new("RGB", size, (200, 0, 0))
    im.paste((0, 0, 255), (0, 0, 16, 16))  # blue square marks the top-left corner
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Orientation: orientation, piexif.ImageIFD.Make: SECRET},
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: b"2022:02:16 12:55:41",
                piexif.ExifIFD.OffsetTimeOriginal: b"+01:00",
            },
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N"},
        }
    )
    if bit_depth == 10:
        heif = pillow_heif.from_bytes("RGB;16", im.size, _to_16bit(im))
    else:
        heif = pillow_heif.from_pillow(im)
    heif.info["exif"] = exif
    heif.info["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"
    buf = io.BytesIO()
    # pillow-heif turns the EXIF orientation into an irot and keeps the EXIF tag too.
    heif.save(buf, quality=90, thumbnails=list(thumbnails))
    return buf.getvalue()


def _to_16bit(im: Image.Image) -> bytes:
    raw = im.tobytes()
    return b"".join(struct.pack("<H", (v << 8) | v) for v in raw)


def pixels(data: bytes) -> tuple[tuple[int, int], str, bytes]:
    """libheif's decode at full bit depth, transforms applied."""
    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=False)
    primary = heif[heif.primary_index]
    return primary.size, primary.mode, bytes(primary.data)


def test_heic_stays_heic_with_identical_pixels():
    source = heic(orientation=1)
    result = scrub(source)
    assert result.media_type == "image/heic" and result.pixels_preserved
    assert pixels(result.data) == pixels(source)
    assert_heif_allow_list(result.data)
    assert len(result.data) < len(source)


def test_ten_bit_heic_keeps_its_bit_depth():
    source = heic(orientation=1, bit_depth=10)
    assert pixels(source)[1] == "RGB;16"
    result = scrub(source)
    assert pixels(result.data) == pixels(source)  # no reduction to 8 bits


def test_alpha_plane_is_kept():
    """Transparency is image data: the alpha auxiliary image stays, other aux images go."""
    im = Image.new("RGBA", (64, 48), (200, 10, 10, 255))
    im.paste((0, 0, 255, 80), (0, 0, 20, 20))
    buf = io.BytesIO()
    pillow_heif.from_pillow(im).save(buf, quality=90)
    result = scrub(buf.getvalue())
    assert result.media_type == "image/heic"
    assert pixels(result.data) == pixels(buf.getvalue())
    assert pixels(result.data)[1] == "RGBA"
    assert_heif_allow_list(result.data)


def test_nothing_from_the_container_survives():
    result = scrub(heic())
    assert_heif_allow_list(result.data)
    assert SECRET not in result.data
    assert b"Exif" not in result.data and b"xmpmeta" not in result.data
    assert result.removed["heif:thumbnail"] == 1
    assert result.removed["heif:XMP"] == 1
    assert result.removed["heif:EXIF"] == 1
    assert result.removed["exif:GPS"] == 1
    assert result.facts.capture_time is not None
    assert result.facts.capture_time.isoformat() == "2022-02-16T12:55:41+01:00"
    heif = pillow_heif.open_heif(result.data)
    assert len(heif) == 1 and not heif.info.get("exif") and not heif.info.get("xmp")
    assert not heif.info.get("thumbnails")


def test_grid_keeps_its_tiles_and_drops_the_rest():
    source = hf.grid_photo()
    result = scrub(source)
    assert pixels(result.data) == pixels(source)
    assert_heif_allow_list(result.data)
    assert SECRET not in result.data
    assert result.removed == {"heif:sefd box": 1, "heif:EXIF": 1, "heif:thumbnail": 1,
                              "heif:XMP": 1, "exif:IFD0": 1, "heif:fake property": 1}  # fmt: skip
    # irot stays in the container, so the picture is turned exactly once, by the viewer.
    assert (result.facts.width, result.facts.height, result.facts.orientation) == (64, 128, 1)
    assert b"irot" in result.data


@pytest.mark.parametrize("in_idat", [True, False])
def test_grid_description_in_idat_or_mdat(in_idat):
    source = hf.grid_photo(grid_in_idat=in_idat)
    assert pixels(scrub(source).data) == pixels(source)


def test_sei_units_are_dropped_pixels_kept():
    source = hf.grid_photo(sei=True)
    assert SECRET in source
    result = scrub(source)
    assert SECRET not in result.data
    assert result.removed["heif:SEI"] == 2  # one in hvcC, one in the tile's data
    assert pixels(result.data) == pixels(source)
    assert_heif_allow_list(result.data)


def test_rotation_applied_exactly_once_downstream():
    """irot 270 and EXIF Orientation 6 describe the same turn: displayed once, not twice."""
    result = scrub(heic(orientation=6))
    assert (result.facts.width, result.facts.height) == (32, 64)
    assert result.facts.orientation == 1
    assert any("EXIF Orientation repeating it was dropped" in n for n in result.notes)
    thumb = decoded(make_thumbnail(result.data, max_side=64))
    assert thumb.size == (32, 64)
    r, _, b = thumb.getpixel((24, 8))  # top-left corner turned 90 degrees clockwise
    assert b > 150 and r < 80
    jpeg = decoded(to_jpeg(result.data))
    assert jpeg.size == (32, 64) and jpeg.getexif() == {}


def test_redacting_a_heic_gives_an_upright_clean_jpeg():
    clean = scrub(heic(orientation=6)).data
    result = redact(clean, [Redaction(0, 0, 32, 16)])  # displayed (upright) coordinates
    out = decoded(result.data)
    assert result.media_type == "image/jpeg" and out.size == (32, 64)
    assert max(out.getpixel((8, 8))) < 40  # blacked out
    assert out.getpixel((16, 48))[0] > 150  # red elsewhere


def test_trap_pillow_heif_copies_info_into_a_resave():
    source = heic()
    resaved = io.BytesIO()
    pillow_heif.open_heif(source).save(resaved)
    assert SECRET in pillow_heif.open_heif(resaved.getvalue()).info["exif"]  # trap is real
    assert SECRET not in scrub(source).data


@pytest.mark.parametrize("cut", [40, 300, -1])
def test_truncated_heic_is_corrupt(cut):
    with pytest.raises(CorruptImage):
        scrub(heic()[:cut])


# -- hostile structures: a clean refusal, never a hang or another exception -----------------


def _grid_spec(**changes):
    left, right = hf.tile((200, 30, 30)), hf.tile((20, 160, 60))
    items = {
        1: hf.Item(b"grid", hf.grid_data(1, 2, 128, 64), [3], in_idat=True),
        2: hf.Item(b"hvc1", left.coded, [1, 2], hidden=True),
        3: hf.Item(b"hvc1", right.coded, [1, 2], hidden=True),
        4: hf.Item(b"Exif", hf.exif_item(), hidden=True),
    }
    spec = {"items": items, "properties": [left.hvcc, hf.ispe(64, 64), hf.ispe(128, 64)],
            "refs": [(b"dimg", 1, [2, 3]), (b"cdsc", 4, [1])], "primary": 1}  # fmt: skip
    spec.update(changes)
    return spec


def _patch_u32_after(data: bytes, marker: bytes, skip: int, value: int) -> bytes:
    at = data.index(marker) + len(marker) + skip
    return data[:at] + struct.pack(">I", value) + data[at + 4 :]


def test_valid_grid_spec_scrubs():
    assert scrub(hf.heif(**_grid_spec())).media_type == "image/heic"


def test_derived_image_loop_is_refused():
    spec = _grid_spec(refs=[(b"dimg", 1, [2, 1])])
    with pytest.raises(CorruptImage):
        scrub(hf.heif(**spec))


def test_grid_with_wrong_tile_count_is_refused():
    spec = _grid_spec(refs=[(b"dimg", 1, [2])])
    with pytest.raises(CorruptImage, match="number of tiles"):
        scrub(hf.heif(**spec))


def test_item_pointing_outside_the_media_data_is_refused():
    """A tile whose extent points at the EXIF item's bytes would copy them: refused."""
    spec = _grid_spec()
    data = hf.heif(**spec)
    exif_at = data.index(hf.exif_item())
    spec["items"][3].extents = [(exif_at, len(hf.exif_item()))]
    with pytest.raises(CorruptImage, match="outside"):
        scrub(hf.heif(**spec))


def test_extent_past_the_end_is_refused():
    spec = _grid_spec()
    spec["items"][2].extents = [(100, 1 << 30)]
    with pytest.raises(CorruptImage):
        scrub(hf.heif(**spec))


@pytest.mark.parametrize(
    ("marker", "skip", "value"),
    [
        (b"iloc", 6, 0xFFFF0000),  # item count 0xFFFF, far more than the box holds
        (b"ipma", 4, 0xFFFFFFFF),  # association entries
        (b"iinf", 2, 0x0000FFFF),  # version 0, 0xFFFF entries declared
        (b"meta", 0, 0x7FFFFFFF),  # meta's first child claims 2 GB
        (b"iprp", 0, 0xFFFFFFF0),  # ipco size past the end
        (b"dimg", 0, 0x0001FFFF),  # from item 1, 0xFFFF references
    ],
)
def test_huge_sizes_and_counts_are_refused(marker, skip, value):
    data = _patch_u32_after(hf.heif(**_grid_spec()), marker, skip, value)
    with pytest.raises(DeidError):
        scrub(data)


def test_thousands_of_tiny_boxes_are_refused():
    data = hf.heif(**_grid_spec(), extra_top=hf.bx(b"free") * 5000)
    with pytest.raises(CorruptImage, match="too many boxes"):
        scrub(data)


def test_deeply_nested_boxes_are_not_walked():
    nested = b""
    for _ in range(2000):
        nested = hf.bx(b"meta", b"\x00\x00\x00\x00", nested)
    data = hf.heif(**_grid_spec(), extra_top=hf.bx(b"uuid", nested))
    result = scrub(data)  # unknown top-level boxes are dropped without being descended
    assert result.removed["heif:uuid box"] == 1


def test_essential_property_not_understood_falls_back_to_jpeg():
    spec = _grid_spec()
    spec["properties"].append(hf.bx(b"zzzz", SECRET))
    spec["items"][1].props.append(4)
    spec["items"][1].essential.add(4)
    try:
        result = scrub(hf.heif(**spec))
    except DeidError:
        return  # libheif may refuse the unknown essential property as well: also clean
    assert result.media_type == "image/jpeg" and not result.pixels_preserved
    assert "re-encoded as JPEG" in result.notes[0]
    assert SECRET not in result.data


def test_unsupported_structure_falls_back_to_a_clean_jpeg():
    """Construction method 2 (item data built from other items) is not rebuilt: libheif
    decodes the file and a fresh JPEG is written instead, with nothing of the container."""
    spec = _grid_spec()
    spec["items"][2].method = 2
    result = scrub(hf.heif(**spec))
    assert result.media_type == "image/jpeg" and not result.pixels_preserved
    assert result.notes[0].startswith("HEIF re-encoded as JPEG because")
    assert SECRET not in result.data and result.removed["heif:EXIF"] == 1


def test_output_walker_sees_exactly_three_top_level_boxes():
    out = scrub(hf.grid_photo()).data
    assert [k for k, _, _ in bmff_boxes(out)] == [b"ftyp", b"meta", b"mdat"]
