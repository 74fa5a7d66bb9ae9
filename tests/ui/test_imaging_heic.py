"""The vault keeps HEIC, which Qt cannot read: the shared decoder shows it upright.

Before the fix a scrubbed HEIC reached QImageReader and the viewer said "This photo cannot
be displayed."
"""

import pytest

from picsafe_desktop.deid import scrub
from picsafe_desktop.ui.imaging import UndecodableImage, decode
from picsafe_desktop.ui.viewer import PhotoViewer
from tests.unit.test_deid_heif import heic


def test_scrubbed_heic_decodes_upright(qapp):
    clean = scrub(heic(orientation=6)).data
    image = decode(clean)
    assert (image.width(), image.height()) == (32, 64)  # irot applied once
    top_left = image.pixelColor(24, 8)  # the blue corner, turned 90 degrees clockwise
    assert top_left.blue() > 150 and top_left.red() < 80


def test_broken_heic_is_undecodable_not_a_crash(qapp):
    with pytest.raises(UndecodableImage):
        decode(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")


def test_viewer_shows_a_heic(qtbot):
    viewer = PhotoViewer(clipboard_clear_seconds=1)
    qtbot.addWidget(viewer)
    viewer.set_image(scrub(heic(orientation=1)).data)
    qtbot.waitUntil(viewer.has_image, timeout=10000)  # decoded on a worker
