import subprocess
import sys

from picsafe_desktop import __version__, cli


def test_version_flag(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"picsafe-desktop {__version__}"


def test_version_imports_no_command_module():
    """Start-up: `--version` must not load the vault, crypto or imaging stacks (0.47 s before)."""
    code = (
        "import sys; from picsafe_desktop.cli import main; rc = main(['-v', '--version']); "
        "print(sorted(m for m in sys.modules if m.startswith(('picsafe_desktop', 'PIL', "
        "'cryptography', 'keyring', 'PySide6'))), rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        f"picsafe-desktop {__version__}",
        "['picsafe_desktop', 'picsafe_desktop.cli'] 0",
    ]


def test_scrub_loads_no_vault_module(tmp_path):
    """`scrub` is per-photo work for scripts: it must not pay for the vault/keyring imports."""
    from PIL import Image

    src = tmp_path / "in.jpg"
    Image.new("RGB", (32, 32), (9, 9, 9)).save(src, "JPEG")
    code = (
        "import sys; from picsafe_desktop.cli import main; "
        f"rc = main(['scrub', {str(src)!r}, {str(tmp_path / 'out.jpg')!r}]); "
        "print(sorted(m for m in sys.modules if m.startswith(('picsafe_desktop.vault', "
        "'keyring', 'cryptography', 'PySide6'))), rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[] 0"
    assert (tmp_path / "out.jpg").is_file()


def test_module_entry_point_matches_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "picsafe_desktop", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"picsafe-desktop {__version__}"


def test_help_lists_only_registered_commands(capsys):
    try:
        cli.main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Run without a command to open the application window" in text
    parser = cli.build_parser()
    shown = set()
    for action in parser._actions:
        if action.choices and hasattr(action, "add_parser"):
            shown |= set(action.choices)
    for name in shown:
        assert name in text
        # every listed command really runs: its --help exits 0 instead of "not implemented"
        result = subprocess.run(
            [sys.executable, "-m", "picsafe_desktop", name, "--help"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr


def test_bad_config_is_usage_error(tmp_path, capsys):
    bad = tmp_path / "c.toml"
    bad.write_text("[nope]\n")
    code = cli.main(["--config", str(bad)])
    assert code == cli.EXIT_USAGE
    assert "unknown section [nope]" in capsys.readouterr().err
