"""`picsafe-desktop outbox list|retry`: what waits for the PACS and the FHIR server, and send it;
`picsafe-desktop atna forward|status`: audit events for the audit record repository.

`list` shows no patient data: entry ids, destination, photo counts, attempts, next attempt and
the last error. `retry` attempts every entry now (held ones too) and exits 1 if any is still
waiting afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.vault.commands import add_vault_arguments

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_vault_arguments(common)
    parser = subparsers.add_parser(
        "outbox",
        help="sends waiting for the PACS and the FHIR server: list, retry",
        description="Record copies for the PACS and the FHIR server wait in the vault's "
        "outbox until the server acknowledges them; they are retried with back-off.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    p = actions.add_parser("list", parents=[common], help="what is waiting (no patient data)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run, outbox_action="list")
    p = actions.add_parser("retry", parents=[common], help="send everything waiting now")
    p.set_defaults(func=run, outbox_action="retry")

    parser = subparsers.add_parser(
        "atna",
        help="audit events for the hospital's audit repository: forward, status",
        description="Every audit event is also sent as a DICOM audit message over syslog to "
        "[audit] syslog_url, through an encrypted spool in the vault while it is unreachable.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    p = actions.add_parser("forward", parents=[common], help="send new and spooled events now")
    p.set_defaults(func=run_atna, atna_action="forward")
    p = actions.add_parser("status", parents=[common], help="how many events wait")
    p.set_defaults(func=run_atna, atna_action="status")


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


def _site(args: argparse.Namespace):  # noqa: ANN202 - config.SiteConfig
    site = getattr(args, "site_config", None)
    if site is None:
        from picsafe_desktop import config

        site = config.load(getattr(args, "config", None))
    return site


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def run(args: argparse.Namespace) -> int:
    from picsafe_desktop.export import outbox
    from picsafe_desktop.export.targets import outbox_settings, site_options
    from picsafe_desktop.vault import Vault, VaultError
    from picsafe_desktop.vault.vault import DEFAULT_SERVICE

    site = _site(args)
    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    read_only = args.outbox_action == "list"
    try:
        with Vault.open(
            vault_dir, args.keyring_service or DEFAULT_SERVICE, read_only=read_only
        ) as vault:
            if read_only:
                return _list(vault.outbox_entries(), args.json)
            results = outbox.deliver(vault, site_options(site), force=True, **outbox_settings(site))
            left = vault.outbox_entries()
    except VaultError as exc:
        _err(str(exc))
        return EXIT_USAGE
    for r in results:
        status = "delivered" if r.delivered else f"not delivered: {r.message}"
        print(f"{r.entry_id}  {outbox.NAMES.get(r.kind, r.kind)}  {r.photos} photo(s)  {status}")
    print(outbox.banner(outbox.waiting_in(left)) or "Nothing is waiting.")
    return EXIT_CHECK_FAILED if left else EXIT_OK


def _list(entries, as_json: bool) -> int:
    from picsafe_desktop.export import outbox

    rows = [
        {
            "entry": e.entry_id,
            "destination": e.kind,
            "photos": e.photos,
            "state": e.state,
            "attempts": e.attempts,
            "queued_at": e.created_at,
            "next_attempt": _when(e.next_at),
            "last_error": e.payload.get("last_error", ""),
        }
        for e in entries
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for r in rows:
        error = f"  last error: {r['last_error']}" if r["last_error"] else ""
        print(
            f"{r['entry']}  {outbox.NAMES.get(r['destination'], r['destination'])}  "
            f"{r['photos']} photo(s)  {r['state']}  attempts {r['attempts']}  "
            f"next {r['next_attempt']}{error}"
        )
    print(outbox.banner(outbox.waiting_in(entries)) or "Nothing is waiting.")
    return EXIT_OK


def run_atna(args: argparse.Namespace) -> int:
    from picsafe_desktop.export import atna
    from picsafe_desktop.export.types import ExportError
    from picsafe_desktop.vault import Vault, VaultError
    from picsafe_desktop.vault.vault import DEFAULT_SERVICE

    site = _site(args)
    try:
        target = atna.target_from_site(site)
    except ExportError as exc:
        _err(str(exc))
        return EXIT_USAGE
    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    status = args.atna_action == "status"
    try:
        with Vault.open(vault_dir, args.keyring_service or DEFAULT_SERVICE, read_only=status) as v:
            if status:
                where = target.describe() if target else "no repository configured"
                print(f"{v.atna_count()} audit message(s) waiting for {where}.")
                return EXIT_OK
            if target is None:
                _err("no audit repository is configured: set [audit] syslog_url")
                return EXIT_USAGE
            forwarder = atna.Forwarder(v, target, atna.source_from_site(site))
            forwarder.check_vault()
            sent, problem = forwarder.run_once()
            left = v.atna_count()
    except VaultError as exc:
        _err(str(exc))
        return EXIT_USAGE
    print(f"Sent {sent} audit message(s) to {target.describe()}; {left} waiting.")
    if problem:
        _err(problem)
        return EXIT_CHECK_FAILED
    return EXIT_OK
