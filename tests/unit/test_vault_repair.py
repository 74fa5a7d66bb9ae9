"""`vault repair` and the headless governance commands (issue 13, build items 2, 3 and 7)."""

import json
import os
import subprocess
import sys

import pytest

from picsafe_desktop import cli
from picsafe_desktop.consent import record_to_dict
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.export_data import consent as sample_consent
from tests.unit.vault_support import MRN, db, new_vault, put_photo

pytestmark = pytest.mark.keyring


@pytest.fixture
def run(keyring_service, capsys):
    def run(*args):
        code = cli.main([*args, "--keyring-service", keyring_service])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def ward(tmp_path, keyring_service):
    """A closed vault: photos a, b active under one consent, c waiting."""
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("phone", actor="t")
    a, b, c = (put_photo(vault, batch, bytes([n]) * 4000) for n in range(3))
    # A whole consent record, as the dialog stores it: `consent withdraw` reads it back.
    consent = vault.put_consent(batch, record_to_dict(sample_consent()), mrn=MRN, actor="t")
    vault.set_state([a, b], ItemState.ACTIVE, consent_id=consent, actor="t")
    vault.close()
    return vault.path, keyring_service, batch, (a, b, c), consent


def blob(root, item):
    return root / "blobs" / item[:2] / f"{item}.psv"


def events(root, service):
    with Vault.open(root, service, read_only=True) as vault:
        return [(r.event, r.subject) for r in vault.audit_rows()]


def test_an_older_index_is_accepted_then_newer_photos_relinked_from_a_copy(ward, run, tmp_path):
    root, service, batch, _, _ = ward
    old_index = (root / "index.sqlite3").read_bytes()
    with Vault.open(root, service) as vault:
        newer = [put_photo(vault, batch, bytes([7, n]) * 3000) for n in range(2)]
    newer_copy = tmp_path / "backup-index.sqlite3"
    newer_copy.write_bytes((root / "index.sqlite3").read_bytes())
    (root / "index.sqlite3").write_bytes(old_index)

    code, out, err = run("vault", "repair", "--vault", str(root))
    assert code == 1 and "older than its anchor" in err and "--accept-state" in err
    code, _, err = run("vault", "repair", "--vault", str(root), "--accept-state")
    assert code == 2 and "--reason" in err  # an admin action says why

    code, out, err = run(
        "vault", "repair", "--vault", str(root), "--accept-state", "--reason", "restore test"
    )
    assert "accepted as the vault's state" in out
    for item in newer:  # their rows are gone from this index: kept in quarantine, named
        assert (root / "quarantine" / f"{item}.psv").exists()
        assert f"{item}.psv: in quarantine (neither the index nor the audit log knows it" in err
    assert code == 1

    code, out, err = run("vault", "repair", "--vault", str(root), "--from-index", str(newer_copy))
    assert code == 0, err
    assert out.count("re-linked from the index copy") == 2
    with Vault.open(root, service) as vault:
        waiting = {i.item_id for i in vault.list_items(state=ItemState.AWAITING_CONSENT)}
        assert set(newer) <= waiting
        assert vault.read(newer[0], actor="t") == bytes([7, 0]) * 3000
    assert run("vault", "verify", "--vault", str(root))[0] == 0
    assert ("vault_reanchor", events(root, service)[0][1]) in events(root, service)


def test_accepting_a_written_back_row_does_not_undo_a_withdrawal(ward, run):
    root, service, _, (a, b, _), consent = ward
    with db(root) as conn:
        saved = conn.execute("SELECT * FROM items WHERE item_id = ?", (a,)).fetchone()
    assert run("consent", "withdraw", consent, "--vault", str(root), "--reason", "asked")[0] == 0
    with db(root) as conn:
        conn.execute(f"INSERT INTO items VALUES ({', '.join('?' * len(saved))})", saved)
    code, out, err = run("vault", "repair", "--vault", str(root), "--accept-state", "--reason", "r")
    assert f"dropped again: item {a} (deleted earlier, row written back)" in out
    with Vault.open(root, service) as vault:
        assert {i.item_id for i in vault.list_items()} == {ward[3][2]}
    assert run("vault", "verify", "--vault", str(root))[0] == 0


def test_shredding_quarantine_is_an_explicit_audited_command(ward, run):
    root, service, *_ = ward
    stray = root / "blobs" / "ef" / ("ef" * 16 + ".psv")
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(os.urandom(300))
    Vault.open(root, service).close()
    code, _, err = run("vault", "repair", "--vault", str(root))
    assert code == 1 and "interrupted import" in err
    assert (root / "quarantine" / stray.name).exists()
    code, _, err = run("vault", "repair", "--vault", str(root), "--shred-quarantine")
    assert code == 2 and (root / "quarantine" / stray.name).exists()
    code, out, _ = run(
        "vault", "repair", "--vault", str(root), "--shred-quarantine", "--reason", "crash junk"
    )
    assert code == 0 and "overwritten and removed" in out
    assert not (root / "quarantine" / stray.name).exists()
    assert ("quarantine_shred", "ef" * 16) in events(root, service)


def test_consent_list_withdraw_and_photo_delete(ward, run):
    root, service, batch, (a, b, c), consent = ward
    code, out, _ = run("consent", "list", "--json", "--vault", str(root))
    assert code == 0
    assert json.loads(out)["consents"] == [
        {
            "consent_id": consent,
            "batch_id": batch,
            "created_at": json.loads(out)["consents"][0]["created_at"],
            "active_photos": 2,
        }
    ]
    code, out, _ = run("consent", "list", "--mrn", "NOBODY", "--vault", str(root))
    assert code == 0 and "0 consent(s)" in out
    code, _, err = run("photo", "delete", "f" * 32, "--vault", str(root), "--reason", "x")
    assert code == 2 and "no item" in err
    assert run("photo", "delete", c, "--vault", str(root), "--reason", "blurred")[0] == 0
    assert not blob(root, c).exists()
    code, out, _ = run("consent", "withdraw", consent, "--vault", str(root), "--reason", "asked")
    assert code == 0 and "2 photo(s) crypto-shredded" in out
    assert ("consent_withdrawn", consent) in events(root, service)
    with Vault.open(root, service, read_only=True) as vault:
        assert vault.list_items() == []
        deleted = [r for r in vault.audit_rows() if r.event == "delete"]
        got = [(r.subject, r.details["reason"], r.actor[:4]) for r in deleted]
        # a and b go in one transaction, in the order they were stored (not by id)
        assert got[0] == (c, "blurred", "cli:")
        assert sorted(got[1:]) == sorted([(a, "asked", "cli:"), (b, "asked", "cli:")])


def test_verify_and_audit_verify_work_while_the_app_holds_the_vault(ward, run):
    root, service, batch, *_ = ward
    with Vault.open(root, service) as app:
        put_photo(app, batch, b"while open" * 100)
        code, out, err = run("vault", "verify", "--vault", str(root))
        assert code == 0, err
        assert run("audit", "verify", "--vault", str(root))[0] == 0
        assert run("vault", "list", "--vault", str(root))[0] == 0
        put_photo(app, batch, b"still writable" * 100)  # the checks took no lock from it


def test_vault_list_into_a_closed_pipe_prints_no_traceback(ward):
    root, service, *_ = ward
    done = subprocess.run(
        f"{sys.executable} -m picsafe_desktop vault list --json --vault {root} "
        f"--keyring-service {service} | head -1",
        shell=True,  # noqa: S602 - the pipe is the point of the test
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "{\n", done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
