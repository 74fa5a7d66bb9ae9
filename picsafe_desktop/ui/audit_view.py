"""The audit log as a filterable table, under a banner saying whether its MAC chain verified."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)


class AuditRowLike(Protocol):
    """What the vault's `audit_rows()` returns, as far as this view needs it."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


class AuditReportLike(Protocol):
    """What the vault's `verify_audit()` returns; a `rows` count is used when present."""

    @property
    def ok(self) -> bool: ...
    @property
    def problems(self) -> Sequence[str]: ...


COLUMNS = ("Time", "Staff", "Event", "Subject", "Details")
SortRole = Qt.ItemDataRole.UserRole + 1
BANNER_PROBLEMS = 5  # more than this go to the tooltip, so the banner stays a banner

OK_STYLE = "background: #dff3e4; color: #14532d; border: 1px solid #2e7d32;"
BAD_STYLE = "background: #fde2e2; color: #7f1d1d; border: 1px solid #c62828;"
WAIT_STYLE = "background: #eceff1; color: #37474f; border: 1px solid #90a4ae;"


# What each event means, in words a clinician uses (the log keeps the short token).
EVENT_NAMES = {
    "put": QT_TRANSLATE_NOOP("AuditView", "photo stored (encrypted)"),
    "view": QT_TRANSLATE_NOOP("AuditView", "photo opened"),
    "delete": QT_TRANSLATE_NOOP("AuditView", "photo destroyed"),
    "state": QT_TRANSLATE_NOOP("AuditView", "photo released by consent"),
    "metadata": QT_TRANSLATE_NOOP("AuditView", "photo details changed"),
    "redact": QT_TRANSLATE_NOOP("AuditView", "redacted copy made"),
    "export": QT_TRANSLATE_NOOP("AuditView", "photo exported"),
    "export_failed": QT_TRANSLATE_NOOP("AuditView", "export failed"),
    "batch_create": QT_TRANSLATE_NOOP("AuditView", "import started"),
    "consent": QT_TRANSLATE_NOOP("AuditView", "consent recorded"),
    "consent_view": QT_TRANSLATE_NOOP("AuditView", "consent record read"),
    "patient_list_view": QT_TRANSLATE_NOOP("AuditView", "patient list shown"),
    "consent_delete": QT_TRANSLATE_NOOP("AuditView", "consent record destroyed"),
    "consent_refused": QT_TRANSLATE_NOOP("AuditView", "consent refused"),
    "consent_withdrawn": QT_TRANSLATE_NOOP("AuditView", "consent withdrawn"),
    "consent_draft_discarded": QT_TRANSLATE_NOOP("AuditView", "unfinished consent form discarded"),
    "device_delete": QT_TRANSLATE_NOOP("AuditView", "photos deleted from a phone"),
    "sign_in": QT_TRANSLATE_NOOP("AuditView", "signed in"),
    "sign_out": QT_TRANSLATE_NOOP("AuditView", "signed out or locked"),
    "vault_create": QT_TRANSLATE_NOOP("AuditView", "vault created"),
    "vault_recover": QT_TRANSLATE_NOOP("AuditView", "vault recovered"),
}
PERIODS = {
    "any": None,
    QT_TRANSLATE_NOOP("AuditView", "today"): 0,
    QT_TRANSLATE_NOOP("AuditView", "7 days"): 7,
    QT_TRANSLATE_NOOP("AuditView", "30 days"): 30,
}


def event_name(event: str) -> str:
    name = EVENT_NAMES.get(event)
    return QCoreApplication.translate("AuditView", name) if name else event.replace("_", " ")


