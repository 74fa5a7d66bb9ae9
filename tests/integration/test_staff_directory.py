"""Directory sign-in against a real OpenLDAP slapd (issue 13, "staff who are who they say"):
the password is checked by slapd over TLS, groups map to roles, roles are enforced."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading

import ldap3
import pytest

from picsafe_desktop import config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import NotPermitted, PinError, Services
from picsafe_desktop.staff import directory
from picsafe_desktop.vault import Vault
from tests.ldap_server import GROUPS, PEOPLE, SUFFIX, USERS, Slapd
from tests.unit.vault_support import TEST_KDF

pytestmark = pytest.mark.keyring

ROLE_GROUPS = {
    "clinician": [f"cn=ward-doctors,{GROUPS}"],  # by DN
    "reception": ["Ward clerks"],  # by CN
    "it_admin": ["picsafe-admins"],
}


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def staff_config(slapd: Slapd, starttls: bool = False, ca_file=None) -> dict:
    url = (
        f"ldap://127.0.0.1:{slapd.ldap_port}"
        if starttls
        else f"ldaps://127.0.0.1:{slapd.ldaps_port}"
    )
    return {
        "ldap_url": url,
        "ldap_starttls": starttls,
        "ldap_ca_file": str(ca_file or slapd.ca_file),
        "ldap_base_dn": SUFFIX,
        "ldap_bind_dn": f"uid={{username}},{PEOPLE}",
        "ldap_timeout_seconds": 5,
        "role_groups": ROLE_GROUPS,
    }


@pytest.fixture
def make_services(tmp_path, keyring_service, slapd):
    made = []

    def make(**staff) -> Services:
        site = config.from_dict(
            {
                "vault": {"path": str(tmp_path / f"vault{len(made)}")},
                "logging": {"file": str(tmp_path / "app.log"), "level": "DEBUG"},
                "staff": staff_config(slapd, **staff),
            }
        )
        vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
        svc = Services(site, vault)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


def password(uid: str) -> str:
    return USERS[uid][1]


def refusal(svc: Services, uid: str, secret: str) -> str:
    with pytest.raises(PinError) as caught:
        svc.sign_in(Staff("", "", uid), secret)
    assert svc.staff is None
    return str(caught.value)


def test_right_password_signs_in_with_the_mapped_role_over_ldaps(make_services):
    svc = make_services()
    assert svc.sign_in_method == "directory"
    session = svc.sign_in(Staff("", "", "alice"), password("alice"))
    assert session.method == "directory" and session.roles == ("clinician",)
    assert svc.staff == Staff("Alice Adeyemi", "Clinician", "alice")
    [row] = [r for r in svc.vault.audit_rows() if r.event == "sign_in"]
    assert row.actor == "Alice Adeyemi (alice)" and row.details["method"] == "directory"


def test_wrong_password_is_refused_by_slapd(make_services, slapd):
    svc = make_services()
    assert "Wrong user name or password" in refusal(svc, "alice", "not-her-password")
    assert "Wrong user name or password" in refusal(svc, "nobody", "whatever")
    # slapd itself saw and refused the bind: its answer is invalidCredentials (49).
    conn = ldap3.Connection(
        directory._server(directory.Settings.from_site(svc.site)),
        user=f"uid=alice,{PEOPLE}",
        password="not-her-password",
    )
    assert conn.open() is None and conn.bind() is False
    assert conn.result["result"] == 49
    conn.unbind()
    refused = [r for r in svc.vault.audit_rows() if r.event == "sign_in_refused"]
    assert [r.subject for r in refused] == ["alice", "nobody"]


def test_starttls_and_a_group_mapped_by_name(make_services):
    svc = make_services(starttls=True)
    session = svc.sign_in(Staff("", "", "bob"), password("bob"))
    assert session.roles == ("reception",)


def test_a_user_in_no_mapped_group_is_refused(make_services):
    svc = make_services()
    assert "not in a directory group" in refusal(svc, "carol", password("carol"))


def test_an_empty_password_is_never_sent_as_an_unauthenticated_bind(make_services):
    svc = make_services()
    assert "Enter your password" in refusal(svc, "alice", "")


def test_a_certificate_from_another_ca_is_refused_before_the_password_is_sent(tmp_path, slapd):
    settings = directory.Settings.from_site(
        config.from_dict({"staff": staff_config(slapd, ca_file=slapd.other_ca_file)})
    )
    with pytest.raises(directory.DirectoryUnavailable, match="certificate could not be verified"):
        directory.authenticate(settings, "alice", password("alice"))
    starttls = directory.Settings.from_site(
        config.from_dict({"staff": staff_config(slapd, True, ca_file=slapd.other_ca_file)})
    )
    with pytest.raises(directory.DirectoryUnavailable):
        directory.authenticate(starttls, "alice", password("alice"))


def test_slapd_requires_tls_for_a_bind(slapd):
    """The test directory is set up as a hospital's must be: no password over plain LDAP."""
    conn = ldap3.Connection(
        ldap3.Server("127.0.0.1", port=slapd.ldap_port, get_info=ldap3.NONE),
        user=f"uid=alice,{PEOPLE}",
        password=password("alice"),
    )
    conn.open()
    assert conn.bind() is False and conn.result["result"] == 13  # confidentialityRequired
    conn.unbind()


