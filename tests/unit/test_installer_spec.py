"""What the bundle carries (installer/bundle_parts.py, used by the PyInstaller spec) and what the
Windows workflow and MSI source do to get jpegtran.exe shipped (issue 18)."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET  # noqa: N817
from pathlib import Path

import pytest
import yaml

from picsafe_desktop.export import upright
from picsafe_desktop.export.types import ExportError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer"))
import bundle_parts  # noqa: E402

WORKFLOW = REPO / ".github" / "workflows" / "windows.yml"
SPEC = REPO / "installer" / "picsafe-desktop.spec"
WXS = REPO / "installer" / "windows" / "picsafe-desktop.wxs"


def test_a_windows_bundle_carries_the_named_jpegtran_and_its_dll(tmp_path):
    (tmp_path / "jpegtran.exe").write_bytes(b"MZ")
    (tmp_path / "jpeg62.dll").write_bytes(b"MZ")
    env = {"PICSAFE_JPEGTRAN": str(tmp_path / "jpegtran.exe")}
    assert bundle_parts.jpegtran_binaries(True, env) == [
        (str(tmp_path / "jpegtran.exe"), "."),
        (str(tmp_path / "jpeg62.dll"), "."),
    ]
    assert bundle_parts.jpegtran_binaries(False, env) == []  # Linux: the system's (.deb Depends)


def test_a_windows_bundle_without_jpegtran_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_parts.shutil, "which", lambda name: None)
    with pytest.raises(bundle_parts.BundleError, match="PICSAFE_JPEGTRAN"):
        bundle_parts.jpegtran_binaries(True, {})
    with pytest.raises(bundle_parts.BundleError):
        bundle_parts.jpegtran_binaries(True, {"PICSAFE_JPEGTRAN": str(tmp_path / "missing.exe")})


def test_the_spec_uses_the_tested_helpers():
    spec = SPEC.read_text()
    assert "binaries = jpegtran_binaries(WINDOWS)" in spec
    assert "a.binaries = without_gtk(a.binaries)" in spec


def test_gtk_theme_plugin_and_gtk_only_libraries_are_left_out():
    toc = [
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/x/libqgtk3.so", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "/x/p.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        ("libgtk-3.so.0", "/usr/lib/libgtk-3.so.0", "BINARY"),
        ("libgdk-3.so.0", "/usr/lib/libgdk-3.so.0", "BINARY"),
        ("libpangocairo-1.0.so.0", "/usr/lib/libpangocairo-1.0.so.0", "BINARY"),
        ("libatk-bridge-2.0.so.0", "/usr/lib/libatk-bridge-2.0.so.0", "BINARY"),
        ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"),
        ("libglib-2.0.so.0", "/usr/lib/libglib-2.0.so.0", "BINARY"),  # libgphoto2, Qt's loop
        ("libgphoto2.so.6", "/x/libgphoto2.so.6", "BINARY"),
        ("gphoto2/libgphoto2/2.5.31/ptp2.so", "/x/ptp2.so", "DATA"),
        ("pillow_heif.libs/libheif-1a2b.so.1", "/x/libheif.so", "BINARY"),
        ("pillow.libs/libharfbuzz-3c4d5e.so.0", "/x/hb.so", "BINARY"),  # Pillow's own copy
    ]
    kept = [entry[0] for entry in bundle_parts.without_gtk(toc)]
    assert kept == [
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "libglib-2.0.so.0",
        "libgphoto2.so.6",
        "gphoto2/libgphoto2/2.5.31/ptp2.so",
        "pillow_heif.libs/libheif-1a2b.so.1",
        "pillow.libs/libharfbuzz-3c4d5e.so.0",
    ]


def _steps(job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]


def test_the_windows_workflow_fetches_a_pinned_checked_jpegtran_before_bundling():
    steps = _steps("bundle-and-msi")
    names = [step.get("name", "") for step in steps]
    fetch = next(i for i, name in enumerate(names) if "jpegtran" in name)
    bundle = next(i for i, name in enumerate(names) if name.startswith("PyInstaller"))
    assert fetch < bundle
    step = steps[fetch]
    assert re.fullmatch(r"\d+(\.\d+){2,3}", step["env"]["LIBJPEG_TURBO_VERSION"])
    assert re.fullmatch(r"[0-9a-f]{64}", step["env"]["LIBJPEG_TURBO_SHA256"])
    script = step["run"]
    assert script.startswith("$PSNativeCommandUseErrorActionPreference = $true")
    assert "releases/download/$env:LIBJPEG_TURBO_VERSION/" in script  # the official release
    assert re.search(r"Get-FileHash .* -Algorithm SHA256", script)
    assert "-ne $env:LIBJPEG_TURBO_SHA256) { throw" in script
    assert 'Add-Content $env:GITHUB_ENV "PICSAFE_JPEGTRAN=' in script
    # The bundle is checked to carry it, and it runs with no PATH beyond Windows' own.
    later = "\n".join(step.get("run", "") for step in steps[bundle:])
    assert r"_internal\jpegtran.exe -rotate 90" in later


def test_the_msi_takes_every_file_of_the_bundle_folder_tree():
    ns = {"w": "http://wixtoolset.org/schemas/v4/wxs"}
    root = ET.parse(WXS).getroot()
    includes = [f.get("Include") for f in root.iterfind(".//w:Files", ns)]
    # `**` takes subfolders too: jpegtran.exe sits in the bundle's _internal folder.
    assert includes == [r"$(var.BundleDir)\**"]


def test_a_frozen_windows_app_uses_the_jpegtran_exe_in_its_bundle(tmp_path, monkeypatch):
    (tmp_path / "jpegtran.exe").write_bytes(b"MZ")
    monkeypatch.setattr(upright.sys, "platform", "win32")
    monkeypatch.setattr(upright.sys, "frozen", True, raising=False)
    monkeypatch.setattr(upright.sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(upright.shutil, "which", lambda name: None)
    assert upright.jpegtran() == str(tmp_path / "jpegtran.exe")
    (tmp_path / "jpegtran.exe").unlink()
    with pytest.raises(ExportError, match="reinstall PicSafe Desktop"):
        upright.jpegtran()


def test_jpegtran_never_opens_a_console_window_from_the_windowless_app(monkeypatch):
    seen = {}

    def fake_run(args, **kwargs):
        seen.update(kwargs)
        raise OSError("stop here")

    monkeypatch.setattr(upright.subprocess, "CREATE_NO_WINDOW", 0x08000000, raising=False)
    monkeypatch.setattr(upright, "_NO_WINDOW", 0x08000000)
    monkeypatch.setattr(upright.subprocess, "run", fake_run)
    monkeypatch.setattr(upright, "jpegtran", lambda: "jpegtran")
    with pytest.raises(ExportError):
        upright.make_upright(b"\xff\xd8", 6)
    assert seen["creationflags"] == 0x08000000
