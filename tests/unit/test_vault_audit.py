"""The audit log's MAC chain names each removed, edited or reordered row."""

import pytest

from picsafe_desktop.vault import Vault, VaultReadOnly
from tests.unit.vault_support import db, new_vault

pytestmark = pytest.mark.keyring


@pytest.fixture
def logged(tmp_path, keyring_service):
    """A closed vault whose audit log has rows 1..8 (vault_create, then 7 views)."""
    vault, _ = new_vault(tmp_path, keyring_service)
    for n in range(7):
        vault.audit("view", actor=f"user{n}", subject=f"item{n}")
    vault.close()
    return vault.path, keyring_service


def problems(logged):
    root, service = logged
    with Vault.open(root, service) as vault:
        report = vault.verify_audit()
    assert report.ok is (not report.problems)
    return report.problems


def test_untouched_log_verifies(logged):
    assert problems(logged) == []


def test_removed_row_is_named(logged):
    with db(logged[0]) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 4")
    assert problems(logged) == ["audit row(s) 4 removed (row 5 follows row 3)"]


def test_several_removed_rows_are_named(logged):
    with db(logged[0]) as conn:
        conn.execute("DELETE FROM audit WHERE seq IN (3, 4, 5)")
    assert problems(logged) == ["audit row(s) 3-5 removed (row 6 follows row 2)"]


def test_rows_cut_from_the_end_are_named(logged):
    with db(logged[0]) as conn:
        conn.execute("DELETE FROM audit WHERE seq >= 7")
    found = problems(logged)
    assert found[0] == "audit row(s) 7-8 removed from the end of the log"
    # The head record was left intact here; the keyring's anchor names the cut as well.
    assert found[1:] == [
        f"{logged[0] / 'index.sqlite3'}: audit row 8 is not the one anchored in the OS keyring "
        "(the audit log was replaced or rewritten)"
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event", "'export'"),
        ("subject", "'item9'"),
        ("at", "'2020-01-01T00:00:00+00:00'"),
        ("body", "(SELECT body FROM audit WHERE seq = 3)"),
    ],
)
def test_edited_row_is_named(logged, column, value):
    with db(logged[0]) as conn:
        conn.execute(f"UPDATE audit SET {column} = {value} WHERE seq = 5")
    (problem,) = problems(logged)
    assert problem.startswith("audit row 5 (") and problem.endswith(
        "edited (its MAC does not match its content)"
    )


def test_reordered_rows_are_named(logged):
    with db(logged[0]) as conn:
        conn.execute("UPDATE audit SET seq = -1 WHERE seq = 5")
        conn.execute("UPDATE audit SET seq = 5 WHERE seq = 6")
        conn.execute("UPDATE audit SET seq = 6 WHERE seq = -1")
    found = problems(logged)
    assert len(found) == 2
    assert found[0].startswith("audit row 5 (") and found[0].endswith("reordered; this is row 6")
    assert found[1].startswith("audit row 6 (") and found[1].endswith("reordered; this is row 5")


def test_replaced_last_row_and_forged_head_are_caught(logged):
    with db(logged[0]) as conn:
        conn.execute(
            "UPDATE audit SET mac = (SELECT mac FROM audit WHERE seq = 2), "
            "event = 'export' WHERE seq = 8"
        )
    found = problems(logged)
    assert found[0].startswith("audit row 8 (export") and "edited" in found[0]
    assert "audit row 8: replaced (does not match the head record)" in found
    with db(logged[0]) as conn:
        conn.execute("UPDATE meta SET value = zeroblob(72) WHERE key = 'audit_head'")
    assert "audit head record missing or edited" in problems(logged)


def test_a_tampered_head_stops_new_audited_work(logged):
    root, service = logged
    with db(root) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'audit_head'")
    with Vault.open(root, service) as vault:
        assert vault.read_only
        with pytest.raises(VaultReadOnly, match="head record is missing"):
            vault.audit("view", actor="t", subject="x")
        assert "audit head record missing or edited" in vault.verify_audit().problems


def test_a_cut_at_the_end_opens_read_only_and_stays_visible(logged):
    """A new row after the cut would have hidden it: the vault refuses to write instead."""
    root, service = logged
    with db(root) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 8")
    with Vault.open(root, service) as vault:
        with pytest.raises(VaultReadOnly, match="audit row 8 is not the one anchored"):
            vault.audit("view", actor="t", subject="later")
        assert vault.verify_audit().problems == [
            "audit row(s) 8 removed from the end of the log",
            f"{root / 'index.sqlite3'}: audit row 8 is not the one anchored in the OS keyring "
            "(the audit log was replaced or rewritten)",
        ]


def test_bodies_are_encrypted_but_readable_in_the_app(logged):
    root, service = logged
    raw = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    assert b"user3" not in raw
    with Vault.open(root, service) as vault:
        rows = vault.audit_rows()
    assert [r.seq for r in rows] == list(range(1, 9))
    assert (rows[4].event, rows[4].actor, rows[4].subject) == ("view", "user3", "item3")
