"""Wristband barcode reading on generated, photo-like images (rotated, blurred, noisy JPEG)."""

import io

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageFilter

from picsafe_desktop.wristband import read_wristband_mrn

CODE128 = zxingcpp.BarcodeFormat.Code128
DATAMATRIX = zxingcpp.BarcodeFormat.DataMatrix
QRCODE = zxingcpp.BarcodeFormat.QRCode


def barcode_image(text: str, fmt, scale: int = 4) -> Image.Image:
    code = zxingcpp.create_barcode(text, fmt)
    return Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(code, scale=scale)))


def photo(codes, size=(1200, 900), angle=7.0, seed=1, exif_orientation=None) -> bytes:
    """A grey 'bed sheet' with the codes pasted on, turned a little, blurred, noisy, JPEG."""
    canvas = Image.new("L", size, 170)
    for image, position in codes:
        canvas.paste(image, position)
    canvas = canvas.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=110)
    canvas = canvas.filter(ImageFilter.GaussianBlur(1.0))
    rng = np.random.default_rng(seed)
    noisy = np.asarray(canvas, dtype=np.int16) + rng.normal(0, 10, canvas.size[::-1])
    rgb = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB")
    out = io.BytesIO()
    if exif_orientation is None:
        rgb.save(out, "JPEG", quality=80)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        rgb.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("fmt", [CODE128, DATAMATRIX, QRCODE], ids=["code128", "dm", "qr"])
def test_reads_mrn_from_each_wristband_format(fmt):
    data = photo([(barcode_image("RX0012345", fmt), (350, 300))])
    assert read_wristband_mrn(data) == "RX0012345"


def test_reads_a_sideways_code_in_a_photo_with_exif_orientation():
    code = barcode_image("H-778/2", CODE128).rotate(90, expand=True)
    data = photo([(code, (500, 150))], angle=-4, exif_orientation=6)
    assert read_wristband_mrn(data) == "H-778/2"


def test_reads_a_small_code_in_a_large_phone_photo():
    data = photo([(barcode_image("A1234567", CODE128, scale=6), (1700, 1300))], size=(4000, 3000))
    assert read_wristband_mrn(data) == "A1234567"


def test_no_barcode_gives_none():
    assert read_wristband_mrn(photo([])) is None


def test_same_mrn_in_two_codes_counts_once():
    data = photo(
        [
            (barcode_image("A1234567", CODE128), (100, 200)),
            (barcode_image("A1234567", DATAMATRIX), (800, 200)),
        ]
    )
    assert read_wristband_mrn(data) == "A1234567"


def test_two_different_mrns_are_ambiguous():
    data = photo(
        [
            (barcode_image("A1234567", CODE128), (100, 150)),
            (barcode_image("B7654321", QRCODE), (800, 450)),
        ]
    )
    assert read_wristband_mrn(data) is None


def test_code_that_is_not_an_mrn_is_ignored():
    data = photo([(barcode_image("SMITH^JOHN^19700101", QRCODE), (400, 300))])
    assert read_wristband_mrn(data) is None


def test_unreadable_bytes_raise_value_error():
    with pytest.raises(ValueError, match="not a readable image"):
        read_wristband_mrn(b"not an image at all")


def test_large_jpeg_is_decoded_reduced_and_grey():
    # Issue 17: the scan decodes at the JPEG decoder's own reduced scale, not every pixel.
    from picsafe_desktop.wristband import MIN_SIDE, reduced_gray

    data = photo([(barcode_image("A1234567", CODE128, scale=6), (1700, 1300))], size=(4000, 3000))
    image = reduced_gray(data)
    assert image.mode == "L"
    assert image.size == (2000, 1500)  # 1/2 scale: 1/4 would be below MIN_SIDE
    assert max(image.size) >= MIN_SIDE
    assert read_wristband_mrn(data) == "A1234567"  # and the code is still read


def test_reduced_decode_keeps_the_orientation():
    from picsafe_desktop.wristband import reduced_gray

    data = photo([], size=(4000, 3000), exif_orientation=6)
    assert reduced_gray(data).size == (1500, 2000)
