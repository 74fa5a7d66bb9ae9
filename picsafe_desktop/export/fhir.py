"""FHIR R4 transaction Bundle: Patient, Consent, one Media per photo, DocumentReference.

Every resource is validated with `fhir.resources` before anything leaves the machine. The
installed fhir.resources (8.x) carries R5 and R4B models; R4B is R4 with only
medication/product/subscription changes, so Patient, Consent, Media, DocumentReference and
Bundle validate with exactly the R4 shape. Creates are conditional on PicSafe identifiers
(and the Patient on the MRN), so sending a batch twice does not duplicate anything.

The bearer token is only ever put in the Authorization header: never logged, never in
an error message, never in the dataclass repr.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from picsafe_desktop import APP_NAME, ORG_DOMAIN, __version__
from picsafe_desktop.export import anatomy, jpeg, pdf
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError, ExportPhoto
from picsafe_desktop.model import Use

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
_ID_BASE = f"https://{ORG_DOMAIN}/fhir/id"
PHOTO_ID_SYSTEM = f"{_ID_BASE}/photo"
CONSENT_ID_SYSTEM = f"{_ID_BASE}/consent"
REPORT_ID_SYSTEM = f"{_ID_BASE}/report"
PSEUDONYM_SYSTEM = f"{_ID_BASE}/pseudonym"
USE_SYSTEM = f"https://{ORG_DOMAIN}/fhir/CodeSystem/photo-use"
_NS = uuid.UUID("0b6f6a52-1c0f-4e5c-8d7e-2a9b41f0c3d1")
_VALIDATORS = {
    "Patient": Patient,
    "Consent": Consent,
    "Media": Media,
    "DocumentReference": DocumentReference,
}
_USE_DISPLAY = {
    Use.RECORD: "Medical record",
    Use.TEACHING: "Teaching",
    Use.PUBLICATION: "Publication",
}


class FhirError(DeliveryError):
    """The server did not accept the bundle; the message is in plain words."""


# -- building ----------------------------------------------------------------------------------


def _urn(batch_id: str, *parts: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NS, "\x1f".join((batch_id, *parts))))


def _instant(value: dt.datetime) -> str:
    if value.tzinfo is None:  # FHIR instants need an offset; naive times are local
        value = value.astimezone()
    return value.isoformat(timespec="seconds")


def _attachment(data: bytes, content_type: str, title: str) -> dict:
    return {
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        # FHIR R4 Attachment.hash is the base64 SHA-1 of the data (spec, datatypes.html)
        "hash": base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode(
            "ascii"
        ),
        "title": title,
    }


def _if_none_exist(system: str, value: str) -> str:
    return "identifier=" + urllib.parse.quote(f"{system}|{value}", safe="")


def _entry(full_url: str, resource: dict, if_none_exist: str) -> dict:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource["resourceType"],
            "ifNoneExist": if_none_exist,
        },
    }


def _patient(batch: ExportBatch, mrn_system: str) -> tuple[dict, str]:
    patient = batch.consent.patient
    if batch.deidentified:
        ident = {"system": PSEUDONYM_SYSTEM, "value": patient.mrn}
        return {"resourceType": "Patient", "identifier": [ident]}, _if_none_exist(
            PSEUDONYM_SYSTEM, patient.mrn
        )
    resource: dict = {
        "resourceType": "Patient",
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "value": patient.mrn,
            }
        ],
    }
    if mrn_system:  # without it (files only; send() insists) the MRN goes without a system
        resource["identifier"][0]["system"] = mrn_system
    if patient.name:
        resource["name"] = [{"text": patient.name}]
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    if not mrn_system:
        return resource, "identifier=" + urllib.parse.quote(patient.mrn, safe="")
    return resource, _if_none_exist(mrn_system, patient.mrn)


def _consent(batch: ExportBatch, patient_ref: str, consent_pdf: bytes) -> dict:
    consent = batch.consent
    if consent.substitute is not None:
        performer = {"display": f"{consent.substitute.name} ({consent.substitute.relationship})"}
    else:
        performer = {"reference": patient_ref}
    when = str(consent.obtained_at.year) if batch.deidentified else _instant(consent.obtained_at)
    purposes = [
        {"system": USE_SYSTEM, "code": u.value, "display": _USE_DISPLAY[u]}
        for u in sorted(consent.uses, key=lambda u: u.value)
    ]
    resource: dict = {
        "resourceType": "Consent",
        "identifier": [{"system": CONSENT_ID_SYSTEM, "value": consent.consent_id}],
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ],
            "text": "Consent to clinical photography and its uses",
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
                ],
                "text": "Clinical photography consent",
            }
        ],
        "patient": {"reference": patient_ref},
        "dateTime": when,
        "performer": [performer],
        "sourceAttachment": _attachment(consent_pdf, "application/pdf", "Signed consent"),
        "policyRule": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "OPTIN",
                    "display": "opt-in",
                }
            ],
            "text": f"Consent wording {consent.wording_version or 'unversioned'}",
        },
        "provision": {
            "type": "permit",
            "action": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "use",
                            "display": "Access and use",
                        }
                    ]
                }
            ],
            "purpose": purposes,
        },
    }
    return resource


def _media(batch: ExportBatch, photo: ExportPhoto, n: int, patient_ref: str) -> dict:
    info = jpeg.read_info(photo.jpeg, f"photo {n}")
    swapped = info.orientation in (5, 6, 7, 8)
    resource: dict = {
        "resourceType": "Media",
        "identifier": [{"system": PHOTO_ID_SYSTEM, "value": photo.item_id}],
        "status": "completed",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/media-type",
                    "code": "image",
                    "display": "Image",
                }
            ],
            "text": "photo",
        },
        "subject": {"reference": patient_ref},
        "operator": {"display": batch.consent.obtained_by.name},
        "height": info.width if swapped else info.height,
        "width": info.height if swapped else info.width,
        "content": _attachment(photo.jpeg, "image/jpeg", f"Photo {n} of {len(batch.photos)}"),
        "note": [{"text": f"SHA-256 {photo.sha256}"}],
    }
    if photo.facts.capture_time is not None:
        resource["createdDateTime"] = _instant(photo.facts.capture_time)
    if batch.consent.indication:
        resource["reasonCode"] = [{"text": batch.consent.indication}]
    site = anatomy.lookup(photo.body_site or batch.consent.body_site)
    if site is not None:
        body: dict = {"text": site.text}
        if site.coded:
            body["coding"] = [
                {"system": anatomy.SNOMED_URI, "code": site.code, "display": site.meaning}
            ]
        resource["bodySite"] = body
    return resource


def _document(batch: ExportBatch, patient_ref: str, report_pdf: bytes) -> dict:
    return {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": REPORT_ID_SYSTEM, "value": batch.report_id},
        "identifier": [{"system": REPORT_ID_SYSTEM, "value": batch.report_id}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [
                {"system": "http://loinc.org", "code": "72170-4", "display": "Photographic image"}
            ],
            "text": "Clinical photography report",
        },
        "subject": {"reference": patient_ref},
        "date": _instant(batch.created_at),
        "author": [{"display": batch.staff.name}],
        "description": f"Clinical photography report, {len(batch.photos)} photo(s)",
        "content": [
            {
                "attachment": _attachment(
                    report_pdf, "application/pdf", f"Photography report {batch.report_id}"
                )
            }
        ],
    }


def _problems(exc: ValidationError) -> str:
    # Locations and messages only: pydantic's input echo could carry patient data.
    parts = [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()[:5]]
    return "; ".join(parts)


def validate(bundle: dict) -> None:
    """Validate each resource and then the whole Bundle as FHIR R4 (R4B models)."""
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        kind = resource["resourceType"]
        try:
            _VALIDATORS[kind].model_validate(resource)
        except ValidationError as exc:
            raise ExportError(f"the {kind} resource is not valid FHIR: {_problems(exc)}") from exc
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise ExportError(f"the FHIR Bundle is not valid: {_problems(exc)}") from exc


def build_bundle(
    batch: ExportBatch,
    *,
    mrn_system: str,
    report_pdf: bytes | None = None,
    consent_pdf: bytes | None = None,
    site_name: str = "",
) -> dict:
    """The validated transaction Bundle as a JSON-ready dict (consent gate first)."""
    batch = gate(batch)
    if report_pdf is None:
        report_pdf = pdf.render_report(batch, site_name=site_name)
    if consent_pdf is None:
        consent_pdf = pdf.render_consent(batch)
    patient, patient_cond = _patient(batch, mrn_system)
    patient_ref = _urn(batch.batch_id, "patient")
    entries = [_entry(patient_ref, patient, patient_cond)]
    consent_res = _consent(batch, patient_ref, consent_pdf)
    entries.append(
        _entry(
            _urn(batch.batch_id, "consent"),
            consent_res,
            _if_none_exist(CONSENT_ID_SYSTEM, batch.consent.consent_id),
        )
    )
    for n, photo in enumerate(batch.photos, start=1):
        entries.append(
            _entry(
                _urn(batch.batch_id, "media", photo.item_id),
                _media(batch, photo, n, patient_ref),
                _if_none_exist(PHOTO_ID_SYSTEM, photo.item_id),
            )
        )
    entries.append(
        _entry(
            _urn(batch.batch_id, "report", batch.report_id),
            _document(batch, patient_ref, report_pdf),
            _if_none_exist(REPORT_ID_SYSTEM, batch.report_id),
        )
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "timestamp": _instant(batch.created_at),
        "entry": entries,
    }
    validate(bundle)
    return bundle


# -- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FhirTarget:
    """The FHIR server (site config). `token` is excluded from repr so it cannot leak in logs."""

    base_url: str
    token: str = field(repr=False)
    timeout: float = 30.0
    retries: int = 3  # further attempts after the first, on 5xx / 429 / network errors
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    ca_file: str = ""  # extra CA bundle for a hospital-internal certificate authority

    def describe(self) -> str:
        parts = urllib.parse.urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


@dataclass(frozen=True)
class FhirResult:
    destination: str
    status: int
    locations: tuple[str, ...]  # where the server put each resource (transaction-response)
    attempts: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could carry the bearer token to another host: treat it as an error."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


_CODE_WORDS = {
    "invalid": "the data was not accepted as valid",
    "structure": "the data's structure was wrong",
    "required": "a required element was missing",
    "value": "an element had a wrong value",
    "invariant": "a FHIR rule was broken",
    "security": "the server refused on security grounds",
    "login": "the server wants a fresh login; ask IT to renew the FHIR token",
    "unknown": "the token was not recognised",
    "expired": "the token has expired; ask IT to renew it",
    "forbidden": "this account may not write these records",
    "processing": "the server could not process the data",
    "not-supported": "the server does not support this operation",
    "duplicate": "a record with the same identifier already exists",
    "multiple-matches": "more than one existing record matched (check the MRN)",
    "not-found": "something referred to was not found",
    "conflict": "the data conflicts with what the server holds",
    "too-costly": "the request was too large for the server",
    "throttled": "the server is busy; try again later",
    "transient": "the server had a temporary problem; try again later",
    "timeout": "the server timed out",
    "exception": "the server had an internal error",
}
_HTTP_WORDS = {
    400: "the server could not read the request",
    401: "the server did not accept the access token; ask IT to check or renew the FHIR token",
    403: "the access token is not allowed to write these records",
    404: "there is no FHIR server at this address; check the base URL in site settings",
    405: "the server does not accept transactions at this address",
    409: "the data conflicts with records already on the server",
    412: "an existing record did not match the expected version",
    413: "the export is too large for the server; send fewer photos at once",
    415: "the server does not accept FHIR JSON",
    422: "the server found the data invalid",
    429: "the server is busy; try again later",
}


def outcome_text(outcome: object) -> str:
    """An OperationOutcome as plain sentences (or '' if `outcome` is not one)."""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return ""
    sentences = []
    for issue in outcome.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        severity = str(issue.get("severity") or "error")
        details = issue.get("details") or {}
        text = details.get("text") if isinstance(details, dict) else None
        if not text and isinstance(details, dict):
            codings = details.get("coding") or []
            text = next((c.get("display") for c in codings if isinstance(c, dict)), None)
        text = text or issue.get("diagnostics") or _CODE_WORDS.get(str(issue.get("code")), "")
        if not text:
            text = f"problem of type {issue.get('code', 'unknown')!s}"
        where = issue.get("expression") or issue.get("location") or []
        if where and isinstance(where, list):
            text = f"{text} (at {', '.join(str(w) for w in where)})"
        sentences.append(f"{severity.capitalize()}: {str(text).rstrip('.')}.")
    return " ".join(sentences)


def _check_url(base_url: str) -> None:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ExportError(f"the FHIR base URL {base_url!r} is not an http(s) address")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:  # token and photos would cross the network in the clear
            raise ExportError("the FHIR base URL must use https (plain http is only for localhost)")


def _opener(target: FhirTarget) -> urllib.request.OpenerDirector:
    ctx = ssl.create_default_context(cafile=target.ca_file or None)
    return urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=ctx))


def _failure(status: int, body: bytes, destination: str) -> FhirError:
    try:
        outcome = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        outcome = None
    words = outcome_text(outcome)
    generic = _HTTP_WORDS.get(status) or (
        "the server had an internal error" if status >= 500 else "the server refused the export"
    )
    message = f"The FHIR server at {destination} refused the export (HTTP {status}): {generic}."
    if 300 <= status < 400:
        message = (
            f"The FHIR server at {destination} answered with a redirect (HTTP {status}); "
            "set the final address as the base URL in site settings."
        )
    return FhirError(f"{message} {words}".strip())


def _retry_after(headers: object, default: float) -> float:
    value = headers.get("Retry-After") if headers is not None else None  # type: ignore[union-attr]
    if value and str(value).strip().isdigit():
        return min(float(str(value).strip()), 60.0)
    return default


def post_bundle(
    bundle: dict,
    target: FhirTarget,
    *,
    sleep: Callable[[float], None] = time.sleep,
    opener: urllib.request.OpenerDirector | None = None,
) -> FhirResult:
    """POST a transaction Bundle to the base URL; retry 5xx/429/network errors with back-off."""
    _check_url(target.base_url)
    if not target.token:
        raise ExportError("no FHIR access token is configured; ask IT to set it")
    opener = opener or _opener(target)
    body = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    url = target.base_url.rstrip("/")
    destination = target.describe()
    delay = target.backoff
    attempts = 0
    while True:
        attempts += 1
        request = urllib.request.Request(  # noqa: S310 - scheme checked in _check_url
            url,
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {target.token}",
                "Content-Type": f"{FHIR_JSON}; charset=utf-8",
                "Accept": FHIR_JSON,
                "Prefer": "return=minimal",
                "User-Agent": f"{APP_NAME.replace(' ', '')}/{__version__}",
            },
        )
        try:
            with opener.open(request, timeout=target.timeout) as response:
                status, payload = response.status, response.read()
            break
        except urllib.error.HTTPError as exc:
            status, payload, headers = exc.code, exc.read(), exc.headers
            exc.close()
            retryable = status >= 500 or status == 429
            log.warning(
                "FHIR server %s answered HTTP %d (attempt %d)", destination, status, attempts
            )
            if not retryable or attempts > target.retries:
                raise _failure(status, payload, destination) from None
            wait = _retry_after(headers, delay)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            log.warning(
                "FHIR server %s unreachable (attempt %d): %s",
                destination,
                attempts,
                type(reason).__name__,
            )
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise FhirError(
                    f"The FHIR server at {destination} presented a certificate this computer "
                    "does not trust; ask IT to install the hospital's CA certificate."
                ) from None
            if attempts > target.retries:
                raise FhirError(
                    f"The FHIR server at {destination} could not be reached after {attempts} "
                    f"attempts ({reason}). Check the network and the base URL."
                ) from None
            wait = delay
        sleep(wait)
        delay *= 2
    return _read_response(status, payload, destination, attempts, len(bundle.get("entry", [])))


def _read_response(
    status: int, payload: bytes, destination: str, attempts: int, expected: int
) -> FhirResult:
    try:
        answer = json.loads(payload.decode("utf-8")) if payload else {}
    except (UnicodeDecodeError, ValueError):
        raise FhirError(
            f"The FHIR server at {destination} answered HTTP {status} but not with FHIR JSON; "
            "the export may or may not have been stored — check the record before resending."
        ) from None
    if answer.get("resourceType") != "Bundle" or answer.get("type") != "transaction-response":
        raise FhirError(
            f"The FHIR server at {destination} did not return a transaction response; "
            "check that the base URL points at the FHIR server root."
        )
    entries = answer.get("entry") or []
    if len(entries) != expected:
        raise FhirError(
            f"The FHIR server at {destination} answered for {len(entries)} of {expected} "
            "resources; check the record before resending."
        )
    locations = []
    for entry in entries:
        response = entry.get("response") or {}
        code = str(response.get("status", ""))
        if not code.startswith("2"):
            words = outcome_text(response.get("outcome"))
            raise FhirError(
                f"The FHIR server at {destination} refused a resource ({code}). {words}"
            )
        locations.append(str(response.get("location", "")))
    log.info("FHIR transaction stored %d resources at %s", len(locations), destination)
    return FhirResult(destination, status, tuple(locations), attempts)


def send(
    batch: ExportBatch,
    target: FhirTarget,
    *,
    mrn_system: str,
    site_name: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> FhirResult:
    """Build, validate and POST the Bundle for `batch`."""
    if not mrn_system and Use(batch.use) is Use.RECORD:
        # a server matches patients on system|value; a bare MRN could match another hospital's
        raise ExportError(
            "the FHIR MRN identifier system is not set in the site configuration "
            "([fhir] mrn_system)"
        )
    bundle = build_bundle(batch, mrn_system=mrn_system, site_name=site_name)
    return post_bundle(bundle, target, sleep=sleep)
