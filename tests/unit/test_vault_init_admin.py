"""`vault init --admin STAFF_ID --name NAME` enrols the vault's creator in the same run (issue
13): a fresh install is usable with checked sign-in and no typed, unchecked names. Real CLI,
vault, keyring and Argon2id; the PIN comes from one line of standard input."""

from __future__ import annotations

import io

import pytest

from picsafe_desktop import cli, config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services, SignInError
from picsafe_desktop.vault import Vault

pytestmark = pytest.mark.keyring
PIN = "4826"


@pytest.fixture
def init(tmp_path, keyring_service, capsys, monkeypatch):
    site_file = tmp_path / "site.toml"
    site_file.write_text(f'[vault]\npath = "{tmp_path / "vault"}"\n')

    def run(*args, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        argv = ["--config", str(site_file), "vault", "init", *args]
        code = cli.main([*argv, "--keyring-service", keyring_service])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_init_enrols_the_admin_who_then_signs_in(init, tmp_path, keyring_service):
    code, out, err = init("--admin", "N4411", "--name", "Sam Okafor", stdin=f"{PIN}\n")
    assert code == 0, err
    assert "Enrolled N4411 (Sam Okafor) as it_admin, clinician" in out and PIN not in out
    site = config.from_dict({"vault": {"path": str(tmp_path / "vault")}})  # a default site
    services = Services(site, Vault.open(site.vault.path, keyring_service))
    try:
        with pytest.raises(SignInError):
            services.sign_in(Staff("", "", "N4411"), "0000")
        session = services.sign_in(Staff("", "", "N4411"), PIN)
        assert session.method == "pin" and session.roles == ("it_admin", "clinician")
        assert session.staff.name == "Sam Okafor"
        [added] = [r for r in services.vault.audit_rows() if r.event == "staff_add"]
        assert added.subject == "N4411" and added.details["first"] is True
        assert added.actor.startswith("cli")
    finally:
        services.close()


def test_a_bad_pin_or_missing_name_creates_no_vault(init, tmp_path):
    code, _, err = init("--admin", "N4411", "--name", "Sam Okafor", stdin="12\n")
    assert code == 2 and "4 to 12 digits" in err and "no vault was created" in err
    code, _, err = init("--admin", "N4411", stdin=f"{PIN}\n")
    assert code == 2 and "--name" in err
    code, _, err = init("--name", "Sam Okafor", stdin=f"{PIN}\n")
    assert code == 2 and "--admin" in err
    assert not (tmp_path / "vault" / "vault.json").exists()


def test_init_without_admin_says_whom_to_enrol(init):
    code, out, err = init()
    assert code == 0, err
    assert "picsafe-desktop staff add" in out and "Nobody can sign in yet" in out
