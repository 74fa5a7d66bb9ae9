"""Staff are who they say BY DEFAULT (issue 13; issue 12 defect 5): a site config that says
nothing about sign-in gets enrolled staff IDs and PINs, never typed, unchecked names; typed
names only where the site opts in with [staff] allow_unverified_names. Real vault, keyring."""

from __future__ import annotations

import pytest

from picsafe_desktop import config
from picsafe_desktop.model import Staff
from picsafe_desktop.services import Services, SignInError
from picsafe_desktop.staff import pins
from picsafe_desktop.staff.session import method_for, nobody_enrolled_message
from picsafe_desktop.vault import Vault
from tests.unit.vault_support import TEST_KDF

pytestmark = pytest.mark.keyring

SOMEONE = Staff("Dr Somebody Else", "Consultant", "C9999")


def make_services(tmp_path, keyring_service, **sections) -> Services:
    raw = {"vault": {"path": str(tmp_path / "vault")}, "logging": {"file": str(tmp_path / "l")}}
    site = config.from_dict(raw | sections)
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
    return Services(site, vault)


def test_a_default_site_checks_pins():
    assert method_for(config.from_dict({})) == "pin"
    opted_in = config.from_dict({"staff": {"allow_unverified_names": True}})
    assert method_for(opted_in) == "unverified"
    # require_pin is the stricter word and wins over the opt-in
    both = {"staff": {"allow_unverified_names": True}, "security": {"require_pin": True}}
    assert method_for(config.from_dict(both)) == "pin"
    with pytest.raises(config.ConfigError, match="allow_unverified_names"):
        config.from_dict({"staff": {"allow_unverified_names": "yes"}})


def test_an_unenrolled_typed_name_is_refused_on_a_default_site(tmp_path, keyring_service):
    """The gap: with a default site config anyone typed any name and got clinician rights."""
    services = make_services(tmp_path, keyring_service)
    try:
        with pytest.raises(SignInError):
            services.sign_in(SOMEONE, "")
        with pytest.raises(SignInError):
            services.sign_in(SOMEONE, "1234")  # a PIN for nobody enrolled: still refused
        assert services.session is None
        refusals = [r for r in services.vault.audit_rows() if r.event == "sign_in_refused"]
        assert len(refusals) == 2 and refusals[0].details["method"] == "pin"
    finally:
        services.close()


def test_typed_names_only_where_the_site_opts_in(tmp_path, keyring_service):
    services = make_services(tmp_path, keyring_service, staff={"allow_unverified_names": True})
    try:
        session = services.sign_in(SOMEONE)
        assert session.method == "unverified" and session.staff.name == SOMEONE.name
        assert nobody_enrolled_message(services.site, services.vault) == ""
    finally:
        services.close()


def test_nobody_enrolled_says_what_it_must_run(tmp_path, keyring_service):
    services = make_services(tmp_path, keyring_service)
    try:
        message = nobody_enrolled_message(services.site, services.vault)
        assert "picsafe-desktop staff add" in message and "--role" in message
        pins.StaffStore.for_vault(services.vault).add("N1", "Nurse One", ["clinician"], "4826")
        assert nobody_enrolled_message(services.site, services.vault) == ""
        assert services.sign_in(Staff("", "", "N1"), "4826").method == "pin"
    finally:
        services.close()
