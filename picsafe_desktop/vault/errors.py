"""Vault errors. Every message names the vault folder or file involved and the fix."""

from __future__ import annotations


class VaultError(Exception):
    """Base class: the vault cannot do what was asked; nothing was changed unless stated."""


class KeyringUnavailable(VaultError):
    """The OS keyring is missing, locked, or a backend that cannot keep a key safely."""


class KeyMissing(VaultError):
    """The keyring has no (or the wrong) master key for this vault; `vault recover` fixes it."""


class NotAVault(VaultError):
    """The folder does not exist or holds no vault."""


class UnknownFormat(VaultError):
    """The vault or one of its files uses a format version this program does not know."""


class IntegrityError(VaultError):
    """Stored data failed authentication: tampered, truncated, swapped or corrupt."""


class VaultBusy(VaultError):
    """Another PicSafe instance has this vault open."""


class DiskFull(VaultError):
    """A write ran out of space; the vault is unchanged."""


class WrongRecoveryCode(VaultError):
    """The recovery code does not unlock this vault; nothing was changed."""


class VaultClosed(VaultError):
    """The vault was closed (or locked) and must be opened again."""


class DuplicateOriginal(VaultError):
    """The same original photo is already stored; `item_id` names it."""

    def __init__(self, item_id: str) -> None:
        super().__init__(f"this photo is already in the vault as item {item_id}")
        self.item_id = item_id


class NotFound(VaultError, KeyError):
    """No item, batch, consent or journal entry with that id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class IndexBusy(VaultError):
    """Another program holds the index locked (SQLITE_BUSY / SQLITE_LOCKED)."""


class IndexReadOnly(VaultError):
    """The index file or its drive cannot be written (SQLITE_READONLY)."""


class IndexIOError(VaultError):
    """The drive reported an I/O error while the index was used (SQLITE_IOERR*)."""


class VaultReadOnly(IntegrityError):
    """The vault was opened read-only: its index differs from its authenticated state (or
    `read_only=True` was asked for). `problems` names what differs; nothing was changed."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])
