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
