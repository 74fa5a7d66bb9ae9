"""DICOMweb STOW-RS (PS3.18 10.5): the second way to the PACS, `[pacs] transport = "stow"`.

The same objects dicom.py builds for C-STORE go as one multipart/related POST to
`[stow_url]/studies`. Bearer token or HTTP basic auth; https (or loopback http) only, with an
extra CA bundle for a hospital CA. Secrets are never logged nor put in messages or reprs.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from picsafe_desktop.export import dicom
from picsafe_desktop.export.tls import tls_context
from picsafe_desktop.export.types import DeliveryError, ExportBatch, ExportError

log = logging.getLogger(__name__)

_REFERENCED, _FAILED, _FAILURE_REASON = "00081199", "00081198", "00081197"
_SOP_INSTANCE = "00081155"


@dataclass(frozen=True)
class StowTarget:
    url: str  # the DICOMweb base, e.g. https://pacs.example/dicom-web
    token: str = field(default="", repr=False)  # bearer
    username: str = ""  # basic auth, when no token
    password: str = field(default="", repr=False)
    ca_file: str = ""
    timeout: float = 60.0

    def describe(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could carry the credentials to another host: treat it as an error."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ExportError(f"[pacs] stow_url {url!r} is not an http(s) address")
    if parts.scheme == "http":
        try:
            loopback = (
                parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
            )
        except ValueError:
            loopback = False
        if not loopback:  # photos and credentials would cross the network in the clear
            raise ExportError("[pacs] stow_url must use https (plain http is only for localhost)")


def multipart(datasets: Sequence[Dataset]) -> tuple[bytes, str]:
    """(body, Content-Type) of a STOW-RS request carrying Part 10 files."""
    boundary = f"picsafe-{uuid.uuid4().hex}"
    chunks = []
    for ds in datasets:
        chunks += [f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode(),
                   dicom.to_bytes(ds), b"\r\n"]  # fmt: skip
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    return b"".join(chunks), content_type


def _headers(target: StowTarget, content_type: str) -> dict[str, str]:
    headers = {"Content-Type": content_type, "Accept": "application/dicom+json"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    elif target.username:
        pair = f"{target.username}:{target.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def _uids(answer: dict, tag: str) -> list[str]:
    items = (answer.get(tag) or {}).get("Value") or []
    return [str((i.get(_SOP_INSTANCE) or {}).get("Value", [""])[0]) for i in items]


def send_datasets(datasets: Sequence[Dataset], target: StowTarget) -> tuple[str, ...]:
    """POST the objects; the SOP Instance UIDs the server stored. One call per send, so a
    queue (the outbox) can call it again: the UIDs are stable, a re-send duplicates nothing."""
    _check_url(target.url)
    body, content_type = multipart(datasets)
    url = target.url.rstrip("/") + "/studies"
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers=_headers(target, content_type)
    )
    ctx = tls_context(target.ca_file, "[pacs] stow_ca_file")
    opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=ctx))
    where = target.describe()
    try:
        with opener.open(request, timeout=target.timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        hint = {
            401: "the PACS did not accept the credentials; ask IT to check [pacs] stow_token "
            "or stow_username/stow_password",
            403: "these credentials may not store images",
            404: "there is no DICOMweb service at this address; check [pacs] stow_url",
            409: "the PACS refused some or all of the photos",
            415: "the PACS does not accept DICOM files by STOW-RS",
        }.get(status, "the PACS had an internal error" if status >= 500 else "it was refused")
        raise DeliveryError(
            f"the PACS at {where} refused the photos (HTTP {status}): {hint}"
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise DeliveryError(
                f"the PACS at {where} presented a certificate this computer does not trust; "
                "ask IT to set [pacs] stow_ca_file to the hospital's CA certificate"
            ) from None
        raise DeliveryError(
            f"cannot reach the PACS at {where} ({reason}); check the network and [pacs] stow_url"
        ) from None
    try:
        answer = json.loads(payload.decode("utf-8")) if payload.strip() else {}
    except (UnicodeDecodeError, ValueError):
        answer = {}
    if isinstance(answer, list):  # some servers wrap the response dataset in an array
        answer = answer[0] if answer else {}
    stored, failed = _uids(answer, _REFERENCED), _uids(answer, _FAILED)
    wanted = [str(ds.SOPInstanceUID) for ds in datasets]
    if failed or sorted(stored) != sorted(wanted):
        raise DeliveryError(
            f"the PACS at {where} stored {len(stored)} of {len(wanted)} photos "
            f"({len(failed)} refused); send again or ask IT to check the PACS"
        )
    log.info("stored %d DICOM objects by STOW-RS at %s", len(stored), where)
    return tuple(stored)


def send(
    batch: ExportBatch,
    target: StowTarget,
    *,
    institution: str = "",
    issuer_of_patient_id: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> dicom.SendResult:
    """Build every object (after the consent gate), then store them in one STOW-RS request."""
    datasets = dicom.build_datasets(
        batch, institution=institution, issuer_of_patient_id=issuer_of_patient_id
    )
    sent = send_datasets(datasets, target)
    if progress:
        progress(len(datasets), len(datasets))
    return dicom.SendResult(
        f"dicomweb:{target.describe()}", str(datasets[0].StudyInstanceUID), sent
    )
