"""A wristband photographed with an iPhone is stored as HEIC (lossless scrub): still read.

Before, read_wristband_mrn opened the vault bytes with Pillow alone, which cannot read HEIC:
the wristband photo was kept as a clinical photo and the MRN was not prefilled.
"""

import io

import pillow_heif
import pytest
from PIL import Image

from picsafe_desktop.deid import scrub
from picsafe_desktop.wristband import read_wristband_mrn
from tests.unit.test_wristband import CODE128, barcode_image, photo


def test_reads_mrn_from_a_scrubbed_heic():
    jpeg = photo([(barcode_image("RX0012345", CODE128), (350, 300))])
    buf = io.BytesIO()
    pillow_heif.from_pillow(Image.open(io.BytesIO(jpeg))).save(buf, quality=92)
    clean = scrub(buf.getvalue())
    assert clean.media_type == "image/heic"
    assert read_wristband_mrn(clean.data) == "RX0012345"


def test_broken_heic_raises_value_error():
    with pytest.raises(ValueError):
        read_wristband_mrn(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
