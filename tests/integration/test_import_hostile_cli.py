"""Hostile input and faults on `picsafe-desktop import` (issue 13, findings 8, 10, 11, 13, 14)
against a real vault and keyring."""

from __future__ import annotations

import json

import pytest

from picsafe_desktop import cli
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg
from tests.unit.test_import_hostile_trees import deep_tree

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

CONSENT = {
    "patient": {"mrn": "RX0012345", "name": "Ada Example"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
}


class Setup:
    def __init__(self, tmp_path, keyring_service):
        self.tmp = tmp_path
        self.service = keyring_service
        self.vault_dir = tmp_path / "vault"
        make_vault(self.vault_dir, keyring_service).close()
        self.consent = tmp_path / "consent.json"
        self.consent.write_text(json.dumps(CONSENT))
        self.photos = tmp_path / "photos"
        self.photos.mkdir()

    def photo(self, name: str, tag: str, index: int = 0):
        path = self.photos / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(unique_jpeg(small_jpegs()[index].read_bytes(), tag))
        return path

    def run(self, *sources, consent=None, extra=()):
        return cli.main(
            [*extra, "import", "--consent", str(consent or self.consent), "--vault",
             str(self.vault_dir), "--keyring-service", self.service, *map(str, sources)]
        )  # fmt: skip

    def items(self):
        with Vault.open(self.vault_dir, self.service) as vault:
            return vault.list_items()


@pytest.fixture
def setup(tmp_path, keyring_service):
    return Setup(tmp_path, keyring_service)


def test_deep_folder_is_refused_and_the_photo_beside_it_imported(setup, capsys):
    deep_tree(setup.photos)
    good = setup.photo("good.jpg", "deep")
    assert setup.run(setup.photos) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected error" not in err
    assert "folders deep" in err and "Smith QM123" in err
    (item,) = setup.items()
    assert item.state == ItemState.ACTIVE
    assert not good.exists()
