"""Issue 16: the hospital's systems across a network — worklist over DICOM TLS (Orthanc asks
for our client certificate) and STOW-RS over HTTPS, with test-made certificates."""

from __future__ import annotations

import socket
import time

import pytest

from picsafe_desktop.export import stow
from picsafe_desktop.export.types import DeliveryError
from picsafe_desktop.hospital import worklist
from picsafe_desktop.hospital.dimse import DicomPeer
from picsafe_desktop.hospital.lookup import LookupError
from tests import export_data as d
from tests.export_tools import AET
from tests.hospital_tools import (
    STOW_PASSWORD,
    STOW_USER,
    HttpsProxy,
    start_tls_orthanc,
    write_worklist,
)


@pytest.fixture(scope="module")
def tls_orthanc(tmp_path_factory):
    server, tls = start_tls_orthanc(tmp_path_factory.mktemp("tls-orthanc"))
    server.tls = tls
    try:
        deadline = time.monotonic() + 60
        while True:  # its REST API is HTTPS now: wait for the port instead
            if server.proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {server.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", server.dicom_port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Orthanc did not come up within 60 s")
                time.sleep(0.2)
        yield server
    finally:
        server.stop()


def _peer(server, **kw) -> DicomPeer:
    return DicomPeer("worklist", AET, "127.0.0.1", server.dicom_port, tls=True, timeout=15,
                     tls_ca_file=str(server.tls["ca"]), **kw)  # fmt: skip


def test_worklist_over_dicom_tls_with_a_client_certificate(tls_orthanc):
    write_worklist(tls_orthanc.worklists, "jane")
    tls = tls_orthanc.tls
    peer = _peer(tls_orthanc, tls_cert_file=str(tls["client_cert"]),
                 tls_key_file=str(tls["client_key"]))  # fmt: skip
    (match,) = worklist.find(peer, "MRN-4711")
    assert match.name == "Doe, Jane" and match.accession_number == "ACC-2026-0001"


def test_worklist_tls_failures_are_explained(tls_orthanc):
    with pytest.raises(LookupError, match="worklist"):  # no client certificate: refused
        worklist.find(_peer(tls_orthanc), "MRN-4711")
    # the system's CAs do not know the test CA
    untrusted = DicomPeer("worklist", AET, "127.0.0.1", tls_orthanc.dicom_port, tls=True,
                          timeout=15)  # fmt: skip
    with pytest.raises(LookupError, match="worklist"):
        worklist.find(untrusted, "MRN-4711")
    plain = DicomPeer("worklist", AET, "127.0.0.1", tls_orthanc.dicom_port, timeout=10)
    with pytest.raises(LookupError, match="worklist"):
        worklist.find(plain, "MRN-4711")


@pytest.fixture
def https(tls_orthanc):
    tls = tls_orthanc.tls
    proxy = HttpsProxy(f"http://127.0.0.1:{tls_orthanc.http_port}", tls["server_cert"],
                       tls["server_key"])  # fmt: skip
    yield proxy
    proxy.close()


def test_stow_rs_over_https_trusts_only_the_configured_ca(tls_orthanc, https):
    url = f"https://127.0.0.1:{https.port}/dicom-web"
    batch = d.batch([d.photo("p-1", d.synthetic_jpeg())])
    with pytest.raises(DeliveryError, match="certificate this computer does not trust"):
        stow.send(batch, stow.StowTarget(url, username=STOW_USER, password=STOW_PASSWORD))
    target = stow.StowTarget(url, username=STOW_USER, password=STOW_PASSWORD,
                             ca_file=str(tls_orthanc.tls["ca"]))  # fmt: skip
    result = stow.send(batch, target)
    assert len(result.sent) == 1
