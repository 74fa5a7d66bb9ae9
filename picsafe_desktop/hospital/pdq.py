"""FHIR Patient search by identifier, IHE PDQm style: GET [base]/Patient?identifier=system|mrn.

Uses the export's FHIR client (fhir.py) for TLS, the bearer token, retries and error wording.
An in-progress Encounter of the patient, when the server has one, is the encounter context.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

from picsafe_desktop.export import fhir
from picsafe_desktop.export.types import ExportError
from picsafe_desktop.hospital.lookup import LookupError, PatientMatch

log = logging.getLogger(__name__)


def _get(target: fhir.FhirTarget, path: str, params: dict[str, str]) -> dict:
    url = f"{target.base_url.rstrip('/')}/{path}?{urllib.parse.urlencode(params)}"
    try:
        # the export's private helpers: one rule for every FHIR call (scheme, TLS, token)
        fhir._check_url(target.base_url)  # noqa: SLF001
        opener = fhir._opener(target)  # noqa: SLF001
        _, body, _ = fhir._request(target, opener, "GET", url, None, "", time.sleep)  # noqa: SLF001
    except ExportError as exc:
        text = str(exc).replace("refused the export", "refused the patient search")
        raise LookupError(text) from None
    try:
        bundle = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise LookupError(f"the FHIR server at {target.describe()} answered with no JSON") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise LookupError(f"the FHIR server at {target.describe()} did not answer with a Bundle")
    return bundle


def _name(patient: dict) -> str:
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    best = next((n for n in names if n.get("use") in ("official", "usual")), None)
    best = best or (names[0] if names else {})
    family, given = best.get("family", ""), " ".join(best.get("given") or [])
    if family and given:
        return f"{family}, {given}"
    return family or given or best.get("text", "")


def _resources(bundle: dict, kind: str) -> list[dict]:
    out = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == kind:
            out.append(resource)
    return out


def _encounter(target: fhir.FhirTarget, patient_id: str) -> str:
    """The "Encounter/<id>" of the patient's in-progress encounter, or "" (none, or not offered)."""
    try:
        bundle = _get(target, "Encounter", {"subject": f"Patient/{patient_id}",
                                            "status": "in-progress"})  # fmt: skip
    except LookupError:
        return ""  # the encounter is context, not identity: its absence does not fail a lookup
    found = _resources(bundle, "Encounter")
    return f"Encounter/{found[0]['id']}" if found and found[0].get("id") else ""


def find(target: fhir.FhirTarget, mrn_system: str, mrn: str) -> list[PatientMatch]:
    """Patients whose identifier is `mrn` in `mrn_system` (any system when that is empty)."""
    if not mrn.strip() or any(c in mrn for c in "|,$"):
        raise LookupError(f"{mrn!r} is not an MRN")
    token = f"{mrn_system}|{mrn}" if mrn_system else mrn
    bundle = _get(target, "Patient", {"identifier": token})
    matches = []
    for patient in _resources(bundle, "Patient"):
        pid = str(patient.get("id", ""))
        matches.append(
            PatientMatch(
                source="fhir",
                mrn=mrn,
                name=_name(patient),
                birth_date=str(patient.get("birthDate", "")),
                sex=str(patient.get("gender", "")),
                encounter_ref=_encounter(target, pid) if pid else "",
            )
        )
    log.info("FHIR patient search answered with %d patients", len(matches))
    return matches
