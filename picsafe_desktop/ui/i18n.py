"""Translations: the app's own catalogue and Qt's, for the system locale (or PICSAFE_LANG).

Translators work on resources/translations/picsafe_desktop_<lang>.ts (docs/translating.md);
`make translations` refreshes the catalogues from the source and compiles each into a .qm that
ships beside it. A locale without a .qm gets the English catalogue (the source language with
its plural forms).
"""

from __future__ import annotations

import logging
import os
from importlib.resources import files

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

CATALOGUE = "picsafe_desktop"
_installed: list[QTranslator] = []  # kept alive: Qt does not own installed translators


def translations_dir():
    return files("picsafe_desktop") / "resources" / "translations"


def installed() -> bool:
    return bool(_installed)


def install_translators(
    app: QCoreApplication, locale: QLocale | None = None, directory: str | None = None
) -> list[str]:
    """Load ours and Qt's catalogue for `locale` (default: PICSAFE_LANG, else the system's),
    ours from `directory` (default: the package's translations folder).

    Returns the .qm files installed.
    """
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    if locale is None:
        wanted = os.environ.get("PICSAFE_LANG", "").strip()
        locale = QLocale(wanted) if wanted else QLocale.system()
    folder = directory or str(translations_dir())
    loaded = []
    ours = QTranslator(app)
    # load(locale, ...) tries de_DE, then de, ...; a language nobody translated yet falls back
    # to English, whose catalogue carries the plural forms ("1 photo", "2 photos").
    english = QLocale(QLocale.Language.English)
    native = ours.load(locale, CATALOGUE, "_", folder, ".qm")
    if native or ours.load(english, CATALOGUE, "_", folder, ".qm"):
        app.installTranslator(ours)
        _installed.append(ours)
        loaded.append(ours.filePath())
    if native and locale.language() != QLocale.Language.English:
        # Qt's own strings (standard buttons, file dialogs) in the same language.
        qt = QTranslator(app)
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt.load(locale, "qtbase", "_", qt_dir, ".qm"):
            app.installTranslator(qt)
            _installed.append(qt)
            loaded.append(qt.filePath())
    if loaded:
        log.info("translations loaded: %s", ", ".join(os.path.basename(p) for p in loaded))
    return loaded
