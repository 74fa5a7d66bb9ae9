"""Issue 16: the consent step checks the patient against the hospital record — the real
consent dialog, looking up a worklist entry that exists only in the test's Orthanc."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from picsafe_desktop import config
from picsafe_desktop.hospital import patients
from picsafe_desktop.model import IdentityCheck
from picsafe_desktop.ui.consent_dialog import ConsentDialog
from tests.export_tools import AET, free_port
from tests.hospital_tools import write_worklist
from tests.ui.test_consent_dialog import NOW, STAFF, WORDING, jpeg, sign, tick

pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support ")


@pytest.fixture
def worklist(hospital_orthanc):
    for old in hospital_orthanc.worklists.iterdir():
        old.unlink()
    write_worklist(hospital_orthanc.worklists, "jane")
    return config.from_dict({"worklist": {"ae_title": AET, "host": "127.0.0.1",
                                          "port": hospital_orthanc.dicom_port}})  # fmt: skip


def _dialog(qtbot, site, mrn=""):
    dlg = ConsentDialog([jpeg("red")], STAFF, WORDING, clock=lambda: NOW, mrn=mrn,
                        lookup=lambda m: patients.lookup(site, m))  # fmt: skip
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _complete_rest(qtbot, dlg) -> None:
    from picsafe_desktop.model import Capacity, Method

    tick(qtbot, dlg.capacity_buttons[Capacity.SELF])
    tick(qtbot, dlg.method_buttons[Method.WRITTEN])
    sign(dlg.signature_pad)
    answers = dlg.sections.identifiability
    answers.all_photos.setCurrentIndex(answers.all_photos.findData("not_identifiable"))
    answers.all_photos.activated.emit(answers.all_photos.currentIndex())


def test_wristband_mrn_fills_the_patient_and_recording_waits_for_two_identifiers(qtbot, worklist):
    dlg = _dialog(qtbot, worklist, mrn="MRN-4711")
    check = dlg.patient_check
    qtbot.waitUntil(lambda: dlg.name_edit.text() == "Doe, Jane", timeout=15000)
    assert dlg.birth_date_edit.text() == "1980-02-14"
    assert "ACC-2026-0001" in check.status.text()
    _complete_rest(qtbot, dlg)
    assert not dlg.record_button.isEnabled()
    assert "patient check" in dlg.problems.text()
    tick(qtbot, check.confirm_check)
    assert dlg.record_button.isEnabled(), dlg.problems.text()
    dlg.birth_date_edit.clear()  # two identifiers, always
    assert not dlg.record_button.isEnabled()
    assert "Two identifiers" in check.errors()[0].message
    dlg.birth_date_edit.setText("1980-02-14")
    assert dlg.record_button.isEnabled(), dlg.problems.text()
    with qtbot.waitSignal(dlg.recorded):
        qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    record = dlg.result_record
    assert record.identity_check is IdentityCheck.CONFIRMED
    assert record.order.accession_number == "ACC-2026-0001"
    assert record.order.accession_issuer == "WARD-RIS"
    assert record.order.requested_procedure == "Wound photography"
    assert record.order.admission_id == "ADM-991"
    assert record.order.study_uid  # the worklist's Study Instance UID, for the DICOM objects


def test_a_record_that_names_someone_else_blocks(qtbot, worklist):
    dlg = _dialog(qtbot, worklist)
    qtbot.keyClicks(dlg.name_edit, "Richard Roe")
    qtbot.keyClicks(dlg.birth_date_edit, "1980-02-14")
    qtbot.keyClicks(dlg.mrn_edit, "MRN-4711")
    qtbot.mouseClick(dlg.patient_check.lookup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "names Doe, Jane" in dlg.patient_check.status.text(), timeout=15000)
    _complete_rest(qtbot, dlg)
    assert not dlg.patient_check.confirm_check.isEnabled()
    assert not dlg.patient_check.offline_check.isEnabled()  # no way round a contradiction
    assert not dlg.record_button.isEnabled()
    dlg.name_edit.setText("Jane Doe")  # the same person, written the other way round
    tick(qtbot, dlg.patient_check.confirm_check)
    assert dlg.record_button.isEnabled(), dlg.problems.text()
    dlg.mrn_edit.setText("MRN-4712")  # another MRN: the confirmation does not carry over
    assert not dlg.patient_check.confirm_check.isChecked()
    assert not dlg.record_button.isEnabled()
    dlg.close_without_decision()


def test_changing_the_wristband_mrn_blocks(qtbot, worklist):
    dlg = _dialog(qtbot, worklist, mrn="MRN-4711")
    qtbot.waitUntil(lambda: dlg.name_edit.text() == "Doe, Jane", timeout=15000)
    dlg.mrn_edit.setText("MRN-9999")
    assert "differs from the wristband" in dlg.patient_check.status.text()
    assert not dlg.patient_check.offline_check.isEnabled()
    dlg.close_without_decision()


def test_offline_typed_entry_is_possible_only_flagged_not_checked(qtbot):
    down = config.from_dict({"worklist": {"ae_title": AET, "host": "127.0.0.1",
                                          "port": free_port()}})  # fmt: skip
    dlg = _dialog(qtbot, down)
    qtbot.keyClicks(dlg.mrn_edit, "RX0012345")
    qtbot.keyClicks(dlg.name_edit, "Ada Example")
    qtbot.mouseClick(dlg.patient_check.lookup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not be asked" in dlg.patient_check.status.text(),
                    timeout=15000)  # fmt: skip
    _complete_rest(qtbot, dlg)
    assert not dlg.record_button.isEnabled()
    tick(qtbot, dlg.patient_check.offline_check)
    assert "NOT CHECKED" in dlg.patient_check.status.text()
    assert dlg.record_button.isEnabled(), dlg.problems.text()
    with qtbot.waitSignal(dlg.recorded):
        qtbot.mouseClick(dlg.record_button, Qt.MouseButton.LeftButton)
    assert dlg.result_record.identity_check is IdentityCheck.NOT_CHECKED
    assert dlg.result_record.order is None


def test_without_a_lookup_source_the_dialog_is_as_before(qtbot):
    dlg = ConsentDialog([jpeg("red")], STAFF, WORDING, clock=lambda: NOW)
    qtbot.addWidget(dlg)
    assert dlg.patient_check.isHidden()
    assert dlg.patient_check.errors() == []
    assert "identity_check" not in dlg.fields()
