"""Local PIN sign-in (issue 13, finding 5): enrolled by IT only, sealed under a vault key,
with a back-off that survives a restart. Real vault, real keyring, real Argon2id."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from picsafe_desktop import cli, config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import PinError, Services
from picsafe_desktop.staff import pins
from picsafe_desktop.vault import Vault
from tests.unit.vault_support import TEST_KDF

pytestmark = pytest.mark.keyring

NURSE = Staff("Sam Okafor", "", "N4411")
PIN = "4826"


@pytest.fixture
def site(tmp_path):
    return config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "app.log")},
            "security": {"require_pin": True},
        }
    )


@pytest.fixture
def services(site, keyring_service):
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
    svc = Services(site, vault)
    yield svc
    svc.close()


def enrol(services: Services, staff_id=NURSE.staff_id, pin=PIN, roles=("clinician",)):
    return pins.StaffStore.for_vault(services.vault).add(
        staff_id, "Sam Okafor", roles, pin, title="Staff nurse", actor="it"
    )


def refused(services: Services, staff: Staff, pin: str) -> str:
    with pytest.raises(PinError) as caught:
        services.sign_in(staff, pin)
    assert services.staff is None
    return str(caught.value)


def test_first_sign_in_of_an_unknown_staff_id_is_refused(services, tmp_path):
    """Finding 5: the first sign-in of any staff ID used to set its PIN."""
    message = refused(services, NURSE, PIN)
    assert "Wrong staff ID or PIN" in message
    assert not (tmp_path / "vault" / pins.STAFF_FILE).exists()  # nothing enrolled by trying
    refused(services, NURSE, PIN)  # and still refused the second time
    rows = [r for r in services.vault.audit_rows() if r.event == "sign_in_refused"]
    assert len(rows) == 2 and rows[0].subject == NURSE.staff_id
    assert PIN not in json.dumps([r.details for r in rows])


def test_an_enrolled_pin_signs_in_with_its_roles(services):
    enrol(services)
    session = services.sign_in(Staff("", "", NURSE.staff_id), PIN)
    assert services.staff == Staff("Sam Okafor", "Staff nurse", "N4411")
    assert session.method == "pin" and session.roles == ("clinician",)
    [row] = [r for r in services.vault.audit_rows() if r.event == "sign_in"]
    assert row.actor == "Sam Okafor (N4411)" and row.details["method"] == "pin"


def test_a_pin_written_into_the_folder_does_not_get_in(services, tmp_path):
    """Finding 5: staff-pins.json had no MAC, so deleting an entry (then signing in) or
    writing one let a different PIN in. Someone with write access to the vault folder now
    gets nowhere: the old file is never trusted, and the sealed one cannot be forged."""
    enrol(services)
    forged = PasswordHasher().hash("1111")
    (tmp_path / "vault" / pins.LEGACY_FILE).write_text(json.dumps({NURSE.staff_id: forged}))
    assert "Wrong staff ID or PIN" in refused(services, NURSE, "1111")
    services.sign_in(NURSE, PIN)  # the enrolled PIN still works


@pytest.mark.parametrize("attack", ["forge", "flip_byte", "other_generation", "delete"])
def test_edited_or_deleted_entries_are_detected_and_refused(services, tmp_path, attack):
    enrol(services, "A100", "1234")
    enrol(services, NURSE.staff_id, PIN)
    path = tmp_path / "vault" / pins.STAFF_FILE
    raw = path.read_bytes()
    assert b"argon2" not in raw and b"Sam Okafor" not in raw  # sealed: nothing to guess at
    doc = json.loads(raw)
    sealed = bytearray(base64.b64decode(doc["sealed"]))
    if attack == "forge":
        # Without the vault key, a list holding the attacker's own entry (or lacking one)
        # can only be sealed under some other key: it fails authentication.
        path.unlink()
        store = pins.StaffStore(path.parent, services.vault.vault_id, bytes(32))
        store.add(NURSE.staff_id, "Someone", ["clinician"], "1111")
        doc = json.loads(path.read_text())
    elif attack == "flip_byte":
        sealed[-5] ^= 1
        doc["sealed"] = base64.b64encode(sealed).decode()
    elif attack == "other_generation":
        doc["generation"] += 1
    if attack == "delete":
        path.unlink()
        assert "is missing" in refused(services, NURSE, PIN)
        return
    path.write_text(json.dumps(doc))
    message = refused(services, NURSE, PIN)
    assert str(path) in message and "changed outside PicSafe" in message


@pytest.mark.parametrize("undo", ["removal", "backoff"])
def test_an_older_copy_put_back_is_refused(services, tmp_path, undo):
    """A copy of staff.json from before a removal (or before wrong PINs started a back-off)
    authenticates, but the audit log records a later write: refused, naming the file."""
    enrol(services)
    path = tmp_path / "vault" / pins.STAFF_FILE
    before = path.read_bytes()
    if undo == "removal":
        pins.StaffStore.for_vault(services.vault).remove(NURSE.staff_id)
    else:
        for _ in range(pins.FREE_FAILURES + 1):
            refused(services, NURSE, "0000")
    path.write_bytes(before)
    message = refused(services, NURSE, PIN)
    assert "older copy" in message and str(path) in message


def test_backoff_after_wrong_pins_survives_a_restart(services, site, keyring_service):
    """Finding 5: 0.43 s a guess let a 4-digit PIN fall in about 72 minutes. Now each wrong
    PIN past the third doubles a wait kept in the sealed store."""
    enrol(services)
    for _ in range(pins.FREE_FAILURES):
        assert "try again" not in refused(services, NURSE, "0000")
    message = refused(services, NURSE, "0000")  # counted; starts the back-off
    assert "try again in" in message
    assert "try again in" in refused(services, NURSE, PIN)  # even the right PIN must wait
    services.close()
    again = Services(site, Vault.open(site.vault.path, keyring_service))
    try:
        assert "try again in" in refused(again, NURSE, PIN)
        store = pins.StaffStore.for_vault(again.vault)
        [entry] = store.list()
        assert entry.failures == pins.FREE_FAILURES + 1
        later = entry.not_before + 1
        assert store.verify(NURSE.staff_id, PIN, now=later).staff_id == NURSE.staff_id
        assert store.list()[0].failures == 0  # a right PIN clears the count
    finally:
        again.close()


def test_backoff_makes_guessing_a_four_digit_pin_take_years():
    total = sum(pins.backoff_seconds(n) for n in range(1, 10_000))
    assert total / 3600 / 24 / 365 > 1  # vs. about 72 minutes offline before
    assert pins.backoff_seconds(pins.FREE_FAILURES) == 0  # typos are free


def test_malformed_pins_are_refused_before_any_check(services):
    enrol(services)
    assert "4 to 12 digits" in refused(services, NURSE, "12")
    assert "4 to 12 digits" in refused(services, NURSE, "12a4")
    assert pins.StaffStore.for_vault(services.vault).list()[0].failures == 0


# -- the CLI ---------------------------------------------------------------------------------
@pytest.fixture
def staff_cli(site, keyring_service, capsys, monkeypatch):
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
    vault.close()

    def run(*args, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(
            ["staff", *args, "--vault", site.vault.path, "--keyring-service", keyring_service]
        )
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_staff_add_list_remove_from_the_cli(staff_cli, site, keyring_service):
    code, out, err = staff_cli(
        "add", "N4411", "--name", "Sam Okafor", "--role", "reception", stdin=f"{PIN}\n"
    )
    assert code == 0, err
    code, _, err = staff_cli("add", "N4411", "--name", "Sam", "--role", "clinician", stdin="9999")
    assert code == 2 and "already enrolled" in err
    code, out, _ = staff_cli("list", "--json")
    [listed] = json.loads(out)["staff"]
    assert listed["roles"] == ["reception"] and "pin_hash" not in listed and PIN not in out
    code, _, err = staff_cli("add", "B2", "--name", "X", "--role", "clinician", stdin="12")
    assert code == 2 and "4 to 12 digits" in err

    svc = Services(site, Vault.open(site.vault.path, keyring_service))
    try:
        svc.sign_in(NURSE, PIN)
        assert svc.session.roles == ("reception",)
        svc.sign_out()
        events = [(r.event, r.subject) for r in svc.vault.audit_rows()]
        assert ("staff_add", "N4411") in events
    finally:
        svc.close()
    assert staff_cli("remove", "N4411")[0] == 0
    svc = Services(site, Vault.open(site.vault.path, keyring_service))
    try:
        with pytest.raises(PinError):
            svc.sign_in(NURSE, PIN)
    finally:
        svc.close()


def test_a_tampered_staff_list_fails_list_and_reset_keeps_it(staff_cli, site):
    assert staff_cli("add", "N4411", "--name", "Sam", "--role", "clinician", stdin=PIN)[0] == 0
    path = Path(site.vault.path) / pins.STAFF_FILE
    doc = json.loads(path.read_text())
    doc["generation"] = 7
    path.write_text(json.dumps(doc))
    code, _, err = staff_cli("list")
    assert code == 1 and "changed outside PicSafe" in err
    code, _, err = staff_cli("add", "C3", "--name", "C", "--role", "clinician", stdin=PIN)
    assert code == 1  # nothing is added on top of a list that does not authenticate
    code, out, _ = staff_cli("reset")
    assert code == 0 and "rejected" in out
    assert staff_cli("list")[0] == 0
    assert any(p.name.startswith("staff.json.rejected-") for p in Path(site.vault.path).iterdir())
