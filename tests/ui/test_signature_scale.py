"""The signature pad shown smaller on a small screen keeps the signature's own size: strokes
drawn on the 80 % pad land where they belong in the 480x160 image (issue 12, scaling)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from picsafe_desktop.ui.signature_pad import PAD_SIZE, SignaturePad


def test_a_stroke_on_the_smaller_pad_is_mapped_to_the_full_size_image(qtbot):
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.set_display_scale(0.8)
    assert pad.size() == PAD_SIZE * 0.8
    pad.show()
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    for x in range(40, 321, 10):
        qtbot.mouseMove(pad, QPoint(x, 40))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(320, 40))
    image = QImage.fromData(pad.to_png())
    assert image.size() == PAD_SIZE
    # 40..320 on screen is 50..400 in the image, at height 50.
    assert image.pixelColor(225, 50).lightness() < 60
    assert image.pixelColor(390, 50).lightness() < 60
    assert image.pixelColor(225, 120).lightness() > 200
