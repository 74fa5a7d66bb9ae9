"""Writer process for test_vault_crash: stores (and sometimes deletes) items until killed.

Usage: python -m tests.reliability.vault_crash_child VAULT SERVICE BATCH FIRST_SEED MODE
MODE "loop" writes forever (the test kills it at a random moment); any other mode names the
point at which the process kills itself with SIGKILL (see FAULTS), after one clean put.
Each finished operation is printed (flushed) only after the vault call returned.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from picsafe_desktop.vault import Vault
from picsafe_desktop.vault import audit as audit_chain
from picsafe_desktop.vault import blobs as blobs_module
from picsafe_desktop.vault import items as items_module

SIZES = (0, 1, 1000, 65536, 70_000, 200_000, 600_000)


def payload(seed: int, size: int | None = None) -> tuple[bytes, bytes]:
    """The photo and thumbnail stored for a seed; the test regenerates them to compare."""
    rng = random.Random(seed)
    chosen = rng.choice(SIZES)
    return rng.randbytes(chosen if size is None else size), rng.randbytes(64)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _partial_stream(*args, **kwargs):
    for n, chunk in enumerate(ORIGINAL_SEAL(*args, **kwargs)):
        if n == 3:
            die()
        yield chunk


def _replace_then(after: bool):
    original = blobs_module.os.replace

    def replace(src, dst):
        if not after:
            die()
        original(src, dst)
        if after:
            die()

    return replace


def _in_transaction(*args, **kwargs):
    die()


ORIGINAL_SEAL = items_module.seal_stream
FAULTS = {
    "mid-write": (items_module, "seal_stream", _partial_stream),
    "before-rename": (blobs_module.os, "replace", _replace_then(after=False)),
    "after-rename": (blobs_module.os, "replace", _replace_then(after=True)),
    "mid-transaction": (audit_chain, "append", _in_transaction),
    "mid-shred": (blobs_module.BlobStore, "shred", lambda self, item_id: die()),
}


def put(vault: Vault, batch: str, seed: int, size: int | None = None) -> str:
    data, thumb = payload(seed, size)
    return vault.put(
        data,
        batch_id=batch,
        media_type="application/octet-stream",
        thumbnail=thumb,
        metadata={"seed": seed, "size": size},
        actor="crash-test",
    )


def main() -> None:
    root, service, batch, first, mode = sys.argv[1:6]
    seed = int(first)
    vault = Vault.open(root, service)
    print("ready", flush=True)
    if mode != "loop":
        item = put(vault, batch, seed)
        print(f"stored {item} {seed}", flush=True)
        target, name, replacement = FAULTS[mode]
        setattr(target, name, replacement)
        if mode == "mid-shred":
            vault.delete(item, actor="crash-test", reason="test")
        else:
            put(vault, batch, seed + 1, size=max(SIZES))  # big enough for every fault point
        print("survived", flush=True)  # the test fails if the fault did not fire
        return
    stored: list[str] = []
    while True:
        item = put(vault, batch, seed)
        stored.append(item)
        print(f"stored {item} {seed}", flush=True)
        seed += 1
        if seed % 4 == 0:
            victim = stored.pop(random.Random(seed).randrange(len(stored)))
            print(f"deleting {victim}", flush=True)
            vault.delete(victim, actor="crash-test", reason="test")
            print(f"deleted {victim}", flush=True)


if __name__ == "__main__":
    main()
