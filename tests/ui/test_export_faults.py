"""Exporting from the real window to a target that cannot take it (issue 13's fault drills,
bench/walk_faults.py): a read-only folder, a full drive. Expected: the dialog says "Not
exported", names the file and what to do, leaves no partial file, audits no export, and the
window keeps running."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui.test_desktop import (  # noqa: F401 - fixtures
    consented_window,
    drop,
    services,
    site,
    window,
)

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]


@contextlib.contextmanager
def small_drive(size: str, *, read_only: bool = False):
    """A tmpfs of `size` (root); as a normal user, a read-only folder by its mode."""
    folder = Path(tempfile.mkdtemp(prefix="picsafe-export-target-"))
    if os.geteuid() != 0:
        if not read_only:
            folder.rmdir()
            pytest.skip("a full drive needs root (a tmpfs)")
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
            folder.rmdir()
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def export_to(qtbot, window, out: Path):  # noqa: F811 - pytest fixture
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.kind_buttons["pdf"].setChecked(True)
    dialog.file_edit.clear()
    qtbot.keyClicks(dialog.file_edit, str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.outcome is not None or "Not exported" in dialog.result_label.text(),
        timeout=30000,
    )
    return dialog


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_export_to_a_target_that_cannot_take_it(qtbot, window, services, drop, fault):  # noqa: F811
    consented_window(qtbot, window, drop)
    with small_drive("64k", read_only=fault == "read-only") as target:
        if fault == "full":
            fd = os.open(target / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * 512)
            os.close(fd)
        out = target / "report.pdf"
        dialog = export_to(qtbot, window, out)
        text = dialog.result_label.text()
        assert dialog.outcome is None and "Not exported" in text, text
        assert "report.pdf" in text or str(target) in text, text
        assert "Traceback" not in text
        assert not out.exists(), "no partial export left behind"
        leftovers = [p.name for p in target.iterdir() if p.name != "filler"]
        assert leftovers == [], leftovers
    assert not [r for r in services.vault.audit_rows() if r.event == "export"]
    assert window.isVisible()
    print(f"{fault}: {text}")
