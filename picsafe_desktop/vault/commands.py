"""`vault init | list | verify | recover | repair`, `audit verify`, `consent list | withdraw`
and `photo delete` (exit codes as in cli.py). The governance commands call the same single
vault methods the window's services call, so a rule has one implementation."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault.errors import IntegrityError, NotFound, VaultError
from picsafe_desktop.vault.vault import DEFAULT_SERVICE, Vault

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def add_vault_arguments(parser: argparse.ArgumentParser) -> None:
    """`--vault` and `--keyring-service`, the same for every command that opens a vault."""
    parser.add_argument(
        "--vault", metavar="DIR", help="vault folder (default: the site config's [vault] path)"
    )
    parser.add_argument(
        "--keyring-service",
        metavar="NAME",
        default=DEFAULT_SERVICE,
        help=f"OS keyring service holding the vault key (default: {DEFAULT_SERVICE})",
    )


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_vault_arguments(common)

    vault = subparsers.add_parser(
        "vault", help="create, list, check or recover the encrypted vault"
    )
    actions = vault.add_subparsers(title="actions", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", parents=[common], help="create a vault; prints its recovery code once"
    )
    init.add_argument(
        "--recovery-sheet",
        metavar="FILE.pdf",
        help="also write a printable recovery sheet (holds the code: print it, then delete it)",
    )
    init.set_defaults(func=run, vault_action="init")
    listing = actions.add_parser(
        "list", parents=[common], help="list stored photos (ids, states, sizes; no patient data)"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run, vault_action="list")
    actions.add_parser(
        "verify", parents=[common], help="decrypt-check every item; exit 1 if any fails"
    ).set_defaults(func=run, vault_action="verify")
    actions.add_parser(
        "recover",
        parents=[common],
        help="put the vault key back into the OS keyring from the recovery code (read from "
        "the terminal or standard input, never from the command line)",
    ).set_defaults(func=run, vault_action="recover")

    repair = actions.add_parser(
        "repair",
        parents=[common],
        help="report what differs from the vault's authenticated state and what is in "
        "quarantine/; put back what verifies (every change audited)",
    )
    repair.add_argument(
        "--from-index",
        metavar="FILE",
        help="re-link photos whose index row is missing here from this copy of the vault's "
        "index.sqlite3 (a backup); they wait for consent again",
    )
    repair.add_argument(
        "--accept-state",
        action="store_true",
        help="admin: accept the index as it is now and re-seat the keyring's anchor (needs "
        "--reason; photos and consents the audit log says were deleted stay deleted)",
    )
    repair.add_argument(
        "--shred-quarantine",
        action="store_true",
        help="admin: overwrite and remove every file in quarantine/ (needs --reason)",
    )
    repair.add_argument("--reason", default="", help="why; written to the audit log")
    repair.set_defaults(func=run, vault_action="repair")

    photo = subparsers.add_parser("photo", help="delete a photo (headless)")
    photo_actions = photo.add_subparsers(title="actions", metavar="ACTION", required=True)
    delete = photo_actions.add_parser(
        "delete", parents=[common], help="crypto-shred one photo (audited)"
    )
    delete.add_argument("item_id", metavar="ID")
    delete.add_argument("--reason", required=True, help="why; written to the audit log")
    delete.set_defaults(func=run, vault_action="photo-delete")

    audit = subparsers.add_parser("audit", help="check the tamper-evident audit log")
    audit_actions = audit.add_subparsers(title="actions", metavar="ACTION", required=True)
    audit_actions.add_parser(
        "verify", parents=[common], help="check the audit chain; exit 1 naming any row changed"
    ).set_defaults(func=run, vault_action="audit-verify")


def add_consent_list(actions: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """`consent list`: joins the `consent` command group that consent_commands.py owns."""
    consent_list = actions.add_parser(
        "list", parents=[common], help="consents with their photo counts (no patient data)"
    )
    consent_list.add_argument("--json", action="store_true", help="machine-readable output")
    consent_list.add_argument("--mrn", help="only the consents of this MRN (keyed-hash lookup)")
    consent_list.set_defaults(func=run, vault_action="consent-list")


def run(args: argparse.Namespace) -> int:
    path = _vault_dir(args)
    try:
        code = _ACTIONS[args.vault_action](args, path)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `vault list --json | head -1`: the reader went away; that is not an error of ours.
        # Point stdout at devnull so the interpreter's last flush does not fail either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
    except NotFound as exc:
        _err(f"{exc}; check the id (`{APP_ID} vault list` / `{APP_ID} consent list`)")
        return EXIT_USAGE
    except IntegrityError as exc:
        _err(str(exc))
        return EXIT_CHECK_FAILED
    except (VaultError, ValueError) as exc:
        _err(str(exc))
        return EXIT_USAGE


def _vault_dir(args: argparse.Namespace) -> Path:
    if args.vault:
        return Path(args.vault).expanduser()
    site = getattr(args, "site_config", None)
    if site is None:
        from picsafe_desktop import config

        site = config.load(getattr(args, "config", None))
    return Path(site.vault.path)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


def _init(args: argparse.Namespace, path: Path) -> int:
    sheet = Path(args.recovery_sheet).expanduser() if args.recovery_sheet else None
    if sheet is not None and (sheet.exists() or sheet.is_symlink()):
        _err(f"{sheet}: already exists; choose a new file name for the recovery sheet")
        return EXIT_USAGE
    if sheet is not None and not sheet.parent.is_dir():
        _err(
            f"{sheet.parent}: folder does not exist; choose an existing folder for the "
            "recovery sheet (no vault was created)"
        )
        return EXIT_USAGE
    # `--admin`: staff/commands.py checks the options and reads the PIN first (ValueError)
    prepare = getattr(args, "first_staff", None)
    enrol_first = prepare(args) if prepare is not None else None
    vault, code = Vault.create(path, args.keyring_service, actor=_actor())
    with vault:
        vault_id = vault.vault_id
        staff_note = enrol_first(vault) if enrol_first is not None else ""
    print(f"Created vault {path} (id {vault_id}).")
    print("Recovery code (shown once and stored nowhere; write it down or print it and lock")
    print("it away. With it and the vault folder anyone can read the photos; without it a")
    print("lost keyring means a lost vault):")
    print()
    print(f"    {code}")
    print()
    if staff_note:
        print(staff_note)
    if sheet is not None:
        from picsafe_desktop.vault.recovery_sheet import write_recovery_sheet

        try:
            write_recovery_sheet(sheet, vault_id=vault_id, vault_path=str(path), code=code)
        except OSError as exc:
            _err(
                f"{sheet}: the recovery sheet could not be written ({exc.strerror or exc}). "
                "The vault was created: write down the recovery code shown above now, it is "
                "not shown again"
            )
            return EXIT_CHECK_FAILED
        print(f"Recovery sheet written to {sheet}: print it, then delete the file.")
    return EXIT_OK


def _iso(created_at: str) -> str:
    """datetime.fromisoformat(created_at).isoformat(), which PhotoItem's printing gave: the
    text as the vault writes it (UTC, microseconds) is already that, unless they are zero."""
    if len(created_at) == 32 and created_at.endswith("+00:00") and created_at[19] == ".":
        if created_at[20:26] != "000000" and created_at[10] == "T":
            return created_at
    return dt.datetime.fromisoformat(created_at).isoformat()


def _list(args: argparse.Namespace, path: Path) -> int:
    with Vault.open(path, args.keyring_service, read_only=True) as vault:
        _warn_untrusted(vault)
        if args.json:
            rows = vault.list_rows()  # checked rows, printed without building a PhotoItem each
        else:
            items = vault.list_items()
        vault_id = vault.vault_id
    if args.json:
        # One row a line, as json.dumps(row) writes it, but formatted here around the C string
        # encoder: json.dumps per row was half a second for 100,000 photos (and `indent=`
        # switches json to its pure-Python encoder, which took most of a minute).
        text = json.encoder.encode_basestring_ascii  # what json.dumps uses (C where it can)
        known = {s.value: s.value for s in ItemState}  # an unknown state raises, as before
        lines = [
            f'    {{"item_id": {text(item_id)}, "batch_id": {text(batch_id)}, '
            f'"state": {text(known.get(state) or ItemState(state).value)}, "size": {int(size)}, '
            f'"media_type": {text(media_type)}, "created_at": {text(_iso(created_at))}, '
            f'"consent_id": {"null" if consent_id is None else text(consent_id)}}}'
            for item_id, batch_id, state, size, media_type, created_at, consent_id, *_ in rows
        ]
        sys.stdout.write(f'{{\n  "vault_id": {json.dumps(vault_id)},\n  "items": [\n')
        sys.stdout.write(",\n".join(lines))
        sys.stdout.write("\n  ]\n}\n")
        return EXIT_OK
    lines = [f"{'item':32}  {'batch':32}  {'state':16}  {'bytes':>11}  {'type':12}  created (UTC)"]
    lines += [
        f"{i.item_id:32}  {i.batch_id:32}  {i.state.value:16}  {i.size:>11}  "
        f"{i.media_type:12}  {i.created_at:%Y-%m-%d %H:%M:%S}"
        for i in items
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    print(f"{len(items)} item(s) in vault {vault_id}")
    return EXIT_OK


def _verify(args: argparse.Namespace, path: Path) -> int:
    # Read-only: works while the app has the vault open, and changes nothing.
    with Vault.open(path, args.keyring_service, read_only=True) as vault:
        report = vault.verify()
    for problem in report.problems:
        _err(problem)
    for note in report.notes:
        _err(note)
    if not report.ok:
        _err(
            f"{path}: {len(report.problems)} problem(s) found. Do not delete or replace files "
            "in the vault folder (an older copy of the index loses the photos stored since): "
            f"run `{APP_ID} vault repair --vault {path}` to see what can be put back, and "
            "contact IT"
        )
        return EXIT_CHECK_FAILED
    print(f"ok: {report.items} item(s) decrypted and authenticated; state and anchor match")
    return EXIT_OK


def _warn_untrusted(vault: Vault) -> None:
    for problem in vault.trust_problems:
        _err(f"warning: {problem}")


def _recover(args: argparse.Namespace, path: Path) -> int:
    if sys.stdin.isatty():
        code = getpass.getpass("Recovery code: ")
    else:
        code = sys.stdin.readline()
    Vault.recover(path, code, args.keyring_service, actor=_actor())
    print(f"The key of vault {path} is back in the OS keyring; the vault opens again.")
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, path: Path) -> int:
    with Vault.open(path, args.keyring_service, read_only=True) as vault:
        report = vault.verify_audit()
    for problem in report.problems:
        _err(problem)
    if not report.ok:
        _err(f"{path}: the audit log was changed outside PicSafe; report this to IT")
        return EXIT_CHECK_FAILED
    print(f"ok: {report.rows} audit row(s), chain intact")
    return EXIT_OK


def _repair(args: argparse.Namespace, path: Path) -> int:
    with Vault.open(path, args.keyring_service) as vault:
        report = vault.repair(
            actor=_actor(),
            from_index=Path(args.from_index).expanduser() if args.from_index else None,
            accept_state=args.accept_state,
            shred_quarantine=args.shred_quarantine,
            reason=args.reason,
        )
    for line in report.done:
        print(f"done: {line}")
    for line in report.remaining:
        _err(line)
    if not report.ok:
        _err(
            f"{path}: {len(report.remaining)} thing(s) need a decision. Options: put back the "
            "current index if you have it; `--from-index COPY` re-links photos from a copy of "
            "the index; `--accept-state --reason TEXT` accepts the index as it is (audited); "
            "`--shred-quarantine --reason TEXT` removes quarantined files (audited)"
        )
        return EXIT_CHECK_FAILED
    print(f"ok: vault {path} matches its authenticated state; quarantine/ is empty")
    return EXIT_OK


def _consent_list(args: argparse.Namespace, path: Path) -> int:
    with Vault.open(path, args.keyring_service, read_only=True) as vault:
        _warn_untrusted(vault)
        wanted = set(vault.find_by_mrn(args.mrn)) if args.mrn else None
        items = vault.list_items()
        rows = []
        for consent_id, batch_id, created_at in vault.consents():
            if wanted is not None and consent_id not in wanted:
                continue
            mine = [i for i in items if i.consent_id == consent_id]
            rows.append(
                {
                    "consent_id": consent_id,
                    "batch_id": batch_id,
                    "created_at": created_at.isoformat(),
                    "active_photos": sum(i.state.value == "active" for i in mine),
                }
            )
    if args.json:
        json.dump({"consents": rows}, sys.stdout, indent=2)
        print()
        return EXIT_OK
    print(f"{'consent':32}  {'batch':32}  {'photos':>6}  created (UTC)")
    for r in rows:
        print(
            f"{r['consent_id']:32}  {r['batch_id']:32}  {r['active_photos']:>6}  {r['created_at']}"
        )
    print(f"{len(rows)} consent(s)")
    return EXIT_OK


def _photo_delete(args: argparse.Namespace, path: Path) -> int:
    with Vault.open(path, args.keyring_service) as vault:
        vault.delete_items([args.item_id], actor=_actor(), reason=args.reason)
    print(f"Photo {args.item_id} crypto-shredded.")
    return EXIT_OK


_ACTIONS = {
    "init": _init,
    "list": _list,
    "verify": _verify,
    "recover": _recover,
    "audit-verify": _audit_verify,
    "repair": _repair,
    "consent-list": _consent_list,
    "photo-delete": _photo_delete,
}
