"""Issue 16: the consent step checks the patient against the hospital's record.

A scanned wristband (the MRN the intake read from it) or a typed MRN is looked up on a worker
(services.lookup_patient: worklist and FHIR). The record's name and date of birth fill empty
fields; the clinician then confirms both identifiers with the patient before recording. What
the record contradicts blocks recording: the record naming someone else (a different name or
date of birth than the form), sources disagreeing, or an MRN changed away from the wristband's.
When no source answers (offline) or the record has no such MRN, typed entry stays possible
with an explicit tick, and the record is flagged "not checked against the record" (exports
carry the flag). Without any lookup source configured the section is hidden and changes nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from picsafe_desktop.consent import FieldError
from picsafe_desktop.ui import look, workers


def _bad() -> str:
    return look.error_style(" font-weight: bold;")


def _ok() -> str:
    return look.ok_style()


FIELD = "patient check"  # the name the dialog's "Still needed" line shows


def _norm(text: str) -> str:
    """Names compared without case, accents, punctuation or order of the parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return " ".join(sorted(words))


class PatientCheck(QGroupBox):
    changed = Signal()

    def __init__(
        self,
        parent: QWidget,
        lookup: Callable[[str], Any] | None,
        *,
        wristband_mrn: str = "",
    ) -> None:
        super().__init__(
            QCoreApplication.translate("PatientCheck", "Check against the hospital record"), parent
        )
        self._lookup = lookup
        self._wristband = wristband_mrn.strip()
        self._result: Any = None  # patients.LookupResult of `_asked`
        self._asked = ""  # the MRN the result (or the lookup under way) is for
        self._failed = ""  # why no source could be asked
        self._busy = False
        self._mrn = self._name = self._born = ""
        layout = QVBoxLayout(self)
        self.status = QLabel(self.tr("Type or scan the MRN, then look it up."), self)
        self.status.setWordWrap(True)
        self.lookup_button = QPushButton(self.tr("&Look up in the hospital record"), self)
        self.confirm_check = QCheckBox(
            self.tr(
                "I confirmed the patient's name and date of birth with them (or their wristband)"
            ),
            self,
        )
        self.offline_check = QCheckBox(
            self.tr("Record without a check (offline): flagged NOT CHECKED against the record"),
            self,
        )
        self.setAccessibleName(self.tr("Check against the hospital record"))
        self.lookup_button.setAccessibleName(self.tr("Look up the MRN in the hospital record"))
        self.confirm_check.setAccessibleName(
            self.tr("Name and date of birth confirmed with the patient")
        )
        self.offline_check.setAccessibleName(self.tr("Record without a check, flagged not checked"))
        for widget in (self.status, self.lookup_button, self.confirm_check, self.offline_check):
            layout.addWidget(widget)
        self.lookup_button.clicked.connect(self.start_lookup)
        self.confirm_check.toggled.connect(lambda _on: self.changed.emit())
        self.offline_check.toggled.connect(lambda _on: self._refresh())
        self.setVisible(lookup is not None)
        self._refresh()

    # -- the dialog's side ------------------------------------------------------------------
    def attach(self, dialog) -> None:  # noqa: ANN001 - the ConsentDialog
        """Under the patient fields; follows the MRN, name and date of birth as they change."""
        column = dialog.columns[0]
        column.insertWidget(column.indexOf(dialog.mrn_edit.parentWidget()) + 1, self)
        self._fields = (dialog.mrn_edit, dialog.name_edit, dialog.birth_date_edit)
        for edit in self._fields:
            edit.textChanged.connect(self._form_changed)
        dialog.mrn_edit.editingFinished.connect(self.start_lookup)
        self._form_changed()
        if self._lookup is not None and self._wristband:
            QTimer.singleShot(0, self.start_lookup)  # the wristband's MRN: look it up at once

    def set_wristband(self, mrn: str) -> None:
        """The wristband's MRN arrived after the form opened (issue 17: scanned meanwhile)."""
        self._wristband = mrn.strip()
        self._refresh()
        if self._lookup is not None and self._wristband:
            self.start_lookup()

    def _form_changed(self, *_args) -> None:
        mrn, name, born = (e.text().strip() for e in self._fields)
        if mrn != self._mrn:
            self.confirm_check.setChecked(False)  # a confirmation is for one patient only
        self._mrn, self._name, self._born = mrn, name, born
        self._refresh()

    def merge_into(self, form: dict) -> dict:
        if self._lookup is None or self.errors():
            return form
        person = self._person()
        if person is not None and self.confirm_check.isChecked():
            form["identity_check"] = "confirmed"
            order = self._result.order_fields()
            if order:
                form["order"] = order
        elif self.offline_check.isChecked():
            form["identity_check"] = "not_checked"
        return form

    def errors(self) -> list[FieldError]:
        problem = self._problem()
        return [FieldError(FIELD, problem)] if problem else []

    # -- lookup -----------------------------------------------------------------------------
    def start_lookup(self) -> None:
        mrn = self._mrn
        if self._lookup is None or not mrn or self._busy or mrn == self._asked:
            return
        self._busy, self._asked, self._result, self._failed = True, mrn, None, ""
        self.status.setText(self.tr("Looking up MRN {mrn}…").format(mrn=mrn))
        self._refresh()
        workers.submit(self._lookup, mrn, on_done=self._answered, on_error=self._unreachable)

    def _answered(self, result: Any) -> None:
        self._busy = False
        if result.mrn != self._asked:
            return
        self._result = result
        self._failed = "; ".join(result.problems) if not result.checked else ""
        person = self._person()
        if person is not None:  # fill what is empty; never overwrite what someone typed
            name_edit, born_edit = self._fields[1], self._fields[2]
            if not name_edit.text().strip():
                name_edit.setText(person.name)
            if not born_edit.text().strip() and person.birth_date:
                born_edit.setText(person.birth_date)
        self._refresh()
        if self._mrn != self._asked:
            self.start_lookup()  # the MRN changed while we waited

    def _unreachable(self, exc: Exception) -> None:
        self._busy = False
        self._failed = str(exc) or type(exc).__name__
        self._refresh()

    # -- rules ------------------------------------------------------------------------------
    def _person(self):  # noqa: ANN202 - a hospital.lookup.PatientMatch or None
        if self._result is None or self._asked != self._mrn:
            return None
        return self._result.person()

    def _contradiction(self) -> str:
        if self._wristband and self._mrn and self._mrn != self._wristband:
            return self.tr(
                "The MRN differs from the wristband's ({wristband}): check the wristband; do "
                "not record for a different patient."
            ).format(wristband=self._wristband)
        result = self._result
        if result is None or self._asked != self._mrn:
            return ""
        if result.matches and not result.consistent:
            return self.tr(
                "The hospital's systems name different people for this MRN: do not record; ask "
                "the ward clerk to check the patient's record."
            )
        person = result.person()
        if person is None:
            return ""
        if self._name and person.name and _norm(self._name) != _norm(person.name):
            return self.tr(
                "The hospital record names {name} for this MRN, not the name given: check the "
                "wristband and the patient."
            ).format(name=person.name)
        if self._born and person.birth_date and self._born != person.birth_date:
            return self.tr(
                "The hospital record gives another date of birth ({born}) for this MRN: check "
                "the wristband and the patient."
            ).format(born=person.birth_date)
        return ""

    def _problem(self) -> str:
        if self._lookup is None or not self._mrn:
            return ""
        contradiction = self._contradiction()
        if contradiction:
            return contradiction
        if self._person() is not None:
            if not (self._name and self._born):
                return self.tr("Two identifiers are needed: the patient's name and date of birth.")
            if not self.confirm_check.isChecked():
                return self.tr("Confirm the patient's name and date of birth with the patient.")
            return ""
        if self.offline_check.isChecked():
            return ""
        if self._busy:
            return self.tr("Wait for the hospital record, or tick 'Record without a check'.")
        return self.tr("Look the MRN up in the hospital record, or tick 'Record without a check'.")

    def _refresh(self) -> None:
        person = self._person()
        contradiction = self._contradiction() if self._lookup is not None else ""
        self.confirm_check.setEnabled(person is not None and not contradiction)
        if person is None and self.confirm_check.isChecked():
            self.confirm_check.setChecked(False)
        self.offline_check.setEnabled(person is None and not contradiction)
        if person is not None and self.offline_check.isChecked():
            self.offline_check.setChecked(False)
        self.lookup_button.setEnabled(bool(self._mrn) and not self._busy)
        if contradiction:
            self.status.setText(contradiction)
            self.status.setStyleSheet(_bad())
        elif person is not None:
            extra = ""
            if person.accession_number:
                extra = "\n" + self.tr("Order {accession}: {procedure}").format(
                    accession=person.accession_number, procedure=person.requested_procedure
                )
            self.status.setText(
                self.tr("Hospital record ({source}): {name}, born {born}{sex}{extra}").format(
                    source=person.source,
                    name=person.name,
                    born=person.birth_date or self.tr("not recorded"),
                    sex=", " + person.sex if person.sex else "",
                    extra=extra,
                )
            )
            self.status.setStyleSheet(_ok())
        elif self._busy:
            self.status.setText(self.tr("Looking up MRN {asked}…").format(asked=self._asked))
            self.status.setStyleSheet("")
        elif self._result is not None and self._asked == self._mrn and not self._failed:
            self.status.setText(
                self.tr(
                    "No patient with MRN {mrn} in the hospital record: check the "
                    "MRN. Recording is possible only flagged NOT CHECKED."
                ).format(mrn=self._mrn)
            )
            self.status.setStyleSheet(_bad())
        elif self._failed and self._asked == self._mrn:
            self.status.setText(
                self.tr(
                    "The hospital record could not be asked ({failed}). "
                    "Recording is possible only flagged NOT CHECKED."
                ).format(failed=self._failed)
            )
            self.status.setStyleSheet(_bad())
        else:
            self.status.setText(self.tr("Type or scan the MRN, then look it up."))
            self.status.setStyleSheet("")
        if self.offline_check.isChecked():
            self.status.setText(
                self.tr("{status}\nNOT CHECKED against the record.").format(
                    status=self.status.text()
                )
            )
            self.status.setStyleSheet(_bad())
        self.changed.emit()
