"""Enrolling a staff member: the one implementation behind `staff add`, `vault init --admin`
and the first-run window. Each enrolment is audited (event `staff_add`)."""

from __future__ import annotations

from picsafe_desktop.staff import pins

# Whoever creates a vault looks after it and usually uses it too (docs/security.md, "Sign-in").
FIRST_ROLES = ("it_admin", "clinician")


def enrol(
    vault,
    staff_id: str,
    name: str,
    roles,
    pin: str,
    *,
    actor: str,
    title: str = "",
    replace: bool = False,
    first: bool = False,
) -> pins.Enrolled:
    """Add (or with `replace`, re-enrol) one staff member to the vault's sealed staff list and
    audit it; `first` marks the vault's creator, enrolled as the vault is made."""
    entry = pins.StaffStore.for_vault(vault).add(
        staff_id, name, roles, pin, title=title, actor=actor, replace=replace
    )
    details: dict = {"roles": list(entry.roles), "replace": replace}
    if first:
        details["first"] = True
    vault.audit("staff_add", actor=actor, subject=entry.staff_id, details=details)
    return entry
