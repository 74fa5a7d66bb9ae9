"""FHIR R4 transaction Bundle: Patient, Consent, one Media per photo, DocumentReference.

Every resource is validated with `fhir.resources` before anything leaves the machine. The
installed fhir.resources (8.x) carries R5 and R4B models; R4B is R4 with only
medication/product/subscription changes, so Patient, Consent, Media, DocumentReference, Binary
and Bundle validate with exactly the R4 shape.

Photos and PDFs travel as Binary resources referenced from `Attachment.url` ("Binary/<id>"),
never as megabytes of base64 inside Media/Consent/DocumentReference (servers cap a string at
about 1 MB). When sending, each Binary is stored first with its native content type
(`PUT [base]/Binary/<id>`, after a read shows it is not there yet), then the rest goes as
transactions of at most 8 entries (Medplum's limit for conditional creates), shaped like
IHE MHD's Provide Document Bundle [ITI-65] with the document bytes at the attachment URL as
MHD's Retrieve Document [ITI-68] expects. A saved Bundle keeps the Binaries as
`PUT Binary/<id>` entries so the file is complete on its own.

Every resource has a stable identity, so a re-send creates nothing: Patient on the MRN,
Consent/Media/DocumentReference conditional creates on PicSafe identifiers (systems under the
site's `[fhir] identifier_system`), Binaries on ids derived from what they contain. Teaching
and publication copies are seeded by their random copy id: they share no identifier with the
record copy.

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

from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from picsafe_desktop import APP_NAME, ORG_DOMAIN, __version__
from picsafe_desktop.export import anatomy, jpeg, order_context, pdf
from picsafe_desktop.export.consent_gate import gate
from picsafe_desktop.export.tls import tls_context
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError, ExportPhoto
from picsafe_desktop.model import ConsentRecord, Use, Withdrawal

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
# Used only when the site config sets no `[fhir] identifier_system` (docs/configuration.md).
DEFAULT_ID_SYSTEM = f"https://{ORG_DOMAIN}/fhir/id"
USE_SYSTEM = f"https://{ORG_DOMAIN}/fhir/CodeSystem/photo-use"
RFC3986 = "urn:ietf:rfc:3986"
_NS = uuid.UUID("0b6f6a52-1c0f-4e5c-8d7e-2a9b41f0c3d1")
_VALIDATORS = {
    "Patient": Patient,
    "Consent": Consent,
    "Media": Media,
    "DocumentReference": DocumentReference,
    "Binary": Binary,
}
_USE_DISPLAY = {
    Use.RECORD: "Medical record",
    Use.TEACHING: "Teaching",
    Use.PUBLICATION: "Publication",
}
# A permission of its own (GMC, IMI): publication of photos that identify the patient.
IDENTIFIABLE_PUBLICATION = "identifiable-publication"
_SECONDARY = (Use.TEACHING, Use.PUBLICATION)


class FhirError(DeliveryError):
    """The server did not accept the bundle; the message is in plain words."""


@dataclass(frozen=True)
class IdSystems:
    """Identifier systems of the resources PicSafe makes, under the site's own base URI."""

    base: str = DEFAULT_ID_SYSTEM

    def _under(self, name: str) -> str:
        base = self.base or DEFAULT_ID_SYSTEM
        return f"{base}:{name}" if base.startswith("urn:") else f"{base.rstrip('/')}/{name}"

    @property
    def photo(self) -> str:
        return self._under("photo")

    @property
    def consent(self) -> str:
        return self._under("consent")

    @property
    def report(self) -> str:
        return self._under("report")

    @property
    def pseudonym(self) -> str:
        return self._under("pseudonym")


# -- building ----------------------------------------------------------------------------------


def _scope(batch: ExportBatch) -> str:
    """Record copies: one scope, so every export of a photo names the same resources.
    De-identified copies: the copy's random id, so nothing in them is derivable from the record."""
    return "copy:" + batch.copy_id if batch.deidentified else "record"


def _key(batch: ExportBatch, *parts: str) -> str:
    return str(uuid.uuid5(_NS, "\x1f".join((_scope(batch), *parts))))


def _urn(batch: ExportBatch, *parts: str) -> str:
    return "urn:uuid:" + _key(batch, *parts)


