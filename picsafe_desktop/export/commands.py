"""`picsafe-desktop export (pdf|fhir|dicom|package) --consent ID ...` (exit codes as in cli.py).

Secrets never come from the command line (other users can read it in the process list): the
PDF password and the package passphrase are asked on the terminal or read from standard
input; the FHIR token comes from the site config only.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.export.types import DeliveryError, ExportError, ExportRefused
from picsafe_desktop.model import Staff, Use
from picsafe_desktop.vault.commands import add_vault_arguments

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--consent", metavar="ID", help="consent id whose photos are exported (see 'vault list')"
    )
    common.add_argument(
        "--item",
        metavar="ID",
        action="append",
        dest="items",
        help="export only this photo (repeatable; default: all active photos)",
    )
    common.add_argument(
        "--use",
        choices=[u.value for u in Use],
        default=Use.RECORD.value,
        help="what the export is for; teaching/publication remove identifiers "
        "and need that use in the consent (default: record)",
    )
    add_vault_arguments(common)
    common.add_argument(
        "--staff-name",
        metavar="NAME",
        help="who is exporting, as printed in the report and the audit log "
        "(default: the login name)",
    )
    common.add_argument("--staff-role", metavar="ROLE", default="")
    common.add_argument("--staff-id", metavar="ID", default="")

    parser = subparsers.add_parser(
        "export",
        help="export consented photos: PDF report, FHIR, DICOM to the PACS, package",
        description="Export the photos of one consent into the medical record. Every export "
        "is checked against the consented uses and written to the audit log.",
    )
    kinds = parser.add_subparsers(title="kinds", metavar="KIND", required=True)

    p = kinds.add_parser("pdf", parents=[common], help="PDF report (optionally AES-256 password)")
    p.add_argument("--out", metavar="FILE.pdf", required=True, help="report file to write")
    p.add_argument(
        "--password",
        action="store_true",
        help="protect the PDF with a password (asked on the terminal, or the first "
        "line of standard input)",
    )
    p.set_defaults(func=run, export_kind="pdf")

    f = kinds.add_parser(
        "fhir",
        parents=[common],
        help="FHIR R4 transaction to the configured server ([fhir] in config)",
    )
    f.add_argument(
        "--save",
        metavar="FILE.json",
        help="write the validated Bundle to this file instead of sending it",
    )
    f.set_defaults(func=run, export_kind="fhir")

    d = kinds.add_parser(
        "dicom", parents=[common], help="C-STORE to the configured PACS ([pacs] in config)"
    )
    d.add_argument("--out", metavar="DIR", help="write .dcm files to this folder instead")
    d.add_argument(
        "--echo",
        action="store_true",
        help="only test the connection to the PACS (C-ECHO); no photos are read",
    )
    d.set_defaults(func=run, export_kind="dicom")

    k = kinds.add_parser(
        "package",
        parents=[common],
        help="one age-encrypted file with the JPEGs, the PDF and the FHIR JSON",
    )
    k.add_argument("--out", metavar="FILE.age", required=True, help="package file to write")
    k.add_argument(
        "--recipient",
        metavar="KEY",
        action="append",
        default=[],
        help="recipient's public key: age1... or 'ssh-ed25519 ...' (repeatable)",
    )
    k.add_argument(
        "--recipients-file",
        metavar="FILE",
        help="file with one recipient public key per line (# comments allowed)",
    )
    k.add_argument(
        "--passphrase",
        action="store_true",
        help="encrypt with a passphrase instead (asked on the terminal twice, or "
        "the first line of standard input)",
    )
    k.set_defaults(func=run, export_kind="package")


# -- helpers -----------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _site(args: argparse.Namespace):  # noqa: ANN202 - config.SiteConfig
    site = getattr(args, "site_config", None)
    if site is None:
        from picsafe_desktop import config

        site = config.load(getattr(args, "config", None))
    return site


def _secret(prompt: str, *, confirm: bool) -> str:
    """From the terminal (twice when confirming) or the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != first:
            raise ExportError("the two entries differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _recipients(args: argparse.Namespace) -> tuple[str, ...]:
    keys = list(args.recipient)
    if args.recipients_file:
        try:
            text = Path(args.recipients_file).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"{args.recipients_file}: cannot read recipients: {exc}") from exc
        keys += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return tuple(keys)


