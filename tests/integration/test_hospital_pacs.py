"""Issue 16: the PACS side — DICOMweb STOW-RS into Orthanc's DICOMweb plugin (basic auth),
and DICOM storage commitment answered by Orthanc's storage commitment SCP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from picsafe_desktop import cli
from picsafe_desktop.export import commitment, committed, dicom, stow
from picsafe_desktop.export.types import DeliveryError, ExportError
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests import export_data as d
from tests.export_tools import AET, free_port
from tests.hospital_tools import CALLING_AET, STOW_PASSWORD, STOW_USER
from tests.importer_support import import_consented


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


# -- storage commitment ------------------------------------------------------------------------


def _pacs_target(server) -> dicom.PacsTarget:
    return dicom.PacsTarget(AET, "127.0.0.1", server.dicom_port, calling_ae_title=CALLING_AET,
                            timeout=20)  # fmt: skip


def test_orthanc_commits_what_it_holds_and_not_what_it_does_not(pacs):
    sent = dicom.send(_batch(), _pacs_target(pacs))
    pairs = [(dicom.VLPhotographicImageStorage, uid) for uid in sent.sent]
    never_sent = "2.25.1234567890"
    result = commitment.request(
        _pacs_target(pacs), [*pairs, (dicom.VLPhotographicImageStorage, never_sent)],
        port=pacs.commit_port, timeout=30,
    )  # fmt: skip
    assert sorted(result.committed) == sorted(sent.sent)
    assert result.failed == (never_sent,)


def test_no_answer_means_not_committed(pacs):
    """The PACS answers to a port nobody listens on: nothing counts as committed."""
    sent = dicom.send(_batch(), _pacs_target(pacs))
    pairs = [(dicom.VLPhotographicImageStorage, uid) for uid in sent.sent]
    result = commitment.request(_pacs_target(pacs), pairs, port=free_port(), timeout=3)
    assert result.committed == () and sorted(result.failed) == sorted(sent.sent)


CONSENT = {
    "patient": {"mrn": "RX0099887", "name": "Ada Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
    "indication": "wound review",
    "identifiability": "not_identifiable",
}


@pytest.fixture
def vault_setup(tmp_path, keyring_service):
    vault_dir = tmp_path / "vault"
    base, items = import_consented(vault_dir, tmp_path, keyring_service, CONSENT, "commit")
    return vault_dir, keyring_service, base, items[0].consent_id, [i.item_id for i in items]


def _config(tmp_path, pacs, **pacs_keys) -> str:
    keys = {"ae_title": AET, "host": "127.0.0.1", "port": pacs.dicom_port,
            "calling_ae_title": CALLING_AET, **pacs_keys}  # fmt: skip
    text = "[pacs]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    text += "[retention]\nafter_commit_days = 30\n"
    path = tmp_path / "site.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.keyring
@pytest.mark.parametrize("transport", ["dimse", "stow"])
def test_export_marks_photos_committed_only_after_orthancs_answer(
    pacs, vault_setup, tmp_path, capsys, transport
):
    vault_dir, service, base, consent_id, item_ids = vault_setup
    stow_keys = {"transport": "stow", "stow_url": f"http://127.0.0.1:{pacs.http_port}/dicom-web",
                 "stow_username": STOW_USER, "stow_password": STOW_PASSWORD}  # fmt: skip
    config = _config(tmp_path, pacs, storage_commitment=True, commitment_port=pacs.commit_port,
                     **(stow_keys if transport == "stow" else {}))  # fmt: skip
    assert cli.main(["--config", config, "pacs", "status", *base]) == 0
    assert capsys.readouterr().out.count("not sent to the PACS") == 2

    assert cli.main(["--config", config, "export", "dicom", "--consent", consent_id, *base]) == 0
    assert "committed all 2 photos" in capsys.readouterr().out
    assert len(pacs.get("/instances")) == 2
    with Vault.open(vault_dir, service) as vault:
        rows = [r for r in vault.audit_rows() if r.event == committed.COMMITTED]
        assert sorted(r.subject for r in rows) == sorted(item_ids)
        assert all(r.details["sop_instance_uid"].startswith("2.25.") for r in rows)
        assert committed.status(vault, item_ids[0]).startswith("In the PACS (committed")
    assert cli.main(["--config", config, "pacs", "status", *base]) == 0
    assert capsys.readouterr().out.count("In the PACS") == 2


@pytest.mark.keyring
def test_retention_after_commit_shreds_only_committed_photos_by_a_persons_action(
    pacs, vault_setup, tmp_path, capsys
):
    vault_dir, service, base, consent_id, item_ids = vault_setup
    # the PACS "answers" to a port nobody listens on: stored, but never committed
    lost = _config(tmp_path, pacs, storage_commitment=True, commitment_port=free_port(),
                   commitment_timeout_seconds=2)  # fmt: skip
    assert cli.main(["--config", lost, "export", "dicom", "--consent", consent_id, *base]) == 0
    assert "committed 0 of 2 photos" in capsys.readouterr().out
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    with Vault.open(vault_dir, service) as vault:
        assert committed.status(vault, item_ids[0]).startswith("Sent to the PACS, not confirmed")
        assert committed.due(vault, 30, now=later) == []  # uncommitted: never due
        with pytest.raises(ExportError, match="nothing was destroyed"):
            committed.dispose(vault, item_ids, actor="test", after_days=30, now=later)
        assert len(vault.list_items(state=ItemState.ACTIVE)) == 2

    good = _config(tmp_path, pacs, storage_commitment=True, commitment_port=pacs.commit_port)
    assert cli.main(["--config", good, "export", "dicom", "--consent", consent_id, *base]) == 0
    capsys.readouterr()
    assert cli.main(["--config", good, "pacs", "dispose-committed", "--dispose", *base]) == 0
    assert "No photo was committed by the PACS 30 or more days ago" in capsys.readouterr().out
    with Vault.open(vault_dir, service) as vault:
        due = committed.due(vault, 30, now=later)
        assert sorted(r["photo"] for r in due) == sorted(item_ids)
        assert committed.dispose(vault, item_ids[:1], actor="test", after_days=30, now=later) == 1
        assert [i.item_id for i in vault.list_items(state=ItemState.ACTIVE)] == item_ids[1:]
        (row,) = [r for r in vault.audit_rows() if r.event == "delete"]
        assert row.subject == item_ids[0] and "PACS committed" in row.details["reason"]


def test_config_refuses_a_stow_transport_without_url_and_commitment_without_a_pacs():
    from picsafe_desktop import config

    with pytest.raises(config.ConfigError, match="stow_url"):
        config.from_dict({"pacs": {"transport": "stow"}})
    with pytest.raises(config.ConfigError, match="storage_commitment"):
        config.from_dict({"pacs": {"storage_commitment": True}})
    site = config.from_dict({"pacs": {"transport": "stow", "stow_url": "https://p/dicom-web"}})
    assert site.pacs.transport == "stow"


def test_a_report_from_another_address_than_the_pacs_commits_nothing(pacs):
    """Ask via 127.0.0.2 (Orthanc listens on every loopback address): its report comes from
    127.0.0.1, which is not the PACS as configured, so nothing counts as committed."""
    sent = dicom.send(_batch(), _pacs_target(pacs))
    pairs = [(dicom.VLPhotographicImageStorage, uid) for uid in sent.sent]
    elsewhere = dataclasses.replace(_pacs_target(pacs), host="127.0.0.2")
    result = commitment.request(elsewhere, pairs, port=pacs.commit_port, timeout=5)
    assert result.committed == () and sorted(result.failed) == sorted(sent.sent)
