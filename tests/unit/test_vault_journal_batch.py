"""The import journal's batched writes (issue 17: fewer commits per imported photo)."""

import pytest

from tests.unit.vault_support import new_vault, put_photo

pytestmark = pytest.mark.keyring


@pytest.fixture
def vault(tmp_path, keyring_service):
    v, _ = new_vault(tmp_path, keyring_service)
    yield v
    v.close()


def _entries(vault) -> dict:
    return {e: (step, payload) for e, step, payload in vault.journal_entries()}


def test_update_sets_and_clears_in_one_commit(vault):
    vault.journal_set("e1", "removing", {"n": 1})
    commits = []
    vault._db().set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    vault.journal_update([("e2", "removing", {"n": 2}), ("e3", "storing", {"n": 3})], ["e1"])
    vault._db().set_trace_callback(None)
    assert _entries(vault) == {"e2": ("removing", {"n": 2}), "e3": ("storing", {"n": 3})}
    assert commits == ["COMMIT"]
    vault.journal_update(clear=["e2", "e3"])
    assert _entries(vault) == {}


def test_an_entry_written_in_a_put_commits_with_it_or_not_at_all(vault):
    batch = vault.create_batch("Ward 4", actor="tester")
    vault.journal_set("done", "removing", {"n": 0})

    def journal(conn, item_id):
        vault.journal_set_in(conn, "e1", "storing", {"item": item_id}, clear=["done"])

    item = put_photo(vault, batch, b"photo one", then=journal)
    assert _entries(vault) == {"e1": ("storing", {"item": item})}

    def journal_then_fail(conn, item_id):
        vault.journal_set_in(conn, "e2", "storing", {"item": item_id}, clear=["e1"])
        raise RuntimeError("the change failed after the entry was written")

    with pytest.raises(RuntimeError):
        put_photo(vault, batch, b"photo two", then=journal_then_fail)
    assert _entries(vault) == {"e1": ("storing", {"item": item})}
    assert [i.item_id for i in vault.list_items()] == [item]
