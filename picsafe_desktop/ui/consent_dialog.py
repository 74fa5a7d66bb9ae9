"""The consent dialog: raised for every batch waiting for consent, and impossible to skip.

The only ways out are "Record consent" (a valid form) and "Consent refused — destroy photos"
(after a confirmation). Esc, the close button and Alt+F4 do nothing. Validation is
`picsafe_desktop.consent.validate`, the same rules the CLI applies to its JSON form. The dialog
never touches the vault: after it finishes, the caller reads `result_record` or `refused`
(or listens to `recorded` / `refusal_confirmed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.consent import (
    DEFAULT_REVIEW_AGE,
    ConsentError,
    ConsentWording,
    FieldError,
    record_from_fields,
    validate,
)
from picsafe_desktop.model import Capacity, ConsentRecord, Method, Staff, Use
from picsafe_desktop.ui import consent_sections, imaging, look
from picsafe_desktop.ui.patient_check import PatientCheck  # issue 16
from picsafe_desktop.ui.signature_pad import SignaturePad

_PAIRED = (
    "eye", "eyelid", "ear", "cheek", "shoulder", "axilla", "upper arm", "elbow", "forearm",
    "wrist", "hand", "palm", "finger", "thumb", "breast", "hip", "buttock", "groin", "thigh",
    "knee", "lower leg", "shin", "calf", "ankle", "heel", "foot", "sole", "toe",
)  # fmt: skip
_SINGLE = (
    "scalp", "face", "forehead", "nose", "lip", "mouth", "tongue", "chin", "neck", "chest",
    "abdomen", "back", "lower back", "sacrum", "perineum", "genitalia", "whole body",
)  # fmt: skip
BODY_SITES = sorted(
    list(_SINGLE) + [f"{side} {part}" for part in _PAIRED for side in ("left", "right")]
)
RELATIONSHIPS = (
    "parent",
    "mother",
    "father",
    "guardian",
    "legal representative",
    "attorney (lasting power of attorney, health and welfare)",
    "court-appointed deputy",
)
THUMB = QSize(72, 72)

# Short names for the "still needed" line under the form.
_FIELD_NAMES = {
    "patient.mrn": QT_TRANSLATE_NOOP("ConsentDialog", "MRN"),
    "patient.name": QT_TRANSLATE_NOOP("ConsentDialog", "patient name"),
    "patient.birth_date": QT_TRANSLATE_NOOP("ConsentDialog", "date of birth"),
    "capacity": QT_TRANSLATE_NOOP("ConsentDialog", "who consents"),
    "substitute.name": QT_TRANSLATE_NOOP("ConsentDialog", "substitute's name"),
    "substitute.relationship": QT_TRANSLATE_NOOP("ConsentDialog", "relationship"),
    "uses": QT_TRANSLATE_NOOP("ConsentDialog", "uses"),
    "publication": QT_TRANSLATE_NOOP("ConsentDialog", "journal or website"),
    "method": QT_TRANSLATE_NOOP("ConsentDialog", "how consent was given"),
    "signature_png": QT_TRANSLATE_NOOP("ConsentDialog", "signature"),
    "witness.name": QT_TRANSLATE_NOOP("ConsentDialog", "witness name"),
    "obtained_by.name": QT_TRANSLATE_NOOP("ConsentDialog", "staff name"),
    "obtained_by.role": QT_TRANSLATE_NOOP("ConsentDialog", "staff role"),
    "obtained_by.staff_id": QT_TRANSLATE_NOOP("ConsentDialog", "staff ID"),
    "body_site": QT_TRANSLATE_NOOP("ConsentDialog", "body site"),
    "indication": QT_TRANSLATE_NOOP("ConsentDialog", "clinical indication"),
    "identifiable": QT_TRANSLATE_NOOP("ConsentDialog", "identifiable"),
    **consent_sections.FIELD_NAMES,  # issue 15 sections
}


def _local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _placeholder() -> QPixmap:
    """A grey tile: the thumbnail until it is decoded, or for bytes that are not an image."""
    blank = QPixmap(THUMB)
    blank.fill(QColor("#bdbdbd"))
    return blank


class ConsentDialog(QDialog):
    recorded = Signal(object)  # the ConsentRecord
    refusal_confirmed = Signal()

    def __init__(
        self,
        thumbnails: Sequence[bytes],
        staff: Staff,
        wording: ConsentWording | Mapping[str, ConsentWording],
        parent: QWidget | None = None,
        *,
        mrn: str = "",
        clock: Callable[[], dt.datetime] = _local_now,
        review_at_age: int = DEFAULT_REVIEW_AGE,
        lookup: Callable[[str], Any] | None = None,  # issue 16: services.lookup_patient
    ) -> None:
        super().__init__(parent)
        # --- issue 15: wordings by language, the site's review age (ui/consent_sections.py)
        self._wordings = dict(wording) if isinstance(wording, Mapping) else {"": wording}
        wording = next(iter(self._wordings.values()))
        self._review_at_age = review_at_age
        # ---
        self.result_record: ConsentRecord | None = None
        self.refused = False
        self.refused_mrn = ""  # the patient and reason a refusal names, when given
        self.refusal_reason = ""
        self._wording = wording
        self._clock = clock
        self._photo_count = len(thumbnails)
        self._finishing = False
        self._touched: set[str] = set()
        self._errors: dict[str, QLabel] = {}
        self._error_targets: dict[str, QWidget] = {}

        self.setWindowTitle(self.tr("Consent required"))
        self.setModal(True)
        # No close button; a window manager that shows one anyway gets closeEvent ignored.
        self.setWindowFlags(
            Qt.WindowType.Dialog | Qt.WindowType.CustomizeWindowHint | Qt.WindowType.WindowTitleHint
        )
        self.setAccessibleName(self.tr("Consent required"))

        self.stack = QStackedWidget(self)
        self.form_page = self._build_form_page(thumbnails)
        self.locked_page = self._build_locked_page()
        # --- issue 16: the patient checked against the hospital record (ui/patient_check.py)
        self.patient_check = PatientCheck(self.form_page, lookup, wristband_mrn=mrn)
        self.patient_check.attach(self)
        self.patient_check.changed.connect(self._revalidate)
        # ---
        self.stack.addWidget(self.form_page)
        self.stack.addWidget(self.locked_page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(self.stack)

        self._prefill(staff, mrn)
        self._connect()
        self._set_tab_order()
        self.sections.chain_tab_order(self.staff_id_edit, self.record_button)  # issue 15
        self._update_enabled()
        self._revalidate()
        self._fit_screen()

        self._time_timer = QTimer(self)
        self._time_timer.setInterval(15_000)
        self._time_timer.timeout.connect(self._show_time)
        self._time_timer.start()
        self._show_time()
        # Tab, Enter and Alt+letter can all land on a field scrolled out of view: follow focus.
        QApplication.instance().focusChanged.connect(self._follow_focus)
        self.mrn_edit.setFocus()

    def _thumbnails_decoded(self, chunk) -> None:
        if not shiboken6.isValid(self):
            return  # the dialog closed while the worker decoded
        self._thumbs_loaded += len(chunk)
        for row, image in chunk:
            item = self.thumbnails.item(row)
            if item is not None and not image.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def thumbnails_loaded(self) -> int:
        """How many thumbnails have been decoded (the rest are still grey tiles)."""
        return self._thumbs_loaded

    def set_wristband_mrn(self, mrn: str) -> None:
        """Issue 17: the wristband scan runs while the form is open; its MRN fills the MRN
        field when nobody has typed one, and the record check follows it."""
        if not mrn or self.mrn_edit.text().strip():
            return
        self.mrn_edit.setText(mrn)
        self.patient_check.set_wristband(mrn)

    # --- construction --------------------------------------------------------------------

    def _build_form_page(self, thumbnails: Sequence[bytes]) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)

        count = len(thumbnails)
        self.header = QLabel(
            self.tr(
                "<b>%n photo(s) waiting for consent.</b> Complete the "
                "form and record consent, or record that consent was refused "
                "(the photos are then destroyed).",
                "",
                count,
            ),
            page,
        )
        self.header.setWordWrap(True)
        layout.addWidget(self.header)

        self.thumbnails = QListWidget(page)
        self.thumbnails.setAccessibleName(
            self.tr("Photos waiting for consent, {count}").format(count=count)
        )
        self.thumbnails.setViewMode(QListView.ViewMode.IconMode)
        self.thumbnails.setFlow(QListView.Flow.LeftToRight)
        self.thumbnails.setWrapping(False)
        self.thumbnails.setMovement(QListView.Movement.Static)
        self.thumbnails.setIconSize(THUMB)
        self.thumbnails.setFixedHeight(THUMB.height() + 16)
        self.thumbnails.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        waiting = _placeholder()
        self._thumbs_loaded = 0
        for number in range(1, count + 1):
            item = QListWidgetItem(QIcon(waiting), "")
            label = f"Photo {number} of {count}"
            item.setToolTip(label)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, label)
            self.thumbnails.addItem(item)
        # Issue 17: decoded on a worker (200 of them stalled the GUI thread for 100 ms).
        imaging.thumbnails_async(list(thumbnails), THUMB, self._thumbnails_decoded)
        layout.addWidget(self.thumbnails)

        # Three columns, so the common path fits 1366x768 without scrolling: who and what
        # was agreed | how it was given (the signature pad) | the photos and who recorded it.
        # The scroll area stays for large text scaling and small windows only.
        form = QWidget()
        form_layout = QHBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        self.columns: list[QVBoxLayout] = []
        groups = (
            (self._wording_group, self._patient_group, self._capacity_group),
            (self._uses_group, self._method_group),
        )
        for stretch, builders in zip((4, 5), groups, strict=True):
            column = QVBoxLayout()
            for build in builders:
                column.addWidget(build(form))
            column.addStretch(1)
            form_layout.addLayout(column, stretch)
            self.columns.append(column)
        # The third column: the photos and who recorded them, and on a second tab the issue 15
        # sections (self-contained; see ui/consent_sections.py), which the common path - an
        # adult, for the record, no interpreter or chaperone - does not need to open.
        photos_page = QWidget(form)
        photos_layout = QVBoxLayout(photos_page)
        photos_layout.setContentsMargins(0, 0, 0, 0)
        photos_layout.addWidget(self._photo_group(photos_page))
        photos_layout.addWidget(self._staff_group(photos_page))
        photos_layout.addStretch(1)
        self.sections = consent_sections.GovernanceSections(
            len(thumbnails), [k for k in self._wordings if k], self._clock, form
        )
        self.sections_scroll = QScrollArea(form)
        self.sections_scroll.setWidgetResizable(True)
        self.sections_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.sections_scroll.setWidget(self.sections)
        self.sections_scroll.setAccessibleName(
            self.tr("Identifiability, children, interpreter, chaperone")
        )
        self.more_tabs = QTabWidget(form)
        self.more_tabs.setAccessibleName(self.tr("Photos and further consent details"))
        self.more_tabs.addTab(photos_page, self.tr("Photos and staff"))
        self.more_tabs.addTab(
            self.sections_scroll, self.tr("More: identifiable? child? interpreter?")
        )
        self.more_tabs.setTabToolTip(
            1,
            self.tr(
                "Identifiability of each photo, children, interpreter and wording language, "
                "intimate images and chaperone, when consent was given and by whom"
            ),
        )
        column = QVBoxLayout()
        column.addWidget(self.more_tabs, 1)
        form_layout.addLayout(column, 4)
        self.columns.append(column)
        self.identifiable_check.hide()  # replaced by the per-photo identifiability section
        # ---
        self.scroll = QScrollArea(page)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(form)
        self.scroll.setAccessibleName(self.tr("Consent form"))
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setMinimumHeight(200)
        layout.addWidget(self.scroll, 1)

        self.close_hint = QLabel(
            self.tr(
                "<b>This form stays open while photos wait for a decision.</b> Record consent, "
                "or record that consent was refused (the photos are then destroyed). To stop for "
                "now, press <b>Lock</b> (Ctrl+Shift+L): the form is kept for you until you sign "
                "in again."
            ),
            page,
        )
        self.close_hint.setObjectName("closeHint")
        self.close_hint.setWordWrap(True)
        self.close_hint.setStyleSheet(look.notice_style("#closeHint", "padding:6px;"))
        self.close_hint.hide()
        layout.addWidget(self.close_hint)

        self.problems = QLabel(page)
        self.problems.setWordWrap(True)
        self.problems.setAccessibleName(self.tr("What is still needed"))
        layout.addWidget(self.problems)

        buttons = QHBoxLayout()
        self.refusal_reason_edit = QLineEdit(page)
        self.refusal_reason_edit.setAccessibleName(self.tr("Reason for refusal, optional"))
        self.refusal_reason_edit.setPlaceholderText(self.tr("reason for refusal (optional)"))
        self.refusal_reason_edit.setMaximumWidth(260)
        self.refuse_button = QPushButton(self.tr("Consent refused — destro&y photos"), page)
        self.refuse_button.setAccessibleName(self.tr("Consent refused, destroy photos"))
        self.record_button = QPushButton(self.tr("&Record consent"), page)
        self.record_button.setAccessibleName(self.tr("Record consent"))
        for button in (self.refuse_button, self.record_button):
            # Enter must never submit by surprise (barcode scanners end with Enter).
            button.setAutoDefault(False)
            button.setDefault(False)
        buttons.addWidget(self.refuse_button)
        buttons.addWidget(self.refusal_reason_edit)
        buttons.addStretch(1)
        buttons.addWidget(self.record_button)
        # The main action stands out, yet Enter still never submits it (see above).
        look.primary(self.record_button, "consent", default=False)
        look.with_icon(self.refuse_button, "refuse")
        layout.addLayout(buttons)
        return page

    def _build_locked_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        label = QLabel(self.tr("Locked. Sign in again to continue with this consent."), page)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        return page

    def _line(self, parent: QWidget, name: str, path: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(parent)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.editingFinished.connect(lambda: self._touch(path))
        return edit

    def _error_label(self, parent: QWidget, path: str, target: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setStyleSheet(look.error_style())
        label.setWordWrap(True)
        label.setAccessibleName(
            self.tr("Problem: {field}").format(field=self.tr(_FIELD_NAMES.get(path, path)))
        )
        label.hide()
        self._errors[path] = label
        self._error_targets[path] = target
        return label

    def _row(
        self, form: QFormLayout, text: str, widget: QWidget, path: str, field: QWidget = None
    ) -> None:
        """A labelled row; `field` is the input inside `widget` when that is a container."""
        field = field or widget
        box = QWidget(form.parentWidget())
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(self._error_label(box, path, field))
        label = QLabel(text, form.parentWidget())
        label.setBuddy(field)
        form.addRow(label, box)

    def _wording_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(
            self.tr("Consent wording shown to the patient (version {version})").format(
                version=self._wording.version
            )
        )
        layout = QVBoxLayout(group)
        self.wording_view = QTextBrowser(group)
        self.wording_view.setPlainText(self._wording.text)
        self.wording_view.setAccessibleName(self.tr("Consent wording"))
        self.wording_view.setTabChangesFocus(True)
        self.wording_view.setMinimumHeight(80)
        self.wording_view.setMaximumHeight(120)
        layout.addWidget(self.wording_view)
        return group

    def _patient_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Patient"), parent)
        form = QFormLayout(group)
        self.mrn_edit = self._line(
            group, self.tr("MRN"), "patient.mrn", self.tr("type or scan the wristband")
        )
        self.name_edit = self._line(group, self.tr("Patient name"), "patient.name")
        self.birth_date_edit = self._line(
            group, self.tr("Date of birth"), "patient.birth_date", self.tr("YYYY-MM-DD")
        )
        self._row(form, self.tr("&MRN (required):"), self.mrn_edit, "patient.mrn")
        self._row(form, self.tr("&Name:"), self.name_edit, "patient.name")
        self._row(form, self.tr("Date of &birth:"), self.birth_date_edit, "patient.birth_date")
        return group

    def _capacity_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Who consents (required)"), parent)
        group.setAccessibleName(self.tr("Who consents"))
        layout = QVBoxLayout(group)
        self.capacity_group = QButtonGroup(group)
        self.capacity_buttons: dict[Capacity, QRadioButton] = {}
        texts = {
            Capacity.SELF: self.tr("The &patient"),
            Capacity.SUBSTITUTE: self.tr("A &substitute (parent, guardian, representative)"),
            Capacity.LACKS_CAPACITY: self.tr(
                "Lac&ks capacity: best-interests decision (record only)"
            ),
        }
        for capacity, text in texts.items():
            button = QRadioButton(text, group)
            button.setAccessibleName(text.replace("&", ""))
            self.capacity_group.addButton(button)
            self.capacity_buttons[capacity] = button
            layout.addWidget(button)
        layout.addWidget(self._error_label(group, "capacity", group))
        form = QFormLayout()
        self.substitute_name_edit = self._line(
            group, self.tr("Substitute's name"), "substitute.name"
        )
        self.relationship_edit = self._line(
            group,
            self.tr("Substitute's relationship to the patient"),
            "substitute.relationship",
        )
        relationship_completer = QCompleter(list(RELATIONSHIPS), self.relationship_edit)
        relationship_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        relationship_completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.relationship_edit.setCompleter(relationship_completer)
        self._row(
            form,
            self.tr("Substitut&e's name:"),
            self.substitute_name_edit,
            "substitute.name",
        )
        self._row(
            form,
            self.tr("Relations&hip:"),
            self.relationship_edit,
            "substitute.relationship",
        )
        layout.addLayout(form)
        layout.addWidget(self._error_label(group, "substitute", group))
        return group

    def _uses_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Uses agreed to (tick each one)"), parent)
        group.setAccessibleName(self.tr("Uses agreed to"))
        layout = QVBoxLayout(group)
        self.record_check = QCheckBox(self.tr("Clinical record (always)"), group)
        self.record_check.setChecked(True)
        self.record_check.setEnabled(False)
        self.record_check.setAccessibleName(self.tr("Clinical record, always included"))
        self.teaching_check = QCheckBox(
            self.tr("&Teaching: de-identified, within healthcare only"), group
        )
        self.teaching_check.setAccessibleName(self.tr("Teaching, de-identified, within healthcare"))
        self.publication_check = QCheckBox(
            self.tr("P&ublication in the journal or website named:"), group
        )
        self.publication_check.setAccessibleName(self.tr("Publication"))
        self.publication_edit = self._line(group, self.tr("Journal or website"), "publication")
        for widget in (self.record_check, self.teaching_check, self.publication_check):
            layout.addWidget(widget)
        layout.addWidget(self.publication_edit)
        layout.addWidget(self._error_label(group, "publication", self.publication_edit))
        layout.addWidget(self._error_label(group, "uses", group))
        return group

    def _method_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("How consent was given (required)"), parent)
        group.setAccessibleName(self.tr("How consent was given"))
        layout = QVBoxLayout(group)
        self.method_group = QButtonGroup(group)
        self.method_buttons: dict[Method, QRadioButton] = {}
        texts = {
            Method.WRITTEN: "&Written: signed on the pad below",
            Method.VERBAL: "&Verbal: with a witness",
        }
        for method, text in texts.items():
            button = QRadioButton(text, group)
            button.setAccessibleName(text.replace("&", ""))
            self.method_group.addButton(button)
            self.method_buttons[method] = button
            layout.addWidget(button)
        layout.addWidget(self._error_label(group, "method", group))

        self.signature_pad = SignaturePad(group)
        self.clear_signature_button = QPushButton(self.tr("&Clear signature"), group)
        self.clear_signature_button.setAccessibleName(self.tr("Clear signature"))
        self.clear_signature_button.setAutoDefault(False)
        pad_row = QVBoxLayout()
        pad_row.addWidget(self.signature_pad)
        pad_row.addWidget(self.clear_signature_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.signature_label = QLabel(
            self.tr(
                "Signature of the patient, the substitute, or the clinician recording a "
                "best-interests decision:"
            ),
            group,
        )
        self.signature_label.setWordWrap(True)
        layout.addWidget(self.signature_label)
        layout.addLayout(pad_row)
        layout.addWidget(self._error_label(group, "signature_png", self.signature_pad))

        form = QFormLayout()
        self.witness_edit = self._line(group, self.tr("Witness name"), "witness.name")
        self._row(
            form,
            self.tr("W&itness (required if verbal):"),
            self.witness_edit,
            "witness.name",
        )
        layout.addLayout(form)
        return group

    def _photo_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("The photos"), parent)
        form = QFormLayout(group)
        self.body_site_edit = self._line(
            group, self.tr("Body site"), "body_site", self.tr("e.g. left forearm")
        )
        completer = QCompleter(BODY_SITES, self.body_site_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.body_site_edit.setCompleter(completer)
        self.indication_edit = QPlainTextEdit(group)
        self.indication_edit.setAccessibleName(self.tr("Clinical indication"))
        self.indication_edit.setTabChangesFocus(True)
        self.indication_edit.setFixedHeight(56)
        self.identifiable_check = QCheckBox(
            self.tr("Identi&fiable (face, tattoo or other distinctive feature)"), group
        )
        self.identifiable_check.setAccessibleName(self.tr("Identifiable image"))
        self.body_map_button = QPushButton(self.tr("Body &map…"), group)
        self.body_map_button.setAccessibleName(self.tr("Pick the body site on a body map"))
        self.body_map_button.setAutoDefault(False)
        self.body_map_button.clicked.connect(self.pick_body_site)
        site_row = QWidget(group)
        site_layout = QHBoxLayout(site_row)
        site_layout.setContentsMargins(0, 0, 0, 0)
        site_layout.addWidget(self.body_site_edit, 1)
        site_layout.addWidget(self.body_map_button)
        self._row(form, self.tr("B&ody site:"), site_row, "body_site", self.body_site_edit)
        self._row(form, self.tr("Clinical in&dication:"), self.indication_edit, "indication")
        form.addRow(self.identifiable_check)
        return group

    def _staff_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox(self.tr("Consent obtained by"), parent)
        form = QFormLayout(group)
        self.staff_name_edit = self._line(group, self.tr("Staff name"), "obtained_by.name")
        self.staff_role_edit = self._line(group, self.tr("Staff role"), "obtained_by.role")
        self.staff_id_edit = self._line(group, self.tr("Staff ID"), "obtained_by.staff_id")
        self._row(form, self.tr("Staff n&ame:"), self.staff_name_edit, "obtained_by.name")
        self._row(form, self.tr("Ro&le:"), self.staff_role_edit, "obtained_by.role")
        self._row(form, self.tr("Staff ID:"), self.staff_id_edit, "obtained_by.staff_id")
        self.time_label = QLabel(group)
        self.time_label.setWordWrap(True)
        self.time_label.setAccessibleName(self.tr("Date and time of consent"))
        form.addRow(self.tr("Date and time:"), self.time_label)
        return group

    def pick_body_site(self) -> None:
        """The body map: a region and side, coded; its words go into the Body site field."""
        from picsafe_desktop.ui.body_map import BodySiteDialog

        dialog = BodySiteDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._body_site_picked(dialog.site))
        self.body_map_dialog = dialog
        dialog.open()

    def _body_site_picked(self, site: dict | None) -> None:
        self._body_site = site
        if site is not None:
            self.body_site_edit.setText(site["text"])
            self._touch("body_site")

    def body_site(self) -> dict | None:
        """The photo metadata's `body_site`: the map's coded pick while the field still says
        what was picked, else the field's words as free text."""
        from picsafe_desktop import body_sites

        text = self.body_site_edit.text().strip()
        picked = getattr(self, "_body_site", None)
        if picked is not None and picked["text"] == text:
            return picked
        return body_sites.from_text(text)

    def _prefill(self, staff: Staff, mrn: str) -> None:
        self.mrn_edit.setText(mrn)
        self.staff_name_edit.setText(staff.name)
        self.staff_role_edit.setText(staff.role)
        self.staff_id_edit.setText(staff.staff_id)

    def _connect(self) -> None:
        for edit in self.findChildren(QLineEdit):
            edit.textChanged.connect(self._revalidate)
        self.indication_edit.textChanged.connect(self._on_indication_changed)
        choices = (
            (self.capacity_group.buttonToggled, ("capacity", "uses")),
            (self.method_group.buttonToggled, ("method",)),
            (self.teaching_check.toggled, ("uses",)),
            (self.publication_check.toggled, ("uses", "publication")),
            (self.identifiable_check.toggled, ("identifiable",)),
        )
        for signal, paths in choices:
            signal.connect(lambda *_args, paths=paths: self._on_choice_toggled(paths))
        self.signature_pad.changed.connect(self._on_signature_changed)
        self.sections.changed.connect(self._revalidate)  # issue 15 sections
        self.sections.language_changed.connect(self._show_wording)
        self.clear_signature_button.clicked.connect(self.signature_pad.clear)
        self.record_button.clicked.connect(self._on_record)
        self.refuse_button.clicked.connect(self._on_refuse)

    def _set_tab_order(self) -> None:
        chain = [
            self.mrn_edit,
            self.name_edit,
            self.birth_date_edit,
            *self.capacity_buttons.values(),
            self.substitute_name_edit,
            self.relationship_edit,
            self.teaching_check,
            self.publication_check,
            self.publication_edit,
            *self.method_buttons.values(),
            self.clear_signature_button,
            self.witness_edit,
            self.body_site_edit,
            self.body_map_button,
            self.indication_edit,
            self.identifiable_check,
            self.staff_name_edit,
            self.staff_role_edit,
            self.staff_id_edit,
            self.record_button,
            self.refuse_button,
            self.refusal_reason_edit,
            self.thumbnails,
            self.wording_view,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _fit_screen(self) -> None:
        """At most 1340x720, and never larger than the screen (1366x768 ward PCs)."""
        width, height = 1340, 720
        screen = self.screen() or (self.parentWidget().screen() if self.parentWidget() else None)
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width())
            height = min(height, available.height() - 40)  # room for the title bar
            self._compact(available.width(), available.height())
        self.resize(width, height)

    def _compact(self, screen_width: int, screen_height: int) -> None:
        """On a small screen - 1366x768 at 125 % scaling is 1093x614 points - the common path
        still fits: smaller strip thumbnails, the header's words left to the window title and
        the "still needed" line, the wording on a tab of its own beside the photos and staff
        (the patient reads it there), and the signature pad shown at 80 % (its image keeps its
        size)."""
        if screen_width >= 1250 and screen_height >= 700:
            return
        small = QSize(36, 36)
        self.thumbnails.setIconSize(small)
        self.thumbnails.setFixedHeight(small.height() + 8)
        self.thumbnails.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.more_tabs.setTabText(1, self.tr("More…"))  # its tooltip names what is there
        self.header.hide()
        self.thumbnails.setToolTip(self.header.text())
        wording = self.wording_view.parentWidget()
        if self.more_tabs.indexOf(wording) < 0:
            self.more_tabs.addTab(wording, self.tr("Wording"))
            self.more_tabs.setTabToolTip(self.more_tabs.indexOf(wording), wording.title())
            wording.setTitle("")  # the tab names it; a long title would widen the column
            self.wording_view.setMaximumHeight(16777215)
        self.signature_pad.set_display_scale(0.8)

    # --- state ---------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self._clock()

    def _show_time(self) -> None:
        self.time_label.setText(
            self.tr("{now:%d %b %Y %H:%M} (set when you record consent)").format(now=self._now())
        )

    def _capacity(self) -> Capacity | None:
        for capacity, button in self.capacity_buttons.items():
            if button.isChecked():
                return capacity
        return None

    def _method(self) -> Method | None:
        for method, button in self.method_buttons.items():
            if button.isChecked():
                return method
        return None

    def fields(self) -> dict[str, Any]:
        """The form as the JSON-form dict `consent.validate` checks."""
        capacity = self._capacity()
        method = self._method()
        uses = [Use.RECORD.value]
        if self.teaching_check.isChecked():
            uses.append(Use.TEACHING.value)
        if self.publication_check.isChecked():
            uses.append(Use.PUBLICATION.value)
        signature = None
        if method is Method.WRITTEN and not self.signature_pad.is_empty():
            signature = self.signature_pad.to_png()
        publication = self.publication_edit.text() if self.publication_check.isChecked() else ""
        substitute = None
        if capacity is Capacity.SUBSTITUTE:
            substitute = {
                "name": self.substitute_name_edit.text(),
                "relationship": self.relationship_edit.text(),
            }
        form = {
            "patient": {
                "mrn": self.mrn_edit.text(),
                "name": self.name_edit.text(),
                "birth_date": self.birth_date_edit.text().strip() or None,
            },
            "capacity": capacity.value if capacity else None,
            "substitute": substitute,
            "uses": uses,
            "publication": publication,
            "method": method.value if method else None,
            "signature_png": signature,
            "witness": {"name": self.witness_edit.text()},
            "obtained_by": {
                "name": self.staff_name_edit.text(),
                "role": self.staff_role_edit.text(),
                "staff_id": self.staff_id_edit.text(),
            },
            "body_site": self.body_site_edit.text(),
            "indication": self.indication_edit.toPlainText(),
            "identifiable": self.identifiable_check.isChecked(),
        }
        form = self.patient_check.merge_into(form)  # issue 16
        return self.sections.merge_into(form)  # issue 15 sections

    def _show_wording(self, language: str) -> None:
        """The interpreter section chose another language: show that wording."""
        wording = self._wordings.get(language)
        if wording is not None:
            self.wording_view.setPlainText(wording.text)

    def _update_enabled(self) -> None:
        capacity = self._capacity()
        substitute = capacity is Capacity.SUBSTITUTE
        self.substitute_name_edit.setEnabled(substitute)
        self.relationship_edit.setEnabled(substitute)
        limited = capacity is Capacity.LACKS_CAPACITY
        for check in (self.teaching_check, self.publication_check):
            if limited:
                check.setChecked(False)
            check.setEnabled(not limited)
        self.publication_edit.setEnabled(self.publication_check.isChecked())
        # The pad takes a signature until "Verbal" is chosen: a patient handed the pen signs
        # first, and signing picks "Written" (the 1366x768 walk: a disabled pad looked ready).
        signable = self._method() is not Method.VERBAL
        self.signature_pad.setEnabled(signable)
        self.clear_signature_button.setEnabled(signable)
        indication_label = self.indication_edit.accessibleName()
        wanted = (
            self.tr("Clinical indication, required") if limited else self.tr("Clinical indication")
        )
        if indication_label != wanted:
            self.indication_edit.setAccessibleName(wanted)

    def _follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.scroll.widget().isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new)

    def _touch(self, path: str) -> None:
        self._touched.add(path)
        self._revalidate()

    def _on_indication_changed(self) -> None:
        self._touch("indication")

    def _on_signature_changed(self) -> None:
        if self._method() is None and not self.signature_pad.is_empty():
            self.method_buttons[Method.WRITTEN].setChecked(True)  # signed on the pad: written
        self._touch("signature_png")

    def _on_choice_toggled(self, paths: tuple[str, ...]) -> None:
        self._update_enabled()
        self._touched.update(paths)
        self._revalidate()

    def _revalidate(self, *_args) -> list[FieldError]:
        errors = validate(self.fields(), now=self._now(), wording=self._wordings)
        errors += self.patient_check.errors()  # issue 16
        self._show_errors(errors, show_all=False)
        return errors

    def _show_errors(self, errors: list[FieldError], *, show_all: bool) -> None:
        by_field: dict[str, str] = {}
        for error in errors:
            by_field.setdefault(error.field, error.message)
        for path, label in self._errors.items():
            message = by_field.get(path, "")
            visible = bool(message) and (show_all or path in self._touched)
            label.setText(message if visible else "")
            label.setVisible(visible)
            self._error_targets[path].setAccessibleDescription(message if visible else "")
        self.sections.show_errors(errors, show_all)  # issue 15 sections
        if show_all and any(not section.errors.isHidden() for section in self.sections.sections):
            self.more_tabs.setCurrentIndex(1)  # the problem is on the second tab: show it
        self.record_button.setEnabled(not errors)
        if errors:
            needed = []
            for error in errors:
                name = self.tr(_FIELD_NAMES.get(error.field, error.field or "record"))
                if name not in needed:
                    needed.append(name)
            self.problems.setText(
                self.tr("Still needed before recording: {fields}.").format(fields=", ".join(needed))
            )
            self.problems.setStyleSheet(look.error_style())
        else:
            self.problems.setText(self.tr("Ready to record consent."))
            self.problems.setStyleSheet("")

    def errors_shown(self) -> dict[str, str]:
        """Inline messages now visible, by field path (for tests and assistive checks)."""
        return {path: label.text() for path, label in self._errors.items() if label.isVisible()}

    # --- ways out ------------------------------------------------------------------------

    def _on_record(self) -> None:
        if self.patient_check.errors():  # issue 16: what the hospital record contradicts blocks
            self._show_errors(self.patient_check.errors(), show_all=True)
            return
        try:
            record = record_from_fields(
                self.fields(),
                wording=self._wordings,
                now=self._now(),
                review_at_age=self._review_at_age,
            )
        except ConsentError as exc:
            self._show_errors(exc.errors, show_all=True)
            return
        self.result_record = record
        self.recorded.emit(record)
        self._finish(QDialog.DialogCode.Accepted)

    def _on_refuse(self) -> None:
        count = self._photo_count
        answer = QMessageBox.question(
            self,
            self.tr("Destroy photos?"),
            self.tr(
                "Consent was refused. The %n photo(s) will be destroyed "
                "permanently. This cannot be undone.\n\nDestroy the photos?",
                "",
                count,
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.refused = True
        self.refused_mrn = self.mrn_edit.text().strip()
        self.refusal_reason = self.refusal_reason_edit.text().strip()
        self.refusal_confirmed.emit()
        self._finish(QDialog.DialogCode.Rejected)

    def _finish(self, code: QDialog.DialogCode) -> None:
        self._finishing = True
        self._time_timer.stop()
        self.signature_pad.clear()  # drop the in-memory ink with the dialog
        super().done(int(code.value))

    def close_without_decision(self) -> None:
        """Close with neither outcome, for the app itself: quitting, or the batch was settled
        elsewhere. The photos stay waiting, so the dialog comes back at the next start."""
        self._finish(QDialog.DialogCode.Rejected)

    def set_locked(self, locked: bool) -> None:
        """Hide everything identifying while the app is locked; the form is kept."""
        self.stack.setCurrentWidget(self.locked_page if locked else self.form_page)

    # --- the ways that must not close it -------------------------------------------------

    def done(self, code: int) -> None:
        if self._finishing:
            super().done(code)

    def reject(self) -> None:
        """Esc and window-manager closes land here; waiting photos keep the dialog open."""

    def closeEvent(self, event) -> None:  # noqa: N802
        if self._finishing:
            super().closeEvent(event)
        else:
            event.ignore()
            self.explain_why_open()

    def explain_why_open(self) -> None:
        """The window manager's close button does nothing here: say why, and what to do."""
        self.close_hint.show()

    def changeEvent(self, event) -> None:  # noqa: N802
        # Minimising a modal form would leave the whole application blocked and out of
        # sight: keep it up and say why.
        if event.type() == QEvent.Type.WindowStateChange and self.isMinimized():
            QTimer.singleShot(0, self.showNormal)
            self.explain_why_open()
        super().changeEvent(event)

    def add_section(self, widget: QWidget, column: int = 2) -> None:
        """Insert an extra form section (e.g. from `consent_sections`) at the end of a
        column (0: patient, 1: how consent was given, 2: the photos and staff)."""
        target = self.columns[column]
        target.insertWidget(target.count() - 1, widget)  # before the closing stretch

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Escape:
            event.accept()
            self.explain_why_open()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            focused = self.focusWidget()
            if isinstance(focused, QPushButton):
                if focused.isEnabled():
                    focused.click()
            else:
                # A barcode scanner types the MRN then Enter: move on, never submit.
                self.focusNextChild()
            return
        super().keyPressEvent(event)
