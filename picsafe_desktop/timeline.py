"""A patient's photos grouped by body site, then by date (no Qt, no I/O).

Wound and lesion follow-up is reviewed site by site over time: the timeline lists each body
site with its photos oldest first, so two visits of the same site can be compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimelinePhoto:
    item_id: str
    taken: dt.datetime | None  # capture time, else import time
    redacted: bool = False


@dataclass
class SiteGroup:
    site: str  # the body site's words, or "body site not recorded"
    photos: list[TimelinePhoto] = field(default_factory=list)


UNRECORDED = "body site not recorded"


def site_text(meta: Mapping, consent_site: str = "") -> str:
    """The photo's body site in words: its own (picked on the body map) or the consent's."""
    site = meta.get("body_site")
    if isinstance(site, Mapping):
        site = site.get("text") or site.get("display")
    return " ".join(str(site or consent_site or "").split()) or UNRECORDED


def _key(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def group_by_site(photos: Iterable[tuple[TimelinePhoto, str]]) -> list[SiteGroup]:
    """(photo, site text) pairs -> one group per site (alphabetical, unrecorded last), each
    oldest first."""
    groups: dict[str, SiteGroup] = {}
    for photo, site in photos:
        groups.setdefault(site.lower(), SiteGroup(site)).photos.append(photo)
    for group in groups.values():
        group.photos.sort(key=lambda p: _key(p.taken))
    return sorted(groups.values(), key=lambda g: (g.site == UNRECORDED, g.site.lower()))
