"""The harness gives the app a real Secret Service, not a file or memory backend."""

import keyring
import pytest
import secretstorage

pytestmark = pytest.mark.keyring


def test_secret_round_trip_through_secret_service(keyring_service):
    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyring.backends.SecretService"
    keyring.set_password(keyring_service, "vault-1", "s3cret-value")
    assert keyring.get_password(keyring_service, "vault-1") == "s3cret-value"

    # Read it back over D-Bus without the keyring library: the daemon really holds it.
    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        items = list(collection.search_items({"service": keyring_service}))
        assert len(items) == 1
        assert items[0].get_secret() == b"s3cret-value"

    keyring.delete_password(keyring_service, "vault-1")
    assert keyring.get_password(keyring_service, "vault-1") is None
