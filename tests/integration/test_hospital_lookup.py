"""Issue 16: patient lookup against the hospital's real systems — Orthanc's Modality Worklist
(ModalityWorklists plugin serving .wl files the test writes) and Medplum's FHIR engine."""

from __future__ import annotations

import json
import urllib.request

import pytest

from picsafe_desktop import cli, config
from picsafe_desktop.export.fhir import FhirTarget
from picsafe_desktop.hospital import patients, pdq, worklist
from picsafe_desktop.hospital.dimse import DicomPeer
from picsafe_desktop.hospital.lookup import LookupError
from tests.export_tools import AET, MedplumEngine, free_port
from tests.hospital_tools import write_worklist

MRN_SYSTEM = "urn:oid:1.2.3.4.5.99"


@pytest.fixture
def wl(hospital_orthanc):
    for old in hospital_orthanc.worklists.iterdir():
        old.unlink()
    return hospital_orthanc


def _peer(server, **kw) -> DicomPeer:
    return DicomPeer("worklist", kw.pop("ae", AET), "127.0.0.1", server.dicom_port, timeout=10,
                     **kw)  # fmt: skip


def test_worklist_entry_is_found_with_its_order(wl):
    write_worklist(wl.worklists, "a")
    write_worklist(wl.worklists, "other", mrn="MRN-0001", patient_name="Roe^Richard")
    (match,) = worklist.find(_peer(wl), "MRN-4711")
    assert (match.source, match.mrn, match.name, match.birth_date, match.sex) == (
        "worklist", "MRN-4711", "Doe, Jane", "1980-02-14", "female")  # fmt: skip
    assert match.accession_number == "ACC-2026-0001"
    assert match.accession_issuer == "WARD-RIS"
    assert match.requested_procedure == "Wound photography"
    assert match.procedure_code == "WOUNDPHOTO^99WARD^Wound photography"
    assert match.referring_physician == "House, Gregory"
    assert match.admission_id == "ADM-991"
    assert match.study_uid


def test_worklist_without_the_mrn_answers_nothing(wl):
    write_worklist(wl.worklists, "a")
    assert worklist.find(_peer(wl), "MRN-9999") == []
    with pytest.raises(LookupError, match="wildcards"):
        worklist.find(_peer(wl), "MRN*")  # a wildcard would list every patient


def test_unreachable_or_refusing_worklist_is_explained(wl):
    with pytest.raises(LookupError, match="cannot reach the worklist"):
        worklist.find(DicomPeer("worklist", AET, "127.0.0.1", free_port(), timeout=5), "X1")
    with pytest.raises(LookupError, match="rejected the connection"):
        worklist.find(_peer(wl, ae="NOT_ORTHANC"), "X1")


