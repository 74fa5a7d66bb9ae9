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
# Phone photos are 12-200 MP; a wristband code is still readable at this size and the
# decoder is several times faster on it (zxing: 46 ms on 2016 x 1512, 225 ms on 4032 x 3024).
_MAX_SIDE = 2400
# A JPEG is decoded reduced (the decoder scales by 1/2, 1/4 or 1/8 while decoding, in grey):
# as far as keeps the long side at least this long. Issue 17: the full colour decode of
# every photo held the consent step back 43 s for a batch of 200.
MIN_SIDE = 1600


def read_wristband_mrn(image_bytes: bytes) -> str | None:
    """The MRN in the photo's wristband barcode, or None when there is not exactly one.

    Several codes carrying the same MRN (a 1D and a 2D code on one band) count as one;
    different MRNs in one photo are ambiguous and give None. Raises ValueError when the
    bytes are not an image Pillow can read.
    """
    if bytes(image_bytes[4:8]) == b"ftyp":
        image = _heif_gray(image_bytes)
    else:
        image = reduced_gray(image_bytes)
    image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    found = set()
    for barcode in zxingcpp.read_barcodes(image, formats=WRISTBAND_FORMATS):
        text = barcode.text.strip()
        if mrn_problem(text) is None:
            found.add(text)
    return found.pop() if len(found) == 1 else None


def reduced_gray(image_bytes: bytes) -> Image.Image:
    """The photo upright in grey, decoded at the smallest JPEG scale that keeps its long side
    at least MIN_SIDE (other formats: decoded whole)."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as opened:
            width, height = opened.size
            long_side = max(width, height, 1)
            if opened.format == "JPEG" and long_side > MIN_SIDE:
                opened.draft("L", (width * MIN_SIDE // long_side, height * MIN_SIDE // long_side))
            return ImageOps.exif_transpose(opened).convert("L")
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None


def _heif_gray(image_bytes: bytes) -> Image.Image:
    """The vault keeps iPhone photos as HEIC, which Pillow cannot open by itself."""
    from picsafe_desktop.deid import DeidError, decode_upright

    try:
        return decode_upright(bytes(image_bytes)).convert("L")
    except DeidError as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
