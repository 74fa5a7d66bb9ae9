"""Site configuration: a TOML file written by hospital IT, read-only for users.

Location: `--config FILE`, else `$PICSAFE_CONFIG`, else `config.toml` in the platform's site
config folder (Linux: /etc/xdg/picsafe-desktop/). No file at all is fine: every key has a default.
Every key is documented in docs/configuration.md; unknown keys are errors so typos are not ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import platformdirs

from picsafe_desktop import APP_ID, ORG_NAME

ENV_VAR = "PICSAFE_CONFIG"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID, ORG_NAME))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, ORG_NAME))


def default_config_path() -> Path:
    return Path(platformdirs.site_config_dir(APP_ID, ORG_NAME)) / "config.toml"


@dataclass(frozen=True)
class Key:
    kind: type | tuple[type, ...]
    default: Any
    minimum: float | None = None
    choices: tuple[str, ...] = ()


# The roles [staff.role_groups] may name; what each may do is in staff/roles.py.
STAFF_ROLES = ("reception", "photographer", "clinician", "it_admin")

# section -> key -> rule. Path defaults of None are resolved at load time (platform folders).
SCHEMA: dict[str, dict[str, Key]] = {
    "vault": {"path": Key(str, None)},
    "logging": {
        "level": Key(str, "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
        "file": Key(str, None),
    },
    "security": {
        "idle_lock_minutes": Key(int, 5, minimum=1),
        "require_pin": Key(bool, False),
        "clipboard_clear_seconds": Key(int, 30, minimum=5),
    },
    "import": {
        "drop_folders": Key(list, []),
        "stable_seconds": Key((int, float), 2.0, minimum=0.1),
        "device_poll_seconds": Key((int, float), 3.0, minimum=0.5),
        "delete_from_device": Key(bool, False),
    },
    "consent": {
        "wording_file": Key(str, ""),
        "wording_version": Key(str, ""),
        # Issue 15 (docs/consent.md): wording per language, children, withdrawal.
        "wording_language": Key(str, "en"),
        "wordings": Key(dict, {}),  # [consent.wordings] cy = {file = "...", version = "..."}
        "review_at_age": Key(int, 18, minimum=1),
        "withdrawal_policy": Key(
            str, "keep_record_copies", choices=("keep_record_copies", "remove_record_copies")
        ),
    },
    "retention": {
        "keep_days_after_record": Key(int, 0, minimum=0),  # 0: kept until a person disposes
        "consent_review_months": Key(int, 0, minimum=0),  # 0: no routine review date
        # Issue 16 (docs/hospital.md): shred local copies this long after PACS commitment; 0 never.
        "after_commit_days": Key(int, 0, minimum=0),
    },
    "pacs": {
        "ae_title": Key(str, ""),
        "host": Key(str, ""),
        "port": Key(int, 104, minimum=1),
        "calling_ae_title": Key(str, "PICSAFE"),
        "tls": Key(bool, False),
        "tls_ca_file": Key(str, ""),
        "tls_cert_file": Key(str, ""),
        "tls_key_file": Key(str, ""),
        "issuer_of_patient_id": Key(str, ""),
        # Issue 16 (docs/hospital.md): DICOMweb STOW-RS as the other way in; storage commitment.
        "transport": Key(str, "dimse", choices=("dimse", "stow")),
        "stow_url": Key(str, ""),
        "stow_token": Key(str, ""),
        "stow_username": Key(str, ""),
        "stow_password": Key(str, ""),
        "stow_ca_file": Key(str, ""),
        "storage_commitment": Key(bool, False),
        "commitment_port": Key(int, 0, minimum=0),  # where the PACS calls back: set it
        "commitment_timeout_seconds": Key((int, float), 60.0, minimum=1),
    },
    # Issue 16 (docs/hospital.md): DICOM Modality Worklist for patient lookup.
    "worklist": {
        "ae_title": Key(str, ""),
        "host": Key(str, ""),
        "port": Key(int, 104, minimum=1),
        "calling_ae_title": Key(str, "PICSAFE"),
        "tls": Key(bool, False),
        "tls_ca_file": Key(str, ""),
        "tls_cert_file": Key(str, ""),
        "tls_key_file": Key(str, ""),
        "timeout_seconds": Key((int, float), 10.0, minimum=1),
    },
    "fhir": {
        "base_url": Key(str, ""),
        "token": Key(str, ""),
        "timeout_seconds": Key((int, float), 30.0, minimum=1),
        "retries": Key(int, 3, minimum=0),
        "mrn_system": Key(str, ""),
        "identifier_system": Key(str, ""),
        "ca_file": Key(str, ""),
        "patient_lookup": Key(bool, False),  # issue 16: also ask it who an MRN is (PDQm)
    },
    "export": {
        "institution_name": Key(str, ""),
    },
    # ATNA: audit events also go to the audit record repository (docs/configuration.md, [audit]).
    "audit": {
        "syslog_url": Key(str, ""),  # tcp://, tls:// or udp://host:port; empty: not sent
        "syslog_ca_file": Key(str, ""),
        "syslog_cert_file": Key(str, ""),
        "syslog_key_file": Key(str, ""),
        "source_id": Key(str, ""),  # AuditSourceID; empty: the PC's host name
        "enterprise_site_id": Key(str, ""),
    },
    # The durable outbox for PACS and FHIR sends (docs/configuration.md, [outbox]).
    "outbox": {
        "first_retry_seconds": Key((int, float), 30.0, minimum=1),
        "max_retry_seconds": Key((int, float), 3600.0, minimum=1),
        "poll_seconds": Key((int, float), 15.0, minimum=1),
    },
    # Directory sign-in (docs/configuration.md, [staff]); empty ldap_url = local PINs or names.
    "staff": {
        "ldap_url": Key(str, ""),
        "ldap_starttls": Key(bool, False),
        "ldap_ca_file": Key(str, ""),
        "ldap_base_dn": Key(str, ""),
        "ldap_bind_dn": Key(str, ""),
        "ldap_user_filter": Key(str, "(uid={username})"),
        "ldap_group_filter": Key(str, "(|(member={user_dn})(uniqueMember={user_dn}))"),
        "ldap_timeout_seconds": Key((int, float), 10.0, minimum=1),
        "role_groups": Key(dict, {}),
        # Typed, unchecked names: single-user evaluation PC only (docs/configuration.md).
        "allow_unverified_names": Key(bool, False),
    },
}


class ConfigError(Exception):
    """The site config file cannot be used; the message names the file and the key."""


class SiteConfig(SimpleNamespace):
    """Sections as attributes: `config.security.idle_lock_minutes`. `source` is the file or None."""

    source: Path | None

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {s: dict(vars(getattr(self, s))) for s in SCHEMA}


def _check(where: str, key: str, rule: Key, value: Any) -> Any:
    kinds = rule.kind if isinstance(rule.kind, tuple) else (rule.kind,)
    # bool is an int in Python; a number where a switch is expected is a typo, not a choice.
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"{where}: '{key}' must be {names}, got {value!r}")
    if rule.minimum is not None and value < rule.minimum:
        raise ConfigError(f"{where}: '{key}' must be at least {rule.minimum}, got {value!r}")
    if rule.choices and value not in rule.choices:
        raise ConfigError(f"{where}: '{key}' must be one of {', '.join(rule.choices)}")
    if rule.kind is list and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of folder paths (strings)")
    if rule.kind is dict:
        _check_role_groups(where, key, value)
    return value


def _check_role_groups(where: str, key: str, value: dict) -> None:
    """[staff.role_groups]: role = ["group DN or CN", ...], roles as in staff/roles.py."""
    for role, groups in value.items():
        if role not in STAFF_ROLES:
            raise ConfigError(
                f"{where}: '{key}.{role}' is not a role; known: {', '.join(STAFF_ROLES)}"
            )
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise ConfigError(f"{where}: '{key}.{role}' must be a list of group DNs or names")


def from_dict(raw: dict[str, Any], source: Path | None = None) -> SiteConfig:
    where = str(source) if source else "site config"
    for section in raw:
        if section not in SCHEMA:
            raise ConfigError(f"{where}: unknown section [{section}]; known: {', '.join(SCHEMA)}")
    sections: dict[str, SimpleNamespace] = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        for key in given:
            if key not in keys:
                raise ConfigError(
                    f"{where}: unknown key '{section}.{key}'; known: {', '.join(keys)}"
                )
        values = {}
        for key, rule in keys.items():
            if key in given:
                values[key] = _check(where, f"{section}.{key}", rule, given[key])
            else:
                default = rule.default
                values[key] = type(default)(default) if rule.kind in (list, dict) else default
        sections[section] = SimpleNamespace(**values)
    if sections["vault"].path is None:
        sections["vault"].path = str(data_dir() / "vault")
    if sections["logging"].file is None:
        sections["logging"].file = str(log_dir() / f"{APP_ID}.log")
    _check_directory(where, sections["staff"])
    _check_pacs(where, sections["pacs"])  # issue 16
    sections["import"].drop_folders = [
        str(Path(p).expanduser()) for p in sections["import"].drop_folders
    ]
    return SiteConfig(source=source, **sections)


def _check_pacs(where: str, pacs: SimpleNamespace) -> None:
    """Issue 16: a STOW transport without its URL, or storage commitment without a DICOM PACS
    to ask, would silently do something else than IT meant."""
    if pacs.transport == "stow" and not pacs.stow_url:
        raise ConfigError(f"{where}: 'pacs.stow_url' is required with 'pacs.transport = \"stow\"'")
    if pacs.storage_commitment and not (pacs.ae_title and pacs.host):
        raise ConfigError(
            f"{where}: 'pacs.storage_commitment' needs 'pacs.ae_title' and 'pacs.host' (the "
            "PACS is asked over DICOM, also when photos go by STOW-RS)"
        )


def _check_directory(where: str, staff: SimpleNamespace) -> None:
    """A directory that would see passwords in the clear, or cannot map anyone, is refused."""
    if not staff.ldap_url:
        return
    scheme = staff.ldap_url.split("://", 1)[0].lower()
    if scheme not in ("ldap", "ldaps"):
        raise ConfigError(f"{where}: 'staff.ldap_url' must start with ldaps:// or ldap://")
    if scheme == "ldap" and not staff.ldap_starttls:
        raise ConfigError(
            f"{where}: 'staff.ldap_url' is plain ldap:// without 'staff.ldap_starttls = true': "
            "passwords would cross the network in the clear; use ldaps:// or StartTLS"
        )
    for key in ("ldap_base_dn", "ldap_bind_dn"):
        if not getattr(staff, key):
            raise ConfigError(f"{where}: 'staff.{key}' is required with 'staff.ldap_url'")
    if "{username}" not in staff.ldap_bind_dn:
        raise ConfigError(f"{where}: 'staff.ldap_bind_dn' must contain {{username}}")
    if not staff.role_groups:
        raise ConfigError(
            f"{where}: [staff.role_groups] is required with 'staff.ldap_url' (which directory "
            "groups may sign in, as which role)"
        )


def load(path: str | os.PathLike[str] | None = None) -> SiteConfig:
    """Read and validate the site config; defaults only if no file is configured or present."""
    explicit = path or os.environ.get(ENV_VAR)
    file = Path(explicit).expanduser() if explicit else default_config_path()
    if not file.exists():
        if explicit:
            raise ConfigError(
                f"{file}: config file not found (set by {'--config' if path else ENV_VAR}); "
                "fix the path or remove the setting to use the defaults"
            )
        return from_dict({}, None)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read config file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    return from_dict(raw, file)