def _site(tmp_path, **sections):
    path = tmp_path / "site.toml"
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_patient_lookup_exit_codes(wl, tmp_path, capsys):
    write_worklist(wl.worklists, "a")
    site = _site(tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1",
                                     "port": wl.dicom_port})  # fmt: skip
    assert cli.main(["--config", str(site), "patient", "lookup", "--mrn", "MRN-4711"]) == 0
    out = capsys.readouterr().out
    assert "Doe, Jane" in out and "1980-02-14" in out and "ACC-2026-0001" in out
    assert "Wound photography" in out and "House, Gregory" in out

    assert cli.main(["--config", str(site), "patient", "lookup", "--mrn", "MRN-4711",
                     "--json"]) == 0  # fmt: skip
    (match,) = json.loads(capsys.readouterr().out)["matches"]
    assert match["accession_number"] == "ACC-2026-0001" and match["sex"] == "female"

    assert cli.main(["--config", str(site), "patient", "lookup", "--mrn", "NOBODY"]) == 1
    assert "no patient with MRN NOBODY" in capsys.readouterr().err

    down = _site(tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1", "port": free_port()})
    assert cli.main(["--config", str(down), "patient", "lookup", "--mrn", "MRN-4711"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the worklist" in err and "Traceback" not in err

    (tmp_path / "empty.toml").write_text("")
    assert cli.main(["--config", str(tmp_path / "empty.toml"), "patient", "lookup",
                     "--mrn", "MRN-4711"]) == 2  # fmt: skip
    assert "no patient lookup source is configured" in capsys.readouterr().err


@pytest.fixture
def engine():
    server = MedplumEngine()
    yield server
    server.stop()


def _post(engine, resource: dict) -> dict:
    request = urllib.request.Request(
        f"{engine.base_url}/{resource['resourceType']}", data=json.dumps(resource).encode(),
        method="POST", headers={"Content-Type": "application/fhir+json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - loopback
        return json.loads(r.read())


def test_fhir_patient_search_by_identifier_with_encounter(engine):
    patient = _post(engine, {
        "resourceType": "Patient",
        "identifier": [{"system": MRN_SYSTEM, "value": "MRN-4711"}],
        "name": [{"use": "official", "family": "Doe", "given": ["Jane"]}],
        "birthDate": "1980-02-14", "gender": "female",
    })  # fmt: skip
    _post(engine, {"resourceType": "Patient",
                   "identifier": [{"system": "urn:other", "value": "MRN-4711"}],
                   "name": [{"family": "Someone", "given": ["Else"]}]})  # fmt: skip
    encounter = _post(engine, {
        "resourceType": "Encounter", "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{patient['id']}"},
    })  # fmt: skip
    target = FhirTarget(engine.base_url, token="t", retries=0, timeout=30)
    (match,) = pdq.find(target, MRN_SYSTEM, "MRN-4711")
    assert (match.source, match.name, match.birth_date, match.sex) == (
        "fhir", "Doe, Jane", "1980-02-14", "female")  # fmt: skip
    assert match.encounter_ref == f"Encounter/{encounter['id']}"
    assert pdq.find(target, MRN_SYSTEM, "MRN-0000") == []


def test_lookup_asks_every_source_and_one_down_is_a_problem_not_a_failure(engine, wl, tmp_path):
    write_worklist(wl.worklists, "a")
    _post(
        engine,
        {
            "resourceType": "Patient",
            "identifier": [{"system": MRN_SYSTEM, "value": "MRN-4711"}],
            "name": [{"family": "Doe", "given": ["Jane"]}],
            "birthDate": "1980-02-14",
        },
    )
    site = config.load(_site(
        tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1", "port": wl.dicom_port},
        fhir={"base_url": engine.base_url, "mrn_system": MRN_SYSTEM, "patient_lookup": True},
    ))  # fmt: skip
    result = patients.lookup(site, "MRN-4711")
    assert sorted(m.source for m in result.matches) == ["fhir", "worklist"]
    assert result.consistent and result.person().source == "worklist" and not result.problems

    down = config.load(_site(
        tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1", "port": free_port()},
        fhir={"base_url": engine.base_url, "mrn_system": MRN_SYSTEM, "patient_lookup": True},
    ))  # fmt: skip
    result = patients.lookup(down, "MRN-4711")
    assert [m.source for m in result.matches] == ["fhir"] and result.checked
    assert result.problems and "worklist" in result.problems[0]


@pytest.mark.keyring
def test_services_lookup_is_audited_and_needs_a_role_that_records_consent(
    wl, tmp_path, keyring_service
):
    from picsafe_desktop.model import Staff
    from picsafe_desktop.services import Services
    from picsafe_desktop.vault import Vault
    from tests.unit.vault_support import TEST_KDF

    write_worklist(wl.worklists, "a")
    site = config.from_dict({
        "vault": {"path": str(tmp_path / "vault")},
        "staff": {"allow_unverified_names": True},  # the test is about the audited lookup
        "worklist": {"ae_title": AET, "host": "127.0.0.1", "port": wl.dicom_port},
    })  # fmt: skip
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    try:
        assert services.lookup_configured()
        services.sign_in(Staff("Sam Okafor", "Staff nurse", "N4411"))
        result = services.lookup_patient("MRN-4711")
        assert result.person().name == "Doe, Jane"
        assert result.order_fields()["accession_number"] == "ACC-2026-0001"
        (row,) = [r for r in vault.audit_rows() if r.event == "patient_query"]
        assert row.details == {"mrn": "MRN-4711", "sources": ["worklist"], "found": 1}
        assert row.actor and "MRN-4711" not in row.subject  # the MRN only in encrypted details
    finally:
        services.close()


@pytest.mark.keyring
def test_cli_lookup_is_audited_in_the_pcs_vault(wl, tmp_path, keyring_service, capsys):
    from picsafe_desktop.vault import Vault
    from tests.importer_support import make_vault

    write_worklist(wl.worklists, "a")
    vault_dir = tmp_path / "vault"
    make_vault(vault_dir, keyring_service).close()
    site = _site(tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1", "port": wl.dicom_port})
    base = ["--vault", str(vault_dir), "--keyring-service", keyring_service]
    assert cli.main(["--config", str(site), "patient", "lookup", "--mrn", "MRN-4711", *base]) == 0
    assert "Doe, Jane" in capsys.readouterr().out
    with Vault.open(vault_dir, keyring_service) as vault:
        (row,) = [r for r in vault.audit_rows() if r.event == "patient_query"]
        assert row.details["mrn"] == "MRN-4711" and row.actor.startswith("cli")
    # a vault that cannot be opened (its key is not in this keyring): nothing is shown
    other = ["--vault", str(vault_dir), "--keyring-service", keyring_service + "-other"]
    assert cli.main(["--config", str(site), "patient", "lookup", "--mrn", "MRN-4711", *other]) == 2
    captured = capsys.readouterr()
    assert "Doe" not in captured.out and "cannot be audited" in captured.err


def test_lookup_logs_no_patient_data(wl, tmp_path, caplog):
    import logging

    write_worklist(wl.worklists, "a")
    site = config.load(_site(tmp_path, worklist={"ae_title": AET, "host": "127.0.0.1",
                                                 "port": wl.dicom_port}))  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="picsafe_desktop"):
        assert patients.lookup(site, "MRN-4711").found
        assert not patients.lookup(site, "MRN-0000").found
    text = caplog.text
    assert "worklist query answered" in text  # it did log, without identifiers
    for phi in ("MRN-4711", "MRN-0000", "Doe", "Jane", "19800214", "ACC-2026"):
        assert phi not in text


def test_a_fhir_export_server_is_a_lookup_source_only_when_it_says_so():
    """The export's FHIR server may not answer Patient searches (or its token may not read
    them): asking it is opt-in, so configuring FHIR export changes nothing at consent."""
    export_only = config.from_dict({"fhir": {"base_url": "https://ehr.example/fhir"}})
    assert patients.configured_sources(export_only) == []
    lookup = config.from_dict(
        {"fhir": {"base_url": "https://ehr.example/fhir", "patient_lookup": True}}
    )
    assert patients.configured_sources(lookup) == ["fhir"]
