"""The state anchor: the latest generation and audit head, kept outside the vault folder.

Anyone who can write the folder can put back an older, internally consistent index.sqlite3.
The anchor lives in the OS keyring beside the master key (same service, user
"<vault id>:anchor"), so such an index shows up as older than its anchor. It is MACed under
the vault's state key so an entry copied from another vault does not fit.
"""

from __future__ import annotations

import base64
import binascii
import logging
import struct
import threading
import time

from picsafe_desktop.vault import keystore
from picsafe_desktop.vault.crypto import mac, same
from picsafe_desktop.vault.state import Head

log = logging.getLogger(__name__)

PREFIX = "picsafe-vault-anchor-v1:"
_ANCHOR = struct.Struct(">QQ32s32s")  # generation, audit seq, audit MAC, MAC over the three


def user(vault_id: str) -> str:
    return f"{vault_id}:anchor"


def _mac(key: bytes, head: Head) -> bytes:
    return mac(key, "anchor", head.generation, head.audit_seq, head.audit_mac)


def encode(key: bytes, head: Head) -> str:
    raw = _ANCHOR.pack(head.generation, head.audit_seq, head.audit_mac, _mac(key, head))
    return PREFIX + base64.b64encode(raw).decode("ascii")


def decode(key: bytes, secret: str | None) -> Head | None | str:
    """The anchored head; None when there is none; a string saying why it is unusable."""
    if not secret:
        return None
    if not secret.startswith(PREFIX):
        return "the keyring's anchor entry has an unknown format"
    try:
        raw = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "the keyring's anchor entry is damaged"
    if len(raw) != _ANCHOR.size:
        return "the keyring's anchor entry is damaged"
    generation, seq, audit_mac, check = _ANCHOR.unpack(raw)
    head = Head(generation, seq, audit_mac)
    if not same(check, _mac(key, head)):
        return "the keyring's anchor entry belongs to another vault or was modified"
    return head


def load(service: str, vault_id: str, key: bytes) -> Head | None | str:
    return decode(key, keystore.load_secret(service, user(vault_id)))


def store(service: str, vault_id: str, key: bytes, head: Head) -> None:
    keystore.store_secret(service, user(vault_id), encode(key, head))


def forget(service: str, vault_id: str) -> None:
    keystore.forget_secret(service, user(vault_id))


GATHER_SECONDS = 0.25


class Writer:
    """Keeps the keyring's anchor up to date without making every change wait for D-Bus.

    A change commits, then hands its head here; a thread writes the newest head it has (so a
    burst of changes costs one keyring write, not one each), always in generation order. The
    keyring may lag the index by the changes of the last moment, never lead it: an index
    newer than its anchor is accepted (and re-anchored), an older one is a rollback. `flush`
    writes what is pending now (at close, and where the caller must know it was written).
    """

    def __init__(self, service: str, vault_id: str, key: bytes) -> None:
        self._service, self._vault_id, self._key = service, vault_id, key
        self._cond = threading.Condition()
        self._io = threading.Lock()  # one keyring write at a time
        self._latest: Head | None = None  # newest head handed in
        self._written: Head | None = None  # newest head the keyring holds
        self._thread: threading.Thread | None = None
        self._stopping = False
        # The last keyring write failed and none has succeeded since: the window says so
        # (issue 13). The index may run ahead of its anchor meanwhile - that is accepted at
        # open - and the newest head is retried every few seconds until the keyring answers.
        self.failing = False

    def submit(self, head: Head) -> None:
        with self._cond:
            if self._latest is None or head.generation > self._latest.generation:
                self._latest = head
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(
                    target=self._run, name="picsafe-vault-anchor", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _behind(self) -> bool:
        return self._latest is not None and (
            self._written is None or self._written.generation < self._latest.generation
        )

    def flush(self, *, strict: bool = False) -> bool:
        """Write the newest head now (waiting for a write in progress); True when the keyring
        holds it. `strict` raises the keyring's error instead of returning False."""
        with self._io:
            with self._cond:
                head = self._latest if self._behind() else None
            if head is None:
                return True
            try:
                store(self._service, self._vault_id, self._key, head)
            except Exception:
                self.failing = True
                if strict:
                    raise
                log.warning("the vault's state anchor could not be written to the OS keyring yet")
                return False
            with self._cond:
                self._written = head
            self.failing = False
            return True

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._behind() and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
            if not self.flush():
                with self._cond:  # the keyring is locked or gone: retry later, do not spin
                    if not self._stopping:
                        self._cond.wait(timeout=5)
                continue
            # Each keyring write is a new Secret Service session (its key exchange is pure
            # Python): during an import's stream of commits, let the changes of a moment
            # gather into one write instead of keeping a core busy. close() and flush() write
            # at once; the anchor lags by at most this much more.
            deadline = time.monotonic() + GATHER_SECONDS
            with self._cond:  # submit() notifies on every change: wait out the whole moment
                while not self._stopping and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(timeout=left)
