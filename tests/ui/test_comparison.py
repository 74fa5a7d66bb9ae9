"""Side-by-side comparison of two photos of different sizes and shapes (issue 12).

Zoom and pan stay proportional: both views show the same multiple of their own fit scale,
centred on the same fraction of their photo, whichever view is zoomed or dragged.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from picsafe_desktop.ui.timeline import ComparisonView
from tests.ui.journey_photos import phone_photo

pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support ")

LANDSCAPE = phone_photo("2025:05:06 10:00:00", "#c0504d", "before", size=(1600, 1200))
PORTRAIT = phone_photo("2025:06:06 10:00:00", "#4f81bd", "after", size=(600, 1400))


@pytest.fixture
def compare(qtbot):
    view = ComparisonView(("before", "after"))
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(0, LANDSCAPE)
    view.set_image(1, PORTRAIT)
    return view


def close(a, b, tol=0.01):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_zoom_is_the_same_multiple_of_each_photos_fit(qtbot, compare):
    fitted = compare.scales()
    assert fitted[0] != pytest.approx(fitted[1]), "different sizes fit at different scales"
    assert close(compare.relative_scales(), [1.0, 1.0])
    compare.zoom_by(2.0)
    assert close(compare.relative_scales(), [2.0, 2.0])
    # Ctrl+wheel over the right-hand view zooms both.
    right = compare.views[1]
    qtbot.wait(10)
    centre = right.viewport().rect().center()
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(
        QPointF(centre),
        QPointF(right.viewport().mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    right.wheelEvent(event)
    assert close(compare.relative_scales(), [2.5, 2.5])


def test_pan_keeps_the_same_relative_point_in_both(qtbot, compare):
    compare.zoom_by(6.0)  # close in: every point below is reachable in both views
    left, right = compare.views
    # Drag the left photo to its top-left quarter: the right shows its own top-left quarter.
    left.horizontalScrollBar().setValue(left.horizontalScrollBar().maximum() // 4)
    left.verticalScrollBar().setValue(left.verticalScrollBar().maximum() // 4)
    assert close(compare.relative_centre(1), compare.relative_centre(0))
    x, y = compare.relative_centre(0)
    assert x < 0.45 and y < 0.45
    # Panning the right view moves the left one the same way, proportionally.
    right.horizontalScrollBar().setValue(right.horizontalScrollBar().maximum() * 3 // 4)
    right.verticalScrollBar().setValue(right.verticalScrollBar().maximum() * 3 // 4)
    assert close(compare.relative_centre(0), compare.relative_centre(1))
    x, y = compare.relative_centre(0)
    assert x > 0.55 and y > 0.55
    # Zooming keeps the point both are centred on.
    before = compare.relative_centre(0)
    compare.zoom_by(1.25)
    assert close(compare.relative_centre(0), before, 0.02)
    assert close(compare.relative_centre(1), before, 0.02)


def test_fit_shows_both_whole(compare):
    compare.zoom_by(4.0)
    compare.fit()
    assert close(compare.relative_scales(), [1.0, 1.0])
    for view in compare.views:
        assert view.horizontalScrollBar().maximum() <= 1
        assert view.verticalScrollBar().maximum() <= 1
