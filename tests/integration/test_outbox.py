"""The durable outbox against the real peers: an Orthanc that is down and then up, a SIGKILL
between the PACS's store and our acknowledgement, and a FHIR engine outage."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from picsafe_desktop import cli, config
from picsafe_desktop.export import fhir, outbox
from picsafe_desktop.export.dicom import PacsTarget
from picsafe_desktop.export.from_vault import ExportOptions
from picsafe_desktop.export.types import ExportError
from picsafe_desktop.model import Staff
from picsafe_desktop.vault import Vault
from tests.export_tools import AET, MedplumEngine, Orthanc, free_port, require
from tests.importer_support import import_consented

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

MRN = "RX0099887"
CONSENT = {
    "patient": {"mrn": MRN, "name": "Ada Example", "birth_date": "1970-01-02"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
    "indication": "wound review",
}
STAFF = Staff(name="Dr Jo Smith", role="clinician", staff_id="JS1")
REPO = Path(__file__).resolve().parents[2]


class RestartableOrthanc(Orthanc):
    """The fixture's Orthanc, but it can be stopped and started again on the same ports and
    storage (the PACS going down for maintenance)."""

    def __init__(self, root, binary: str) -> None:
        super().__init__(root, binary)
        self.root, self.binary = root, binary

    def halt(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()

    def start(self) -> None:
        self.log = (self.root / "orthanc.log").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, str(self.root / "orthanc.json")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()


@pytest.fixture
def pacs(tmp_path_factory):
    server = RestartableOrthanc(tmp_path_factory.mktemp("orthanc"), require("Orthanc"))
    server.wait_ready()
    yield server
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture
def vault_dir(tmp_path, keyring_service):
    return consented_vault(tmp_path, keyring_service)


def consented_vault(tmp_path, keyring_service) -> Path:
    """A vault holding two consented photos (imported through the CLI, as on a ward PC)."""
    vault_dir = tmp_path / "vault"
    import_consented(vault_dir, tmp_path, keyring_service, CONSENT, "obx")
    return vault_dir


def _consent_id(vault) -> str:
    return vault.list_items()[0].consent_id


def _pacs_options(server) -> ExportOptions:
    target = PacsTarget(ae_title=AET, host="127.0.0.1", port=server.dicom_port, timeout=10)
    return ExportOptions(pacs=target)


def _instances(server) -> int:
    return len(server.get("/instances"))


def test_pacs_down_then_up_delivers_once_and_survives_a_restart(vault_dir, keyring_service, pacs):
    pacs.halt()
    options = _pacs_options(pacs)
    with Vault.open(vault_dir, keyring_service) as vault:
        consent_id = _consent_id(vault)
        with pytest.raises(outbox.Queued, match="wait in the outbox"):
            outbox.send(vault, consent_id, "dicom", options, staff=STAFF, actor="test")
        [entry] = vault.outbox_entries()
        assert (entry.kind, entry.photos, entry.state, entry.attempts) == ("pacs", 2, "waiting", 1)
        assert outbox.banner(outbox.waiting(vault)) == "2 photos waiting for the PACS"
        # not due yet: the worker's next pass leaves it alone (back-off)
        assert outbox.deliver(vault, options) == []
        later = time.time() + 10_000
        [failed] = outbox.deliver(vault, options, now=lambda: later)
        assert not failed.delivered and "cannot reach the PACS" in failed.message
        [entry] = vault.outbox_entries()
        assert entry.attempts == 2
        assert entry.next_at - later == pytest.approx(outbox.backoff(2), rel=0.11)  # jitter
        assert outbox.backoff(2) == 2 * outbox.backoff(1)

    # The PC restarts while the PACS is down; the entry is still there after it.
    with Vault.open(vault_dir, keyring_service) as vault:
        assert [e.photos for e in vault.outbox_entries()] == [2]
    verify = ["vault", "verify", "--vault", str(vault_dir), "--keyring-service", keyring_service]
    assert cli.main(verify) == 0  # the outbox table is no trouble for the vault's checks
    pacs.start()
    with Vault.open(vault_dir, keyring_service) as vault:
        [done] = outbox.deliver(vault, options, now=lambda: time.time() + 100_000)
        assert done.delivered
        assert vault.outbox_entries() == []
        assert outbox.deliver(vault, options, force=True) == []
        exports = [r for r in vault.audit_rows() if r.event == "export"]
        assert len(exports) == 2 and all(r.details.get("outbox") for r in exports)
        assert {r.event for r in vault.audit_rows()} >= {"outbox_queued", "export_failed"}
    assert _instances(pacs) == 2


def test_the_outbox_holds_no_patient_data_in_clear(vault_dir, keyring_service):
    options = ExportOptions(
        pacs=PacsTarget(ae_title=AET, host="127.0.0.1", port=free_port(), timeout=5)
    )
    with Vault.open(vault_dir, keyring_service) as vault:
        consent_id = _consent_id(vault)
        with pytest.raises(outbox.Queued):
            outbox.send(vault, consent_id, "dicom", options, staff=STAFF, actor="test")
        item_ids = [i.item_id for i in vault.list_items()]
    with sqlite3.connect(vault_dir / "index.sqlite3") as db:
        rows = db.execute("SELECT * FROM outbox").fetchall()
    assert len(rows) == 1
    flat = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in rows[0])
    for secret in (MRN, "Ada", consent_id, *item_ids, "127.0.0.1", AET, "Smith"):
        assert secret.encode() not in flat


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from picsafe_desktop.export import outbox
    from picsafe_desktop.export.dicom import PacsTarget
    from picsafe_desktop.export.from_vault import ExportOptions
    from picsafe_desktop.model import Staff
    from picsafe_desktop.vault import Vault

    vault_dir, service, port, aet = sys.argv[1:5]
    options = ExportOptions(pacs=PacsTarget(ae_title=aet, host="127.0.0.1", port=int(port)))
    vault = Vault.open(vault_dir, service)
    consent_id = vault.list_items()[0].consent_id
    outbox.queue(vault, consent_id, "dicom", staff=Staff(name="Dr Jo Smith"), actor="test")
    print("queued", flush=True)
    # The PACS has stored every photo; the process dies before the entry is marked done.
    outbox.deliver(vault, options, after_send=lambda _: os.kill(os.getpid(), signal.SIGKILL))
    print("not killed", flush=True)
    """
)