def format_time(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_details(details: Mapping[str, Any] | None) -> str:
    if not details:
        return ""
    parts = []
    for key in sorted(details):
        value = details[key]
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


class AuditTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[AuditRowLike, tuple[str, ...]]] = []

    def set_rows(
        self, rows: Sequence[AuditRowLike], names: Mapping[str, str] | None = None
    ) -> None:
        """`names` maps subject ids to what they are ("photo 2 of Philippa Quenby, MRN
        …"), for staff allowed to see who; unnamed subjects show their id."""
        names = names or {}
        self.beginResetModel()
        self._rows = [
            (
                r,
                (
                    format_time(r.at),
                    r.actor or "",
                    event_name(r.event),
                    names.get(r.subject or "", r.subject or ""),
                    format_details(r.details),
                ),
            )
            for r in rows
        ]
        self.endResetModel()

    def row(self, source_row: int) -> AuditRowLike:
        return self._rows[source_row][0]

    def text(self, source_row: int, column: int) -> str:
        return self._rows[source_row][1][column]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, text = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text[column]
        if role == SortRole:
            # Time sorts by the log's own order; equal timestamps keep their sequence.
            return row.seq if column == 0 else text[column].casefold()
        return None

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class AuditFilter(QSortFilterProxyModel):
    """Free text, plus the event, the patient (subject names containing it) and a period."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # (Not "event": that would hide QObject.event and break the model.)
        self.wanted_event = ""  # an EVENT_NAMES value, or "" for all
        self.wanted_patient = ""  # text in the subject's name, or "" for all
        self.days: int | None = None  # None: any time; 0: today; n: the last n days

    def set_criteria(self, event: str, patient: str, days: int | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateFilter() is deprecated
            self.beginFilterChange()
            self.wanted_event, self.wanted_patient, self.days = event, patient, days
            self.endFilterChange()
        else:
            self.wanted_event, self.wanted_patient, self.days = event, patient, days
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:  # noqa: N802
        model = self.sourceModel()
        if self.wanted_event and model.text(source_row, 2) != self.wanted_event:
            return False
        if self.wanted_patient and self.wanted_patient not in model.text(source_row, 3):
            return False
        if self.days is not None:
            at = model.row(source_row).at.astimezone()
            start = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            if at < start - timedelta(days=self.days):
                return False
        return super().filterAcceptsRow(source_row, source_parent)


class AuditView(QWidget):
    """`set_rows(rows, report)` fills it; until then the banner says the log is being checked."""

    def __init__(
        self,
        rows: Sequence[AuditRowLike] | None = None,
        report: AuditReportLike | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Audit log"))

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setMargin(8)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setAccessibleName(self.tr("Audit log check"))

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText(self.tr("Filter by staff, event, subject or details"))
        self.filter_edit.setAccessibleName(self.tr("Filter audit entries"))
        self.filter_edit.setClearButtonEnabled(True)
        filter_label = QLabel(self.tr("&Filter:"), self)
        filter_label.setBuddy(self.filter_edit)
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName(self.tr("Entries shown"))

        self.event_combo = QComboBox(self)
        self.event_combo.setAccessibleName(self.tr("Show events of kind"))
        self.patient_combo = QComboBox(self)
        self.patient_combo.setAccessibleName(self.tr("Show entries about patient"))
        self.period_combo = QComboBox(self)
        self.period_combo.setAccessibleName(self.tr("Show entries from"))
        for text, days in PERIODS.items():
            self.period_combo.addItem(self.tr("any time") if days is None else self.tr(text), days)
        for combo in (self.event_combo, self.patient_combo, self.period_combo):
            combo.currentIndexChanged.connect(lambda _i: self._criteria_changed())
        self._fill_combos([], [])

        self.model = AuditTableModel(self)
        self.proxy = AuditFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(SortRole)
        self.filter_edit.textChanged.connect(self._filter)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(self.tr("Audit entries"))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 140, 130, 200)):
            header.resizeSection(column, width)

        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.filter_edit.setFocus)

        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close.activated.connect(self.close)

        bar = QHBoxLayout()
        bar.addWidget(filter_label)
        bar.addWidget(self.filter_edit, 1)
        for text, combo in (
            ("&Patient:", self.patient_combo),
            ("E&vent:", self.event_combo),
            ("&When:", self.period_combo),
        ):
            label = QLabel(text, self)
            label.setBuddy(combo)
            bar.addWidget(label)
            bar.addWidget(combo)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        self._show_banner(self.tr("Checking the audit log…"), WAIT_STYLE)
        if rows is not None and report is not None:
            self.set_rows(rows, report)
        else:
            self._update_count()

    def set_rows(
        self,
        rows: Sequence[AuditRowLike],
        report: AuditReportLike,
        names: Mapping[str, str] | None = None,
        patients: Sequence[str] = (),
    ) -> None:
        self.model.set_rows(rows, names)
        self._fill_combos(sorted({event_name(r.event) for r in rows}), patients)
        self._update_count()
        if report.ok:
            verified = getattr(report, "rows", None)
            count = verified if isinstance(verified, int) else len(rows)
            self._show_banner(
                self.tr("Audit log intact — {count} entries verified").format(count=count), OK_STYLE
            )
        else:
            problems = list(report.problems) or [self.tr("the check failed without naming a row")]
            shown = "; ".join(problems[:BANNER_PROBLEMS])
            more = len(problems) - BANNER_PROBLEMS
            if more > 0:
                shown += f"; and {more} more (hover for the full list)"
            self._show_banner(
                self.tr("Audit log has been tampered with: {shown}").format(shown=shown),
                BAD_STYLE,
                tooltip="\n".join(problems),
            )

    def banner_ok(self) -> bool | None:
        return self._ok

    def _show_banner(self, text: str, style: str, tooltip: str = "") -> None:
        self._ok = {OK_STYLE: True, BAD_STYLE: False}.get(style)
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel {{ {style} font-weight: bold; }}")
        self.banner.setToolTip(tooltip)
        self.banner.setAccessibleDescription(tooltip or text)

    def _fill_combos(self, events: Sequence[str], patients: Sequence[str]) -> None:
        for combo, values, everyone in (
            (self.event_combo, events, self.tr("all events")),
            (self.patient_combo, patients, self.tr("all patients")),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, "")
            for value in values:
                combo.addItem(value, value)
            combo.blockSignals(False)

    def _criteria_changed(self) -> None:
        if not hasattr(self, "proxy"):
            return
        self.proxy.set_criteria(
            self.event_combo.currentData() or "",
            self.patient_combo.currentData() or "",
            self.period_combo.currentData(),
        )
        self._update_count()

    def fit_screen(self) -> None:
        """At most 1100x640 and inside the screen's free area (a 1366x768 ward PC)."""
        screen = self.screen()
        if screen is None:
            return
        free = screen.availableGeometry()
        width, height = min(1100, free.width() - 40), min(640, free.height() - 60)
        self.resize(width, height)
        self.move(free.x() + (free.width() - width) // 2, free.y() + (free.height() - height) // 3)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(
            self.tr("%n entry(s)", "", total)
            if shown == total
            else self.tr("{shown} of %n entry(s)", "", total).format(shown=shown)
        )
