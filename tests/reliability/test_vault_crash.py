"""Crash safety of vault writes: a writer process is SIGKILLed mid-put (and mid-delete) many
times; after each restart the index and the blob files agree, nothing half-written reads as
valid, and every put or delete that had returned is still in effect."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from picsafe_desktop.vault import Vault
from tests.proc import drain
from tests.reliability.vault_crash_child import payload
from tests.unit.vault_support import db, new_vault

pytestmark = pytest.mark.keyring
REPO = Path(__file__).resolve().parents[2]
RANDOM_KILLS = 32


class Writer:
    def __init__(self, root: Path, service: str, batch: str, first_seed: int, mode: str):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.vault_crash_child",
                str(root),
                service,
                batch,
                str(first_seed),
                mode,
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self.proc.stdout.readline()
        if first != "ready\n":
            self.proc.kill()
            raise AssertionError(f"writer did not start: {first!r} {self.proc.stderr.read()}")

    def finish(self, kill: bool) -> list[list[str]]:
        if kill:
            self.proc.send_signal(signal.SIGKILL)
        out, err = drain(self.proc, timeout=60)  # every acknowledged operation counts
        assert self.proc.returncode == -signal.SIGKILL, f"writer ended on its own: {err}"
        return [line.split() for line in out.splitlines()]


def leftovers(root: Path) -> tuple[int, int]:
    """(temp files, blobs without an index row) as the crash left them, before any reopen."""
    with db(root) as conn:
        known = {r[0] for r in conn.execute("SELECT item_id FROM items")}
    blobs = {p.name[:-4] for p in (root / "blobs").rglob("*.psv")}
    return len(list((root / "tmp").iterdir())), len(blobs - known)


def check_after_restart(
    root: Path, service: str, stored: dict[str, int], deleted: set[str], checked: set[str]
) -> int:
    """Reopen (which sweeps crash leftovers) and check; items in `checked` were already read
    back after an earlier crash, so only new ones are decrypted (a full verify ends the test)."""
    with Vault.open(root, service) as vault:
        items = {i.item_id: i for i in vault.list_items()}
        on_disk = {p.name[:-4] for p in (root / "blobs").rglob("*.psv")}
        assert on_disk == set(items), "index and blob files disagree"
        assert list((root / "tmp").iterdir()) == []
        assert set(stored) - deleted <= set(items), "a put that returned was lost"
        assert not deleted & set(items), "a delete that returned was undone"
        for item_id in set(items) - checked:
            meta = vault.read_metadata(item_id)
            data, thumb = payload(meta["seed"], meta["size"])
            assert vault.read(item_id, actor="check") == data
            assert vault.read_thumbnail(item_id) == thumb
            assert items[item_id].size == len(data)
        checked |= set(items)
        audit = vault.verify_audit()
        assert audit.ok, audit.problems
        with db(root) as conn:
            assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        return len(items)


def full_verify(root: Path, service: str) -> None:
    with Vault.open(root, service) as vault:
        report = vault.verify()
    assert report.ok, report.problems


@pytest.fixture
def prepared(tmp_path, keyring_service):
    vault, _ = new_vault(tmp_path, keyring_service)
    batch = vault.create_batch("crash test", actor="t")
    vault.close()
    return vault.path, keyring_service, batch


def test_random_sigkill_during_puts_and_deletes(prepared):
    root, service, batch = prepared
    rng = random.Random()
    stored: dict[str, int] = {}
    deleted: set[str] = set()
    mid_write = 0
    checked: set[str] = set()
    for round_ in range(RANDOM_KILLS):
        writer = Writer(root, service, batch, first_seed=round_ * 1000 + 1, mode="loop")
        time.sleep(rng.uniform(0.0, 0.15))
        for line in writer.finish(kill=True):
            if line[0] == "stored":
                stored[line[1]] = int(line[2])
            elif line[0] == "deleting":  # may or may not have happened if not "deleted"
                stored.pop(line[1])
            elif line[0] == "deleted":
                deleted.add(line[1])
        mid_write += any(leftovers(root))
        check_after_restart(root, service, stored, deleted, checked)
    full_verify(root, service)
    print(
        f"{RANDOM_KILLS} kills, {mid_write} left half-written files behind, "
        f"{len(stored)} puts and {len(deleted)} deletes completed"
    )


@pytest.mark.parametrize(
    ("mode", "leaves"),
    [
        ("mid-write", (1, 0)),  # half a temp file
        ("before-rename", (1, 0)),  # a complete temp file
        ("after-rename", (0, 1)),  # a blob whose key was never committed
        ("mid-transaction", (0, 1)),  # index row inserted but not committed
        ("mid-shred", (0, 1)),  # delete committed, ciphertext not yet removed
    ],
)
def test_kill_at_each_step_of_a_write(prepared, mode, leaves):
    root, service, batch = prepared
    writer = Writer(root, service, batch, first_seed=1, mode=mode)
    lines = writer.finish(kill=False)  # the writer kills itself at the fault point
    assert ["survived"] not in lines
    (stored_line,) = [line for line in lines if line[0] == "stored"]
    assert leftovers(root) == leaves
    deleted = {stored_line[1]} if mode == "mid-shred" else set()
    count = check_after_restart(root, service, {stored_line[1]: 1}, deleted, set())
    full_verify(root, service)
    assert count == (0 if mode == "mid-shred" else 1)
