"""Decode photo bytes into a QImage in memory (never through a file), upright.

Everything here may run on worker threads (QImage, unlike QPixmap, may be built off the GUI
thread): the GUI thread only turns finished images into pixmaps.

Pillow decodes, not QImageReader. A QImageReader reading from a QBuffer made in Python calls
back into Python (for the buffer's virtual methods) while it holds Qt's image-plugin lock, so
two workers decoding at once could deadlock with each other and the GUI thread: one holding
that lock and waiting for the GIL, the other holding the GIL and waiting for the lock (seen
in the test suite, issue 17). Pillow releases the GIL while it decodes and takes no Qt lock;
it also has no 256 MB limit (Qt refused a 108 MP photo), and is the decoder the
de-identification uses, so both agree on what "upright" means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

# Pillow allocates a decoded image in blocks of 16 MB by default; glibc serves blocks that size
# from its heap once large frees have raised its mmap threshold, and must then zero them
# holding the GIL: 365 ms for a 200 MP photo. Blocks of 64 MB always come fresh (and zeroed)
# from mmap. Process-wide, and only how Pillow asks for memory, not how much.
Image.core.set_block_size(64 << 20)

# The first picture the viewer shows: about a screen's worth, whatever the photo's size.
SCREEN_SIDE = 2560


class UndecodableImage(ValueError):
    """The bytes are not an image we can show."""


def decode(data: bytes) -> QImage:
    """The photo as displayed: EXIF orientation applied, so pixel coordinates are upright.

    The de-identification module keeps an Orientation-only EXIF in some JPEGs and states its
    redaction rectangles in upright coordinates; decoding the same way keeps both in step.
    """
    return _to_qimage(_upright(data))


def decode_reduced(data: bytes, max_side: int = SCREEN_SIDE) -> tuple[QImage, QSize]:
    """(a picture at most `max_side` pixels on its long side, the photo's full upright size).

    A JPEG decodes straight to a reduced size (the decoder scales by 1/2 to 1/8 while
    decoding, so a 200 MP photo costs a fraction of its full decode); other formats are
    decoded whole and scaled down.
    """

    full = _upright_size(data)
    # Both sides of the draft at least max_side * 3/4: the long side stays >= max_side for
    # photos up to 4:3 (wider ones are a little softer, never smaller than max_side * 3/4).
    image = _upright(data, draft_side=max_side * 3 // 4)
    if full is None:
        full = QSize(image.width, image.height)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return _to_qimage(image), full


def thumbnail_image(data: bytes, size: QSize) -> QImage:
    """A thumbnail at display size; a null QImage when the bytes are not an image."""

    try:
        image = _upright(data, draft_side=max(size.width(), size.height()))
    except UndecodableImage:
        return QImage()
    image.thumbnail((size.width(), size.height()), Image.Resampling.BILINEAR)
    return _to_qimage(image)


def thumbnails_async(
    jpegs: Sequence[bytes],
    size: QSize,
    on_chunk: Callable[[list[tuple[int, QImage]]], None],
    chunk: int = 24,
) -> None:
    """Decode thumbnails on a worker, `chunk` at a time; `on_chunk([(index, image), ...])` on
    the GUI thread as each chunk is ready (a null image: not decodable). A dialog of 200
    photos opens at once and fills in, instead of decoding them all on the GUI thread."""
    from picsafe_desktop.ui import workers

    def decode_all(progress) -> None:
        done: list[tuple[int, QImage]] = []
        for index, data in enumerate(jpegs):
            done.append((index, thumbnail_image(data, size)))
            if len(done) == chunk:
                progress(done)
                done = []
        if done:
            progress(done)

    workers.submit(decode_all, on_progress=on_chunk)


def _upright(data: bytes, draft_side: int | None = None):  # noqa: ANN202 - a PIL image
    """Decoded upright. JPEG, PNG and WebP through the de-identification's own opener (its
    pixel limit, not Pillow's); `draft_side`: a JPEG may decode reduced (1/2 to 1/8) while
    both sides stay at least this long. Orientation is applied in place: for a 200 MP photo
    a copy is 600 MB made holding the GIL (a 380 ms stall of the GUI thread)."""
    from PIL import ImageOps

    from picsafe_desktop.deid import DeidError, decode_upright, detect, limits

    try:
        fmt = detect.detect_format(bytes(data))
        if fmt not in (detect.JPEG, detect.PNG, detect.WEBP):
            return decode_upright(bytes(data))  # HEIC (libheif rotates), or refused
        image = limits.open_image(bytes(data), fmt)
        if draft_side and fmt == detect.JPEG:
            image.draft("RGB", (draft_side, draft_side))
        limits.load(image)
    except DeidError as exc:
        raise UndecodableImage(f"cannot show this image: {exc}") from None
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _upright_size(data: bytes) -> QSize | None:
    """The full upright size from the header alone (None: not known without decoding)."""
    from picsafe_desktop.deid import DeidError, detect, limits

    try:
        fmt = detect.detect_format(bytes(data))
        if fmt not in (detect.JPEG, detect.PNG, detect.WEBP):
            return None  # HEIC: libheif decodes in full anyway
        with limits.open_image(bytes(data), fmt) as opened:  # our pixel limit, not Pillow's
            width, height = opened.size
            orientation = opened.getexif().get(0x0112, 1)
    except (DeidError, *limits.DECODE_ERRORS):
        return None  # the decode itself says what is wrong
    return QSize(height, width) if orientation in (5, 6, 7, 8) else QSize(width, height)


def _to_qimage(image) -> QImage:  # noqa: ANN001 - a PIL image
    """Copied into a QImage a band of rows at a time: one 600 MB copy of a 200 MP photo
    holds the GIL for over a second, a 4 MB band for about a millisecond, so the GUI thread
    keeps running while a worker converts."""
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    fmt = QImage.Format.Format_RGBA8888 if image.mode == "RGBA" else QImage.Format.Format_RGB888
    width, height = image.size
    row = width * len(image.getbands())
    out = QImage(width, height, fmt)
    if out.isNull():
        raise UndecodableImage("not enough memory to show this image")
    bits, stride = out.bits(), out.bytesPerLine()
    band = max(1, (4 << 20) // stride)
    for top in range(0, height, band):
        rows = memoryview(image.crop((0, top, width, min(height, top + band))).tobytes())
        if stride == row:
            bits[top * stride : top * stride + len(rows)] = rows
        else:  # rows padded to 4 bytes in the QImage
            for n in range(len(rows) // row):
                start = (top + n) * stride
                bits[start : start + row] = rows[n * row : (n + 1) * row]
    return out
