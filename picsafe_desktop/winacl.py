"""Owner-only folders on Windows, where file modes mean nothing.

A folder created with `mode=0o700` on Windows simply inherits its parent's ACL: a drop folder
under C:\\ or a shared profile folder may then be readable by every user of the PC, while
plaintext photos wait in it. So:
- `make_private_dir` creates a folder and, on Windows, replaces its inherited ACL with one
  that grants only the current user and SYSTEM (backup and antivirus agents run as SYSTEM);
- `open_to_all` reads a folder's DACL (as SDDL) and names the broad groups that may read it
  (Everyone, Users, Authenticated Users, Interactive, Domain Users, Anonymous): a drop folder
  like that is refused, with a message that says what IT must change.

Elsewhere POSIX modes already do this: both functions are plain `mkdir` / "nothing to report".
The parsing is pure and unit-tested; the Windows calls (icacls, GetNamedSecurityInfoW) are thin.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SYSTEM_SID = "S-1-5-18"
#: SDDL aliases and SIDs of groups that hold (nearly) every user of a PC or domain
BROAD_GROUPS = {
    "WD": "Everyone",
    "S-1-1-0": "Everyone",
    "BU": "Users",
    "S-1-5-32-545": "Users",
    "AU": "Authenticated Users",
    "S-1-5-11": "Authenticated Users",
    "IU": "Interactive users",
    "S-1-5-4": "Interactive users",
    "DU": "Domain Users",
    "AN": "Anonymous",
    "S-1-5-7": "Anonymous",
}
_DOMAIN_USERS_RID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-513$")
# Access-right codes that include reading a file or listing a folder
_READ_CODES = {"FA", "FR", "GA", "GR", "CC"}  # CC = 0x1 = FILE_READ_DATA / FILE_LIST_DIRECTORY
_READ_BITS = 0x1 | 0x80000000 | 0x10000000  # FILE_READ_DATA | GENERIC_READ | GENERIC_ALL
_ACE = re.compile(r"\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*)\)")

Runner = Callable[..., Any]


def _grants_read(rights: str) -> bool:
    if rights.lower().startswith("0x"):
        try:
            return bool(int(rights, 16) & _READ_BITS)
        except ValueError:
            return True  # cannot tell: assume the worst
    codes = {rights[i : i + 2] for i in range(0, len(rights), 2)}
    return bool(codes & _READ_CODES)


def open_to_all(sddl: str) -> list[str]:
    """Names of broad groups that an allow ACE in this DACL lets read, in order, no repeats."""
    dacl = sddl.split("D:", 1)[1] if "D:" in sddl else ""
    dacl = re.split(r"(?<=\))S:", dacl, maxsplit=1)[0]  # stop at a SACL
    found: list[str] = []
    for ace_type, _flags, rights, _obj, _inherit_obj, sid in _ACE.findall(dacl):
        if ace_type not in ("A", "OA"):
            continue
        name = BROAD_GROUPS.get(sid) or ("Domain Users" if _DOMAIN_USERS_RID.match(sid) else "")
        if name and _grants_read(rights) and name not in found:
            found.append(name)
    return found


def current_user() -> str:
    """DOMAIN\\user of this process, as icacls accepts it."""
    user = os.environ.get("USERNAME") or ""
    domain = os.environ.get("USERDOMAIN") or ""
    if not user:
        import getpass

        user = getpass.getuser()
    return f"{domain}\\{user}" if domain else user


def restrict_to_owner(path: Path, *, run: Runner = subprocess.run) -> None:
    """Replace the folder's ACL by: this user and SYSTEM, full control, inherited by contents."""
    command = [
        "icacls",
        str(path),
        "/inheritance:r",
        "/grant:r",
        f"{current_user()}:(OI)(CI)F",
        f"*{SYSTEM_SID}:(OI)(CI)F",
        "/Q",
    ]
    result = run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise OSError(f"{path}: could not restrict access to this user (icacls failed)")


def make_private_dir(path: Path, *, windows: bool | None = None, run: Runner = subprocess.run):
    """Create `path` (and parents) readable by this user only; True if it was created now.

    A folder that already existed keeps its ACL: IT may have set it on purpose; drop folders
    are checked with `open_to_all` instead.
    """
    path = Path(path)
    existed = path.is_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if existed:
        return False
    if os.name == "nt" if windows is None else windows:
        restrict_to_owner(path, run=run)
    return True


def folder_sddl(path: Path) -> str:  # pragma: no cover - Windows only
    """The folder's DACL as an SDDL string (GetNamedSecurityInfoW)."""
    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    se_file_object, dacl_security_information, sddl_revision_1 = 1, 4, 1
    descriptor = ctypes.c_void_p()
    status = advapi32.GetNamedSecurityInfoW(
        ctypes.c_wchar_p(str(path)),
        se_file_object,
        dacl_security_information,
        None,
        None,
        None,
        None,
        ctypes.byref(descriptor),
    )
    if status != 0:
        raise OSError(status, "GetNamedSecurityInfoW failed", str(path))
    text = ctypes.c_wchar_p()
    try:
        if not advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor,
            sddl_revision_1,
            dacl_security_information,
            ctypes.byref(text),
            None,
        ):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        return text.value or ""
    finally:
        if text:
            kernel32.LocalFree(text)
        kernel32.LocalFree(descriptor)


def drop_folder_problem(
    path: Path, *, windows: bool | None = None, read_sddl: Callable[[Path], str] = folder_sddl
) -> str | None:
    """Why a drop folder must not be used (readable by every user), or None."""
    if not (os.name == "nt" if windows is None else windows):
        return None
    try:
        groups = open_to_all(read_sddl(Path(path)))
    except OSError as exc:
        return f"its permissions could not be read ({exc}); not watched"
    if not groups:
        return None
    return (
        f"is readable by {' and '.join(groups)}, so photos waiting in it could be opened by "
        "any user of this PC; it is not watched. Ask IT to remove those groups from the "
        "folder's permissions (or remove the folder and let PicSafe create it owner-only)"
    )
