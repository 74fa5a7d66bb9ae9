"""Decode photo bytes into a QImage in memory (never through a file), upright."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QImageReader


class UndecodableImage(ValueError):
    """The bytes are not an image Qt can show."""


def decode(data: bytes) -> QImage:
    """The photo as displayed: EXIF orientation applied, so pixel coordinates are upright.

    The de-identification module keeps an Orientation-only EXIF in some JPEGs and states its
    redaction rectangles in upright coordinates; decoding the same way keeps both in step.
    """
    if data[4:8] == b"ftyp":
        return _decode_heif(data)
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    image = reader.read()
    buffer.close()
    if image.isNull():
        raise UndecodableImage(f"cannot show this image: {reader.errorString()}")
    return image


def _decode_heif(data: bytes) -> QImage:
    """The vault keeps HEIC, which Qt cannot read: libheif decodes it (rotation applied)."""
    from picsafe_desktop.deid import DeidError, decode_upright

    try:
        image = decode_upright(data)
    except DeidError as exc:
        raise UndecodableImage(f"cannot show this image: {exc}") from None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    fmt = QImage.Format.Format_RGBA8888 if image.mode == "RGBA" else QImage.Format.Format_RGB888
    raw = image.tobytes()
    channels = len(image.getbands())
    # copy(): the QImage must own its pixels, not borrow Python's buffer.
    return QImage(raw, image.width, image.height, image.width * channels, fmt).copy()
