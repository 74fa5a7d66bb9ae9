"""Start-up of `picsafe-desktop import` (issue 17): only the import's own modules are loaded."""

import json
import subprocess
import sys


def test_import_loads_no_other_command_module(tmp_path):
    """Building every command's parser (export, hospital, staff ...) cost about a third of the
    CLI import's start-up; `import` builds only its own."""
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps({}))  # invalid: the command stops before the vault opens
    code = (
        "import sys; from picsafe_desktop.cli import main; "
        f"rc = main(['import', '--consent', {str(consent)!r}, '--vault', "
        f"{str(tmp_path / 'vault')!r}, {str(tmp_path)!r}]); "
        "print(sorted(m for m in sys.modules if m.startswith(('picsafe_desktop.export', "
        "'picsafe_desktop.hospital', 'picsafe_desktop.staff', 'picsafe_desktop.consent_commands', "
        "'PySide6'))), rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "[] 2", out.stdout + out.stderr
    assert "invalid consent record" in out.stderr


def test_import_help_still_describes_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "picsafe_desktop", "import", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--consent" in out.stdout and "SRC" in out.stdout
