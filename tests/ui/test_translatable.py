"""Every user-visible string is ready for translation (issue 12, look and feel).

- No bare string literal reaches a widget call in ui/: it goes through self.tr() or
  QCoreApplication.translate(), so pyside6-lupdate finds it.
- The source catalogue (resources/translations/picsafe_desktop_en.ts) is what lupdate makes of
  the source today: `make translations` after adding or changing a string.
- A .qm for the locale is loaded, and the widgets then speak that language (mixins included).
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale

from picsafe_desktop.ui import i18n

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "picsafe_desktop" / "ui"
CATALOGUE = REPO / "picsafe_desktop" / "resources" / "translations" / "picsafe_desktop_en.ts"

# Calls whose string arguments a person reads: window titles, labels, buttons, menus, tooltips,
# status messages, message boxes, input dialogs, form rows, tabs, combo entries.
WIDGET_CALLS = {
    "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QAction", "QToolButton",
    "QMenu", "QMessageBox", "QListWidgetItem", "QProgressDialog", "QToolBar",
    "setText", "setWindowTitle", "setToolTip", "setStatusTip", "setWhatsThis",
    "setPlaceholderText", "setAccessibleName", "setInformativeText", "setLabelText",
    "setTitle", "setTabText", "setTabToolTip", "setSpecialValueText", "setSuffix", "setPrefix",
    "addAction", "addMenu", "addTab", "addRow", "_row", "addItem", "addItems", "addButton",
    "setHeaderLabels", "setHorizontalHeaderLabels", "showMessage",
    "information", "warning", "question", "critical", "about",
    "getText", "getItem", "getOpenFileName", "getSaveFileName", "getExistingDirectory",
    "setAccessibleDescription", "drawText",
    # our own ui helpers whose string arguments are shown (labels, titles, messages)
    "action", "button", "_error", "_line", "_combo", "save_file_name", "open_file_names",
    "_confirm_destruction", "_show_banner", "_run_import", "show_error", "_refused",
    "_show_result", "show_import_problems",
}  # fmt: skip
# Arguments that are keys, not text: a form row's field path, a shortcut.
_KEYS = re.compile(r"^([a-z_]+(\.[a-z_]+)*|Ctrl\+[A-Za-z+]+)$")


def _readable(node: ast.AST) -> bool:
    """A literal with letters in it (an f-string counts; "" and "…" are not words)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(c.isalpha() for c in node.value) and not _KEYS.match(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(v, ast.Constant) and any(c.isalpha() for c in v.value) for v in node.values
        )
    if isinstance(node, ast.BinOp):  # "a" + b: concatenated fragments are untranslatable too
        return _readable(node.left) or _readable(node.right)
    if isinstance(node, ast.IfExp):
        return _readable(node.body) or _readable(node.orelse)
    return False


def bare_literals(source: str, filename: str = "<source>") -> list[str]:
    """`file:line: call` for each bare user-visible literal passed to a widget call."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in WIDGET_CALLS:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if _readable(arg):
                found.append(f"{filename}:{arg.lineno}: {name}(…) gets a bare string")
    return found


def test_the_check_catches_bare_strings_and_passes_wrapped_ones():
    bad = """
label = QLabel("Patient name", self)
box.setWindowTitle(f"Export — {who}")
self.statusBar().showMessage("Saved " + path)
button.setText("Stop" if busy else "Start")
"""
    assert len(bare_literals(bad)) == 4
    good = """