def _instant(value: dt.datetime) -> str:
    """FHIR instant (needs an offset): for times this PC made itself (export time)."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.isoformat(timespec="seconds")


def _date_time(value: dt.datetime) -> str:
    """FHIR dateTime of a recorded time: with its own offset, or only the date when none was
    recorded (FHIR forbids a time without a zone, and the PC's zone would be a guess)."""
    if value.tzinfo is None:
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Blob:
    binary_id: str
    data: bytes
    content_type: str


def _attachment(blob: _Blob, title: str) -> dict:
    """An Attachment pointing at its Binary (never multi-megabyte base64 inside a resource)."""
    return {
        "contentType": blob.content_type,
        "url": f"Binary/{blob.binary_id}",
        "size": len(blob.data),
        # FHIR R4 Attachment.hash is defined as the base64 SHA-1 of the data (datatypes.html):
        # an integrity check the receiver recomputes, not a security measure.
        "hash": base64.b64encode(hashlib.sha1(blob.data, usedforsecurity=False).digest()).decode(
            "ascii"
        ),
        "title": title,
    }


def _binary_entry(blob: _Blob) -> dict:
    """The Binary as a transaction entry (PUT with its stable id): what a saved Bundle carries.
    send() takes these out and stores each one first with its own content type."""
    return {
        "fullUrl": f"Binary/{blob.binary_id}",
        "resource": {
            "resourceType": "Binary",
            "id": blob.binary_id,
            "contentType": blob.content_type,
            "data": base64.b64encode(blob.data).decode("ascii"),
        },
        "request": {"method": "PUT", "url": f"Binary/{blob.binary_id}"},
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


def _patient(batch: ExportBatch, mrn_system: str, systems: IdSystems) -> tuple[dict, str]:
    patient = batch.consent.patient
    if batch.deidentified:
        ident = {"system": systems.pseudonym, "value": patient.mrn}
        return {"resourceType": "Patient", "identifier": [ident]}, _if_none_exist(
            systems.pseudonym, patient.mrn
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


def _consent_id(batch: ExportBatch) -> str:
    return _key(batch, "consent") if batch.deidentified else batch.consent.consent_id


def _consent(batch: ExportBatch, patient_ref: str, pdf_blob: _Blob, systems: IdSystems) -> dict:
    consent = batch.consent
    if consent.substitute is not None:
        performer = {"display": f"{consent.substitute.name} ({consent.substitute.relationship})"}
    else:
        performer = {"reference": patient_ref}
    when = str(consent.obtained_at.year) if batch.deidentified else _date_time(consent.obtained_at)
    purposes = [
        {"system": USE_SYSTEM, "code": u.value, "display": _USE_DISPLAY[u]}
        for u in sorted(consent.uses, key=lambda u: u.value)
    ]
    resource: dict = {
        "resourceType": "Consent",
        "identifier": [{"system": systems.consent, "value": _consent_id(batch)}],
        # R4: "inactive" = the consent is terminated or replaced (a full withdrawal).
        "status": "inactive" if consent.withdrawn is Withdrawal.FULL else "active",
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
        "sourceAttachment": _attachment(pdf_blob, "Signed consent"),
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
    _withdrawal_and_publication(resource["provision"], consent, when)
    if not purposes:  # a full withdrawal permits nothing; R4 wants no empty list
        del resource["provision"]["purpose"]
    return resource


def _purpose(code: str, display: str) -> dict:
    return {"system": USE_SYSTEM, "code": code, "display": display}


def _withdrawal_and_publication(provision: dict, consent: ConsentRecord, when: str) -> None:
    """Nested provisions: what a withdrawal ended (from its date), and whether publication may
    identify the patient. A full withdrawal ends the whole consent: its period ends then."""
    nested = []
    if consent.withdrawn is Withdrawal.FULL:
        provision["period"] = {"end": when}
    elif consent.withdrawn is Withdrawal.SECONDARY:
        nested.append(
            {
                "type": "deny",
                "period": {"start": when},
                "purpose": [_purpose(u.value, _USE_DISPLAY[u]) for u in _SECONDARY],
            }
        )
    if Use.PUBLICATION in consent.uses:
        nested.append(
            {
                "type": "permit" if consent.identifiable_publication else "deny",
                "purpose": [
                    _purpose(IDENTIFIABLE_PUBLICATION, "Publication of identifiable photographs")
                ],
            }
        )
    if nested:
        provision["provision"] = nested


def body_site(photo: ExportPhoto, consent_site: str) -> dict | None:
    """Media.bodySite: SNOMED CT, the side post-coordinated into the code
    (`<structure>:272741003=<side>`, SNOMED's Laterality attribute), the words as text."""
    site = anatomy.resolve(photo.site, photo.body_site or consent_site)
    if site is None:
        return None
    body: dict = {"text": site.text}
    if site.coded:
        code, display = anatomy.snomed_expression(site)
        body["coding"] = [{"system": anatomy.SNOMED_URI, "code": code, "display": display}]
    return body


def photo_identifier(batch: ExportBatch, photo: ExportPhoto) -> str:
    """The photo's identifier in this copy: the vault id for the record, else the copy's own."""
    return _key(batch, "photo", photo.item_id) if batch.deidentified else photo.item_id


def _media(
    batch: ExportBatch,
    photo: ExportPhoto,
    n: int,
    patient_ref: str,
    blob: _Blob,
    systems: IdSystems,
) -> dict:
    info = jpeg.read_info(photo.jpeg, f"photo {n}")
    swapped = info.orientation in (5, 6, 7, 8)
    resource: dict = {
        "resourceType": "Media",
        "identifier": [{"system": systems.photo, "value": photo_identifier(batch, photo)}],
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
        "height": info.width if swapped else info.height,
        "width": info.height if swapped else info.width,
        "content": _attachment(blob, f"Photo {photo.number or n} of {len(batch.photos)}"),
        "note": [{"text": f"SHA-256 {photo.sha256}"}],
    }
    if not batch.deidentified:
        resource["operator"] = {"display": batch.consent.obtained_by.name}
    taken = photo.facts.capture_time
    if taken is not None:
        resource["createdDateTime"] = _date_time(taken)
        if taken.tzinfo is None:
            resource["note"].append(
                {
                    "text": f"Captured {taken.strftime('%Y-%m-%d %H:%M:%S')} by the camera's "
                    "clock; the camera recorded no time zone"
                }
            )
    if batch.consent.indication:
        resource["reasonCode"] = [{"text": batch.consent.indication}]
    site = body_site(photo, batch.consent.body_site)
    if site is not None:
        resource["bodySite"] = site
    order_context.apply_media(resource, batch.consent, deidentified=batch.deidentified)  # 16
    return resource


def _document_key(batch: ExportBatch) -> str:
    """The same photos of the same consent for the same use are the same document."""
    items = sorted(p.item_id for p in batch.photos)
    return _key(batch, "document", batch.consent.consent_id, batch.use.value, *items)


def _document(batch: ExportBatch, patient_ref: str, blob: _Blob, systems: IdSystems) -> dict:
    resource: dict = {
        "resourceType": "DocumentReference",
        # MHD: the document's unique id as a URI; the identifier search matches it too
        "masterIdentifier": {"system": RFC3986, "value": "urn:uuid:" + _document_key(batch)},
        "identifier": [{"system": systems.report, "value": batch.report_id}],
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
        "description": f"Clinical photography report, {len(batch.photos)} photo(s)",
        "content": [{"attachment": _attachment(blob, f"Photography report {batch.report_id}")}],
    }
    if not batch.deidentified:
        resource["author"] = [{"display": batch.staff.name}]
    return resource


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
    id_system: str = "",
) -> dict:
    """The validated transaction Bundle as a JSON-ready dict (consent gate first).

    Photos and PDFs are Binary entries (PUT with stable ids) referenced from the attachments'
    `url`; every other resource is a conditional create on its stable identifier.
    """
    batch = gate(batch)
    systems = IdSystems(id_system or DEFAULT_ID_SYSTEM)
    if report_pdf is None:
        report_pdf = pdf.render_report(batch, site_name=site_name)
    if consent_pdf is None:
        consent_pdf = pdf.render_consent(batch)
    patient, patient_cond = _patient(batch, mrn_system, systems)
    patient_ref = _urn(batch, "patient", patient["identifier"][0]["value"])
    # Binary ids name what the content is (not its bytes): a re-rendered PDF of the same
    # consent or document is the one already stored, so a re-send creates nothing.
    consent_blob = _Blob(
        _key(batch, "consent-pdf", _consent_id(batch)), consent_pdf, "application/pdf"
    )
    report_blob = _Blob(
        _key(batch, "report-pdf", _document_key(batch)), report_pdf, "application/pdf"
    )
    photo_blobs = [
        _Blob(_key(batch, "photo-jpeg", p.item_id, p.sha256), p.jpeg, "image/jpeg")
        for p in batch.photos
    ]
    entries = [_entry(patient_ref, patient, patient_cond)]
    entries.append(
        _entry(
            _urn(batch, "consent", _consent_id(batch)),
            _consent(batch, patient_ref, consent_blob, systems),
            _if_none_exist(systems.consent, _consent_id(batch)),
        )
    )
    for n, (photo, blob) in enumerate(zip(batch.photos, photo_blobs, strict=True), start=1):
        entries.append(
            _entry(
                _urn(batch, "media", photo.item_id),
                _media(batch, photo, n, patient_ref, blob, systems),
                _if_none_exist(systems.photo, photo_identifier(batch, photo)),
            )
        )
    entries.append(
        _entry(
            _urn(batch, "document", _document_key(batch)),
            _document(batch, patient_ref, report_blob, systems),
            _if_none_exist(RFC3986, "urn:uuid:" + _document_key(batch)),
        )
    )
    entries += [_binary_entry(b) for b in (consent_blob, *photo_blobs, report_blob)]
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
    created: int = 0  # resources (Binary included) the server made new
    present: int = 0  # resources it already held (conditional create matched): a re-send

    def summary(self) -> str:
        return f"{self.created} resources created, {self.present} already present"


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
    400: "the server refused the request as malformed",
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
    ctx = tls_context(target.ca_file, "[fhir] ca_file")
    return urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=ctx))


_VALIDATION_CODES = frozenset({"invalid", "structure", "required", "value", "invariant"})


def _is_validation(outcome: object) -> bool:
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return False
    issues = [i for i in outcome.get("issue") or [] if isinstance(i, dict)]
    return any(str(i.get("code")) in _VALIDATION_CODES for i in issues)


def _failure(status: int, body: bytes, destination: str) -> FhirError:
    try:
        outcome = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        outcome = None
    words = outcome_text(outcome)
    error = _failure_error(status, outcome, words, destination)
    error.retry = status >= 500 or status in (408, 429)  # else: the same send fails again
    return error


def _failure_error(status: int, outcome: object, words: str, destination: str) -> FhirError:
    if status == 400 and _is_validation(outcome):
        # e.g. Medplum: 400 with issue code "structure"/"invalid" is its FHIR validator
        return FhirError(
            f"The FHIR server at {destination} refused the export (HTTP 400): its FHIR "
            f"validation refused the data. {words}".strip()
        )
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


def _request(
    target: FhirTarget,
    opener: urllib.request.OpenerDirector,
    method: str,
    url: str,
    body: bytes | None,
    content_type: str,
    sleep: Callable[[float], None],
    *,
    missing_ok: bool = False,
) -> tuple[int, bytes, int]:
    """One HTTP exchange with retries on 5xx/429/network errors: (status, body, attempts).
    With `missing_ok`, 404/410 are answers (the resource is not there), not failures."""
    destination = target.describe()
    delay = target.backoff
    attempts = 0
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Accept": FHIR_JSON,
        "Prefer": "return=minimal",
        "User-Agent": f"{APP_NAME.replace(' ', '')}/{__version__}",
    }
    if body is not None:
        headers["Content-Type"] = content_type
    while True:
        attempts += 1
        request = urllib.request.Request(  # noqa: S310 - scheme checked in _check_url
            url, data=body, method=method, headers=headers
        )
        try:
            with opener.open(request, timeout=target.timeout) as response:
                return response.status, response.read(), attempts
        except urllib.error.HTTPError as exc:
            status, payload, answer_headers = exc.code, exc.read(), exc.headers
            exc.close()
            if missing_ok and status in (404, 410):
                return status, payload, attempts
            retryable = status >= 500 or status == 429
            log.warning(
                "FHIR server %s answered HTTP %d (attempt %d)", destination, status, attempts
            )
            if not retryable or attempts > target.retries:
                raise _failure(status, payload, destination) from None
            wait = _retry_after(answer_headers, delay)
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
                    f"attempt{'' if attempts == 1 else 's'} ({reason}). "
                    "Check the network and the base URL."
                ) from None
            wait = delay
        sleep(wait)
        delay *= 2


