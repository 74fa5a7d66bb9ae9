"""Settings: the user's own preferences (QSettings) and the site config, shown read-only.

QSettings is a plain, unencrypted file (or registry key) in the user's profile, so only the
preferences listed in PREFERENCES are ever written there: display choices, never patient
data, staff identities, paths of photos or anything else that could identify someone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.config import default_config_path
from picsafe_desktop.ui import look, workers

MASK = "••••"
# Site config values never shown: the FHIR bearer token grants access to the medical record.
SECRET_KEYS = frozenset({"fhir.token", "pacs.stow_token", "pacs.stow_password"})  # + issue 16

Echo = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class Preference:
    key: str  # QSettings key
    default: Any
    kind: type


# Every key this app writes to QSettings for the user; nothing else goes there.
PREFERENCES = {
    "thumbnail_size": Preference("view/thumbnail_size", 160, int),
    "confirm_delete": Preference("behaviour/confirm_delete", True, bool),
}
THUMBNAIL_SIZES = (64, 512)


def read_preference(name: str, settings: QSettings | None = None) -> Any:
    pref = PREFERENCES[name]
    store = settings if settings is not None else QSettings()
    return store.value(pref.key, pref.default, type=pref.kind)


def format_value(dotted: str, value: Any) -> str:
    if dotted in SECRET_KEYS:
        return MASK if value else "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if value is None or value == "":
        return "(not set)"
    return str(value)


class SettingsDialog(QDialog):
    """`echo`, if given, tests the PACS connection; it runs on a worker thread."""

    preferences_saved = Signal()

    def __init__(
        self,
        site,
        echo: Echo | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.site = site
        self._echo = echo
        self._settings = settings if settings is not None else QSettings()
        self.setWindowTitle(self.tr("Settings"))
        self.setAccessibleName(self.tr("Settings"))

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Settings pages"))
        self.tabs.addTab(self._preferences_page(), self.tr("&Your preferences"))
        self.tabs.addTab(self._site_page(), self.tr("&Site configuration"))

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setAccessibleName(
            self.tr("Save preferences")
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel")
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 560)

    # -- preferences -----------------------------------------------------------------------
    def _preferences_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.thumbnail_size = QSpinBox(page)
        self.thumbnail_size.setRange(*THUMBNAIL_SIZES)
        self.thumbnail_size.setSingleStep(16)
        self.thumbnail_size.setSuffix(self.tr(" px"))
        self.thumbnail_size.setAccessibleName(self.tr("Thumbnail size"))
        self.thumbnail_size.setValue(read_preference("thumbnail_size", self._settings))
        self.confirm_delete = QCheckBox(self.tr("Ask before &deleting photos"), page)
        self.confirm_delete.setAccessibleName(self.tr("Ask before deleting photos"))
        self.confirm_delete.setChecked(read_preference("confirm_delete", self._settings))
        size_label = QLabel(self.tr("&Thumbnail size:"), page)
        size_label.setBuddy(self.thumbnail_size)
        form.addRow(size_label, self.thumbnail_size)
        form.addRow(self.confirm_delete)
        note = QLabel(
            self.tr(
                "These choices are stored for your user account on this computer. "
                "No patient information is kept with them."
            ),
            page,
        )
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def save(self) -> None:
        values = {
            "thumbnail_size": self.thumbnail_size.value(),
            "confirm_delete": self.confirm_delete.isChecked(),
        }
        for name, value in values.items():
            self._settings.setValue(PREFERENCES[name].key, value)
        self._settings.sync()
        self.preferences_saved.emit()
        self.accept()

    # -- site config -----------------------------------------------------------------------
    def _site_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        source = getattr(self.site, "source", None)
        if source:
            text = self.tr("Read from {source}. Set by IT; it cannot be changed here.").format(
                source=source
            )
        else:
            text = self.tr(
                "No site configuration file was found, so the built-in defaults are in use. "
                "IT can provide one at {path}."
            ).format(path=default_config_path())
        self.source_label = QLabel(text, page)
        self.source_label.setWordWrap(True)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source_label.setAccessibleName(self.tr("Site configuration file"))
        layout.addWidget(self.source_label)

        self.site_tree = QTreeWidget(page)
        self.site_tree.setAccessibleName(self.tr("Site configuration values"))
        self.site_tree.setHeaderLabels(["Setting", "Value"])
        self.site_tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.site_tree.setColumnWidth(0, 230)
        for section, values in self.site.as_dict().items():
            parent = QTreeWidgetItem(self.site_tree, [section, ""])
            for key, value in values.items():
                QTreeWidgetItem(parent, [key, format_value(f"{section}.{key}", value)])
        self.site_tree.expandAll()
        layout.addWidget(self.site_tree, 1)

        self.pacs_button = QPushButton(self.tr("Test &PACS connection"), page)
        self.pacs_button.setAccessibleName(self.tr("Test PACS connection"))
        self.pacs_button.clicked.connect(self.test_pacs)
        self.pacs_result = QLabel(page)
        self.pacs_result.setWordWrap(True)
        self.pacs_result.setAccessibleName(self.tr("PACS connection result"))
        if self._echo is None:
            self.pacs_button.setEnabled(False)
            self.pacs_result.setText(self.tr("The connection test is not available here."))
        elif not self.site.pacs.host:
            self.pacs_button.setEnabled(False)
            self.pacs_result.setText(self.tr("No PACS is configured (pacs.host is not set)."))
        row = QHBoxLayout()
        row.addWidget(self.pacs_button)
        row.addWidget(self.pacs_result, 1)
        layout.addLayout(row)
        return page

    def test_pacs(self) -> None:
        if self._echo is None:
            return
        self.pacs_button.setEnabled(False)
        pacs = self.site.pacs
        self._show_result(
            None,
            self.tr("Testing the connection to {host}:{port}…").format(
                host=pacs.host, port=pacs.port
            ),
        )
        workers.submit(self._echo, on_done=self._echo_done, on_error=self._echo_failed)

    def _echo_done(self, result: tuple[bool, str]) -> None:
        ok, message = result
        self._show_result(ok, message)

    def _echo_failed(self, exc: Exception) -> None:
        self._show_result(False, str(exc) or type(exc).__name__)

    def _show_result(self, ok: bool | None, message: str) -> None:
        if ok is None:
            self.pacs_result.setText(message)
            self.pacs_result.setStyleSheet("")
            return
        self.pacs_button.setEnabled(True)
        self.pacs_result.setText(f"{'Connected' if ok else 'Failed'}: {message}")
        self.pacs_result.setStyleSheet(look.ok_style() if ok else look.error_style())
