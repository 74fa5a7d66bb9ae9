"""`picsafe-desktop patient lookup --mrn MRN [--json]`: what the hospital's sources say."""

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


def run_lookup(args) -> int:  # noqa: ANN001
    from picsafe_desktop.hospital.lookup import LookupError
    from picsafe_desktop.hospital.patients import lookup

    try:
        result = lookup(args.site_config, args.mrn)
    except LookupError as exc:
        print(f"picsafe-desktop: patient lookup: {exc}", file=sys.stderr)
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