def test_sigkill_between_store_and_ack_sends_no_duplicate(
    vault_dir, keyring_service, pacs, tmp_path, capsys
):
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    done = subprocess.run(
        [sys.executable, str(script), str(vault_dir), keyring_service, str(pacs.dicom_port), AET],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == -9, done.stderr[-2000:]
    assert done.stdout.strip() == "queued"
    assert _instances(pacs) == 2  # stored before the kill

    with Vault.open(vault_dir, keyring_service) as vault:
        [entry] = vault.outbox_entries()  # not acknowledged: still waiting
        assert entry.state == "waiting"
    site = tmp_path / "site.toml"
    site.write_text(
        f'[vault]\npath = "{vault_dir}"\n'
        f'[pacs]\nae_title = "{AET}"\nhost = "127.0.0.1"\nport = {pacs.dicom_port}\n'
    )
    base = ["--config", str(site)]
    svc = ["--keyring-service", keyring_service]
    capsys.readouterr()
    assert cli.main([*base, "outbox", "list", "--json", *svc]) == 0
    listed = capsys.readouterr().out
    [row] = json.loads(listed)
    assert (row["destination"], row["photos"], row["state"]) == ("pacs", 2, "waiting")
    with Vault.open(vault_dir, keyring_service) as vault:
        consent_id = _consent_id(vault)
    assert MRN not in listed and consent_id not in listed and "Ada" not in listed
    assert cli.main([*base, "outbox", "retry", *svc]) == 0
    assert "Nothing is waiting." in capsys.readouterr().out
    assert cli.main([*base, "outbox", "list", *svc]) == 0
    assert _instances(pacs) == 2  # the same SOP Instance UIDs: Orthanc keeps one copy each
    assert pacs.get("/statistics")["CountInstances"] == 2
    with Vault.open(vault_dir, keyring_service) as vault:
        assert vault.outbox_entries() == []


@pytest.fixture
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def test_fhir_engine_outage_delivers_once_when_it_answers(vault_dir, keyring_service, engine):
    down = fhir.FhirTarget(f"http://127.0.0.1:{free_port()}/fhir/R4", token="t", retries=0)
    up = fhir.FhirTarget(engine.base_url, token="engine-token", retries=0, timeout=60)
    systems = {"mrn_system": "urn:oid:1.2.826.0.1.999.1", "id_system": "urn:oid:1.2.826.0.1.9"}
    with Vault.open(vault_dir, keyring_service) as vault:
        consent_id = _consent_id(vault)
        with pytest.raises(outbox.Queued, match="FHIR server"):
            outbox.send(
                vault, consent_id, "fhir", ExportOptions(fhir_target=down, **systems),
                staff=STAFF, actor="test",
            )  # fmt: skip
        assert outbox.banner(outbox.waiting(vault)) == "2 photos waiting for the FHIR server"
        [done] = outbox.deliver(vault, ExportOptions(fhir_target=up, **systems), force=True)
        assert done.delivered, done.message
        assert vault.outbox_entries() == []
        # Sent again (e.g. after a kill before the ack): conditional creates find it all.
        again = outbox.send(
            vault, consent_id, "fhir", ExportOptions(fhir_target=up, **systems),
            staff=STAFF, actor="test",
        )  # fmt: skip
        assert "0 resources created" in again.detail
    assert len(engine.search("Media")) == 2


def test_config_has_outbox_timing():
    site = config.from_dict({"outbox": {"first_retry_seconds": 5, "max_retry_seconds": 60}})
    from picsafe_desktop.export.targets import outbox_settings

    assert outbox_settings(site) == {"first_retry": 5.0, "max_retry": 60.0}
    assert [outbox.backoff(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]


def test_a_refusal_is_held_for_a_person_not_retried(vault_dir, keyring_service):
    from tests.export_tools import FhirEndpoint, transaction_response

    endpoint = FhirEndpoint()
    refusal = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": "bad Media"}],
    }
    systems = {"mrn_system": "urn:oid:1.2.826.0.1.999.1"}
    options = ExportOptions(
        fhir_target=fhir.FhirTarget(endpoint.base_url, token="t", retries=0), **systems
    )
    try:
        endpoint.script = [(400, refusal, {})]
        with Vault.open(vault_dir, keyring_service) as vault:
            consent_id = _consent_id(vault)
            with pytest.raises(ExportError, match="validation refused") as refused:
                outbox.send(vault, consent_id, "fhir", options, staff=STAFF, actor="test")
            assert not isinstance(refused.value, outbox.Queued)
            [entry] = vault.outbox_entries()
            assert entry.state == "held" and "validation" in entry.payload["last_error"]
            later = time.time() + 100_000
            assert outbox.deliver(vault, options, now=lambda: later) == []  # not retried
            assert outbox.banner(outbox.waiting(vault)) == "2 photos waiting for the FHIR server"
            endpoint.script = [(200, transaction_response, {})]  # fixed: a person retries it
            [done] = outbox.deliver(vault, options, force=True)
            assert done.delivered and vault.outbox_entries() == []
        assert len(endpoint.requests) == 2
    finally:
        endpoint.close()
