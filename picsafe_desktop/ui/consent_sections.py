"""Consent form sections added by issue 15, kept out of consent_dialog.py.

Each section is a self-contained QWidget with `values() -> dict` (its part of the JSON form
documented in docs/consent.md), `set_values(dict)`, a `changed` signal and `show_errors`.
None of them validates anything itself: the dialog runs `consent.validate` (the CLI's rules)
on the whole form and hands each section the errors for its fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.consent import FieldError
from picsafe_desktop.ui import look

# Short names for the dialog's "still needed" line.
FIELD_NAMES = {
    "identifiability": QT_TRANSLATE_NOOP("ConsentDialog", "identifiability"),
    "identifiable_publication": QT_TRANSLATE_NOOP("ConsentDialog", "identifiable publication"),
    "patient.under_18": QT_TRANSLATE_NOOP("ConsentDialog", "under 18"),
    "child": QT_TRANSLATE_NOOP("ConsentDialog", "child details"),
    "child.competence": QT_TRANSLATE_NOOP("ConsentDialog", "competence assessment"),
    "child.competence.assessed_by": QT_TRANSLATE_NOOP("ConsentDialog", "assessed by"),
    "child.competence.competent": QT_TRANSLATE_NOOP("ConsentDialog", "competence outcome"),
    "child.competence.parental_involvement": QT_TRANSLATE_NOOP(
        "ConsentDialog", "parental involvement"
    ),
    "child.assent": QT_TRANSLATE_NOOP("ConsentDialog", "child's view"),
    "child.urgent": QT_TRANSLATE_NOOP("ConsentDialog", "urgent"),
    "substitute.parental_responsibility": QT_TRANSLATE_NOOP(
        "ConsentDialog", "parental responsibility"
    ),
    "interpreter.name": QT_TRANSLATE_NOOP("ConsentDialog", "interpreter's name"),
    "interpreter.language": QT_TRANSLATE_NOOP("ConsentDialog", "interpreted language"),
    "interpreter.kind": QT_TRANSLATE_NOOP("ConsentDialog", "kind of interpreter"),
    "language": QT_TRANSLATE_NOOP("ConsentDialog", "wording language"),
    "intimate.preference": QT_TRANSLATE_NOOP("ConsentDialog", "chaperone preference"),
    "intimate.chaperone.name": QT_TRANSLATE_NOOP("ConsentDialog", "chaperone's name"),
    "intimate.chaperone.role": QT_TRANSLATE_NOOP("ConsentDialog", "chaperone's role"),
    "intimate.secondary_agreed": QT_TRANSLATE_NOOP("ConsentDialog", "intimate secondary use"),
    "consented_at": QT_TRANSLATE_NOOP("ConsentDialog", "time consent was obtained"),
    "photographer": QT_TRANSLATE_NOOP("ConsentDialog", "photographer"),
    "signed_by": QT_TRANSLATE_NOOP("ConsentDialog", "signed by"),
}


def _combo(parent: QWidget, name: str, items: Iterable[tuple[str, Any]]) -> QComboBox:
    box = QComboBox(parent)
    box.setAccessibleName(name)
    for text, value in items:
        box.addItem(QCoreApplication.translate("ConsentSections", text), value)
    return box


def _select(box: QComboBox, value: Any) -> None:
    index = box.findData(value)
    box.setCurrentIndex(max(index, 0))


def _line(parent: QWidget, name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    return edit


class Section(QGroupBox):
    """Common parts: an error label for the fields under `prefixes`, and `changed`."""

    changed = Signal()
    prefixes: tuple[str, ...] = ()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setAccessibleName(title)
        self.errors = QLabel(self)
        self.errors.setStyleSheet(look.error_style())
        self.errors.setWordWrap(True)
        self.errors.setAccessibleName(self.tr("Problems: {title}").format(title=title))
        self.errors.hide()
        self.touched = False  # errors show once the user changed something here
        self.changed.connect(self._touch)

    def _touch(self) -> None:
        self.touched = True

    def _watch(self, *widgets: QWidget) -> None:
        for widget in widgets:
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self.changed)
            elif isinstance(widget, QPlainTextEdit):
                widget.textChanged.connect(self.changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self.changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self.changed)

    def owns(self, path: str) -> bool:
        return any(path == p or path.startswith(p + ".") or path.startswith(p + "[")
                   for p in self.prefixes)  # fmt: skip

    def show_errors(self, errors: Iterable[FieldError], show_all: bool = True) -> None:
        mine = [e.message for e in errors if self.owns(e.field)]
        visible = bool(mine) and (show_all or self.touched)
        self.errors.setText("\n".join(dict.fromkeys(mine)) if visible else "")
        self.errors.setVisible(visible)

    def values(self) -> dict:  # pragma: no cover - every section overrides
        raise NotImplementedError

    def set_values(self, values: Mapping[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError


IDENTIFIABILITY_CHOICES = (
    (QT_TRANSLATE_NOOP("ConsentSections", "Not answered yet"), "unknown"),
    (
        QT_TRANSLATE_NOOP("ConsentSections", "Identifiable (face, tattoo, distinctive feature)"),
        "identifiable",
    ),
    (QT_TRANSLATE_NOOP("ConsentSections", "Not identifiable"), "not_identifiable"),
)


class AnswersModel(QAbstractListModel):
    """One identifiability answer per photo, as rows "Photo n: answer" (issue 17: a model
    and one editor at a time instead of a combo box per photo, which made a 200-photo form
    take seconds to build on the GUI thread)."""

    AnswerRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, count: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.answers = ["unknown"] * count
        self._texts = {value: QCoreApplication.translate("ConsentSections", text)
                       for text, value in IDENTIFIABILITY_CHOICES}  # fmt: skip

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.answers)

    def label(self, row: int) -> str:
        return QCoreApplication.translate("ConsentSections", "Photo {number}: {answer}").format(
            number=row + 1, answer=self._texts[self.answers[row]]
        )

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.label(index.row())
        if role == self.AnswerRole or role == Qt.ItemDataRole.EditRole:
            return self.answers[index.row()]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: QModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802, E501
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or value not in self._texts:
            return False
        if self.answers[index.row()] != value:
            self.answers[index.row()] = value
            self.dataChanged.emit(index, index)
        return True

    def set_all(self, answers: list[str]) -> None:
        """Every row at once: one reset instead of a signal per photo."""
        fixed = [a if a in self._texts else "unknown" for a in answers]
        if fixed != self.answers:
            self.beginResetModel()
            self.answers = fixed
            self.endResetModel()


class AnswerDelegate(QStyledItemDelegate):
    """The editor of one row: a combo box with the three answers, committed when chosen."""

    def createEditor(self, parent: QWidget, _option, index: QModelIndex) -> QWidget:  # noqa: N802
        box = _combo(
            parent,
            QCoreApplication.translate("ConsentSections", "Identifiability of photo {number}")
            .format(number=index.row() + 1),
            IDENTIFIABILITY_CHOICES,
        )  # fmt: skip
        box.activated.connect(lambda _i, box=box: self._chosen(box))
        return box

    def _chosen(self, box: QComboBox) -> None:
        self.commitData.emit(box)
        self.closeEditor.emit(box, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        _select(editor, index.data(AnswersModel.AnswerRole))

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:  # noqa: N802
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class AnswerList(QListView):
    """The per-photo answers: arrows move between photos, Space or F2 opens the answer."""

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and self.state() != self.State.EditingState:
            current = self.currentIndex()
            if current.isValid():
                self.edit(current)
                event.accept()
                return
        super().keyPressEvent(event)


class IdentifiabilitySection(Section):
    """One three-state answer per photo (batch order, as in the thumbnail strip)."""

    prefixes = ("identifiability", "identifiable_publication")
    VISIBLE_ROWS = 6  # the list scrolls past this; the "all photos" box answers a batch at once

    def __init__(self, photo_count: int, parent: QWidget | None = None) -> None:
        super().__init__(
            QCoreApplication.translate("ConsentSections", "Identifiability of each photo"), parent
        )
        layout = QVBoxLayout(self)
        hint = QLabel(
            self.tr(
                "Answer for each photo whether it could identify the patient. Teaching and "
                "publication exports wait until every photo is answered."
            ),
            self,
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        self.all_photos = _combo(
            self, self.tr("Identifiability of all photos"), IDENTIFIABILITY_CHOICES
        )
        self.all_photos.setCurrentIndex(0)
        form.addRow(self.tr("All photos:"), self.all_photos)
        layout.addLayout(form)
        self.model = AnswersModel(photo_count, self)
        self.photos = AnswerList(self)
        self.photos.setModel(self.model)
        self.photos.setItemDelegate(AnswerDelegate(self.photos))
        self.photos.setUniformItemSizes(True)
        self.photos.setAccessibleName(self.tr("Identifiability of each photo"))
        self.photos.setAccessibleDescription(
            self.tr("Arrow keys choose a photo; F2 or Space changes its answer.")
        )
        self.photos.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.photos.setTabKeyNavigation(False)  # Tab leaves the list, as for any field
        self.photos.setVisible(photo_count > 0)
        if photo_count:
            self.photos.setCurrentIndex(self.model.index(0))
            rows = min(photo_count, self.VISIBLE_ROWS)
            line = self.photos.fontMetrics().height() + 6
            self.photos.setFixedHeight(rows * line + 2 * self.photos.frameWidth() + 4)
        layout.addWidget(self.photos)
        self.publication = QCheckBox(
            self.tr("The patient agrees to publication of photos that identify them"), self
        )
        self.publication.setAccessibleName(self.tr("Identifiable publication agreed"))
        layout.addWidget(self.publication)
        layout.addWidget(self.errors)
        self.all_photos.activated.connect(self._apply_to_all)
        self.model.dataChanged.connect(self.changed)
        self.model.modelReset.connect(self.changed)
        self._watch(self.publication)

    def _apply_to_all(self, _index: int) -> None:
        self.model.set_all([self.all_photos.currentData()] * len(self.model.answers))

    def answer(self, row: int) -> str:
        return self.model.answers[row]

    def set_answer(self, row: int, answer: str) -> None:
        self.model.setData(self.model.index(row), answer)

    def values(self) -> dict:
        answers = list(self.model.answers)
        return {
            "identifiability": answers if answers else self.all_photos.currentData(),
            "identifiable_publication": self.publication.isChecked(),
        }

    def set_values(self, values: Mapping[str, Any]) -> None:
        answers = values.get("identifiability") or "unknown"
        if isinstance(answers, str):
            answers = [answers] * len(self.model.answers)
        answers = list(answers)[: len(self.model.answers)]
        answers += ["unknown"] * (len(self.model.answers) - len(answers))
        self.model.set_all(answers)
        self.publication.setChecked(bool(values.get("identifiable_publication")))


class ChildSection(Section):
    """Age-related fields (GMC 0-18 years): competence, parental responsibility, assent."""

    prefixes = ("patient.under_18", "child", "substitute.parental_responsibility")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            QCoreApplication.translate("ConsentSections", "Children and young people"), parent
        )
        layout = QVBoxLayout(self)
        self.under_18 = QCheckBox(self.tr("The patient is under 18 (date of birth required)"), self)
        self.under_18.setAccessibleName(self.tr("Patient under 18"))
        layout.addWidget(self.under_18)
        form = QFormLayout()
        self.outcome = _combo(
            self,
            self.tr("Competence assessment outcome"),
            (
                (QT_TRANSLATE_NOOP("ConsentSections", "Not assessed"), None),
                (QT_TRANSLATE_NOOP("ConsentSections", "Competent (Gillick)"), True),
                (QT_TRANSLATE_NOOP("ConsentSections", "Not competent"), False),
            ),
        )
        self.assessed_by = _line(self, self.tr("Competence assessed by"))
        self.involvement = QPlainTextEdit(self)
        self.involvement.setAccessibleName(self.tr("Parental involvement"))
        self.involvement.setTabChangesFocus(True)
        self.involvement.setFixedHeight(48)
        self.parental = QCheckBox(
            self.tr("The person consenting has parental responsibility"), self
        )
        self.parental.setAccessibleName(self.tr("Parental responsibility confirmed"))
        self.assent = _combo(
            self,
            self.tr("Child's own view"),
            (
                (QT_TRANSLATE_NOOP("ConsentSections", "Not recorded"), None),
                (QT_TRANSLATE_NOOP("ConsentSections", "Agrees (assents)"), "assents"),
                (QT_TRANSLATE_NOOP("ConsentSections", "Objects"), "objects"),
                (
                    QT_TRANSLATE_NOOP("ConsentSections", "Not able to say (too young or unwell)"),
                    "not_able",
                ),
            ),
        )
        self.urgent = QCheckBox(
            self.tr("Needed urgently for the child's care despite an objection"), self
        )
        self.urgent.setAccessibleName(self.tr("Urgent despite objection"))
        form.addRow(self.tr("Competence (under 16 consenting alone):"), self.outcome)
        form.addRow(self.tr("Assessed by:"), self.assessed_by)
        form.addRow(self.tr("Parents' involvement:"), self.involvement)
        form.addRow(self.parental)
        form.addRow(self.tr("Child's view:"), self.assent)
        form.addRow(self.urgent)
        layout.addLayout(form)
        layout.addWidget(self.errors)
        self._watch(
            self.under_18, self.outcome, self.assessed_by, self.involvement, self.parental,
            self.assent, self.urgent,
        )  # fmt: skip

    def values(self) -> dict:
        child: dict[str, Any] = {}
        competent = self.outcome.currentData()
        texts = (self.assessed_by.text().strip(), self.involvement.toPlainText().strip())
        if competent is not None or any(texts):
            child["competence"] = {
                "assessed_by": self.assessed_by.text(),
                "competent": competent,
                "parental_involvement": self.involvement.toPlainText(),
            }
        if self.assent.currentData():
            child["assent"] = self.assent.currentData()
        if self.urgent.isChecked():
            child["urgent"] = True
        return {
            "patient": {"under_18": self.under_18.isChecked()},
            "child": child or None,
            "substitute": {"parental_responsibility": self.parental.isChecked()},
        }

    def set_values(self, values: Mapping[str, Any]) -> None:
        self.under_18.setChecked(bool((values.get("patient") or {}).get("under_18")))
        child = values.get("child") or {}
        competence = child.get("competence") or {}
        _select(self.outcome, competence.get("competent"))
        self.assessed_by.setText(competence.get("assessed_by") or "")
        self.involvement.setPlainText(competence.get("parental_involvement") or "")
        _select(self.assent, child.get("assent"))
        self.urgent.setChecked(bool(child.get("urgent")))
        self.parental.setChecked(
            bool((values.get("substitute") or {}).get("parental_responsibility"))
        )


class InterpreterSection(Section):
    """Interpreter (GMC para 26) and the language of the wording shown."""

    prefixes = ("interpreter", "language")
    language_changed = Signal(str)

    def __init__(self, languages: Iterable[str], parent: QWidget | None = None) -> None:
        super().__init__(
            QCoreApplication.translate("ConsentSections", "Interpreter and language"), parent
        )
        form = QFormLayout(self)
        self.language = _combo(
            self, self.tr("Language of the consent wording"), ((c, c) for c in languages)
        )
        self.kind = _combo(
            self,
            self.tr("Interpreter"),
            (
                (QT_TRANSLATE_NOOP("ConsentSections", "No interpreter"), None),
                (QT_TRANSLATE_NOOP("ConsentSections", "Professional, in person"), "professional"),
                (QT_TRANSLATE_NOOP("ConsentSections", "Telephone or video service"), "telephone"),
                (QT_TRANSLATE_NOOP("ConsentSections", "Family member or friend"), "family"),
            ),
        )
        self.name = _line(
            self,
            self.tr("Interpreter's name"),
            self.tr("name, or ID number for a telephone service"),
        )
        self.spoken = _line(self, self.tr("Interpreted language"), self.tr("e.g. Polish"))
        form.addRow(self.tr("Wording language:"), self.language)
        form.addRow(self.tr("Interpreter:"), self.kind)
        form.addRow(self.tr("Interpreter's name:"), self.name)
        form.addRow(self.tr("Language interpreted:"), self.spoken)
        form.addRow(self.errors)
        self.language.currentIndexChanged.connect(
            lambda _i: self.language_changed.emit(self.language.currentData() or "")
        )
        self._watch(self.language, self.kind, self.name, self.spoken)

    def values(self) -> dict:
        interpreter = None
        if self.kind.currentData() or self.name.text().strip() or self.spoken.text().strip():
            interpreter = {
                "name": self.name.text(),
                "language": self.spoken.text(),
                "kind": self.kind.currentData(),
            }
        return {"interpreter": interpreter, "language": self.language.currentData()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        interpreter = values.get("interpreter") or {}
        _select(self.kind, interpreter.get("kind"))
        self.name.setText(interpreter.get("name") or "")
        self.spoken.setText(interpreter.get("language") or "")
        if values.get("language"):
            _select(self.language, values["language"])


class IntimateSection(Section):
    """Intimate images (IMI chaperone guidance): chaperone and the patient's preference."""

    prefixes = ("intimate",)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("ConsentSections", "Intimate images"), parent)
        form = QFormLayout(self)
        self.flag = QCheckBox(self.tr("Intimate: breasts, genitalia, perineum or anus"), self)
        self.flag.setAccessibleName(self.tr("Intimate images"))
        self.preference = _combo(
            self,
            self.tr("Patient's chaperone preference"),
            (
                (QT_TRANSLATE_NOOP("ConsentSections", "Not recorded"), None),
                (QT_TRANSLATE_NOOP("ConsentSections", "Wants a chaperone"), "wanted"),
                (QT_TRANSLATE_NOOP("ConsentSections", "Declined a chaperone"), "declined"),
                (QT_TRANSLATE_NOOP("ConsentSections", "No preference"), "no_preference"),
            ),
        )
        self.chaperone = _line(self, self.tr("Chaperone's name"))
        self.role = _line(self, self.tr("Chaperone's role"), self.tr("e.g. staff nurse"))
        self.secondary = QCheckBox(
            self.tr(
                "The patient expressly agrees to teaching or publication of these intimate photos"
            ),
            self,
        )
        self.secondary.setAccessibleName(
            self.tr("Intimate photos for teaching or publication agreed")
        )
        form.addRow(self.flag)
        form.addRow(self.tr("Chaperone preference:"), self.preference)
        form.addRow(self.tr("Chaperone's name:"), self.chaperone)
        form.addRow(self.tr("Chaperone's role:"), self.role)
        form.addRow(self.secondary)
        form.addRow(self.errors)
        self.flag.toggled.connect(self._enable)
        self._watch(self.flag, self.preference, self.chaperone, self.role, self.secondary)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for widget in (self.preference, self.chaperone, self.role, self.secondary):
            widget.setEnabled(on)

    def values(self) -> dict:
        if not self.flag.isChecked():
            return {"intimate": None}
        return {
            "intimate": {
                "preference": self.preference.currentData(),
                "chaperone": {"name": self.chaperone.text(), "role": self.role.text()},
                "secondary_agreed": self.secondary.isChecked(),
            }
        }

    def set_values(self, values: Mapping[str, Any]) -> None:
        intimate = values.get("intimate") or None
        self.flag.setChecked(intimate is not None)
        intimate = intimate or {}
        _select(self.preference, intimate.get("preference"))
        chaperone = intimate.get("chaperone") or {}
        self.chaperone.setText(chaperone.get("name") or "")
        self.role.setText(chaperone.get("role") or "")
        self.secondary.setChecked(bool(intimate.get("secondary_agreed")))


