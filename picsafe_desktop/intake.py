"""Sorting one import into patients: suggested sets by capture time (no Qt, no I/O).

A phone brought to the ward PC holds photos of several patients, taken in bursts at each
bedside, and the odd personal photo. A gap of more than `SET_GAP` between two consecutive
capture times most likely means the next patient, so the intake step offers those sets as a
starting selection; the clinician still decides which photos belong to whom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

SET_GAP = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class IntakePhoto:
    item_id: str
    taken: dt.datetime | None  # the camera's capture time, None when it recorded none


@dataclass
class SuggestedSet:
    item_ids: list[str]
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    mrn: str | None = None  # from a wristband photo taken within this set
    wristbands: list[str] = field(default_factory=list)  # MRNs seen (several = ambiguous)

    def describe(self) -> str:
        """ "10:02–10:07 · 3 photos" as a set heading (times as the camera recorded them)."""
        n = len(self.item_ids)
        count = f"{n} photo" + ("" if n == 1 else "s")
        if self.first is None:
            return f"time not recorded · {count}"
        span = f"{self.first:%d %b %H:%M}"
        if self.last is not None and self.last - self.first >= dt.timedelta(minutes=1):
            span += f"–{self.last:%H:%M}"
        return f"{span} · {count}"


def _comparable(moment: dt.datetime) -> dt.datetime:
    """Naive and aware capture times in one order: an offset-less time is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def suggest_sets(photos: Iterable[IntakePhoto], gap: dt.timedelta = SET_GAP) -> list[SuggestedSet]:
    """Group photos into sets: sorted by capture time, a new set after each gap > `gap`.

    Photos without a capture time cannot be placed in time: they form one last set of their
    own, in import order, so nothing is silently attached to the wrong patient.
    """
    photos = list(photos)
    timed = sorted((p for p in photos if p.taken), key=lambda p: _comparable(p.taken))
    untimed = [p for p in photos if not p.taken]
    sets: list[SuggestedSet] = []
    for photo in timed:
        moment = _comparable(photo.taken)
        if sets and moment - _comparable(sets[-1].last) <= gap:
            sets[-1].item_ids.append(photo.item_id)
            sets[-1].last = photo.taken
        else:
            sets.append(SuggestedSet([photo.item_id], photo.taken, photo.taken))
    if untimed:
        sets.append(SuggestedSet([p.item_id for p in untimed]))
    return sets


def place_wristbands(sets: list[SuggestedSet], wristbands: dict[str, str]) -> list[SuggestedSet]:
    """Take the wristband photos (item id -> MRN read from it) out of their sets and give
    each set the MRN of the band photographed within it. A set with two different bands is
    left without an MRN (the clinician types it); a set that held only a band is dropped."""
    for s in sets:
        for item_id in [i for i in s.item_ids if i in wristbands]:
            s.item_ids.remove(item_id)
            if wristbands[item_id] not in s.wristbands:
                s.wristbands.append(wristbands[item_id])
        s.mrn = s.wristbands[0] if len(s.wristbands) == 1 else None
    return [s for s in sets if s.item_ids]