label = QLabel(self.tr("Patient name"), self)
box.setWindowTitle(self.tr("Export — {who}").format(who=who))
self.statusBar().showMessage(QCoreApplication.translate("Main", "Saved {path}").format(path=p))
label.setText(self.tr("%n photo(s)", "", n))
label.setText("")
edit.setText(value)
"""
    assert bare_literals(good) == []


def test_no_ui_file_passes_a_bare_string_to_a_widget():
    problems = []
    for path in [*sorted(UI.glob("*.py")), UI.parent / "app.py", UI.parent / "gui.py"]:
        problems += bare_literals(path.read_text(encoding="utf-8"), path.name)
    assert not problems, "wrap these in self.tr() / QCoreApplication.translate():\n" + "\n".join(
        problems
    )


def _lupdate() -> Path:
    tool = Path(REPO / ".venv" / "bin" / "pyside6-lupdate")
    if not tool.exists():
        pytest.fail("pyside6-lupdate is missing from the venv (PySide6-Essentials ships it)")
    return tool


def test_the_source_catalogue_is_up_to_date(tmp_path):
    _lupdate()
    subprocess.run(
        [str(REPO / "scripts" / "update-translations"), str(tmp_path)], check=True, timeout=120
    )
    stale = [
        shipped.name
        for shipped in sorted(CATALOGUE.parent.glob("picsafe_desktop_*.*"))
        if (tmp_path / shipped.name).read_bytes() != shipped.read_bytes()
    ]
    assert not stale, (
        f"translation catalogues out of date: {stale}; run `make translations` and commit "
        f"{CATALOGUE.parent.relative_to(REPO)}"
    )


def test_a_compiled_catalogue_for_the_locale_is_loaded_and_used(qapp, tmp_path):
    """A German catalogue with two strings: a widget's own and one from a mixin (ImportMixin's
    banner button is built by MainWindow): both come out in German, the rest stays English."""
    from picsafe_desktop import config
    from picsafe_desktop.ui.lock import LockScreen
    from picsafe_desktop.ui.main_window import MainWindow

    ts = tmp_path / "picsafe_desktop_de.ts"
    ts.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context><name>LockScreen</name>
<message><source>&amp;Sign in</source><translation>&amp;Anmelden</translation></message>
</context>
<context><name>ImportMixin</name>
<message><source>Not now</source><translation>Nicht jetzt</translation></message>
</context>
</TS>
""",
        encoding="utf-8",
    )
    release = _lupdate().with_name("pyside6-lrelease")
    subprocess.run([str(release), "-silent", str(ts)], check=True, timeout=60)
    assert ts.with_suffix(".qm").exists()
    try:
        loaded = i18n.install_translators(qapp, QLocale("de_DE"), str(tmp_path))
        assert any(p.endswith("picsafe_desktop_de.qm") for p in loaded)
        screen = LockScreen("pin")
        assert screen.sign_in_button.text() == "&Anmelden"
        window = MainWindow(config.from_dict({}))
        assert window.banner_dismiss.text() == "Nicht jetzt"
        assert window.banner_import.text() == "&Import photos from it"  # not translated: English
        window.deleteLater()
        screen.deleteLater()
    finally:
        i18n.install_translators(qapp, QLocale("en_GB"))
    assert QCoreApplication.translate("LockScreen", "&Sign in") == "&Sign in"


@pytest.mark.parametrize("locale", ["en_GB", "en_US", "fr_FR"])
def test_english_plural_forms_for_english_and_untranslated_languages(qapp, locale):
    loaded = i18n.install_translators(qapp, QLocale(locale))
    try:
        assert [Path(p).name for p in loaded] == ["picsafe_desktop_en.qm"]
        say = QCoreApplication.translate
        assert say("ExportDialog", "&Export %n photo(s)", "", 1) == "&Export 1 photo"
        assert say("ExportDialog", "&Export %n photo(s)", "", 3) == "&Export 3 photos"
        assert say("AuditView", "%n entry(s)", "", 4) == "4 entries"
    finally:
        i18n.install_translators(qapp, QLocale("en_GB"))


def test_each_main_window_mixin_translates_in_its_own_context(qapp):
    """lupdate files a mixin's strings under the mixin's class; MainWindow inherits several
    mixins, and one shared `_tr` name would make every mixin look its strings up in the first
    mixin's context (found nowhere, so never translated)."""
    from picsafe_desktop import config
    from picsafe_desktop.ui.main_window import MainWindow

    loaded = i18n.install_translators(qapp, QLocale("en_GB"))
    assert loaded
    window = MainWindow(config.from_dict({}))
    try:
        # English plural forms exist only in the catalogue: found only in the right context.
        assert window._PhotoActionsMixin__tr("%n photo(s) destroyed", "", 1) == "1 photo destroyed"
        said = window._WristbandScanMixin__tr(
            "Looking for a wristband barcode among the %n photo(s)… you can start meanwhile.",
            "",
            1,
        )
        assert said.startswith("Looking for a wristband barcode among the 1 photo…")
    finally:
        window.deleteLater()
