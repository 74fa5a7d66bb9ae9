"""Decoded pixels for the photos DICOM cannot carry as JPEG bytes, in memory only.

VL Photographic Image allows MONOCHROME2, RGB, YBR_FULL_422, YBR_PARTIAL_420, YBR_ICT and
YBR_RCT (PS3.3 C.8.12.2.1.1); a YCbCr JPEG without chroma subsampling is YBR_FULL (PS3.5
8.2.1), which that list leaves out. Such a photo, and a CMYK/YCCK JPEG, go out as the
decoded RGB pixels, uncompressed: the decode is exactly what every viewer shows of the
stored JPEG, so nothing is lost further (no second lossy generation).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageCms

from picsafe_desktop.export.types import ExportError


@dataclass(frozen=True)
class RgbPixels:
    width: int
    height: int
    data: bytes  # R, G, B interleaved, 8 bits each, rows top to bottom
    icc_profile: bytes | None  # the colour space of `data`, None when unknown

    def image(self) -> Image.Image:
        return Image.frombytes("RGB", (self.width, self.height), self.data)


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def decode_rgb(data: bytes, icc_profile: bytes | None, label: str) -> RgbPixels:
    """The JPEG as RGB. CMYK goes through its own ICC profile to sRGB when it has one;
    without one, Pillow's plain conversion is the best guess any viewer makes too."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.mode == "RGB":
                rgb, profile = img, icc_profile
            elif img.mode == "CMYK" and icc_profile:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
                target = ImageCms.createProfile("sRGB")
                rgb = ImageCms.profileToProfile(img, source, target, outputMode="RGB")
                profile = _srgb_profile()
            else:
                rgb, profile = img.convert("RGB"), None
            return RgbPixels(rgb.width, rgb.height, rgb.tobytes(), profile)
    except (OSError, ValueError, ImageCms.PyCMSError) as exc:
        raise ExportError(
            f"{label}: its colours could not be decoded for DICOM ({exc}); "
            "export it as a PDF or a package instead"
        ) from None
