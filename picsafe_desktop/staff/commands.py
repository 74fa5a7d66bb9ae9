"""`staff add | remove | list | reset`: IT enrols the people who may sign in with a PIN.

Run by IT on the ward PC with the app closed (the vault is opened, so the OS keyring must hold
its key). The PIN is read from the terminal (twice) or one line of standard input, never from
the command line, where other users could see it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from picsafe_desktop import APP_ID
from picsafe_desktop.staff import pins
from picsafe_desktop.staff.enrol import FIRST_ROLES, enrol
from picsafe_desktop.staff.roles import ROLES, RoleError, check_roles
from picsafe_desktop.vault.commands import _actor, _vault_dir, add_vault_arguments
from picsafe_desktop.vault.errors import IntegrityError, VaultError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_vault_arguments(common)
    staff = subparsers.add_parser(
        "staff", help="enrol, remove and list staff who sign in with a PIN (IT only)"
    )
    actions = staff.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[common],
        help="enrol a staff member; the PIN is read from the terminal or standard input",
    )
    add.add_argument("staff_id", metavar="STAFF_ID", help="the ID they type at sign-in")
    add.add_argument("--name", required=True, help="full name, as the audit log will show it")
    add.add_argument(
        "--role",
        action="append",
        required=True,
        choices=sorted(ROLES),
        help="what they may do (repeat for several): " + ", ".join(ROLES),
    )
    add.add_argument("--title", default="", help="job title shown on consent records")
    add.add_argument(
        "--replace", action="store_true", help="re-enrol: new PIN, roles and name; clears back-off"
    )
    add.set_defaults(func=run, staff_action="add")
    remove = actions.add_parser("remove", parents=[common], help="remove a staff member")
    remove.add_argument("staff_id", metavar="STAFF_ID")
    remove.set_defaults(func=run, staff_action="remove")
    listing = actions.add_parser(
        "list", parents=[common], help="list enrolled staff (no PINs); exit 1 if tampered"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run, staff_action="list")
    actions.add_parser(
        "reset",
        parents=[common],
        help="set a staff list that fails its check aside (kept as staff.json.rejected-*) and "
        "start empty; then enrol everyone again",
    ).set_defaults(func=run, staff_action="reset")
    _add_first_staff_options(subparsers)


def _add_first_staff_options(subparsers: argparse._SubParsersAction) -> None:
    """`vault init --admin STAFF_ID --name NAME`: the vault's creator is enrolled in the same
    run, so a new PC is usable without typed, unchecked names. The options are added here (to
    the parser vault/commands.py built) because staff sits above the vault layer."""
    vault_parser = subparsers.choices.get("vault")
    if vault_parser is None:
        return
    actions = next(a for a in vault_parser._actions if isinstance(a, argparse._SubParsersAction))
    init = actions.choices["init"]
    group = init.add_argument_group(
        "first staff member (enrolled with a PIN, read from the terminal or standard input, "
        "before the vault is created)"
    )
    group.add_argument("--admin", metavar="STAFF_ID", help="the staff ID they type at sign-in")
    group.add_argument("--name", help="their full name, as the audit log will show it")
    group.add_argument(
        "--role",
        action="append",
        choices=sorted(ROLES),
        help=f"what they may do (repeat for several; default: {' and '.join(FIRST_ROLES)})",
    )
    group.add_argument("--title", default="", help="job title shown on consent records")
    init.set_defaults(first_staff=prepare_first_staff)


def prepare_first_staff(args: argparse.Namespace):
    """Check `vault init`'s --admin options and read the PIN before anything is created; a
    callable that enrols them in the new vault and returns what to tell (or only says whom IT
    must enrol), None where sign-in needs no enrolment. ValueError with
    the reason otherwise (vault/commands.py reports it)."""
    from picsafe_desktop.staff.session import NOBODY_ENROLLED, method_for

    if not args.admin:
        if args.name or args.role or args.title:
            raise ValueError("--name, --role and --title describe the --admin STAFF_ID to enrol")
        site = getattr(args, "site_config", None)
        if site is not None and method_for(site) != "pin":
            return None
        return lambda _vault: NOBODY_ENROLLED.replace("close PicSafe and run", "run")
    try:
        staff_id = pins.check_staff_id(args.admin)
        if not 1 <= len(" ".join((args.name or "").split())) <= 100:
            raise pins.StaffError("--admin needs --name: their full name (1-100 characters)")
        roles = check_roles(args.role or FIRST_ROLES)
        pin = pins.check_pin(_read_pin())
    except (pins.StaffError, RoleError) as exc:
        raise ValueError(f"{exc}; no vault was created") from None
    actor = _actor()

    def first(vault) -> str:
        entry = enrol(
            vault, staff_id, args.name, roles, pin, title=args.title, actor=actor, first=True
        )
        return (
            f"Enrolled {entry.staff_id} ({entry.name}) as {', '.join(entry.roles)}: they sign "
            "in with this staff ID and PIN."
        )

    return first


def run(args: argparse.Namespace) -> int:
    from picsafe_desktop.vault import Vault

    path = _vault_dir(args)
    try:
        with Vault.open(path, args.keyring_service) as vault:
            return _ACTIONS[args.staff_action](args, vault, pins.StaffStore.for_vault(vault))
    except pins.StoreTampered as exc:
        _err(str(exc))
        return EXIT_CHECK_FAILED
    except (pins.StaffError, RoleError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except IntegrityError as exc:
        _err(str(exc))
        return EXIT_CHECK_FAILED
    except VaultError as exc:
        _err(str(exc))
        return EXIT_USAGE


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


def _read_pin() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("New PIN (4-12 digits): ")
    if getpass.getpass("Same PIN again: ") != first:
        raise pins.StaffError("the two PINs differ; nothing was changed")
    return first


def _add(args, vault, store: pins.StaffStore) -> int:
    staff_id = pins.check_staff_id(args.staff_id)
    pin = pins.check_pin(_read_pin())
    entry = enrol(
        vault,
        staff_id,
        args.name,
        args.role,
        pin,
        title=args.title,
        actor=_actor(),
        replace=args.replace,
    )
    print(f"Enrolled {entry.staff_id} ({entry.name}) as {', '.join(entry.roles)}.")
    return EXIT_OK


def _remove(args, vault, store: pins.StaffStore) -> int:
    staff_id = pins.check_staff_id(args.staff_id)
    store.remove(staff_id)
    vault.audit("staff_remove", actor=_actor(), subject=staff_id)
    print(f"Removed {staff_id}; they can no longer sign in with a PIN.")
    return EXIT_OK


def _list(args, vault, store: pins.StaffStore) -> int:
    entries = [e.public() for e in store.list()]
    if args.json:
        json.dump({"staff": entries}, sys.stdout, indent=2)
        print()
    else:
        for e in entries:
            locked = f"  ({e['failures']} wrong PINs in a row)" if e["failures"] else ""
            print(f"{e['staff_id']:16}  {e['name']:32}  {', '.join(e['roles'])}{locked}")
        print(f"{len(entries)} staff member(s) enrolled in vault {vault.vault_id}")
    if store.legacy_path.exists():
        _err(
            f"{store.legacy_path}: PINs from an older version (set at first sign-in, without a "
            "MAC) are ignored; enrol staff with `staff add`, then delete that file"
        )
    return EXIT_OK


def _reset(args, vault, store: pins.StaffStore) -> int:
    kept = store.reset()
    vault.audit(
        "staff_reset", actor=_actor(), subject="staff", details={"kept": kept.name if kept else ""}
    )
    if kept is not None:
        print(f"The staff list was set aside as {kept}.")
    print("Started an empty staff list; enrol staff again with `staff add`.")
    return EXIT_OK


_ACTIONS = {"add": _add, "remove": _remove, "list": _list, "reset": _reset}
