"""Body-map regions to coded body sites, the shape the exports read."""

import pytest

from picsafe_desktop import body_sites


def test_region_ids_parse_into_view_region_and_side():
    assert body_sites.parse_region_id("front_forearm_left") == ("front", "forearm", "left")
    assert body_sites.parse_region_id("back_lower_back") == ("back", "lower_back", None)
    assert body_sites.parse_region_id("back_lower_leg_right") == ("back", "lower_leg", "right")
    assert body_sites.parse_region_id("side_forearm_left") is None
    assert body_sites.parse_region_id("front_tail") is None


def test_paired_regions_carry_laterality_others_do_not():
    assert body_sites.from_region("forearm", "left") == {
        "code": "14975008",
        "display": "Forearm",
        "laterality": "left",
        "text": "left forearm",
    }
    assert body_sites.from_region("sacrum", "left")["laterality"] is None
    assert body_sites.from_region("knee", "bilateral")["text"] == "bilateral knee"
    with pytest.raises(ValueError):
        body_sites.from_region("forearm", "up")


def test_free_text_is_carried_uncoded_and_recent_sites_come_first():
    assert body_sites.from_text("  left medial   canthus ") == {
        "code": None,
        "display": "left medial canthus",
        "laterality": None,
        "text": "left medial canthus",
    }
    assert body_sites.from_text("  ") is None
    a, b = body_sites.from_region("hand", "right"), body_sites.from_region("foot", "left")
    assert body_sites.remember(body_sites.remember([a], b), a) == [a, b]


def test_every_region_of_the_map_is_coded():
    import re
    from importlib.resources import files

    svg = (files("picsafe_desktop") / "resources" / "body-map.svg").read_text()
    ids = re.findall(r'id="([a-z_]+)"', svg)
    assert len(ids) >= 40
    for element in ids:
        parsed = body_sites.parse_region_id(element)
        assert parsed is not None, element
        _view, region, side = parsed
        assert (side is not None) == (region in body_sites.PAIRED), element
