"""Finding 15: `Services._staff` could change between its check and its use on another
thread (a lock or "Switch user" while a worker runs). Each action now reads the session once,
under a lock, and uses that snapshot from start to end."""

from __future__ import annotations

import pytest

from picsafe_desktop import config, consent
from picsafe_desktop.model import Staff
from picsafe_desktop.services import NotSignedIn, Services
from picsafe_desktop.vault import Vault
from tests.unit.test_consent import written
from tests.unit.vault_support import TEST_KDF, jpeg_with_exif, put_photo

pytestmark = pytest.mark.keyring

FIRST = Staff("Ann First", "", "A1")
SECOND = Staff("Ben Second", "", "B2")


@pytest.fixture
def services(tmp_path, keyring_service):
    site = config.from_dict(
        {
            "vault": {"path": str(tmp_path / "vault")},
            "logging": {"file": str(tmp_path / "l")},
            "staff": {"allow_unverified_names": True},
        }
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF, actor="tester")
    wording = consent.load_wording(None, None)
    for mrn in ("RX0000001", "RX0000002"):
        batch = vault.create_batch("test", actor="tester")
        put_photo(vault, batch, jpeg_with_exif(), state="awaiting_consent")
        fields = written(patient={"mrn": mrn, "name": "P", "birth_date": "1980-02-29"})
        record = consent.record_from_fields(fields, wording=wording)
        consent.store(vault, batch, record, actor="tester")
    svc = Services(site, vault)
    yield svc
    svc.close()


def test_an_action_keeps_the_staff_it_started_with(services, monkeypatch):
    services.sign_in(FIRST)
    real = services.vault.patient_list
    calls = []

    def patient_list(*, actor, audit):
        calls.append(actor)
        # another thread switches user mid-action
        services.sign_out("switch user")
        services.sign_in(SECOND)
        return real(actor=actor, audit=audit)

    monkeypatch.setattr(services.vault, "patient_list", patient_list)
    assert len(services.patients()) == 2
    assert calls == ["Ann First (A1)"]  # never half one, half the other
    views = [r for r in services.vault.audit_rows() if r.event == "patient_list_view"]
    assert [r.actor for r in views] == ["Ann First (A1)"]


def test_a_lock_mid_action_neither_crashes_it_nor_lends_it_a_name(services, monkeypatch):
    services.sign_in(FIRST)
    real = services.vault.patient_list
    calls = []

    def patient_list(*, actor, audit):
        calls.append(actor)
        services.sign_out("idle")  # the window locks while the worker runs
        return real(actor=actor, audit=audit)

    monkeypatch.setattr(services.vault, "patient_list", patient_list)
    services.patients()
    assert calls == ["Ann First (A1)"]
    with pytest.raises(NotSignedIn):
        services.patients()  # the next action sees the lock
