"""One decode per JPEG: the scrub's verification decode (1/8 scale) also makes the thumbnail.

Before, the pipeline called make_thumbnail(clean.data), which Huffman-decoded every photo a
second time (about 40 ms per 12 MP photo, 44% of the scrub thread).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from picsafe_desktop.deid import make_thumbnail, scrub, visual
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.pipeline import import_paths
from tests.importer_support import make_vault, small_jpegs, unique_jpeg
from tests.unit.deid_checks import decoded

pytestmark = [pytest.mark.corpus]

TWELVE_MP = "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg"


def test_thumbnail_from_the_scrub_needs_no_second_decode(corpus):
    result = scrub((corpus / TWELVE_MP).read_bytes())
    assert result.preview is not None and result.preview.size == (504, 378)  # 1/8 scale
    # With the clean bytes gone, the thumbnail can only come from the scrub's own decode.
    without_bytes = dataclasses.replace(result, data=b"")
    thumb = decoded(make_thumbnail(without_bytes))
    reference = decoded(make_thumbnail(result.data))  # the old way: a second decode
    assert thumb.size == reference.size == (256, 192)
    diff = np.abs(np.asarray(thumb, np.int16) - np.asarray(reference, np.int16))
    assert diff.mean() < 4


def test_small_photo_preview_is_not_too_small(corpus):
    result = scrub((corpus / "nokia-n70-iptc-exifthumb__iptc.jpg").read_bytes())
    assert min(result.preview.size) >= min(256, result.facts.width, result.facts.height)
    thumb = decoded(make_thumbnail(dataclasses.replace(result, data=b"")))
    assert max(thumb.size) == min(256, max(result.facts.width, result.facts.height))


def test_preview_is_never_printed_or_compared(corpus):
    result = scrub((corpus / TWELVE_MP).read_bytes())
    assert "preview" not in repr(result)
    assert result == dataclasses.replace(result, preview=None)


@pytest.mark.keyring
def test_pipeline_decodes_each_jpeg_once(tmp_path, keyring_service, monkeypatch):
    drop = tmp_path / "drop"
    drop.mkdir()
    for i, src in enumerate(small_jpegs()[:3]):
        (drop / f"p{i}.jpg").write_bytes(unique_jpeg(src.read_bytes(), f"one{i}"))

    def second_decode(*args, **kwargs):
        raise AssertionError("the thumbnail decoded the photo again")

    monkeypatch.setattr(visual, "_open_clean", second_decode)
    vault = make_vault(tmp_path / "vault", keyring_service)
    try:
        result = import_paths(vault, [drop], actor="test")
        assert [r.outcome for r in result.results] == [Outcome.IMPORTED] * 3, result.results
        for item in vault.list_items():
            assert decoded(vault.read_thumbnail(item.item_id)).size[0] <= 256
    finally:
        vault.close()