def _store_binary(
    resource: dict,
    target: FhirTarget,
    opener: urllib.request.OpenerDirector,
    sleep: Callable[[float], None],
) -> bool:
    """Store one Binary with its own content type unless the server already holds that id
    (a read first: conditional on the stable id). True when it was created now."""
    url = f"{target.base_url.rstrip('/')}/Binary/{urllib.parse.quote(resource['id'], safe='')}"
    status, _, _ = _request(target, opener, "GET", url, None, "", sleep, missing_ok=True)
    if 200 <= status < 300:
        return False
    data = base64.b64decode(resource["data"])
    _request(target, opener, "PUT", url, data, resource["contentType"], sleep)
    return True


def post_bundle(
    bundle: dict,
    target: FhirTarget,
    *,
    sleep: Callable[[float], None] = time.sleep,
    opener: urllib.request.OpenerDirector | None = None,
) -> FhirResult:
    """Store the Binaries, then POST the rest as transaction Bundles of at most
    TRANSACTION_MAX_ENTRIES entries (one when it fits), in order.

    Each Binary goes on its own with its native content type (`PUT [base]/Binary/[id]`, the
    FHIR REST way to send document bytes, which servers keep outside the JSON), so no
    resource carries megabytes of base64; the transaction's attachments point at them.
    """
    _check_url(target.base_url)
    if not target.token:
        raise ExportError("no FHIR access token is configured; ask IT to set it")
    opener = opener or _opener(target)
    entries = bundle.get("entry", [])
    binaries = [e["resource"] for e in entries if e["resource"]["resourceType"] == "Binary"]
    rest = [e for e in entries if e["resource"]["resourceType"] != "Binary"]
    created = sum(_store_binary(b, target, opener, sleep) for b in binaries)
    resolved: dict[str, str] = {}  # urn:uuid fullUrl -> where the server put it
    results = []
    for part in _parts(rest, TRANSACTION_MAX_ENTRIES):
        part = [_resolve(entry, resolved) for entry in part]
        body = json.dumps(dict(bundle, entry=part), ensure_ascii=False).encode("utf-8")
        status, payload, attempts = _request(
            target,
            opener,
            "POST",
            target.base_url.rstrip("/"),
            body,
            f"{FHIR_JSON}; charset=utf-8",
            sleep,
        )
        result = _read_response(status, payload, target.describe(), attempts, len(part))
        for entry, location in zip(part, result.locations, strict=True):
            if location:  # "Patient/123/_history/1" -> "Patient/123"
                kind_id = location.split("/_history/")[0].split("/")[-2:]
                resolved[entry["fullUrl"]] = "/".join(kind_id)
            elif entry["request"].get("ifNoneExist"):  # no location: a conditional reference
                kind = entry["resource"]["resourceType"]
                resolved[entry["fullUrl"]] = f"{kind}?{entry['request']['ifNoneExist']}"
        results.append(result)
    return FhirResult(
        results[-1].destination,
        results[-1].status,
        tuple(loc for r in results for loc in r.locations),
        sum(r.attempts for r in results),
        created=sum(r.created for r in results) + created,
        present=sum(r.present for r in results) + len(binaries) - created,
    )


