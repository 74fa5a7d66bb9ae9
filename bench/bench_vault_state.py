"""Cost of the authenticated vault state: one change (state entry + MAC over every entry) and
one open (every row checked against its entry, the keyring's anchor read) as a vault grows.

Run inside the test services (real keyring):
    scripts/with-test-services .venv/bin/python bench/bench_vault_state.py [N]
Fills a vault with N small photos through the real put path, then prints per-change times at
N and the open and `verify`-style trust check times. No pass/fail: figures for the notes.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import keyring

from picsafe_desktop.vault import KdfParams, Vault
from picsafe_desktop.vault import state as vault_state

KDF = KdfParams(time_cost=1, memory_kib=8192, parallelism=1)


def main(n: int) -> None:
    service = f"picsafe-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        vault, _ = Vault.create(Path(tmp) / "vault", service, kdf=KDF)
        try:
            batch = vault.create_batch("bench", actor="bench")
            started = time.perf_counter()
            for i in range(n):
                vault.put(
                    i.to_bytes(4, "big") * 256,
                    batch_id=batch,
                    media_type="image/jpeg",
                    thumbnail=b"t" * 2000,
                    metadata={"i": i},
                    actor="bench",
                )
            fill = time.perf_counter() - started
            changes = []
            for i in range(20):
                t = time.perf_counter()
                vault.audit("view", actor="bench", subject=f"s{i}")
                changes.append(time.perf_counter() - t)
            conn, keys = vault._conn, vault._keys
            t = time.perf_counter()
            for _ in range(20):
                vault_state.record_ok(conn, keys.state, (0, b""))
            record_check = (time.perf_counter() - t) / 20
            vault.close()
            t = time.perf_counter()
            again = Vault.open(Path(tmp) / "vault", service)
            opened = time.perf_counter() - t
            t = time.perf_counter()
            problems = again._current_trust_problems()
            trust = time.perf_counter() - t
            again.close()
            assert problems == [], problems
        finally:
            for user in (vault.vault_id, f"{vault.vault_id}:anchor"):
                try:
                    keyring.delete_password(service, user)
                except keyring.errors.PasswordDeleteError:
                    pass
    print(f"items: {n}")
    print(f"fill: {fill:.1f} s ({fill / n * 1000:.1f} ms a put, state and anchor included)")
    print(f"one audited change at {n} items: median {statistics.median(changes) * 1000:.1f} ms")
    print(f"  of which the state-record check over all entries: {record_check * 1000:.1f} ms")
    print(f"open (row entries, anchor, audit ends, consents): {opened * 1000:.0f} ms")
    print(f"full trust check (as in verify): {trust * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
