"""Amend a consent from the window (issue 15): add or remove a use, correct the body site.

The form checks with the same rules as the service (consent_amend.py) before it closes, so a
problem is named beside the form rather than after it; the change itself runs on a worker
through `Services.amend_consent_uses` (a new linked record, both kept, audited).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.consent import ConsentError
from picsafe_desktop.consent_amend import UseChange, amended_record
from picsafe_desktop.model import Capacity, ConsentRecord, Staff, Use
from picsafe_desktop.ui import look, workers


class ConsentAmendDialog(QDialog):
    def __init__(self, record: ConsentRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentAmendDialog")
        self.setWindowTitle(self.tr("Amend consent"))
        self.record = record
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Change what the patient's consent allows, or correct the body site. Both the "
                "old and the new record are kept, and the change is audited. Adding a use needs "
                "the patient's agreement now, heard by a witness."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.record_check = QCheckBox(self.tr("&Clinical record (always)"), self)
        self.record_check.setChecked(True)
        self.record_check.setEnabled(False)
        self.teaching_check = QCheckBox(self.tr("&Teaching"), self)
        self.teaching_check.setChecked(Use.TEACHING in record.uses)
        self.publication_check = QCheckBox(self.tr("&Publication"), self)
        self.publication_check.setChecked(Use.PUBLICATION in record.uses)
        self.publication_edit = QLineEdit(record.publication, self)
        self.publication_edit.setAccessibleName(self.tr("Journal or website"))
        self.identifiable_check = QCheckBox(
            self.tr("Photos may &identify the patient when published"), self
        )
        self.identifiable_check.setChecked(record.identifiable_publication)
        if record.capacity is Capacity.LACKS_CAPACITY:  # best interests: record only
            for box in (self.teaching_check, self.publication_check, self.identifiable_check):
                box.setEnabled(False)
        self.body_site_edit = QLineEdit(record.body_site, self)
        self.body_site_edit.setAccessibleName(self.tr("Body site"))
        self.witness_edit = QLineEdit(self)
        self.witness_edit.setAccessibleName(self.tr("Witness to the patient's agreement"))
        self.witness_edit.setPlaceholderText(self.tr("only when a use is added"))
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason for the amendment"))
        form.addRow(self.tr("Uses:"), self.record_check)
        form.addRow("", self.teaching_check)
        form.addRow("", self.publication_check)
        form.addRow(self.tr("&Journal or website:"), self.publication_edit)
        form.addRow("", self.identifiable_check)
        form.addRow(self.tr("&Body site:"), self.body_site_edit)
        form.addRow(self.tr("&Witness:"), self.witness_edit)
        form.addRow(self.tr("&Reason:"), self.reason_edit)
        layout.addLayout(form)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("amendErrors")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(look.error_style())
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("&Amend"))
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self._check_and_accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(
            lambda text: self.ok_button.setEnabled(bool(text.strip()))
        )

    def change(self) -> UseChange:
        uses = {Use.RECORD}
        if self.teaching_check.isChecked():
            uses.add(Use.TEACHING)
        if self.publication_check.isChecked():
            uses.add(Use.PUBLICATION)
        return UseChange(
            uses=frozenset(uses),
            publication=self.publication_edit.text(),
            identifiable_publication=self.identifiable_check.isChecked(),
            body_site=self.body_site_edit.text(),
            witness=self.witness_edit.text(),
        )

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _check_and_accept(self) -> None:
        if not self.reason():
            self._show([self.tr("Give the reason for the amendment (it goes into the audit log).")])
            return
        try:  # the service checks again; here only to name the problem beside the form
            amended_record(self.record, self.change(), clinician=Staff("", "", ""))
        except ConsentError as exc:
            self._show([str(e) for e in exc.errors])
            return
        self.accept()

    def _show(self, problems: list[str]) -> None:
        self.error_label.setText("\n".join(problems))
        self.error_label.show()


def make_amend_action(window) -> QAction:
    """The Patient menu's "Amend consent…" (added by photo_actions' governance actions)."""
    act = QAction(QCoreApplication.translate("ConsentAmend", "A&mend consent…"), window)
    act.setStatusTip(
        QCoreApplication.translate(
            "ConsentAmend", "Add or remove a use, or correct the body site (a new linked record)"
        )
    )
    act.triggered.connect(lambda: amend_consent(window))
    return act


def amend_consent(window) -> None:
    index = window.grid.currentIndex()
    if window.locked or not index.isValid():
        return
    consent_id = window.thumbnails.item(index.row()).consent_id
    workers.submit(
        window.services.read_consent,
        consent_id,
        on_done=lambda record: _open_form(window, consent_id, record),
        on_error=window._error(
            QCoreApplication.translate("ConsentAmend", "Could not read the consent")
        ),
    )


def _open_form(window, consent_id: str, record: ConsentRecord) -> None:
    if window.locked:
        return
    dialog = ConsentAmendDialog(record, window)
    window.amend_dialog = dialog

    def accepted() -> None:
        workers.submit(
            window.services.amend_consent_uses,
            consent_id,
            dialog.change(),
            dialog.reason(),
            on_done=lambda _new: _amended(window),
            on_error=window._error(
                QCoreApplication.translate("ConsentAmend", "Could not amend the consent")
            ),
        )

    dialog.accepted.connect(accepted)
    dialog.open()


def _amended(window) -> None:
    window.statusBar().showMessage(
        QCoreApplication.translate("ConsentAmend", "Consent amended; the old record is kept"), 8000
    )
    window.refresh()  # the patient's photos now hang off the new record