class WhenWhoSection(Section):
    """When consent was obtained at the bedside, who took the photos, whose signature."""

    prefixes = ("consented_at", "photographer", "signed_by")

    def __init__(self, clock: Callable[[], dt.datetime], parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("ConsentSections", "When and by whom"), parent)
        self._clock = clock
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.consented_at = _line(
            self, self.tr("Time consent was obtained"), self.tr("YYYY-MM-DD HH:MM")
        )
        self.now_button = QPushButton(self.tr("&Now"), self)
        self.now_button.setAccessibleName(self.tr("Consent obtained now"))
        self.now_button.setAutoDefault(False)
        row.addWidget(self.consented_at, 1)
        row.addWidget(self.now_button)
        self.photographer = _line(self, self.tr("Photographer"), self.tr("who took the photos"))
        self.signed_by = _combo(
            self,
            self.tr("Signed by"),
            (
                (QT_TRANSLATE_NOOP("ConsentSections", "Follows from who consents"), None),
                (QT_TRANSLATE_NOOP("ConsentSections", "The patient"), "patient"),
                (QT_TRANSLATE_NOOP("ConsentSections", "The substitute"), "substitute"),
                (
                    QT_TRANSLATE_NOOP(
                        "ConsentSections", "The clinician (verbal consent or best interests)"
                    ),
                    "clinician",
                ),
            ),
        )
        form.addRow(self.tr("Consent obtained at (bedside):"), row)
        form.addRow(self.tr("Photographer:"), self.photographer)
        form.addRow(self.tr("Signed by:"), self.signed_by)
        form.addRow(self.errors)
        self.now_button.clicked.connect(self._now)
        self._watch(self.consented_at, self.photographer, self.signed_by)

    def _now(self) -> None:
        self.consented_at.setText(f"{self._clock().astimezone():%Y-%m-%d %H:%M}")  # local

    def values(self) -> dict:
        return {
            "consented_at": self.consented_at.text().strip() or None,
            "photographer": self.photographer.text(),
            "signed_by": self.signed_by.currentData(),
        }

    def set_values(self, values: Mapping[str, Any]) -> None:
        self.consented_at.setText(values.get("consented_at") or "")
        self.photographer.setText(values.get("photographer") or "")
        _select(self.signed_by, values.get("signed_by"))


