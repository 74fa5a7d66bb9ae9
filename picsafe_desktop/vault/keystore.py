"""The master key in the OS keyring: backend vetting, sentinel round trip, get/set.

Only backends known to keep secrets in an OS-protected store are accepted. The null backend
silently drops what it is given and file backends keep the key next to the data it protects,
so a vault refuses them (and anything it does not know) instead of losing or exposing its key.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import logging
import os
import secrets
import sys

import keyring
import keyring.backend
import keyring.core
import keyring.errors

from picsafe_desktop.vault.errors import KeyringUnavailable

log = logging.getLogger(__name__)

# module.Class of backends that store secrets in the OS's protected store.
TRUSTED_BACKENDS = {
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.Windows.WinVaultKeyring",
    "keyring.backends.macOS.Keyring",
}
SECRET_PREFIX = "picsafe-vault-master-v1:"  # noqa: S105 - a format tag, not a secret
SENTINEL_USER = "picsafe-keyring-check"
FIX = (
    "PicSafe needs the desktop's keyring: on Linux the Secret Service (GNOME Keyring or "
    "KWallet) unlocked in your session, on Windows the Credential Manager, on macOS the Keychain"
)


def _name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _refusal(backend: keyring.backend.KeyringBackend) -> str | None:
    name = _name(backend)
    module = type(backend).__module__
    if module == "keyring.backends.null":
        return f"keyring backend {name} silently discards secrets; a master key there is lost"
    if module == "keyring.backends.fail":
        return "no usable keyring backend was found"
    if module.startswith("keyrings.alt.file") or hasattr(backend, "file_path"):
        return f"keyring backend {name} keeps secrets in a file beside the data it protects"
    if name not in TRUSTED_BACKENDS:
        return f"keyring backend {name} is not one PicSafe trusts with the vault key"
    return None


# The trusted backends of each platform. Choosing among these only (by keyring's own
# priorities) skips keyring's scan of every backend it knows: on Linux that scan imports the
# macOS backend, whose ctypes.util.find_library costs about 0.1 s of every start-up.
_PLATFORM_BACKENDS = {
    "linux": (
        ("keyring.backends.SecretService", "Keyring"),
        ("keyring.backends.kwallet", "DBusKeyring"),
        ("keyring.backends.libsecret", "Keyring"),
    ),
    "win32": (("keyring.backends.Windows", "WinVaultKeyring"),),
    "darwin": (("keyring.backends.macOS", "Keyring"),),
}


def _configured() -> bool:
    """A backend already set (by the program, a test) or chosen by the user or IT (the
    PYTHON_KEYRING_BACKEND variable, keyringrc.cfg): keyring's own choice then stands."""
    if getattr(keyring.core, "_keyring_backend", "unknown") is not None:
        return True
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        return keyring.core._config_path().exists()
    except Exception:  # noqa: BLE001 - an unreadable config folder: let keyring decide
        return True


def _backend() -> keyring.backend.KeyringBackend:
    if _configured():
        return keyring.get_keyring()
    best = None
    for module, name in _PLATFORM_BACKENDS.get(sys.platform, ()):
        try:
            cls = getattr(importlib.import_module(module), name)
            priority = cls.priority  # raises when the backend cannot work here
        except Exception:  # noqa: BLE001, S112 - not usable here: try the next one
            continue
        if best is None or priority > best[0]:
            best = (priority, cls)
    if best is None:
        return keyring.get_keyring()  # keyring's full detection; refused below if unsafe
    backend = best[1]()
    keyring.set_keyring(backend)
    return backend


def check_backend(service: str, *, prove: bool = True) -> None:
    """Refuse unsafe backends, then (`prove`) show the store keeps a secret (set, get,
    delete). Opening a vault needs no proof: reading its key back, checked against the
    vault's key check, is one."""
    backend = _backend()
    members = getattr(backend, "backends", None)
    chain = list(members) if members is not None else [backend]
    if not chain:
        raise KeyringUnavailable(f"no usable keyring backend was found. {FIX}")
    for member in chain:
        reason = _refusal(member)
        if reason:
            raise KeyringUnavailable(f"{reason}. {FIX}")
    if not prove:
        return
    value = secrets.token_urlsafe(24)
    try:
        keyring.set_password(service, SENTINEL_USER, value)
        got = keyring.get_password(service, SENTINEL_USER)
        keyring.delete_password(service, SENTINEL_USER)
    except keyring.errors.KeyringLocked as exc:
        log.warning("keyring locked at its check: %s: %s", type(exc).__name__, exc)
        raise KeyringUnavailable(
            "the OS keyring is locked; unlock it (log in again or unlock the 'Login' "
            "keyring) and retry"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - backends raise D-Bus/OS errors of many types
        log.warning("keyring did not answer its check: %s: %s", type(exc).__name__, exc)
        raise KeyringUnavailable(f"the OS keyring did not answer. {FIX}") from exc
    if got != value:
        raise KeyringUnavailable(
            f"keyring backend {_name(backend)} did not return a secret it was given. {FIX}"
        )


# What a person at the ward PC can do when the keyring stops answering mid-session or at
# start-up (issue 13). The backend's own words (exception class, D-Bus prompts) go to the log.
WHAT_TO_DO = (
    "unlock the keyring (or log out and in again), then try again; if this keeps happening, "
    "call IT"
)


def _call(action: str, func, *args):
    try:
        return func(*args)
    except keyring.errors.KeyringLocked as exc:
        log.warning("keyring locked while trying to %s: %s: %s", action, type(exc).__name__, exc)
        raise KeyringUnavailable(f"the OS keyring is locked; {WHAT_TO_DO} ({action})") from exc
    except Exception as exc:  # noqa: BLE001 - see check_backend
        log.warning("keyring failed to %s: %s: %s", action, type(exc).__name__, exc)
        raise KeyringUnavailable(
            f"the computer's keyring did not answer when PicSafe tried to {action}: {WHAT_TO_DO}"
        ) from exc


def store_master_key(service: str, vault_id: str, key: bytes) -> None:
    secret = SECRET_PREFIX + base64.b64encode(key).decode("ascii")
    _call("store the vault key", keyring.set_password, service, vault_id, secret)
    if _call("read the vault key back", keyring.get_password, service, vault_id) != secret:
        raise KeyringUnavailable(f"the OS keyring did not keep the vault key. {FIX}")


def load_master_key(service: str, vault_id: str) -> bytes | None:
    """The stored key, or None when the keyring has no usable entry for this vault."""
    secret = _call("read the vault key", keyring.get_password, service, vault_id)
    if not secret or not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return None
    return key if len(key) == 32 else None


def forget_master_key(service: str, vault_id: str) -> None:
    """Best-effort removal, used only to undo a vault creation that did not finish."""
    with contextlib.suppress(KeyringUnavailable):
        _call("remove the vault key", keyring.delete_password, service, vault_id)


# The state anchor (anchor.py) is a second entry of the same service; it is not secret, but
# it must live outside the vault folder, beside the key.
def store_secret(service: str, user: str, value: str) -> None:
    _call("store the vault's state anchor", keyring.set_password, service, user, value)


def load_secret(service: str, user: str) -> str | None:
    return _call("read the vault's state anchor", keyring.get_password, service, user)


def forget_secret(service: str, user: str) -> None:
    with contextlib.suppress(KeyringUnavailable):
        _call("remove the vault's state anchor", keyring.delete_password, service, user)