# -- the command -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ExportRefused as exc:
        _err(f"export refused: {exc}")
        return EXIT_CHECK_FAILED
    except DeliveryError as exc:
        _err(str(exc))
        return EXIT_CHECK_FAILED
    except ExportError as exc:
        _err(str(exc))
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from picsafe_desktop.export import dicom
    from picsafe_desktop.export.from_vault import export_from_vault
    from picsafe_desktop.export.targets import pacs_target, site_options

    site = _site(args)
    kind = args.export_kind
    if kind == "dicom" and args.echo:
        target = pacs_target(site)
        if target is None:
            _err("no PACS is configured: set [pacs] ae_title and host in the site config")
            return EXIT_USAGE
        dicom.echo(target)
        print(f"PACS {target.describe()} answered the echo.")
        return EXIT_OK
    if not args.consent:
        _err(f"export {kind}: give --consent ID (see 'vault list')")
        return EXIT_USAGE

    out = getattr(args, "out", None) or getattr(args, "save", None)
    options = site_options(site, out=Path(out).expanduser() if out else None)
    if kind == "pdf" and args.password:
        options = _with(options, pdf_password=_secret("PDF password: ", confirm=True))
        if not options.pdf_password:
            raise ExportError("the PDF password must not be empty")
    if kind == "package":
        recipients = _recipients(args)
        if args.passphrase == bool(recipients):
            _err("export package: give --recipient/--recipients-file or --passphrase (one)")
            return EXIT_USAGE
        if args.passphrase:
            options = _with(options, passphrase=_secret("Passphrase: ", confirm=True))
        options = _with(options, recipients=recipients)
    if kind == "fhir" and options.fhir_target is None and not args.save:
        _err("no FHIR server is configured: set [fhir] base_url and token in the site config")
        return EXIT_USAGE
    if kind == "dicom" and options.pacs is None and options.out is None:
        _err("no PACS is configured: set [pacs] ae_title and host, or use --out DIR")
        return EXIT_USAGE

    login = _login()
    staff = Staff(name=args.staff_name or login, role=args.staff_role, staff_id=args.staff_id)
    actor = f"cli:{login}" + (f" as {staff.name}" if args.staff_name else "")
    from picsafe_desktop.vault import Vault, VaultError
    from picsafe_desktop.vault.vault import DEFAULT_SERVICE

    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    try:
        with Vault.open(vault_dir, args.keyring_service or DEFAULT_SERVICE) as vault:
            if kind in ("dicom", "fhir") and Use(args.use) is Use.RECORD and options.out is None:
                return _send_via_outbox(vault, site, kind, options, args, staff, actor)
            outcome = export_from_vault(
                vault,
                args.consent,
                kind,
                options,
                actor=actor,
                staff=staff,
                use=Use(args.use),
                item_ids=args.items,
                progress=lambda n, total: print(f"  {n}/{total}", file=sys.stderr),
            )
    except VaultError as exc:
        _err(str(exc))
        return EXIT_USAGE
    extra = f" ({outcome.detail})" if outcome.detail else ""
    print(
        f"Exported {outcome.photos} photo(s) as {kind} to {outcome.destination}{extra}; "
        f"report {outcome.report_id}."
    )
    return EXIT_OK


def _send_via_outbox(vault, site, kind, options, args, staff, actor) -> int:  # noqa: ANN001, PLR0913
    """Record copies for the PACS/FHIR server go through the vault's outbox, as in the window:
    queued, attempted now; if the server does not answer they wait (exit 1) and `outbox retry`
    or the window sends them later."""
    from picsafe_desktop.export import outbox
    from picsafe_desktop.export.targets import outbox_settings

    try:
        outcome = outbox.send(
            vault, args.consent, kind, options, staff=staff, actor=actor,
            item_ids=args.items, **outbox_settings(site),
        )  # fmt: skip
    except outbox.Queued as exc:
        _err(str(exc) + " (see 'picsafe-desktop outbox list')")
        return EXIT_CHECK_FAILED
    extra = f" ({outcome.detail})" if outcome.detail else ""
    print(
        f"Exported {outcome.photos} photo(s) as {kind} to {outcome.destination}{extra}; "
        f"report {outcome.report_id}."
    )
    return EXIT_OK


def _with(options, **changes):  # noqa: ANN001, ANN003, ANN202
    import dataclasses

    return dataclasses.replace(options, **changes)