def test_roles_are_enforced_it_admin_sees_no_photos(make_services):
    svc = make_services()
    svc.sign_in(Staff("", "", "dave"), password("dave"))
    assert svc.session.roles == ("it_admin",)
    with pytest.raises(NotPermitted, match="may not view"):
        svc.patients()
    with pytest.raises(NotPermitted, match="may not import"):
        svc.import_paths([])
    assert svc.verify_audit().ok
    svc.sign_out()
    svc.sign_in(Staff("", "", "bob"), password("bob"))  # reception
    assert svc.waiting_batches() == []
    for call in (svc.patients, lambda: svc.export("x", "pdf", "record", {})):
        with pytest.raises(NotPermitted):
            call()


def test_no_password_reaches_the_log_or_the_audit(make_services, caplog, monkeypatch):
    from picsafe_desktop import logsetup

    svc = make_services()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # restored after the test
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_file = logsetup.configure(svc.site, verbose=True)  # DEBUG, to the site's log file
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Secret-Xy"
    try:
        refusal(svc, "alice", wrong)
        svc.sign_in(Staff("", "", "alice"), password("alice"))
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_picsafe", False)]:
            handler.flush()
            handler.close()
    written = log_file.read_text()
    assert "sign-in refused (directory)" in written and "signed in (directory" in written
    audit = repr([(r.actor, r.details) for r in svc.vault.audit_rows()])
    for secret in (wrong, password("alice")):
        assert secret not in written and secret not in caplog.text and secret not in audit


def test_plain_ldap_without_starttls_is_a_config_error():
    with pytest.raises(config.ConfigError, match="in the clear"):
        config.from_dict(
            {
                "staff": {
                    "ldap_url": "ldap://ldap.example.org",
                    "ldap_base_dn": SUFFIX,
                    "ldap_bind_dn": "uid={username},ou=people",
                    "role_groups": {"clinician": ["x"]},
                }
            }
        )
    with pytest.raises(config.ConfigError, match="not a role"):
        config.from_dict({"staff": {"role_groups": {"surgeon": ["x"]}}})


def test_slapd_stops_even_when_the_test_process_is_killed(tmp_path):
    """The fixture's server dies with its parent (PR_SET_PDEATHSIG), so a killed run leaves
    no slapd behind; stop() ends it by its own pid."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from tests.ldap_server import Slapd;"
            f"s = Slapd(Path({str(tmp_path)!r})); s.wait_ready();"
            "print(s.proc.pid, s.ldaps_port, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    pid, port = map(int, child.stdout.readline().split())
    child.kill()
    child.wait(timeout=10)
    child.stdout.close()
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/status") as status:
                if "State:\tZ" in status.read():
                    break
        except FileNotFoundError:
            break
        __import__("time").sleep(0.1)
    else:
        pytest.fail(f"slapd {pid} outlived its killed parent")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_every_audited_action_names_the_directory_user(make_services, tmp_path):
    """Issue 13: every audited action names the authenticated staff member."""
    from picsafe_desktop import consent
    from tests.unit.test_consent import written
    from tests.unit.vault_support import jpeg_with_exif

    svc = make_services()
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(jpeg_with_exif("nobody"))
    svc.sign_in(Staff("", "", "alice"), password("alice"))
    result = svc.import_paths([photo])
    [batch] = svc.waiting_batches()
    assert batch.imported_by == "Alice Adeyemi (alice)"
    svc.prepare_intake(batch)  # the wristband scan: audited as alice too
    record = consent.record_from_fields(written(), wording=consent.load_wording(None, None))
    consent_id = svc.record_consent(batch.batch_id, record)
    [item] = svc.photos([consent_id])
    svc.view(item.item_id)
    svc.delete_photos([item.item_id], "test")
    svc.sign_out()
    rows = svc.vault.audit_rows()
    start = max(i for i, r in enumerate(rows) if r.event == "vault_create")
    after = rows[start + 1 :]
    assert {r.event for r in after} >= {"sign_in", "batch_create", "put", "consent", "delete"}
    assert {r.actor for r in after} == {"Alice Adeyemi (alice)"}, [
        (r.event, r.actor) for r in after if r.actor != "Alice Adeyemi (alice)"
    ]
    assert result is not None
