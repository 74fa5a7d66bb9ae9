"""The body-site picker, clicked like a person would on the drawn figures."""

import pytest
from PySide6.QtCore import QPoint, Qt

from picsafe_desktop.ui import body_map
from picsafe_desktop.ui.body_map import BodySiteDialog

pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support ")


@pytest.fixture
def dialog(qtbot):
    body_map.forget_recent()
    dlg = BodySiteDialog()
    qtbot.addWidget(dlg)
    dlg.resize(900, 620)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    body_map.forget_recent()


def click_region(qtbot, dlg, element: str) -> None:
    centre = dlg.map.region_rect(element).center()
    qtbot.mouseClick(
        dlg.map, Qt.MouseButton.LeftButton, pos=QPoint(int(centre.x()), int(centre.y()))
    )


def test_click_on_the_front_picks_region_and_the_patients_side(qtbot, dialog):
    # On the front view the patient's left arm is on the viewer's right.
    left = dialog.map.region_rect("front_forearm_left")
    right = dialog.map.region_rect("front_forearm_right")
    assert left.center().x() > right.center().x()
    click_region(qtbot, dialog, "front_forearm_left")
    assert dialog.site == {
        "code": "14975008",
        "display": "Forearm",
        "laterality": "left",
        "text": "left forearm",
    }
    assert "left forearm" in dialog.choice.text() and "14975008" in dialog.choice.text()
    qtbot.mouseClick(dialog.side_buttons["bilateral"], Qt.MouseButton.LeftButton)
    assert dialog.site["laterality"] == "bilateral"


def test_back_view_and_midline_regions(qtbot, dialog):
    click_region(qtbot, dialog, "back_heel_right")
    assert dialog.site["text"] == "right heel" and dialog.site["code"] == "76853006"
    click_region(qtbot, dialog, "back_sacrum")
    assert dialog.site == {
        "code": "54735007",
        "display": "Sacrum",
        "laterality": None,
        "text": "sacrum",
    }
    assert not dialog.side_buttons["left"].isEnabled()


def test_free_text_and_recent_sites_first(qtbot):
    first = BodySiteDialog()
    qtbot.addWidget(first)
    first.show()
    qtbot.keyClicks(first.text_edit, "left medial canthus")
    assert first.site["code"] is None and first.site["text"] == "left medial canthus"
    first.accept()
    second = BodySiteDialog()
    qtbot.addWidget(second)
    assert second.recent.item(0).text() == "left medial canthus"
    body_map.forget_recent()
