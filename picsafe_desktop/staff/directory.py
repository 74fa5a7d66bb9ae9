"""Directory sign-in: the password is checked by an LDAP bind over TLS (ldaps:// or StartTLS),
and the user's directory groups map to PicSafe roles ([staff] in the site config).

The certificate and host name are always verified; a plain connection is refused at config load
and again here. An empty password is refused before the directory is asked, because LDAP treats
a bind with a name and no password as an *unauthenticated* bind that "succeeds" (RFC 4513
5.1.2). Passwords are never logged, stored or put in a message.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

INVALID_CREDENTIALS = 49
MAX_USERNAME = 256


class DirectoryError(Exception):
    """Sign-in refused or impossible; the message is for the person at the screen."""


class SignInRefused(DirectoryError):
    """Wrong user name or password, or not in any group that maps to a role."""


class DirectoryUnavailable(DirectoryError):
    """The directory could not be reached, its certificate failed, or it answered oddly."""


@dataclass(frozen=True)
class Settings:
    url: str
    starttls: bool
    ca_file: str
    base_dn: str
    bind_dn: str
    user_filter: str
    group_filter: str
    timeout: float
    role_groups: dict[str, list[str]]

    @classmethod
    def from_site(cls, site) -> Settings:
        s = site.staff
        return cls(
            s.ldap_url,
            s.ldap_starttls,
            s.ldap_ca_file,
            s.ldap_base_dn,
            s.ldap_bind_dn,
            s.ldap_user_filter,
            s.ldap_group_filter,
            float(s.ldap_timeout_seconds),
            dict(s.role_groups),
        )


@dataclass(frozen=True)
class DirectoryUser:
    username: str
    dn: str
    name: str
    title: str
    groups: frozenset[str]  # DNs and CNs, lower-cased
    roles: tuple[str, ...]


class _VerifiedTls(ldap3.Tls):
    """TLS 1.2+ with the certificate chain *and* host name checked by Python's ssl module
    (ldap3's own host-name check is skipped unless a handshake is forced, and uses a helper
    Python deprecates)."""

    def __init__(self, ca_file: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file or None)

    def wrap_socket(self, connection, do_handshake=False):  # noqa: D401 - ldap3 hook
        context = ssl.create_default_context(cafile=self.ca_certs_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        connection.socket = context.wrap_socket(
            connection.socket,
            server_side=False,
            server_hostname=connection.server.host,
            do_handshake_on_connect=do_handshake,
        )


def _norm(dn: str) -> str:
    return "".join(dn.lower().split())


def map_roles(groups: frozenset[str], role_groups: dict[str, list[str]]) -> tuple[str, ...]:
    """Roles whose configured groups (DNs, or plain names matched against CNs) the user is in."""
    return tuple(
        role for role, names in role_groups.items() if any(_norm(name) in groups for name in names)
    )


def _server(settings: Settings) -> ldap3.Server:
    parts = urlsplit(settings.url)
    scheme = parts.scheme.lower()
    if scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise DirectoryUnavailable(f"[staff] ldap_url {settings.url!r} is not an LDAP URL")
    if scheme == "ldap" and not settings.starttls:
        raise DirectoryUnavailable("[staff] ldap_url is plain ldap:// without StartTLS; refused")
    return ldap3.Server(
        parts.hostname,
        port=parts.port or (636 if scheme == "ldaps" else 389),
        use_ssl=scheme == "ldaps",
        tls=_VerifiedTls(settings.ca_file),
        get_info=ldap3.NONE,
        connect_timeout=max(1, int(settings.timeout)),
    )


def authenticate(settings: Settings, username: str, password: str) -> DirectoryUser:
    """Bind as the user over TLS, read their entry and groups, map the groups to roles."""
    username = (username or "").strip()
    if not username or len(username) > MAX_USERNAME:
        raise SignInRefused("Enter your user name.")
    if not password:
        raise SignInRefused("Enter your password.")
    server = _server(settings)
    conn = ldap3.Connection(
        server,
        user=settings.bind_dn.replace("{username}", escape_rdn(username)),
        password=password,
        authentication=ldap3.SIMPLE,
        auto_bind=ldap3.AUTO_BIND_NONE,
        receive_timeout=max(1, int(settings.timeout)),
        read_only=True,
        raise_exceptions=False,
    )
    where = f"the directory ({settings.url})"
    try:
        conn.open()
        if settings.starttls and not conn.start_tls():
            raise DirectoryUnavailable(f"{where} did not start TLS; sign-in is refused")
        if not conn.bind():
            if conn.result.get("result") == INVALID_CREDENTIALS:
                raise SignInRefused("Wrong user name or password.")
            raise DirectoryUnavailable(
                f"{where} refused the sign-in ({conn.result.get('description')}); ask IT"
            )
        return _read_user(conn, settings, username)
    except (LDAPException, OSError) as exc:
        raise DirectoryUnavailable(_network_message(where, exc)) from None
    except DirectoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - fail closed with a message, never a traceback
        raise DirectoryUnavailable(
            f"{where}: sign-in failed unexpectedly ({type(exc).__name__}); ask IT"
        ) from None
    finally:
        try:
            conn.unbind()
        except (LDAPException, OSError):
            pass


def _read_user(conn: ldap3.Connection, settings: Settings, username: str) -> DirectoryUser:
    user_filter = settings.user_filter.replace("{username}", escape_filter_chars(username))
    conn.search(
        settings.base_dn,
        user_filter,
        ldap3.SUBTREE,
        attributes=["cn", "displayName", "title", "memberOf"],
        size_limit=2,
    )
    entries = list(conn.entries)
    if len(entries) != 1:
        raise SignInRefused(
            f"Your directory entry was not found (or not uniquely) under {settings.base_dn}; "
            "ask IT to check [staff] ldap_user_filter."
        )
    entry = entries[0]
    user_dn = entry.entry_dn
    bound = settings.bind_dn.replace("{username}", escape_rdn(username))
    if "=" in settings.bind_dn and _norm(bound) != _norm(user_dn):
        # The filter found someone other than who signed in: never take their groups.
        raise SignInRefused("Your directory entry does not match your user name; ask IT.")
    attrs = entry.entry_attributes_as_dict
    groups = {_norm(g) for g in attrs.get("memberOf", [])}
    group_filter = settings.group_filter.replace("{user_dn}", escape_filter_chars(user_dn)).replace(
        "{username}", escape_filter_chars(username)
    )
    conn.search(settings.base_dn, group_filter, ldap3.SUBTREE, attributes=["cn"])
    for group in conn.entries:
        groups.add(_norm(group.entry_dn))
        groups.update(_norm(cn) for cn in group.entry_attributes_as_dict.get("cn", []))
    roles = map_roles(frozenset(groups), settings.role_groups)
    name = (attrs.get("displayName") or attrs.get("cn") or [username])[0]
    if not roles:
        raise SignInRefused(
            f"{name} is not in a directory group that may use PicSafe; ask IT to add you to "
            "the right group."
        )
    title = (attrs.get("title") or [""])[0]
    return DirectoryUser(username, user_dn, str(name), str(title), frozenset(groups), roles)


def _network_message(where: str, exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return (
            f"{where}: its certificate could not be verified, so no password was sent. "
            "IT: check [staff] ldap_ca_file and the server's host name"
        )
    return f"{where} could not be reached; try again, or ask IT if it keeps failing"