def merge(fields: dict, extra: Mapping[str, Any]) -> dict:
    """The dialog's form plus the sections' values; nested blocks merged key by key.
    Parental responsibility only joins a substitute the form actually has."""
    out = dict(fields)
    for key, value in extra.items():
        if isinstance(value, Mapping) and key in ("patient", "substitute"):
            if out.get(key) is None:
                continue  # no substitute chosen: nothing to confirm
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


class GovernanceSections(QWidget):
    """All issue 15 sections in one column, as the dialog inserts them."""

    changed = Signal()
    language_changed = Signal(str)

    def __init__(
        self,
        photo_count: int,
        languages: Iterable[str],
        clock: Callable[[], dt.datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.identifiability = IdentifiabilitySection(photo_count, self)
        self.child = ChildSection(self)
        self.interpreter = InterpreterSection(languages, self)
        self.intimate = IntimateSection(self)
        self.when_who = WhenWhoSection(clock, self)
        self.sections: tuple[Section, ...] = (
            self.identifiability, self.child, self.interpreter, self.intimate, self.when_who,
        )  # fmt: skip
        for section in self.sections:
            layout.addWidget(section)
            section.changed.connect(self.changed)
        self.interpreter.language_changed.connect(self.language_changed)

    def values(self) -> dict:
        merged: dict[str, Any] = {}
        for section in self.sections:
            merged.update(section.values())
        return merged

    def set_values(self, values: Mapping[str, Any]) -> None:
        for section in self.sections:
            section.set_values(values)

    def chain_tab_order(self, before: QWidget, after: QWidget) -> None:
        """Tab from `before` through every field here (in order shown), then to `after`."""
        fields = [
            w
            for w in self.findChildren(QWidget)
            if w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not isinstance(w, QGroupBox)
            and w.window() is self.window()  # not a combo box's popup list
        ]
        chain = [before, *fields, after]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def merge_into(self, fields: dict) -> dict:
        return merge(fields, self.values())

    def show_errors(self, errors: Iterable[FieldError], show_all: bool = True) -> None:
        errors = list(errors)
        for section in self.sections:
            section.show_errors(errors, show_all)
