"""Decisions of the PyInstaller spec that can be unit-tested without running PyInstaller.

installer/picsafe-desktop.spec imports this module (it sits beside the spec); the tests in
tests/unit/test_installer_spec.py call the same functions.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

JPEGTRAN_ENV = "PICSAFE_JPEGTRAN"


class BundleError(RuntimeError):
    """The bundle would be incomplete: stop the build with a message."""


def jpegtran_binaries(windows: bool, env: Mapping[str, str] = os.environ) -> list[tuple[str, str]]:
    """The jpegtran files a Windows bundle carries next to the app (PyInstaller `binaries`).

    DICOM export of a photo stored on its side needs libjpeg-turbo's jpegtran
    (export/upright.py). Linux bundles use the system's (the .deb depends on
    libjpeg-turbo-progs). Windows has no system copy: the workflow downloads libjpeg-turbo's
    official build, checks its SHA-256 and names the jpegtran.exe in PICSAFE_JPEGTRAN. A Windows
    bundle without it is refused rather than built without a working DICOM export.
    """
    if not windows:
        return []
    named = env.get(JPEGTRAN_ENV) or shutil.which("jpegtran") or ""
    exe = Path(named)
    if not named or not exe.is_file():
        raise BundleError(
            f"jpegtran.exe not found: set {JPEGTRAN_ENV} to libjpeg-turbo's bin\\jpegtran.exe "
            "(.github/workflows/windows.yml downloads it)"
        )
    found = [(str(exe), ".")]
    # The official Visual C++ build links its tools against the shared library.
    dll = exe.with_name("jpeg62.dll")
    if dll.is_file():
        found.append((str(dll), "."))
    return found


# Libraries that reach a Linux bundle only because PyInstaller's Qt hook collects every
# platform-theme plugin: libqgtk3.so (the GTK3 file dialog and palette) links GTK 3 and with it
# ATK, Cairo, Pango, HarfBuzz, GdkPixbuf, epoxy, fribidi and pixman from the build machine.
# PicSafe uses Qt's own dialogs and style, so the plugin and what only it needs are left out;
# the xdgdesktopportal theme plugin (Qt-only) stays. GLib/GIO/GObject are not on this list:
# libgphoto2 and Qt's GLib event loop load libglib-2.0 themselves.
GTK_PLUGIN = re.compile(r"(^|/)libqgtk3\.so$")
GTK_ONLY_LIBS = re.compile(
    r"^lib(gtk-3|gdk-3|gdk_pixbuf-2\.0|atk-1\.0|atk-bridge-2\.0|atspi|cairo|cairo-gobject|"
    r"pango-1\.0|pangocairo-1\.0|pangoft2-1\.0|harfbuzz|epoxy|fribidi|pixman-1|"
    r"thai|datrie|graphite2|Xcomposite|Xcursor|Xdamage|Xinerama|Xrandr|Xi|"
    r"cloudproviders|tracker-sparql-3\.0|colord|lcms2|rsvg-2)\.so(\.\d+)*$"
)


def without_gtk(entries: Iterable[tuple]) -> list[tuple]:
    """PyInstaller TOC entries (dest_name, src_name, typecode) minus the GTK3 theme plugin and
    the libraries that only it needs. Names are matched on the destination's file name."""
    kept = []
    for entry in entries:
        dest = str(entry[0]).replace("\\", "/")
        if GTK_PLUGIN.search(dest) or GTK_ONLY_LIBS.match(dest.rsplit("/", 1)[-1]):
            continue
        kept.append(entry)
    return kept
