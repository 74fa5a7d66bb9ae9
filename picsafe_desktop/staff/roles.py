"""Roles and what each may do. One table, used by services.py for every check and by the UI
to disable what the signed-in person may not do."""

from __future__ import annotations

from enum import StrEnum

from picsafe_desktop.config import STAFF_ROLES


class Permission(StrEnum):
    IMPORT = "import"  # bring photos in (files, phones, cameras)
    CONSENT = "consent"  # record or refuse consent for a waiting batch (sees its thumbnails)
    VIEW = "view"  # patients, photos, metadata, consent records
    REDACT = "redact"
    EXPORT = "export"
    DELETE = "delete"  # crypto-shred photos, withdraw consent
    AUDIT = "audit"  # read the audit log
    VERIFY = "verify"  # check the vault and audit chain
    REPAIR = "repair"
    STAFF_ADMIN = "staff_admin"  # enrol and remove local staff


P = Permission
ROLES: dict[str, frozenset[Permission]] = {
    "reception": frozenset({P.IMPORT, P.CONSENT}),
    "photographer": frozenset({P.IMPORT, P.CONSENT, P.VIEW, P.REDACT}),
    "clinician": frozenset({P.IMPORT, P.CONSENT, P.VIEW, P.REDACT, P.EXPORT, P.DELETE, P.AUDIT}),
    # IT keeps the vault healthy but never sees a photo or a patient.
    "it_admin": frozenset({P.VERIFY, P.AUDIT, P.REPAIR, P.STAFF_ADMIN}),
}
assert tuple(ROLES) == STAFF_ROLES  # the config validates role names against the same list
LABELS = {
    "reception": "Reception",
    "photographer": "Photographer",
    "clinician": "Clinician",
    "it_admin": "IT admin",
}


class RoleError(ValueError):
    """A role name that is not one of ROLES (the message lists the known ones)."""


def check_roles(names) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(str(n).strip().lower() for n in names))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise RoleError(
            f"unknown role {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"known roles: {', '.join(ROLES)}"
        )
    return roles


def permissions(roles) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLES.get(role, frozenset())
    return frozenset(granted)


def label(roles) -> str:
    return ", ".join(LABELS.get(r, r) for r in roles)