# Medplum's engine (and server) refuses a transaction holding conditional creates when it has
# more than 8 entries ("Transaction requires strict isolation but has too many entries"). A
# bigger export goes as several transactions in order (Patient first); each is atomic, and as
# every resource is a conditional create on a stable identifier, a send cut off between two
# parts is completed by the next attempt without duplicates.
TRANSACTION_MAX_ENTRIES = 8


def _parts(entries: list[dict], size: int) -> list[list[dict]]:
    return [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]


def _resolve(entry: dict, resolved: dict[str, str]) -> dict:
    """`entry` with references to resources of an earlier part replaced by their location."""
    if not resolved:
        return entry
    text = json.dumps(entry, ensure_ascii=False)
    for urn, location in resolved.items():
        text = text.replace(json.dumps(urn), json.dumps(location))
    return json.loads(text)  # a reference is the whole string value: quoted, it matches exactly


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
    created = 0
    for entry in entries:
        response = entry.get("response") or {}
        code = str(response.get("status", ""))
        if not code.startswith("2"):
            words = outcome_text(response.get("outcome"))
            raise FhirError(
                f"The FHIR server at {destination} refused a resource ({code}). {words}"
            )
        created += code.startswith("201")  # 200: a conditional create found it already there
        locations.append(str(response.get("location", "")))
    log.info("FHIR transaction at %s: %d resources, %d new", destination, len(locations), created)
    return FhirResult(
        destination, status, tuple(locations), attempts, created, len(locations) - created
    )


def send(
    batch: ExportBatch,
    target: FhirTarget,
    *,
    mrn_system: str,
    site_name: str = "",
    id_system: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> FhirResult:
    """Build and validate the Bundle for `batch`, store its Binaries, POST the transaction."""
    if not mrn_system and Use(batch.use) is Use.RECORD:
        # a server matches patients on system|value; a bare MRN could match another hospital's
        raise ExportError(
            "the FHIR MRN identifier system is not set in the site configuration "
            "([fhir] mrn_system)"
        )
    bundle = build_bundle(batch, mrn_system=mrn_system, site_name=site_name, id_system=id_system)
    return post_bundle(bundle, target, sleep=sleep)
