"""Sample inputs for the export tests: a consent record and scrubbed JPEGs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from picsafe_desktop.export.types import ExportBatch, ExportPhoto
from picsafe_desktop.model import (
    Capacity,
    ConsentRecord,
    Identifiability,
    Method,
    Patient,
    PhotoFacts,
    Staff,
    Substitute,
    Use,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_PHOTOS = (
    "iphone4-gps__Apple-iPhone-4.jpg",
    "samsung-galaxy-s4-GT-I9505__Samsung-GT-I9505-Galaxy-S4.jpg",
)


def synthetic_jpeg(width: int = 640, height: int = 480, orientation: int = 1) -> bytes:
    """A clean baseline JPEG with a recognisable layout (red top-left, blue bottom-right)."""
    img = Image.new("RGB", (width, height), (235, 220, 200))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width // 3, height // 3], fill=(200, 30, 30))
    draw.rectangle([2 * width // 3, 2 * height // 3, width, height], fill=(30, 60, 200))
    draw.ellipse([width // 3, height // 3, 2 * width // 3, 2 * height // 3], fill=(150, 90, 60))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    img.save(out, "JPEG", quality=88, exif=exif.tobytes() if orientation != 1 else b"")
    return out.getvalue()


def signature_png() -> bytes:
    img = Image.new("RGBA", (400, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.line(
        [(10, 90), (80, 20), (120, 100), (200, 30), (260, 95), (380, 40)],
        fill=(10, 10, 60, 255),
        width=5,
    )
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def scrubbed_corpus_jpeg(name: str) -> bytes | None:
    """Scrubbed bytes of a corpus photo, or None when the corpus is not beside the repo."""
    path = CORPUS / name
    if not path.is_file():
        return None
    from picsafe_desktop.deid import scrub

    return scrub(path.read_bytes()).data


def scrubbed_corpus_photos() -> list:
    """Every CORPUS_PHOTOS entry, scrubbed, as export photos; skips when the corpus is absent."""
    photos = []
    for n, name in enumerate(CORPUS_PHOTOS):
        data = scrubbed_corpus_jpeg(name)
        if data is None:
            pytest.skip(f"photo corpus not found at {CORPUS}")
        photos.append(photo(f"corpus-{n}", data))
    return photos


def consent(
    uses=(Use.RECORD,),
    identifiable: bool = False,
    signature: bool = True,
    substitute: bool = False,
    **extra,
) -> ConsentRecord:
    record = ConsentRecord(
        consent_id="cons-0001",
        patient=Patient(
            mrn="MRN-4401927", name="Zoë Ångström-Test", birth_date=dt.date(1961, 3, 14)
        ),
        capacity=Capacity.SUBSTITUTE if substitute else Capacity.SELF,
        uses=frozenset(uses),
        method=Method.WRITTEN,
        obtained_by=Staff(
            name="Dr Priya Natarajan", role="Dermatology registrar", staff_id="S1234"
        ),
        obtained_at=dt.datetime(2025, 5, 6, 10, 42, tzinfo=dt.UTC),
        body_site="left forearm",
        indication="Monitoring of pigmented lesion",
        identifiability=Identifiability.IDENTIFIABLE
        if identifiable
        else Identifiability.NOT_IDENTIFIABLE,
        substitute=Substitute(name="Tom Test", relationship="son") if substitute else None,
        signature_png=signature_png() if signature else None,
        witness_name="Nurse Ada Witness",
        wording_version="photo-consent-v3",
        wording_sha256="9f2c" * 16,
    )
    return dataclasses.replace(record, **extra)  # any other consent field (issue 15's)


def photo(
    item_id: str,
    data: bytes,
    body_site: str = "left forearm",
    identifiability: Identifiability = Identifiability.NOT_IDENTIFIABLE,
    confirmed: bool = True,
) -> ExportPhoto:
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    facts = PhotoFacts(
        width=width, height=height, capture_time=dt.datetime(2025, 5, 6, 10, 55, tzinfo=dt.UTC)
    )
    # Confirmed "not identifiable" by default, so export tests of other rules pass the
    # identifiability gate; tests/unit/test_consent_governance.py exercises that gate.
    return ExportPhoto(
        item_id=item_id,
        jpeg=data,
        facts=facts,
        body_site=body_site,
        identifiability=identifiability,
        identifiability_confirmed=confirmed,
    )


def batch(photos=None, use: Use = Use.RECORD, **consent_kw) -> ExportBatch:
    if photos is None:
        answer = (
            Identifiability.IDENTIFIABLE
            if consent_kw.get("identifiable")
            else Identifiability.NOT_IDENTIFIABLE
        )
        photos = [
            photo("item-a", synthetic_jpeg(), identifiability=answer),
            photo("item-b", synthetic_jpeg(480, 640), identifiability=answer),
        ]
    return ExportBatch(
        batch_id="batch-7c1e",
        consent=consent(**consent_kw),
        photos=tuple(photos),
        staff=Staff(name="Sam Exporter", role="Medical photographer", staff_id="S9876"),
        use=use,
        report_id="PSR-TEST000001",
    )


# -- issue 14: the mixed batch the peers judged ---------------------------------------------

MIXED = {
    "heic-offset": "iphone11promax-gps-xmp__IMG_5195.HEIC",  # capture time with a UTC offset
    "jpeg-naive": "iphone4-gps__Apple-iPhone-4.jpg",  # capture time without one
    "jpeg-orient6": "canon-powershot-sx60-orient6-xmp-iptc__canon_hdr_NO.jpg",
    "jpeg-orient3": "iphone5-gps-orient3__Apple-iPhone-5.jpg",
    "png": "macos-screenshot-exif-xmp-iptc__Issue-280-dotnet.png",
}


@functools.cache
def scrubbed_with_facts(name: str) -> tuple[bytes, object]:
    """What the importer stores (JPEG, or PNG turned into JPEG as load_batch does), and facts."""
    from picsafe_desktop import deid

    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"photo corpus not found at {CORPUS}")
    result = deid.scrub(path.read_bytes())
    data = result.data if result.media_type == "image/jpeg" else deid.to_jpeg(result.data)
    return data, result.facts


def mixed_batch(use: Use = Use.RECORD) -> ExportBatch:
    """The issue's mixed batch, scrubbed as the importer does, numbered 1..5."""
    photos_ = []
    for n, (key, name) in enumerate(MIXED.items(), start=1):
        data, facts = scrubbed_with_facts(name)
        photos_.append(
            dataclasses.replace(photo(key, data, body_site="left forearm"), facts=facts, number=n)
        )
    return batch(photos=photos_, use=use, uses=(Use.RECORD, Use.TEACHING))
