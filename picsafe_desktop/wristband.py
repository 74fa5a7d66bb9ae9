"""Read the patient's MRN from a photo of their wristband barcode (no Qt, no I/O).

Wards print Code 128, Data Matrix or QR codes on wristbands. Staff can photograph the
wristband as part of the batch; the services layer then pre-fills the MRN and drops that
photo from the batch. Only a code whose whole text is a valid MRN counts, so a 2D code that
packs name and birth date as well is ignored rather than guessed at.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, ImageOps

from picsafe_desktop.consent import mrn_problem

WRISTBAND_FORMATS = (
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.DataMatrix,
    zxingcpp.BarcodeFormat.QRCode,
)
# Phone photos are 12-50 MP; a wristband code is still readable at this size and the
# decoder is several times faster on it.
_MAX_SIDE = 2400


def read_wristband_mrn(image_bytes: bytes) -> str | None:
    """The MRN in the photo's wristband barcode, or None when there is not exactly one.

    Several codes carrying the same MRN (a 1D and a 2D code on one band) count as one;
    different MRNs in one photo are ambiguous and give None. Raises ValueError when the
    bytes are not an image Pillow can read.
    """
    if bytes(image_bytes[4:8]) == b"ftyp":
        image = _heif_gray(image_bytes)
    else:
        try:
            with Image.open(io.BytesIO(image_bytes)) as opened:
                image = ImageOps.exif_transpose(opened).convert("L")
        except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    found = set()
    for barcode in zxingcpp.read_barcodes(image, formats=WRISTBAND_FORMATS):
        text = barcode.text.strip()
        if mrn_problem(text) is None:
            found.add(text)
    return found.pop() if len(found) == 1 else None


def _heif_gray(image_bytes: bytes) -> Image.Image:
    """The vault keeps iPhone photos as HEIC, which Pillow cannot open by itself."""
    from picsafe_desktop.deid import DeidError, decode_upright

    try:
        return decode_upright(bytes(image_bytes)).convert("L")
    except DeidError as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
