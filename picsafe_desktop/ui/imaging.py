"""Decode photo bytes into a QImage in memory (never through a file), upright.

Everything here runs on worker threads (QImage, unlike QPixmap, may be built off the GUI
thread): the GUI thread only turns finished images into pixmaps.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader

# Qt refuses to decode an image above 256 MB by default: a 108 MP photo (432 MB as 32-bit
# pixels) "cannot be displayed" though the import accepts 256 MP. The viewer's full-detail
# decode raises the limit to what a 256 MP photo needs; everything else decodes reduced.
FULL_DECODE_LIMIT_MB = 1100
# The first picture the viewer shows: about a screen's worth, whatever the photo's size.
SCREEN_SIDE = 2560


class UndecodableImage(ValueError):
    """The bytes are not an image Qt can show."""


def _reader(data: bytes) -> tuple[QImageReader, QBuffer]:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    return reader, buffer


def decode(data: bytes) -> QImage:
    """The photo as displayed: EXIF orientation applied, so pixel coordinates are upright.

    The de-identification module keeps an Orientation-only EXIF in some JPEGs and states its
    redaction rectangles in upright coordinates; decoding the same way keeps both in step.
    """
    if data[4:8] == b"ftyp":
        return _decode_heif(data)
    reader, buffer = _reader(data)
    if QImageReader.allocationLimit() < FULL_DECODE_LIMIT_MB:
        QImageReader.setAllocationLimit(FULL_DECODE_LIMIT_MB)
    image = reader.read()
    buffer.close()
    if image.isNull():
        raise UndecodableImage(f"cannot show this image: {reader.errorString()}")
    return image


def upright_size(data: bytes) -> QSize:
    """The photo's size as displayed (orientation applied), read from its header only."""
    if data[4:8] == b"ftyp":
        return QSize()  # libheif has no header-only read here: the caller decodes
    reader, buffer = _reader(data)
    size = reader.size()
    rotated = reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90
    buffer.close()
    if size.isValid() and rotated:
        size = size.transposed()
    return size


def decode_reduced(data: bytes, max_side: int = SCREEN_SIDE) -> tuple[QImage, QSize]:
    """(a picture at most `max_side` pixels on its long side, the photo's full upright size).

    JPEG decodes straight to the reduced size (the decoder scales while decoding, so a 200 MP
    photo costs a fraction of its full decode); other formats are decoded and scaled down.
    """
    if data[4:8] == b"ftyp":
        full = _decode_heif(data)
        return _fit(full, max_side), full.size()
    reader, buffer = _reader(data)
    size = reader.size()
    rotated = reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90
    if size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    if image.isNull():
        raise UndecodableImage(f"cannot show this image: {reader.errorString()}")
    full = size.transposed() if rotated else size
    return _fit(image, max_side), (full if full.isValid() else image.size())


def thumbnail_image(data: bytes, size: QSize) -> QImage:
    """A thumbnail at display size (decoded scaled); a null QImage when it is not an image."""
    reader, buffer = _reader(data)
    if reader.size().isValid():
        reader.setScaledSize(reader.size().scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    return image


def _fit(image: QImage, max_side: int) -> QImage:
    if max(image.width(), image.height()) <= max_side:
        return image
    return image.scaled(
        max_side,
        max_side,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


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
