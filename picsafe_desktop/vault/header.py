"""vault.json: the vault's id, format version and the recovery-wrapped master key.

Written once at creation (atomically); its MAC under a key derived from the master key is
checked at every open, and its recovery fields are bound into the recovery AEAD.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from picsafe_desktop.atomic import fsync_dir
from picsafe_desktop.vault.crypto import KdfParams
from picsafe_desktop.vault.errors import IntegrityError, NotAVault, UnknownFormat

FORMAT_NAME = "picsafe-vault"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # 1 and 2 are upgraded at the first writable open
HEADER_FILE = "vault.json"


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise IntegrityError(f"{where}: damaged field (not base64)") from None


def recovery_aad(vault_id: str, recovery: dict[str, Any]) -> bytes:
    bound = {k: v for k, v in recovery.items() if k != "wrapped_key"}
    return b"picsafe-vault/v1/recovery\x00" + canonical({"vault_id": vault_id, **bound})


def kdf_params(header: dict[str, Any], where: str) -> KdfParams:
    rec = header["recovery"]
    if rec.get("kdf") != "argon2id":
        raise UnknownFormat(f"{where}: recovery KDF {rec.get('kdf')!r} is not supported")
    try:
        params = KdfParams(int(rec["time_cost"]), int(rec["memory_kib"]), int(rec["parallelism"]))
    except (KeyError, TypeError, ValueError):
        raise IntegrityError(f"{where}: damaged recovery parameters") from None
    params.check(where)
    return params


def read(root: Path) -> dict[str, Any]:
    if not root.exists():
        raise NotAVault(
            f"{root}: vault folder does not exist; check --vault or the site config's "
            "[vault] path, or create a vault with `picsafe-desktop vault init`"
        )
    if not root.is_dir():
        raise NotAVault(f"{root}: is a file, not a vault folder; check --vault")
    path = root / HEADER_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotAVault(
            f"{root}: not a PicSafe vault (no {HEADER_FILE}); check --vault, or create a "
            "vault with `picsafe-desktop vault init`"
        ) from None
    try:
        header = json.loads(raw)
    except ValueError:
        raise IntegrityError(
            f"{path}: damaged (not JSON); nothing was changed. Contact IT: {HEADER_FILE} never "
            "changes after creation, so its copy in any backup of this vault fits (put back "
            "only this file, never an older index.sqlite3)"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise NotAVault(f"{path}: not a PicSafe vault header")
    version = header.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise UnknownFormat(
            f"{path}: vault format version {header.get('version')!r} is not supported by this "
            f"program (it reads version {FORMAT_VERSION}); update PicSafe Desktop"
        )
    vault_id = header.get("vault_id")
    if not (
        isinstance(vault_id, str)
        and len(vault_id) == 32
        and all(c in "0123456789abcdef" for c in vault_id)
        and isinstance(header.get("recovery"), dict)
        and all(isinstance(header.get(k), str) for k in ("created_at", "key_check", "header_mac"))
    ):
        raise IntegrityError(
            f"{path}: damaged header fields; nothing was changed. Contact IT: put back only "
            f"{HEADER_FILE} from a backup of this vault (never an older index.sqlite3)"
        )
    return header


def write(root: Path, header: dict[str, Any]) -> None:
    """Atomic and durable: this file appearing is what makes the folder a vault."""
    path = root / HEADER_FILE
    part = root / (HEADER_FILE + ".part")
    data = json.dumps(header, indent=2, sort_keys=True).encode() + b"\n"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with open(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, path)
    fsync_dir(root)
