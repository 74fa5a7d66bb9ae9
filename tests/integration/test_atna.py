"""ATNA: the vault's audit events reach a real rsyslog over TLS as RFC 5424 frames carrying DICOM
audit messages that validate against the DICOM audit message schema (PS3.15 A.5.1, in
tests/data/dicom-audit-message.rng), through the encrypted spool while rsyslog is down."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from picsafe_desktop import cli, config
from picsafe_desktop.export import atna, atna_message, syslog_sender
from picsafe_desktop.vault import Vault
from tests.integration.test_outbox import MRN, consented_vault
from tests.syslog_server import Rsyslog

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

SCHEMA = etree.RelaxNG(
    etree.parse(str(Path(__file__).resolve().parents[1] / "data" / "dicom-audit-message.rng"))
)
# RFC 5424: PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM MSG
FRAME = re.compile(
    r"^<85>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) picsafe-desktop (\d+) "
    r"IHE\+RFC-3881 - \ufeff(<AuditMessage>.*</AuditMessage>)$"
)
NAME = "Ada Example"


def _messages(lines: list[str]) -> list[etree._Element]:
    out = []
    for line in lines:
        match = FRAME.match(line)
        assert match, f"not an RFC 5424 frame of ours: {line[:200]}"
        out.append(etree.fromstring(match.group(4).encode()))
    return out


def _valid(message: etree._Element) -> None:
    assert SCHEMA.validate(message), SCHEMA.error_log.last_error


def _no_patient_data_outside_participant_objects(message: etree._Element) -> None:
    stripped = etree.fromstring(etree.tostring(message))
    for obj in stripped.findall("ParticipantObjectIdentification"):
        stripped.remove(obj)
    text = etree.tostring(stripped, encoding="unicode")
    for secret in (MRN, NAME, "Ada", "Example"):
        assert secret not in text


def _event_codes(messages) -> list[str]:
    return [m.find("EventIdentification/EventID").get("csd-code") for m in messages]


@pytest.fixture
def rsyslog(tmp_path_factory):
    server = Rsyslog(tmp_path_factory.mktemp("rsyslog"), tls=True)
    yield server
    server.stop()


def _site(server: Rsyslog):
    return config.from_dict(
        {
            "audit": {
                "syslog_url": server.url,
                "syslog_ca_file": str(server.ca_file),
                "source_id": "WARD7-PC03",
                "enterprise_site_id": "TEST-HOSPITAL",
            }
        }
    )


def _forwarder(vault, server: Rsyslog) -> atna.Forwarder:
    site = _site(server)
    return atna.Forwarder(vault, atna.target_from_site(site), atna.source_from_site(site))


def test_an_import_reaches_rsyslog_over_tls_as_schema_valid_110107(
    tmp_path, keyring_service, rsyslog
):
    vault_dir = consented_vault(tmp_path, keyring_service)
    with Vault.open(vault_dir, keyring_service) as vault:
        rows = len(vault.audit_rows())
        sent, problem = _forwarder(vault, rsyslog).run_once()
        assert problem == "" and sent >= rows
        assert vault.atna_count() == 0
    messages = _messages(rsyslog.lines(at_least=sent))
    assert len(messages) == sent
    for message in messages:
        _valid(message)
        _no_patient_data_outside_participant_objects(message)
    codes = _event_codes(messages)
    assert "110107" in codes  # Data Import
    assert "110110" in codes  # Patient Record (the consent)
    imports = [m for m in messages if _event_codes([m]) == ["110107"]]
    patients = [
        p
        for m in imports
        for p in m.findall("ParticipantObjectIdentification")
        if p.get("ParticipantObjectTypeCodeRole") == "1"
    ]
    assert patients and all(p.get("ParticipantObjectID") == MRN for p in patients)
    source = messages[0].find("AuditSourceIdentification")
    assert source.get("AuditSourceID") == "WARD7-PC03"
    assert source.get("AuditEnterpriseSiteID") == "TEST-HOSPITAL"


def test_the_spool_delivers_what_was_logged_while_rsyslog_was_down(
    tmp_path, keyring_service, rsyslog
):
    vault_dir = consented_vault(tmp_path, keyring_service)
    with Vault.open(vault_dir, keyring_service) as vault:
        forwarder = _forwarder(vault, rsyslog)
        first, _ = forwarder.run_once()
        rsyslog.lines(at_least=first)
        rsyslog.stop()
        item = vault.list_items()[0]
        vault.read(item.item_id, actor="Dr Jo Smith", purpose="view")
        vault.audit("sign_out", actor="Dr Jo Smith", subject="")
        sent, problem = forwarder.run_once()
        assert sent == 0 and "cannot reach the audit repository" in problem
        waiting = vault.atna_count()
        assert waiting == 2
    # Spooled encrypted: nothing readable in the index, and it survives closing the vault.
    with sqlite3.connect(vault_dir / "index.sqlite3") as db:
        blobs = b"".join(m for (m,) in db.execute("SELECT message FROM atna_spool"))
    assert MRN.encode() not in blobs and b"AuditMessage" not in blobs

    rsyslog.start()
    with Vault.open(vault_dir, keyring_service) as vault:
        sent, problem = _forwarder(vault, rsyslog).run_once()
        assert (sent, problem) == (2, "")
        assert vault.atna_count() == 0
    # The spool's tables are no trouble for the vault's own checks.
    assert cli.main(["vault", "verify", "--vault", str(vault_dir),
                     "--keyring-service", keyring_service]) == 0  # fmt: skip
    messages = _messages(rsyslog.lines(at_least=first + 2))[first:]
    assert _event_codes(messages) == ["110110", "110114"]  # the view, then the sign-out
    for message in messages:
        _valid(message)
        _no_patient_data_outside_participant_objects(message)
    [viewed] = [p for p in messages[0].findall("ParticipantObjectIdentification")
                if p.get("ParticipantObjectTypeCodeRole") == "1"]  # fmt: skip
    assert viewed.get("ParticipantObjectID") == MRN


EVENTS = {
    "application_start": "110100",
    "audit_read": "110101",
    "export": "110106",
    "batch_create": "110107",
    "consent_view": "110110",
    "patient_lookup": "110112",
    "tamper": "110113",
    "sign_in": "110114",
    "sign_in_refused": "110114",
}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_required_event_is_schema_valid(event):
    source = atna_message.Source(source_id="WARD7-PC03", site_id="TEST")
    details = {"kind": "dicom"} if event == "export" else {}
    e = atna_message.Event(
        event=event,
        at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        actor="Dr Jo Smith",
        subject="0f" * 16,
        patient_id=MRN,
        patient_name=NAME,
        destination="dicom://PACS@pacs.example:104" if event == "export" else "",
        study_uid="2.25.1234",
        instances=("2.25.1234.1",),
        photos=1,
        details=details,
    )
    messages = [
        etree.fromstring(atna_message.build(e, source, mapped))
        for mapped in atna_message.dicom_events(e)
    ]
    assert _event_codes(messages)[0] == EVENTS[event]
    if event == "export":  # to the PACS: also DICOM Instances Transferred
        assert _event_codes(messages) == ["110106", "110104"]
    for message in messages:
        _valid(message)
        _no_patient_data_outside_participant_objects(message)
    outcome = messages[0].find("EventIdentification").get("EventOutcomeIndicator")
    assert outcome == ("4" if event == "sign_in_refused" else "0")


def test_a_vault_opened_read_only_for_tamper_sends_a_security_alert(
    tmp_path, keyring_service, rsyslog
):
    vault_dir = consented_vault(tmp_path, keyring_service)
    with sqlite3.connect(vault_dir / "index.sqlite3") as db:  # flip a state outside PicSafe
        db.execute("DELETE FROM items WHERE rowid = 1")
    with Vault.open(vault_dir, keyring_service) as vault:
        assert vault.read_only and vault.trust_problems
        forwarder = _forwarder(vault, rsyslog)
        forwarder.check_vault()
        sent, problem = forwarder.run_once()
        assert (sent, problem) == (1, "")
    [message] = _messages(rsyslog.lines(at_least=1))
    _valid(message)
    assert _event_codes([message]) == ["110113"]


def test_bad_syslog_url_is_named():
    with pytest.raises(Exception, match="syslog_url"):
        syslog_sender.parse_url("http://repo.example:514")


def test_cli_forwards_over_plain_tcp_and_reports_the_spool(tmp_path, keyring_service, capsys):
    (tmp_path / "rsyslog-tcp").mkdir()
    server = Rsyslog(tmp_path / "rsyslog-tcp", tls=False)
    try:
        vault_dir = consented_vault(tmp_path, keyring_service)
        site = tmp_path / "site.toml"
        site.write_text(f'[vault]\npath = "{vault_dir}"\n[audit]\nsyslog_url = "{server.url}"\n')
        base = ["--config", str(site)]
        svc = ["--keyring-service", keyring_service]
        assert cli.main([*base, "atna", "forward", *svc]) == 0
        out = capsys.readouterr().out
        sent = int(re.search(r"Sent (\d+) audit message", out).group(1))
        messages = _messages(server.lines(at_least=sent))
        assert len(messages) == sent and "110107" in _event_codes(messages)
        assert cli.main([*base, "atna", "status", *svc]) == 0
        assert "0 audit message(s) waiting" in capsys.readouterr().out
        server.stop()
        with Vault.open(vault_dir, keyring_service) as vault:
            vault.audit("sign_out", actor="Dr Jo Smith", subject="")
        assert cli.main([*base, "atna", "forward", *svc]) == 1  # down: kept in the spool
        assert "cannot reach the audit repository" in capsys.readouterr().err
        assert cli.main([*base, "atna", "status", *svc]) == 0
        assert "1 audit message(s) waiting" in capsys.readouterr().out
    finally:
        server.stop()


def test_the_windows_pass_announces_the_application_and_forwards(
    tmp_path, keyring_service, rsyslog
):
    from picsafe_desktop.services import Services

    vault_dir = consented_vault(tmp_path, keyring_service)
    site = config.from_dict(
        {
            **_site(rsyslog).as_dict(),
            "vault": {"path": str(vault_dir)},
            "staff": {"allow_unverified_names": True},  # the test is about the audit trail
        }
    )
    with Vault.open(vault_dir, keyring_service) as vault:
        services = Services(site, vault)
        assert services.outbox_in_use()
        rows = len(vault.audit_rows())
        assert services.atna_pass() == ""
        assert vault.atna_count() == 0
    messages = _messages(rsyslog.lines(at_least=rows + 1))
    starts = [
        m
        for m in messages
        if _event_codes([m]) == ["110100"]  # Application Activity: Application Start
        and m.find("EventIdentification/EventTypeCode").get("csd-code") == "110120"
        and m.find("ParticipantObjectIdentification") is None  # not the vault_create row
    ]
    assert len(starts) == 1
    for message in messages:
        _valid(message)


def test_reading_the_audit_log_is_reported_as_audit_log_used(tmp_path, keyring_service, rsyslog):
    from picsafe_desktop.model import Staff
    from picsafe_desktop.services import Services

    vault_dir = consented_vault(tmp_path, keyring_service)
    site = config.from_dict(
        {
            **_site(rsyslog).as_dict(),
            "vault": {"path": str(vault_dir)},
            "staff": {"allow_unverified_names": True},  # the test is about the audit trail
        }
    )
    with Vault.open(vault_dir, keyring_service) as vault:
        services = Services(site, vault)
        services.sign_in(Staff(name="Ian Admin", role="it_admin"))
        rows = len(vault.audit_rows())
        assert services.can(services_permission("AUDIT"))
        services.audit_rows()
        assert services.atna_pass() == ""
    messages = _messages(rsyslog.lines(at_least=rows + 2))
    used = [m for m in messages if _event_codes([m]) == ["110101"]]
    assert len(used) == 1
    assert used[0].find("ActiveParticipant").get("UserID") == "Ian Admin"
    _valid(used[0])


def services_permission(name: str):
    from picsafe_desktop.staff.roles import Permission

    return Permission[name]


def test_udp_frames_reach_rsyslog(tmp_path, keyring_service):
    (tmp_path / "rsyslog-udp").mkdir()
    server = Rsyslog(tmp_path / "rsyslog-udp", udp=True)
    try:
        vault_dir = consented_vault(tmp_path, keyring_service)
        with Vault.open(vault_dir, keyring_service) as vault:
            site = config.from_dict({"audit": {"syslog_url": server.url}})
            forwarder = atna.Forwarder(vault, atna.target_from_site(site), atna.Source())
            sent, problem = forwarder.run_once()
            assert problem == "" and sent > 0
        messages = _messages(server.lines(at_least=sent))
        assert len(messages) == sent and "110107" in _event_codes(messages)
        for message in messages:
            _valid(message)
    finally:
        server.stop()
