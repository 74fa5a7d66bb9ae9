"""Command-line entry point: no subcommand starts the GUI; subcommands are headless admin tasks.

Exit codes (ARCHITECTURE.md): 0 ok, 1 a check failed, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from picsafe_desktop import APP_ID, __version__

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

# Each module adds its subcommands with `add_commands(subparsers)` and sets `func(args) -> int`.
# Only modules that are built are listed: `--help` never shows a command that does nothing.
COMMAND_MODULES: list[str] = [
    "picsafe_desktop.vault.commands",
    "picsafe_desktop.deid.commands",
    "picsafe_desktop.importer.commands",
    "picsafe_desktop.export.commands",
]


def build_parser() -> argparse.ArgumentParser:
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
    if COMMAND_MODULES:
        sub = parser.add_subparsers(title="commands", metavar="COMMAND")
        for name in COMMAND_MODULES:
            importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
