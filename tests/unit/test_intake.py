"""Suggested sets by capture time, and wristband MRNs placed on their set."""

import datetime as dt

from picsafe_desktop.intake import IntakePhoto, place_wristbands, suggest_sets

T0 = dt.datetime(2025, 5, 6, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_gap_of_more_than_ten_minutes_starts_a_new_set():
    photos = [
        IntakePhoto("b2", at(43)),
        IntakePhoto("a1", at(0)),
        IntakePhoto("a2", at(9)),
        IntakePhoto("a3", at(18.5)),  # 9.5 minutes after a2: same patient
        IntakePhoto("b1", at(40)),
        IntakePhoto("dog", at(570)),
    ]
    sets = suggest_sets(photos)
    assert [s.item_ids for s in sets] == [["a1", "a2", "a3"], ["b1", "b2"], ["dog"]]
    assert sets[0].first == at(0) and sets[0].last == at(18.5)
    assert sets[1].describe() == "06 May 10:40–10:43 · 2 photos"


def test_photos_without_a_capture_time_are_a_set_of_their_own():
    sets = suggest_sets([IntakePhoto("x", None), IntakePhoto("a", at(0)), IntakePhoto("y", None)])
    assert [s.item_ids for s in sets] == [["a"], ["x", "y"]]
    assert sets[1].describe() == "time not recorded · 2 photos"


def test_naive_and_aware_times_sort_together():
    naive = dt.datetime(2025, 5, 6, 9, 5)  # taken as UTC = 10:05 at +01:00
    sets = suggest_sets([IntakePhoto("a", at(0)), IntakePhoto("n", naive)])
    assert [s.item_ids for s in sets] == [["a", "n"]]


def test_wristband_gives_its_set_the_mrn_and_leaves_it():
    sets = suggest_sets(
        [
            IntakePhoto("bandA", at(0)),
            IntakePhoto("a1", at(1)),
            IntakePhoto("bandB", at(40)),
            IntakePhoto("b1", at(41)),
            IntakePhoto("bandC", at(42)),  # a second, different band in B's set
            IntakePhoto("lonely-band", at(300)),
        ]
    )
    bands = {"bandA": "MRN-A", "bandB": "MRN-B", "bandC": "MRN-C", "lonely-band": "MRN-Z"}
    kept = place_wristbands(sets, bands)
    assert [s.item_ids for s in kept] == [["a1"], ["b1"]]
    assert kept[0].mrn == "MRN-A"
    assert kept[1].mrn is None and kept[1].wristbands == ["MRN-B", "MRN-C"]  # ambiguous
