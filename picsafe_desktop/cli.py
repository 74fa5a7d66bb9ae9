"""Command-line entry point: no subcommand starts the GUI; subcommands are headless admin tasks.

Exit codes (ARCHITECTURE.md): 0 ok, 1 a check failed, 2 usage or input error.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from picsafe_desktop import APP_ID, __version__

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

# Each module adds its subcommands with `add_commands(subparsers)` and sets `func(args) -> int`.
# Only modules that are built are listed: `--help` never shows a command that does nothing.
COMMAND_MODULES: list[str] = [
    "picsafe_desktop.vault.commands",
    "picsafe_desktop.deid.commands",
    "picsafe_desktop.importer.commands",
    "picsafe_desktop.export.commands",
    "picsafe_desktop.export.outbox_commands",
    "picsafe_desktop.staff.commands",
    "picsafe_desktop.consent_commands",
    "picsafe_desktop.hospital_commands",
]


# Commands whose whole work is in one light module: running them imports only that module, not
# the vault and keyring stacks every other command needs (a quarter of a second at start-up).
LIGHT_COMMANDS = {
    "scrub": ["picsafe_desktop.deid.commands"],
    # `vault list` of 100,000 photos: not Pillow and the exporters. staff.commands adds
    # `vault init --admin` to the vault parser.
    "vault": ["picsafe_desktop.vault.commands", "picsafe_desktop.staff.commands"],
    # The import needs the vault, but not export, hospital, staff or consent-admin commands.
    "import": ["picsafe_desktop.importer.commands"],
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    import argparse  # not at module level: `--version` needs neither this nor any command
    import importlib

    parser = argparse.ArgumentParser(
        prog=APP_ID,
        description="PicSafe Desktop: de-identify, encrypt and consent clinical photos. "
        "Run without a command to open the application window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="site config file (default: $PICSAFE_CONFIG or the "
        "platform config folder; see docs/configuration.md)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    modules = LIGHT_COMMANDS.get(command or "", COMMAND_MODULES)
    if modules:
        sub = parser.add_subparsers(title="commands", metavar="COMMAND")
        for name in modules:
            importlib.import_module(name).add_commands(sub)
    return parser


def _first_word(argv: list[str]) -> str | None:
    """The command, or "--version" (or None) when that comes first; skips -v and --config."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            i += 2
        elif arg.startswith("--config=") or arg in ("-v", "--verbose"):
            i += 1
        else:
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    first = _first_word(argv)
    if first == "--version":
        # Answered before any command module is imported (they pull in the vault,
        # cryptography, Pillow ...: half a second before printing one line).
        print(f"{APP_ID} {__version__}")
        return EXIT_OK
    parser = build_parser(first)
    args = parser.parse_args(argv)

    from picsafe_desktop import config, logsetup

    try:
        site = config.load(args.config)
    except config.ConfigError as exc:
        print(f"{APP_ID}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log_file = logsetup.configure(site, verbose=args.verbose)
    args.site_config = site

    func = getattr(args, "func", None)
    if func is not None:
        from picsafe_desktop import shutdown

        shutdown.install()  # SIGTERM: stop cleanly (see shutdown.py), never midway
        try:
            return int(func(args) or EXIT_OK)
        except Exception:  # noqa: BLE001 - a bug: report it without patient data, then exit 1
            logsetup.log_crash(*sys.exc_info(), where=func.__module__)
            where = f"; details for IT (without patient data) are in {log_file}" if log_file else ""
            print(
                f"{APP_ID}: stopped by an unexpected error{where}. Run `{APP_ID} vault verify` "
                "before trying again, and report the error to IT",
                file=sys.stderr,
            )
            return EXIT_CHECK_FAILED

    from picsafe_desktop import app

    return app.run_gui(site)
