"""Finding 15: one user action is one transaction (refuse, withdraw, redact): a failure
part-way leaves everything as it was, instead of half an action (photos gone, no record)."""

import pytest

from picsafe_desktop import config
from picsafe_desktop.consent import record_to_dict
from picsafe_desktop.deid import Redaction
from picsafe_desktop.model import ItemState, Staff
from picsafe_desktop.services import Services
from picsafe_desktop.vault import Vault
from tests.export_data import consent as sample_consent
from tests.unit.vault_support import MRN, TEST_KDF, jpeg_with_exif, put_photo

pytestmark = pytest.mark.keyring


class Stop(Exception):
    pass


@pytest.fixture
def ward(tmp_path, keyring_service):
    site = config.from_dict(
        {"vault": {"path": str(tmp_path / "vault")}, "staff": {"allow_unverified_names": True}}
    )
    vault, _ = Vault.create(site.vault.path, keyring_service, kdf=TEST_KDF)
    services = Services(site, vault)
    services.sign_in(Staff("Dr A", "Registrar", "S1"))
    batch = vault.create_batch("phone", actor="t")
    items = [put_photo(vault, batch, jpeg_with_exif(size=(64 + n, 48))) for n in range(3)]
    yield services, vault, batch, items
    services.close()


def fail_at(monkeypatch, vault, event):
    """Make the audit row of `event` fail: the last step of the action."""
    real = vault._audit_in

    def audit_in(conn, name, *args):
        if name == event:
            raise Stop(event)
        return real(conn, name, *args)

    monkeypatch.setattr(vault, "_audit_in", audit_in)


def state_of(vault):
    return sorted((i.item_id, i.state.value) for i in vault.list_items())


def test_a_refusal_that_fails_part_way_destroys_nothing(ward, monkeypatch):
    services, vault, batch, items = ward
    before = state_of(vault)
    fail_at(monkeypatch, vault, "consent_refused")
    with pytest.raises(Stop):
        services.refuse_consent(batch)
    monkeypatch.undo()
    assert state_of(vault) == before
    assert all(vault.read(i, actor="t") for i in items)  # keys and files all still there
    assert services.refuse_consent(batch) == 3
    assert vault.list_items() == []


def test_a_withdrawal_that_fails_part_way_destroys_nothing(ward, monkeypatch):
    services, vault, batch, items = ward
    # A whole record, as the dialog stores it: withdrawal reads it to mark it withdrawn.
    consent = vault.put_consent(batch, record_to_dict(sample_consent()), mrn=MRN, actor="t")
    vault.set_state(items, ItemState.ACTIVE, consent_id=consent, actor="t")
    before = state_of(vault)
    fail_at(monkeypatch, vault, "consent_withdrawn")
    with pytest.raises(Stop):
        services.withdraw_consent(consent)
    monkeypatch.undo()
    assert state_of(vault) == before
    services.withdraw_consent(consent)
    assert vault.list_items() == []
    [withdrawn] = [r for r in vault.audit_rows(consent) if r.event == "consent_withdrawn"]
    assert withdrawn.details["photos_destroyed"] == 3


def test_a_redaction_that_fails_part_way_saves_and_destroys_nothing(ward, monkeypatch):
    services, vault, _, items = ward
    before = state_of(vault)
    fail_at(monkeypatch, vault, "delete")  # replacing: the original's deletion fails
    with pytest.raises(Stop):
        services.redact(items[0], [Redaction(5, 5, 20, 20)], replace=True)
    monkeypatch.undo()
    assert state_of(vault) == before
    assert len(list((vault.path / "blobs").rglob("*.psv"))) == 3  # no orphan of the new one
    new_id = services.redact(items[0], [Redaction(5, 5, 20, 20)], replace=True)
    assert {i.item_id for i in vault.list_items()} == {new_id, *items[1:]}
    assert [r.event for r in vault.audit_rows(new_id)] == ["put", "redact"]
