"""Who is signed in and how they proved it: the one sign-in rule for the window (through
services.py). docs/security.md, "Sign-in"."""

from __future__ import annotations

from dataclasses import dataclass

from picsafe_desktop.model import Staff
from picsafe_desktop.staff import roles as role_rules
from picsafe_desktop.staff.roles import Permission

# A typed name proves nothing; such a PC keeps today's clinical abilities (docs/security.md).
UNVERIFIED_ROLES = ("clinician",)
DOING = {
    Permission.IMPORT: "import photos",
    Permission.CONSENT: "record consent",
    Permission.VIEW: "view patients and photos",
    Permission.REDACT: "redact photos",
    Permission.EXPORT: "export photos",
    Permission.DELETE: "delete photos or withdraw consent",
    Permission.AUDIT: "read the audit log",
    Permission.VERIFY: "verify the vault",
    Permission.REPAIR: "repair the vault",
    Permission.STAFF_ADMIN: "enrol staff",
}


class SignInError(Exception):
    """Sign-in refused: wrong or malformed PIN or password, unknown staff ID, back-off running,
    directory unreachable, no mapped role. The message is for the person at the screen."""


@dataclass(frozen=True)
class Session:
    """Who is signed in, how they proved it, and what their roles allow."""

    staff: Staff
    roles: tuple[str, ...]
    method: str  # "directory", "pin" or "unverified" (a typed name: allow_unverified_names)

    @property
    def actor(self) -> str:
        name, staff_id = self.staff.name, self.staff.staff_id
        return f"{name} ({staff_id})" if staff_id else name

    @property
    def permissions(self) -> frozenset[Permission]:
        return role_rules.permissions(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def role_label(self) -> str:
        return role_rules.label(self.roles)


def method_for(site) -> str:
    """How staff sign in: "directory" ([staff] ldap_url); otherwise "pin", an enrolled staff ID
    and PIN, by default; "unverified" (a typed name nobody checks) only where the site config
    opts in with [staff] allow_unverified_names and does not also set [security] require_pin.
    The default is the safe one: a site that says nothing gets checked sign-in (issue 13)."""
    staff = getattr(site, "staff", None)
    if staff is not None and staff.ldap_url:
        return "directory"
    opted_in = staff is not None and getattr(staff, "allow_unverified_names", False)
    return "unverified" if opted_in and not site.security.require_pin else "pin"


def nobody_enrolled_message(site, vault) -> str:
    """For the lock screen: why nobody can sign in on this PC and exactly what IT runs, or ""
    when someone can (a directory, typed names, or at least one enrolled PIN). A staff list
    that fails its check says so in its own words."""
    if method_for(site) != "pin":
        return ""
    from picsafe_desktop.staff import pins

    try:
        if pins.StaffStore.for_vault(vault).list():
            return ""
    except pins.StaffError as exc:
        return str(exc)
    return NOBODY_ENROLLED


NOBODY_ENROLLED = (
    "Nobody can sign in yet: no staff are enrolled in this vault. IT: close PicSafe and run "
    '`picsafe-desktop staff add STAFF_ID --name "FULL NAME" --role clinician` for each person '
    "(add `--role it_admin` for IT), then start PicSafe again."
)


def authenticate(site, vault, staff: Staff, secret: str) -> Session:
    """Check who `staff` claims to be (the staff ID or directory user name) with `secret` (PIN
    or password), the way the site config says. SignInError otherwise."""
    method = method_for(site)
    if method == "directory":
        return _directory(site, staff.staff_id.strip() or staff.name.strip(), secret)
    if method == "pin":
        return _pin(vault, staff.staff_id.strip(), secret)
    if not staff.name.strip():
        raise SignInError("Enter your name.")
    return Session(staff, UNVERIFIED_ROLES, "unverified")


def _pin(vault, staff_id: str, pin: str) -> Session:
    from picsafe_desktop.staff import pins

    if not staff_id:
        raise SignInError("Enter your staff ID.")
    try:
        pins.check_pin(pin)
        entry = pins.StaffStore.for_vault(vault).verify(staff_id, pin)
    except pins.StaffError as exc:
        raise SignInError(str(exc)) from None
    shown = Staff(entry.name, entry.title or role_rules.label(entry.roles), entry.staff_id)
    return Session(shown, entry.roles, "pin")


def _directory(site, username: str, password: str) -> Session:
    from picsafe_desktop.staff import directory

    try:
        user = directory.authenticate(directory.Settings.from_site(site), username, password)
    except directory.DirectoryError as exc:
        raise SignInError(str(exc)) from None
    shown = Staff(user.name, user.title or role_rules.label(user.roles), user.username)
    return Session(shown, user.roles, "directory")
