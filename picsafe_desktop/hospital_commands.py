"""Hospital connections on the command line (issue 16, docs/hospital.md):

`picsafe-desktop patient lookup --mrn MRN [--json]`: what the worklist and FHIR server say;
`picsafe-desktop pacs status|dispose-committed`: storage commitment per photo, and the site's
`[retention] after_commit_days` policy carried out by a person (audited).
"""

from __future__ import annotations

import json
import sys

from picsafe_desktop.cli import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE

_LABELS = (
    ("name", "Name"), ("birth_date", "Birth date"), ("sex", "Sex"),
    ("issuer_of_patient_id", "Issuer of MRN"), ("accession_number", "Accession number"),
    ("accession_issuer", "Accession issuer"), ("requested_procedure", "Requested procedure"),
    ("procedure_code", "Procedure code"), ("referring_physician", "Referring physician"),
    ("admission_id", "Admission ID"), ("encounter_ref", "Encounter"),
)  # fmt: skip


def add_commands(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    patient = sub.add_parser("patient", help="look a patient up in the hospital's systems")
    actions = patient.add_subparsers(title="actions", metavar="ACTION", required=True)
    lookup = actions.add_parser(
        "lookup",
        help="ask the worklist and the FHIR server who an MRN is "
        "(exit 0 found, 1 not found, 2 usage or connection error)",
    )
    lookup.add_argument("--mrn", required=True, help="the patient's medical record number")
    lookup.add_argument("--json", action="store_true", help="print JSON")
    lookup.set_defaults(func=run_lookup)
    import argparse

    from picsafe_desktop.vault.commands import add_vault_arguments

    add_vault_arguments(lookup)  # the query is audited in this PC's vault when it has one
    common = argparse.ArgumentParser(add_help=False)
    add_vault_arguments(common)
    pacs = sub.add_parser("pacs", help="which photos the PACS has committed to keeping")
    actions = pacs.add_subparsers(title="actions", metavar="ACTION", required=True)
    p = actions.add_parser("status", parents=[common], help="storage commitment of each photo")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_pacs, action="status")
    p = actions.add_parser(
        "dispose-committed",
        parents=[common],
        help="photos committed by the PACS [retention] after_commit_days ago; --dispose "
        "crypto-shreds their local copies (audited)",
    )
    p.add_argument("--dispose", action="store_true", help="destroy them (audited)")
    p.set_defaults(func=run_pacs, action="dispose")


def run_lookup(args) -> int:  # noqa: ANN001
    from picsafe_desktop.hospital.lookup import LookupError
    from picsafe_desktop.hospital.patients import lookup

    try:
        result = lookup(args.site_config, args.mrn)
    except LookupError as exc:
        print(f"picsafe-desktop: patient lookup: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem = _audit_query(args, result)
    if problem:  # fail closed: nothing is shown that the audit log does not record
        print(f"picsafe-desktop: patient lookup: {problem}", file=sys.stderr)
        return EXIT_USAGE
    for problem in result.problems:
        print(f"picsafe-desktop: patient lookup: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps({"mrn": result.mrn, "matches": [m.as_dict() for m in result.matches],
                          "problems": result.problems}, indent=2))  # fmt: skip
    else:
        for m in result.matches:
            print(f"{m.source}: MRN {m.mrn}")
            for key, label in _LABELS:
                if getattr(m, key):
                    print(f"  {label}: {getattr(m, key)}")
        if result.matches and not result.consistent:
            print("warning: the sources name different people for this MRN", file=sys.stderr)
    if result.found:
        return EXIT_OK
    if not result.checked:  # nobody could be asked: a connection error, not "not found"
        return EXIT_USAGE
    if not args.json:
        print(f"no patient with MRN {result.mrn} in {', '.join(result.asked)}", file=sys.stderr)
    return EXIT_CHECK_FAILED


def _audit_query(args, result) -> str:  # noqa: ANN001
    """Audit the query (`patient_query`, the MRN in the encrypted details) in the vault of this
    PC; '' when done, or when the PC has no vault yet (IT checking a connection before set-up),
    else why it could not be audited."""
    from pathlib import Path

    from picsafe_desktop.services import vault_exists
    from picsafe_desktop.vault import Vault, VaultError

    folder = Path(args.vault).expanduser() if args.vault else Path(args.site_config.vault.path)
    if not vault_exists(folder):
        return ""
    try:
        with Vault.open(folder, args.keyring_service) as vault:
            details = {"mrn": result.mrn, "sources": result.asked, "found": len(result.matches)}
            vault.audit("patient_query", actor=_actor(), subject="patient-lookup", details=details)
    except VaultError as exc:
        return f"the query cannot be audited in the vault ({exc}); nothing is shown"
    return ""


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run_pacs(args) -> int:  # noqa: ANN001
    from pathlib import Path

    from picsafe_desktop.export import committed
    from picsafe_desktop.export.types import ExportError
    from picsafe_desktop.model import ItemState
    from picsafe_desktop.vault import Vault, VaultError

    site = args.site_config
    vault_dir = Path(args.vault).expanduser() if args.vault else Path(site.vault.path)
    try:
        with Vault.open(vault_dir, args.keyring_service) as vault:
            if args.action == "status":
                rows = [{"photo": i.item_id, "pacs": committed.status(vault, i.item_id)}
                        for i in vault.list_items(state=ItemState.ACTIVE)]  # fmt: skip
                if args.json:
                    print(json.dumps(rows, indent=2))
                for row in [] if args.json else rows:
                    print(f"{row['photo']}: {row['pacs'] or 'not sent to the PACS'}")
                return EXIT_OK
            days = site.retention.after_commit_days
            if not days:
                print("No policy is set ([retention] after_commit_days = 0).")
                return EXIT_OK
            due = committed.due(vault, days)
            for row in due:
                print(f"{row['photo']} (consent {row['consent_id']}): committed {row['committed']}")
            if args.dispose and due:
                count = committed.dispose(
                    vault, [r["photo"] for r in due], actor=_actor(), after_days=days
                )
                print(f"Destroyed {count} local copies; see `consent disposal-report`.")
            elif not due:
                print(f"No photo was committed by the PACS {days} or more days ago.")
            return EXIT_OK
    except (VaultError, ExportError) as exc:
        print(f"picsafe-desktop: {exc}", file=sys.stderr)
        return EXIT_USAGE
