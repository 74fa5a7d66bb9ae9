"""Photos grouped by body site, oldest first."""

import datetime as dt

from picsafe_desktop.timeline import UNRECORDED, TimelinePhoto, group_by_site, site_text

T = dt.datetime(2025, 5, 6, 10, 0, tzinfo=dt.UTC)


def test_grouped_by_site_then_date():
    photos = [
        (TimelinePhoto("b", T + dt.timedelta(days=14)), "right lower leg"),
        (TimelinePhoto("x", None), UNRECORDED),
        (TimelinePhoto("a", T), "Right lower leg"),
        (TimelinePhoto("c", T + dt.timedelta(days=3)), "left forearm"),
    ]
    groups = group_by_site(photos)
    assert [g.site for g in groups] == ["left forearm", "right lower leg", UNRECORDED]
    assert [p.item_id for p in groups[1].photos] == ["a", "b"]


def test_site_text_prefers_the_photos_own_coded_site():
    coded = {
        "code": "30021000",
        "display": "Lower leg",
        "laterality": "right",
        "text": "right lower leg",
    }
    assert site_text({"body_site": coded}, "leg") == "right lower leg"
    assert site_text({}, "left  forearm") == "left forearm"
    assert site_text({}, "") == UNRECORDED
