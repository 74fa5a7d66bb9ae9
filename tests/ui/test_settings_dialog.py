"""Settings: preferences in QSettings (no patient data), site config read-only, PACS echo."""

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTreeWidgetItemIterator
from shiboken6 import isValid

from picsafe_desktop import config
from picsafe_desktop.ui import workers
from picsafe_desktop.ui.settings_dialog import MASK, PREFERENCES, SettingsDialog, read_preference

TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-bearer-token"
SITE = {
    "security": {"idle_lock_minutes": 10},
    "import": {"drop_folders": ["/srv/drop/ward7"]},
    "pacs": {"host": "pacs.example.nhs.uk", "port": 11112, "ae_title": "PACS1"},
    "fhir": {"base_url": "https://ehr.example/fhir", "token": TOKEN},
}


@pytest.fixture
def prefs(tmp_path):
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


def make(qtbot, prefs, site=None, echo=None):
    site = site or config.from_dict(SITE, Path("/etc/xdg/picsafe-desktop/config.toml"))
    dialog = SettingsDialog(site, echo=echo, settings=prefs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def tree_values(dialog):
    out = {}
    it = QTreeWidgetItemIterator(dialog.site_tree)
    while it.value():
        item = it.value()
        if item.parent():
            out[f"{item.parent().text(0)}.{item.text(0)}"] = item.text(1)
        it += 1
    return out


def all_text(dialog):
    texts = [w.text() for w in dialog.findChildren(QLabel)]
    texts += [w.toolTip() for w in dialog.findChildren(QLabel)]
    return "\n".join(texts + [f"{k}={v}" for k, v in tree_values(dialog).items()])


def test_site_config_is_shown_with_token_masked(qtbot, prefs):
    dialog = make(qtbot, prefs)
    values = tree_values(dialog)
    assert values["fhir.token"] == MASK
    assert values["fhir.base_url"] == "https://ehr.example/fhir"
    assert values["security.idle_lock_minutes"] == "10"
    assert values["pacs.tls"] == "no"
    assert values["import.drop_folders"] == "/srv/drop/ward7"
    assert values["consent.wording_file"] == "(not set)"
    assert set(values) == {
        f"{s}.{k}" for s, keys in config.SCHEMA.items() for k in keys
    }  # every setting, nothing else
    assert TOKEN not in all_text(dialog)
    assert "/etc/xdg/picsafe-desktop/config.toml" in dialog.source_label.text()


def test_site_config_cannot_be_edited(qtbot, prefs):
    dialog = make(qtbot, prefs)
    tree = dialog.site_tree
    item = tree.topLevelItem(0).child(0)
    tree.setCurrentItem(item, 1)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    qtbot.mouseDClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
    )
    assert tree.state() != tree.State.EditingState
    assert not item.flags() & Qt.ItemFlag.ItemIsEditable
    assert tree.editTriggers() == tree.EditTrigger.NoEditTriggers


def test_defaults_without_a_config_file(qtbot, prefs):
    dialog = make(qtbot, prefs, site=config.from_dict({}), echo=lambda: (True, "ok"))
    assert "built-in defaults" in dialog.source_label.text()
    assert str(config.default_config_path()) in dialog.source_label.text()
    assert tree_values(dialog)["fhir.token"] == "(not set)"
    assert not dialog.pacs_button.isEnabled()  # no PACS host configured
    assert "No PACS is configured" in dialog.pacs_result.text()


def test_without_an_echo_function_the_test_button_is_off(qtbot, prefs):
    dialog = make(qtbot, prefs)
    assert not dialog.pacs_button.isEnabled()
    assert "not available" in dialog.pacs_result.text()


def test_preferences_saved_and_only_known_keys_written(qtbot, prefs):
    dialog = make(qtbot, prefs)
    assert prefs.allKeys() == []  # opening writes nothing
    assert dialog.thumbnail_size.value() == 160
    assert dialog.confirm_delete.isChecked()
    dialog.thumbnail_size.setValue(224)
    dialog.confirm_delete.setChecked(False)
    with qtbot.waitSignal(dialog.preferences_saved):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert sorted(prefs.allKeys()) == sorted(p.key for p in PREFERENCES.values())
    stored = " ".join(str(prefs.value(k)) for k in prefs.allKeys())
    for site_value in (TOKEN, "pacs.example.nhs.uk", "ehr.example", "/srv/drop/ward7"):
        assert site_value not in stored
    assert read_preference("thumbnail_size", prefs) == 224
    assert read_preference("confirm_delete", prefs) is False

    again = make(qtbot, prefs)  # a new dialog shows what was saved
    assert again.thumbnail_size.value() == 224
    assert not again.confirm_delete.isChecked()
    assert not hasattr(again, "import_notifications"), "saved but never read: removed"


def test_cancel_writes_nothing(qtbot, prefs):
    dialog = make(qtbot, prefs)
    dialog.thumbnail_size.setValue(96)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert prefs.allKeys() == []


def test_pacs_echo_runs_on_a_worker_and_shows_success(qtbot, prefs):
    threads = []

    def echo():
        threads.append(threading.current_thread())
        return True, "C-ECHO to PACS1 at pacs.example.nhs.uk:11112 succeeded"

    dialog = make(qtbot, prefs, echo=echo)
    dialog.pacs_button.click()
    qtbot.waitUntil(lambda: dialog.pacs_result.text().startswith("Connected"))
    assert "succeeded" in dialog.pacs_result.text()
    assert threads and threads[0] is not threading.main_thread()
    assert dialog.pacs_button.isEnabled()


def test_pacs_echo_failure_and_exception(qtbot, prefs):
    dialog = make(qtbot, prefs, echo=lambda: (False, "association rejected"))
    dialog.pacs_button.click()
    qtbot.waitUntil(lambda: dialog.pacs_result.text() == "Failed: association rejected")

    def broken():
        raise ConnectionRefusedError("connection refused by pacs.example.nhs.uk:11112")

    dialog = make(qtbot, prefs, echo=broken)
    dialog.pacs_button.click()
    qtbot.waitUntil(lambda: dialog.pacs_result.text().startswith("Failed: connection refused"))


def test_button_waits_while_echo_runs_and_closing_early_is_safe(qtbot, prefs):
    release = threading.Event()

    def slow_echo():
        release.wait(10)
        return True, "ok"

    dialog = make(qtbot, prefs, echo=slow_echo)
    dialog.pacs_button.click()
    assert not dialog.pacs_button.isEnabled()
    assert "Testing the connection to pacs.example.nhs.uk:11112" in dialog.pacs_result.text()
    dialog.close()
    dialog.deleteLater()
    qtbot.waitUntil(lambda: not isValid(dialog))
    release.set()
    assert workers.wait_for_done(5000)
    # The worker's result is now queued for the deleted dialog; delivering it must not raise.
    QApplication.processEvents()


def test_accessible_names_and_fits_ward_screen(qtbot, prefs):
    dialog = make(qtbot, prefs, echo=lambda: (True, "ok"))
    for b in dialog.findChildren(QPushButton):
        assert b.accessibleName(), b.text()
    for w in (
        dialog.thumbnail_size,
        dialog.confirm_delete,
        dialog.site_tree,
        dialog.source_label,
        dialog.pacs_result,
    ):
        assert w.accessibleName()
    assert dialog.width() <= 1366 and dialog.height() <= 768
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768
