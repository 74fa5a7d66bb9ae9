"""First run, after the vault is created: the person creating it enrols as its first staff
member (staff ID, name, roles, a PIN typed twice), so the new PC signs people in with checked
PINs from the start and never with typed, unchecked names (issue 13; docs/security.md)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from picsafe_desktop import APP_NAME
from picsafe_desktop.staff.enrol import FIRST_ROLES
from picsafe_desktop.staff.roles import LABELS, ROLES
from picsafe_desktop.ui import look, workers


class FirstStaffDialog(QDialog):
    """Enrols the vault's creator through services.enrol_first_staff (audited). "Later"
    leaves nobody enrolled: the lock screen then says what IT must run."""

    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self.services = services
        self.enrolled = None  # the Enrolled entry once done
        self.setWindowTitle(
            self.tr("{APP_NAME} — who looks after this vault?").format(APP_NAME=APP_NAME)
        )
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "<h3>Enrol yourself as the first staff member</h3>"
                "<p>Everyone signs in to PicSafe with a staff ID and a PIN, so every action is "
                "recorded under a checked name. You are enrolled now; you (as IT admin) enrol "
                "others later with <code>picsafe-desktop staff add</code>.</p>"
                "<p>If you choose <i>Later</i>, nobody can sign in until IT runs that command.</p>"
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.staff_id_edit = QLineEdit(self)
        self.staff_id_edit.setAccessibleName(self.tr("Staff ID"))
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(self.tr("Full name"))
        self.title_edit = QLineEdit(self)
        self.title_edit.setAccessibleName(self.tr("Job title"))
        self.title_edit.setPlaceholderText(self.tr("optional, e.g. Ward IT lead, Staff nurse"))
        self.pin_edit = QLineEdit(self)
        self.pin_again_edit = QLineEdit(self)
        for edit, name in (
            (self.pin_edit, self.tr("PIN")),
            (self.pin_again_edit, self.tr("PIN again")),
        ):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
            edit.setPlaceholderText(self.tr("4-12 digits"))
            edit.returnPressed.connect(self.enrol)
        form.addRow(self.tr("Staff &ID:"), self.staff_id_edit)
        form.addRow(self.tr("Full &name:"), self.name_edit)
        form.addRow(self.tr("Job &title:"), self.title_edit)
        roles = QHBoxLayout()
        self.role_boxes: dict[str, QCheckBox] = {}
        for role in ROLES:
            box = QCheckBox(LABELS[role], self)
            box.setChecked(role in FIRST_ROLES)
            self.role_boxes[role] = box
            roles.addWidget(box)
        form.addRow(self.tr("Roles:"), roles)
        form.addRow(self.tr("&PIN:"), self.pin_edit)
        form.addRow(self.tr("PIN &again:"), self.pin_again_edit)
        layout.addLayout(form)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setStyleSheet(look.error_style())
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(self)
        self.enrol_button = buttons.addButton(
            self.tr("&Enrol"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        look.primary(self.enrol_button, "check")
        self.later_button = buttons.addButton(
            self.tr("Later"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.later_button.setToolTip(self.tr("Nobody can sign in until IT enrols staff"))
        self.enrol_button.clicked.connect(self.enrol)
        self.later_button.clicked.connect(self.reject)
        layout.addWidget(buttons)

    def roles(self) -> list[str]:
        return [role for role, box in self.role_boxes.items() if box.isChecked()]

    def enrol(self) -> None:
        if not self.enrol_button.isEnabled():
            return
        pin = self.pin_edit.text()
        if pin != self.pin_again_edit.text():
            self._refused(self.tr("The two PINs differ: type the same PIN twice."))
            return
        if not self.roles():
            self._refused(self.tr("Tick at least one role."))
            return
        self.error_label.clear()
        self.enrol_button.setEnabled(False)
        # Argon2 hashing takes a moment: off the GUI thread.
        workers.submit(
            self.services.enrol_first_staff,
            self.staff_id_edit.text(),
            self.name_edit.text(),
            self.roles(),
            pin,
            self.title_edit.text(),
            on_done=self._done,
            on_error=lambda exc: self._refused(str(exc)),
        )

    def _done(self, entry) -> None:
        self.enrolled = entry
        self.pin_edit.clear()
        self.pin_again_edit.clear()
        self.accept()

    def _refused(self, message: str) -> None:
        self.enrol_button.setEnabled(True)
        self.error_label.setText(message)
        self.pin_edit.clear()
        self.pin_again_edit.clear()
        self.pin_edit.setFocus()
