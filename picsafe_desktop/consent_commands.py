"""`picsafe-desktop consent ...`: headless consent governance (exit codes as in cli.py).

The same functions as the window (governance.py): amend, withdraw, a clinician's
identifiability answer, the patient's copy, review dates, retention and the disposal report.
Every change is audited under the login name.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from picsafe_desktop import APP_ID
from picsafe_desktop.vault.commands import add_consent_list, add_vault_arguments

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_vault_arguments(common)
    parser = subparsers.add_parser(
        "consent",
        help="consent governance: amend, withdraw, patient's copy, review, retention",
        description="Work on recorded consents (docs/consent.md). Every change is audited.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add_consent_list(actions, common)

    p = actions.add_parser("copy", parents=[common], help="the patient's PDF copy of a consent")
    p.add_argument("consent_id", metavar="ID")
    p.add_argument("--out", metavar="FILE.pdf", required=True)
    p.set_defaults(func=run, action="copy")

    p = actions.add_parser(
        "withdraw", parents=[common], help="withdraw teaching/publication, or everything"
    )
    p.add_argument("consent_id", metavar="ID")
    p.add_argument(
        "--scope",
        choices=("secondary", "full"),
        default="full",
        help="secondary: teaching/publication only, photos kept for the record; full "
        "(default): the photos are crypto-shredded",
    )
    p.add_argument("--reason", required=True)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run, action="withdraw")

    p = actions.add_parser(
        "amend", parents=[common], help="a new consent record (JSON form) replacing ID"
    )
    p.add_argument("consent_id", metavar="ID")
    p.add_argument("--consent", metavar="FILE.json", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=run, action="amend")

    p = actions.add_parser(
        "identifiability", parents=[common], help="a clinician's answer for one photo"
    )
    p.add_argument("photo_id", metavar="PHOTO_ID")
    p.add_argument("--answer", choices=("identifiable", "not_identifiable"), required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=run, action="identifiability")

    p = actions.add_parser("review", parents=[common], help="consents due for review")
    p.set_defaults(func=run, action="review")

    p = actions.add_parser(
        "retention", parents=[common], help="photos past [retention] keep_days_after_record"
    )
    p.add_argument("--dispose", action="store_true", help="destroy them (audited)")
    p.set_defaults(func=run, action="retention")

    p = actions.add_parser(
        "disposal-report", parents=[common], help="what was destroyed, when, by whom and why"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, action="disposal_report")


def _err(message: str) -> None:
    print(f"{APP_ID}: {message}", file=sys.stderr)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run(args: argparse.Namespace) -> int:
    from picsafe_desktop import consent as rules
    from picsafe_desktop import governance
    from picsafe_desktop.export.types import ExportError
    from picsafe_desktop.vault import Vault, VaultError

    site = args.site_config
    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    try:
        with Vault.open(vault_dir, args.keyring_service) as vault:
            return _ACTIONS[args.action](vault, args, site, _actor())
    except (VaultError, governance.GovernanceError, ExportError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except rules.ConsentError as exc:
        _err(f"{getattr(args, 'consent', '')}: {exc}")
        return EXIT_USAGE
    except rules.WordingError as exc:
        _err(str(exc))
        return EXIT_USAGE


def _copy(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    out = governance.write_patient_copy(
        vault, args.consent_id, Path(args.out).expanduser(), actor=actor, site=site
    )
    print(f"Patient's copy written to {out}.")
    return EXIT_OK


def _withdraw(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    result = governance.withdraw(
        vault,
        args.consent_id,
        args.scope,
        actor=actor,
        reason=args.reason,
        policy=site.consent.withdrawal_policy,
    )
    if args.json:
        print(json.dumps(result.__dict__, indent=2, default=str))
        return EXIT_OK
    print(
        f"Consent {args.consent_id} withdrawn ({args.scope}): {result.photos_destroyed} "
        f"photo(s) crypto-shredded, {result.photos_kept} kept for the record; marked by record "
        f"{result.new_consent_id}."
    )
    for e in result.secondary_exports:
        print(f"  recall: {e.get('use')} {e.get('kind')} to {e.get('destination')} ({e['at']})")
    for e in result.record_exports:
        print(
            f"  in the medical record, {result.record_copies_action}: "
            f"{e.get('kind')} to {e.get('destination')} ({e['at']})"
        )
    return EXIT_OK


def _amend(vault, args, site, actor) -> int:
    from picsafe_desktop import consent as rules
    from picsafe_desktop import governance

    record = rules.load_consent_json(
        Path(args.consent),
        wording=rules.site_wordings(site),
        review_at_age=site.consent.review_at_age,
    )
    new_id = governance.amend(
        vault,
        args.consent_id,
        record,
        actor=actor,
        reason=args.reason,
    )
    print(f"Consent {args.consent_id} amended by the new record {new_id}; both are kept.")
    return EXIT_OK


def _identifiability(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    governance.set_identifiability(
        vault, args.photo_id, args.answer, actor=actor, reason=args.reason
    )
    print(f"Photo {args.photo_id}: {args.answer.replace('_', ' ')} (confirmed by {actor}).")
    return EXIT_OK


def _review(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    due = governance.review_due(
        vault, actor=actor, review_months=site.retention.consent_review_months
    )
    for consent_id, why in due:
        print(f"{consent_id}: {why}")
    if not due:
        print("No consent is due for review.")
    return EXIT_OK


def _retention(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    keep = site.retention.keep_days_after_record
    due = governance.retention_due(vault, keep)
    if not keep:
        print("No retention period is set ([retention] keep_days_after_record = 0).")
        return EXIT_OK
    for row in due:
        print(f"{row['photo']} (consent {row['consent_id']}): in the record since "
              f"{row['reached_record']}")  # fmt: skip
    if args.dispose and due:
        count = governance.dispose(vault, [r["photo"] for r in due], actor=actor, keep_days=keep)
        print(f"Destroyed {count} photo(s); see `consent disposal-report`.")
    elif not due:
        print("No photo is past its retention period.")
    return EXIT_OK


def _disposal_report(vault, args, site, actor) -> int:
    from picsafe_desktop import governance

    rows = governance.disposal_report(vault)
    vault.audit("disposal_report", actor=actor, subject="vault", details={"rows": len(rows)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        print(f"{row['at']}  {row['photo']}  by {row['by']}: {row['reason']}")
    return EXIT_OK


_ACTIONS = {
    "copy": _copy,
    "withdraw": _withdraw,
    "amend": _amend,
    "identifiability": _identifiability,
    "review": _review,
    "retention": _retention,
    "disposal_report": _disposal_report,
}
