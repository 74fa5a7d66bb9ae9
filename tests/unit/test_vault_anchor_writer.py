"""The anchor writer (vault/anchor.py): a stream of changes becomes few keyring writes, always
the newest head, and close() leaves the keyring holding the last one.

Each keyring write opens a Secret Service session whose key exchange is pure Python; an
import's stream of commits kept one core busy with them (half a thread in the profile)."""

from __future__ import annotations

import threading
import time

from picsafe_desktop.vault import anchor
from picsafe_desktop.vault.state import Head


def test_a_stream_of_changes_is_gathered_into_few_writes_and_close_writes_the_last(monkeypatch):
    written: list[int] = []
    lock = threading.Lock()

    def store(service, vault_id, key, head):
        time.sleep(0.005)  # a keyring round trip
        with lock:
            written.append(head.generation)

    monkeypatch.setattr(anchor, "store", store)
    writer = anchor.Writer("svc", "vault", b"k" * 32)
    for generation in range(1, 201):
        writer.submit(Head(generation, generation, b"m" * 32))
        time.sleep(0.002)  # an import commits a few hundred times a second
    writer.close()
    assert written[-1] == 200, "the keyring must end holding the newest head"
    assert written == sorted(written), "never an older head after a newer one"
    assert len(written) < 50, f"{len(written)} keyring writes for 200 changes"
