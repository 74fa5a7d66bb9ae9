"""Issue 15's consent form sections (ui/consent_sections.py), alone and inside the dialog:
the same consent.py rules as the CLI decide, and each section shows its own problems."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from picsafe_desktop.consent import ConsentWording
from picsafe_desktop.model import Capacity, Identifiability, Method
from picsafe_desktop.ui.consent_dialog import ConsentDialog
from picsafe_desktop.ui.consent_sections import (
    ChildSection,
    GovernanceSections,
    IdentifiabilitySection,
    InterpreterSection,
    IntimateSection,
    WhenWhoSection,
)
from tests.ui.test_consent_dialog import NOW, STAFF, fill_written, jpeg, tick

pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support ")

EN = ConsentWording("v2", "We would like to photograph your wound.\n", "en")
CY = ConsentWording("v2-cy", "Hoffem dynnu llun o'ch clwyf.\n", "cy")

SAMPLES = [
    (lambda: IdentifiabilitySection(2), {
        "identifiability": ["identifiable", "not_identifiable"],
        "identifiable_publication": True}),
    (ChildSection, {
        "patient": {"under_18": True},
        "child": {"competence": {"assessed_by": "Dr Jo", "competent": True,
                                 "parental_involvement": "mother present"},
                  "assent": "assents"},
        "substitute": {"parental_responsibility": True}}),
    (lambda: InterpreterSection(["en", "cy"]), {
        "interpreter": {"name": "Line 4471", "language": "Welsh", "kind": "telephone"},
        "language": "cy"}),
    (IntimateSection, {
        "intimate": {"preference": "wanted", "chaperone": {"name": "Nurse Kay", "role": "nurse"},
                     "secondary_agreed": False}}),
    (lambda: WhenWhoSection(lambda: NOW), {
        "consented_at": "2025-03-14 09:45", "photographer": "Dr Jo", "signed_by": "patient"}),
]  # fmt: skip


@pytest.mark.parametrize(("make", "values"), SAMPLES)
def test_each_section_round_trips_its_values_and_signals_changes(qtbot, make, values):
    section = make()
    qtbot.addWidget(section)
    with qtbot.waitSignal(section.changed):
        section.set_values(values)
    assert section.values() == values


def test_sections_default_to_no_answers():
    sections = GovernanceSections(3, ["en"], lambda: NOW)
    values = sections.values()
    assert values["identifiability"] == ["unknown"] * 3
    assert values["child"] is None and values["interpreter"] is None
    assert values["intimate"] is None and values["consented_at"] is None
    sections.deleteLater()


@pytest.fixture
def dialog(qtbot):
    dlg = ConsentDialog(
        [jpeg("red"), jpeg("green")], STAFF, {"en": EN, "cy": CY}, clock=lambda: NOW
    )
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    if dlg.isVisible():
        dlg.close_without_decision()


def test_nine_year_old_self_consent_is_refused_in_the_dialog_naming_the_field(dialog, qtbot):
    fill_written(qtbot, dialog)
    qtbot.keyClicks(dialog.birth_date_edit, "2016-01-10")
    assert not dialog.record_button.isEnabled()
    assert "competence assessment" in dialog.problems.text()
    child = dialog.sections.child
    competence = {"assessed_by": "Dr Jo", "competent": True, "parental_involvement": "father"}
    child.set_values({"child": {"competence": competence}})
    assert dialog.record_button.isEnabled()


def test_section_problems_show_beside_the_section(dialog, qtbot):
    fill_written(qtbot, dialog)
    dialog.more_tabs.setCurrentIndex(1)  # the sections are on the form's second tab
    intimate = dialog.sections.intimate
    tick(qtbot, intimate.flag)
    assert not dialog.record_button.isEnabled()
    assert intimate.errors.isVisible()
    assert "chaperone preference" in intimate.errors.text()
    assert not dialog.sections.child.errors.isVisible()


def test_per_photo_identifiability_and_language_reach_the_record(dialog, qtbot):
    fill_written(qtbot, dialog)
    dialog.sections.identifiability.set_values(
        {"identifiability": ["identifiable", "not_identifiable"]}
    )
    interpreter = dialog.sections.interpreter
    interpreter.language.setCurrentIndex(interpreter.language.findData("cy"))
    assert dialog.wording_view.toPlainText() == CY.text  # the wording shown follows
    dialog.sections.when_who.now_button.click()
    assert dialog.record_button.isEnabled(), dialog.problems.text()
    dialog.record_button.click()
    record = dialog.result_record
    assert record.photo_identifiability == (
        Identifiability.IDENTIFIABLE,
        Identifiability.NOT_IDENTIFIABLE,
    )
    assert (record.wording_language, record.wording_sha256) == ("cy", CY.sha256)
    assert record.consented_at == NOW
    assert record.capacity is Capacity.SELF and record.method is Method.WRITTEN
    assert record.signed_by.value == "patient"


# --- issue 17: a form that costs the same for any batch size --------------------------------


def test_form_builds_the_same_widgets_for_1_and_200_photos(qtbot):
    """Issue 17: a combo box per photo (and a tab-order walk over all of them) kept the GUI
    thread 1.5-2 s building the form for 200 photos; the answers now live in one list."""
    counts = []
    for photos in (1, 200):
        dlg = ConsentDialog([jpeg("red", (8, 8))] * photos, STAFF, {"en": EN}, clock=lambda: NOW)
        qtbot.addWidget(dlg)
        counts.append(len(dlg.findChildren(QWidget)))
        dlg.close_without_decision()
    assert counts[0] == counts[1]


def test_each_photo_answer_is_reachable_and_announced_by_keyboard(qtbot):
    section = IdentifiabilitySection(200)
    qtbot.addWidget(section)
    section.show()
    qtbot.waitExposed(section)
    section.activateWindow()
    qtbot.waitUntil(section.isActiveWindow)
    view = section.photos
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    for _ in range(149):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 149
    qtbot.keyClick(view, Qt.Key.Key_Space)  # opens this photo's answer
    editor = QApplication.focusWidget()
    assert isinstance(editor, QComboBox)
    assert editor.accessibleName() == "Identifiability of photo 150"
    with qtbot.waitSignal(section.changed):
        editor.setCurrentIndex(editor.findData("not_identifiable"))
        editor.activated.emit(editor.currentIndex())
    assert section.values()["identifiability"][149] == "not_identifiable"
    assert section.values()["identifiability"].count("unknown") == 199
    spoken = view.currentIndex().data(Qt.ItemDataRole.AccessibleTextRole)
    assert spoken == "Photo 150: Not identifiable"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view)  # back in the list


def test_all_photos_answers_every_row_at_once(qtbot):
    section = IdentifiabilitySection(200)
    qtbot.addWidget(section)
    section.all_photos.setCurrentIndex(section.all_photos.findData("identifiable"))
    with qtbot.waitSignal(section.changed):
        section.all_photos.activated.emit(section.all_photos.currentIndex())
    assert section.values()["identifiability"] == ["identifiable"] * 200
