"""Issue 16: the PACS side — DICOMweb STOW-RS into Orthanc's DICOMweb plugin (basic auth),
and DICOM storage commitment answered by Orthanc's storage commitment SCP."""

from __future__ import annotations

import pytest

from picsafe_desktop.export import dicom, stow
from picsafe_desktop.export.types import DeliveryError
from tests import export_data as d
from tests.export_tools import free_port
from tests.hospital_tools import STOW_PASSWORD, STOW_USER


@pytest.fixture
def pacs(hospital_orthanc):
    hospital_orthanc.clear()
    return hospital_orthanc


def _stow(server, **kw) -> stow.StowTarget:
    kw.setdefault("username", STOW_USER)
    kw.setdefault("password", STOW_PASSWORD)
    return stow.StowTarget(f"http://127.0.0.1:{server.http_port}/dicom-web", timeout=30, **kw)


def _batch():
    return d.batch([d.photo("p-1", d.synthetic_jpeg()), d.photo("p-2", d.synthetic_jpeg(300, 301))])


def test_stow_rs_stores_the_photos_in_orthanc_and_a_resend_duplicates_nothing(pacs):
    batch = _batch()
    result = stow.send(batch, _stow(pacs))
    assert len(result.sent) == 2
    instances = pacs.get("/instances?expand")
    assert sorted(i["MainDicomTags"]["SOPInstanceUID"] for i in instances) == sorted(result.sent)
    again = stow.send(batch, _stow(pacs))  # the outbox may send twice: same UIDs, same objects
    assert again.sent == result.sent and len(pacs.get("/instances")) == 2
    stored = pacs.get(f"/instances/{instances[0]['ID']}/simplified-tags")
    assert stored["SOPClassUID"] == dicom.VLPhotographicImageStorage


def test_stow_rs_refusals_are_explained_without_the_secret(pacs):
    with pytest.raises(DeliveryError, match="HTTP 401") as caught:
        stow.send(_batch(), _stow(pacs, password="wrong-secret"))
    assert "wrong-secret" not in str(caught.value)
    with pytest.raises(DeliveryError, match="cannot reach the PACS"):
        stow.send(_batch(), stow.StowTarget(f"http://127.0.0.1:{free_port()}/dicom-web"))
    with pytest.raises(DeliveryError, match="no DICOMweb service"):
        stow.send(_batch(), stow.StowTarget(
            f"http://127.0.0.1:{pacs.http_port}/not-dicom-web", username=STOW_USER,
            password=STOW_PASSWORD))  # fmt: skip
    assert pacs.get("/instances") == []


def test_stow_credentials_go_in_the_header_and_never_in_the_repr():
    bearer = stow.StowTarget("https://pacs.example/dicom-web", token="tok-123")
    assert stow._headers(bearer, "x")["Authorization"] == "Bearer tok-123"
    basic = stow.StowTarget("https://pacs.example/dicom-web", username="u", password="pw-9")
    assert stow._headers(basic, "x")["Authorization"].startswith("Basic ")
    assert "tok-123" not in repr(bearer) and "pw-9" not in repr(basic)
    with pytest.raises(Exception, match="https"):
        stow.send_datasets([], stow.StowTarget("http://pacs.example/dicom-web"))
