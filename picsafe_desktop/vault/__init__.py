"""Key hierarchy, OS keyring, encrypted blob store, SQLite index and audit log.

The on-disk format is docs/vault-format.md. Everything here is Qt-free.
"""

from picsafe_desktop.vault.audit import AuditReport
from picsafe_desktop.vault.crypto import PRODUCTION_KDF, KdfParams
from picsafe_desktop.vault.errors import (
    DiskFull,
    DuplicateOriginal,
    IntegrityError,
    KeyMissing,
    KeyringUnavailable,
    NotAVault,
    NotFound,
    UnknownFormat,
    VaultBusy,
    VaultClosed,
    VaultError,
    VaultReadOnly,
    WrongRecoveryCode,
)
from picsafe_desktop.vault.vault import DEFAULT_SERVICE, AuditRow, BatchInfo, Vault, VerifyReport

__all__ = [
    "DEFAULT_SERVICE",
    "PRODUCTION_KDF",
    "AuditReport",
    "AuditRow",
    "BatchInfo",
    "DiskFull",
    "DuplicateOriginal",
    "IntegrityError",
    "KdfParams",
    "KeyMissing",
    "KeyringUnavailable",
    "NotAVault",
    "NotFound",
    "UnknownFormat",
    "Vault",
    "VaultBusy",
    "VaultClosed",
    "VaultError",
    "VaultReadOnly",
    "VerifyReport",
    "WrongRecoveryCode",
]
