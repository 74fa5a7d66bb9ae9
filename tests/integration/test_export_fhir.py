"""FHIR export: the HTTP exchange with a FHIR endpoint served on loopback by the test."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from fhir.resources.R4B.bundle import Bundle

from picsafe_desktop.export import fhir
from picsafe_desktop.export.types import ExportError
from tests import export_data as d
from tests.export_tools import FhirEndpoint, transaction_response

TOKEN = "tok-5ecret-abc123"
MRN_SYSTEM = "urn:oid:1.2.826.0.1.999.1"


@pytest.fixture
def endpoint():
    server = FhirEndpoint()
    yield server
    server.close()


@pytest.fixture
def sleeps():
    return []


def _target(endpoint, retries=3):
    return fhir.FhirTarget(endpoint.base_url, token=TOKEN, retries=retries, timeout=10)


def _send(endpoint, sleeps, batch=None, retries=3):
    return fhir.send(batch or d.batch(), _target(endpoint, retries), mrn_system=MRN_SYSTEM,
                     sleep=sleeps.append)  # fmt: skip


def _outcome(text: str, code: str = "invalid") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text,
                   "expression": ["Bundle.entry[2].resource"]}],
    }  # fmt: skip


def test_transaction_is_posted_with_token_content_type_and_bundle_shape(endpoint, sleeps):
    endpoint.script = [(200, transaction_response, {})]
    batch = d.batch()
    result = _send(endpoint, sleeps, batch)
    assert result.status == 200 and result.attempts == 1 and sleeps == []
    assert result.locations[0] == "Patient/1/_history/1" and len(result.locations) == 5
    (req,) = endpoint.requests
    assert req["method"] == "POST" and req["path"] == "/fhir/r4"
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/fhir+json; charset=utf-8"
    assert headers["accept"] == "application/fhir+json"
    bundle = json.loads(req["body"])
    Bundle.model_validate(bundle)  # what arrived is valid FHIR
    assert bundle["type"] == "transaction"
    assert [e["request"]["method"] for e in bundle["entry"]] == ["POST"] * 5
    assert [e["request"]["url"] for e in bundle["entry"]] == [
        "Patient", "Consent", "Media", "Media", "DocumentReference"
    ]  # fmt: skip
    assert all(e["request"]["ifNoneExist"].startswith("identifier=") for e in bundle["entry"])


def test_server_errors_are_retried_with_back_off(endpoint, sleeps):
    endpoint.script = [
        (503, _outcome("down for maintenance", "transient"), {}),
        (500, b"<html>oops</html>", {}),
        (200, transaction_response, {}),
    ]
    result = _send(endpoint, sleeps)
    assert result.attempts == 3 and sleeps == [1.0, 2.0]
    bodies = {r["body"] for r in endpoint.requests}
    assert len(endpoint.requests) == 3 and len(bodies) == 1  # the same transaction each time


def test_retry_after_is_honoured(endpoint, sleeps):
    endpoint.script = [(429, b"", {"Retry-After": "7"}), (200, transaction_response, {})]
    _send(endpoint, sleeps)
    assert sleeps == [7.0]


def test_persistent_server_errors_end_with_the_servers_words(endpoint, sleeps):
    endpoint.script = [(503, _outcome("database offline", "exception"), {})] * 3
    with pytest.raises(fhir.FhirError) as err:
        _send(endpoint, sleeps, retries=2)
    assert len(endpoint.requests) == 3 and sleeps == [1.0, 2.0]
    assert "HTTP 503" in str(err.value) and "Error: database offline" in str(err.value)


def test_operation_outcome_is_shown_in_plain_words_without_retry(endpoint, sleeps):
    endpoint.script = [(422, _outcome("Media.content.size must match the data"), {})]
    with pytest.raises(fhir.FhirError) as err:
        _send(endpoint, sleeps)
    message = str(err.value)
    assert len(endpoint.requests) == 1 and sleeps == []
    assert "refused the export (HTTP 422): the server found the data invalid." in message
    assert "Error: Media.content.size must match the data (at Bundle.entry[2].resource)." in message


def test_rejected_token_is_explained_and_never_shown_or_logged(endpoint, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint.script = [(401, _outcome("token expired", "expired"), {})]
    with pytest.raises(fhir.FhirError) as err:
        _send(endpoint, sleeps)
    assert "access token" in str(err.value)
    assert TOKEN not in str(err.value) and TOKEN not in caplog.text
    assert TOKEN not in repr(_target(endpoint))


def test_entry_failure_inside_atransaction_response_is_reported(endpoint, sleeps):
    def partial(bundle):
        answer = transaction_response(bundle)
        answer["entry"][1]["response"] = {
            "status": "400 Bad Request",
            "outcome": _outcome("consent scope unknown"),
        }
        return answer

    endpoint.script = [(200, partial, {})]
    with pytest.raises(fhir.FhirError, match="refused a resource .*consent scope unknown"):
        _send(endpoint, sleeps)


def test_redirect_is_not_followed(endpoint, sleeps):
    endpoint.script = [(307, b"", {"Location": "http://127.0.0.1:9/elsewhere"})]
    with pytest.raises(fhir.FhirError, match="redirect"):
        _send(endpoint, sleeps)
    assert len(endpoint.requests) == 1


def test_unreachable_server_is_retried_then_explained(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    target = fhir.FhirTarget(f"http://127.0.0.1:{port}/fhir", token=TOKEN, retries=2, timeout=5)
    with pytest.raises(fhir.FhirError, match="could not be reached after 3 attempts") as err:
        fhir.send(d.batch(), target, mrn_system=MRN_SYSTEM, sleep=sleeps.append)
    assert sleeps == [1.0, 2.0] and TOKEN not in str(err.value)


def test_one_attempt_is_worded_in_the_singular(sleeps):
    """Was: "could not be reached after 1 attempts" when retries are off."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = fhir.FhirTarget(f"http://127.0.0.1:{port}/fhir", token=TOKEN, retries=0, timeout=5)
    with pytest.raises(fhir.FhirError, match=r"could not be reached after 1 attempt \(") as err:
        fhir.send(d.batch(), target, mrn_system=MRN_SYSTEM, sleep=sleeps.append)
    assert "attempts" not in str(err.value)


def test_missing_token_fails_before_sending(endpoint, sleeps):
    target = fhir.FhirTarget(endpoint.base_url, token="")
    with pytest.raises(ExportError, match="no FHIR access token"):
        fhir.send(d.batch(), target, mrn_system=MRN_SYSTEM, sleep=sleeps.append)
    assert endpoint.requests == []


@pytest.mark.corpus
def test_bundle_from_scrubbed_corpus_photos_validates_and_posts(endpoint, sleeps):
    photos = d.scrubbed_corpus_photos()
    endpoint.script = [(200, transaction_response, {})]
    result = _send(endpoint, sleeps, d.batch(photos=photos))
    assert len(result.locations) == 2 + len(photos) + 1
    bundle = json.loads(endpoint.requests[0]["body"])
    Bundle.model_validate(bundle)
    sizes = [e["resource"]["content"]["size"] for e in bundle["entry"][2:-1]]
    assert sizes == [len(p.jpeg) for p in photos]
