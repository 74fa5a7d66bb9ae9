"""Syslog transport for audit messages: RFC 5424 frames over TCP with RFC 6587 octet counting,
TLS (RFC 5425: the same octet-counted frames inside TLS), or UDP (RFC 5426: one per datagram).

`[audit] syslog_url` is tcp://host:port, tls://host:port or udp://host:port; TLS checks the
repository's certificate against `syslog_ca_file` (the system's store when empty) and offers
`syslog_cert_file`/`syslog_key_file` when the repository asks for a client certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from picsafe_desktop.export.types import DeliveryError, ExportError

# RFC 5424: facility 10 (security/authorization), severity 5 (notice) -> PRI 85. MSGID as IHE
# ITI TF-2 3.20.6 (Record Audit Event) gives it.
PRI = 10 * 8 + 5
MSGID = "IHE+RFC-3881"
BOM = b"\xef\xbb\xbf"
DEFAULT_PORTS = {"tcp": 601, "tls": 6514, "udp": 514}


@dataclass(frozen=True)
class SyslogTarget:
    scheme: str  # tcp, tls, udp
    host: str
    port: int
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    timeout: float = 10.0

    def describe(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_url(url: str, **tls: str) -> SyslogTarget:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ExportError(
            f"[audit] syslog_url {url!r} is not tcp://host:port, tls://host:port or "
            "udp://host:port; fix the site config"
        )
    return SyslogTarget(
        parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme], **tls
    )


def _header_field(value: str, limit: int) -> str:
    """PRINTUSASCII, no spaces, at most `limit` characters; "-" when empty."""
    clean = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def frame(message: bytes, *, app_name: str = "picsafe-desktop", at: dt.datetime | None = None,
          hostname: str | None = None) -> bytes:  # fmt: skip
    """One RFC 5424 syslog message: header, no structured data, the XML (UTF-8, with BOM)."""
    stamp = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
    header = " ".join(
        (
            f"<{PRI}>1",
            stamp.replace("+00:00", "Z"),
            _header_field(hostname or socket.gethostname(), 255),
            _header_field(app_name, 48),
            _header_field(str(os.getpid()), 128),
            MSGID,
            "-",
        )
    )
    return header.encode("ascii") + b" " + BOM + message


def _context(target: SyslogTarget) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=target.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if target.cert_file:
            ctx.load_cert_chain(target.cert_file, target.key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ExportError(f"cannot set up TLS for the audit repository: {exc}") from exc
    return ctx


def send(target: SyslogTarget, frames: Sequence[bytes]) -> int:
    """Send `frames` in order on one connection; returns how many were handed over. Raises
    DeliveryError when the repository cannot be reached (the caller keeps them spooled)."""
    if not frames:
        return 0
    try:
        if target.scheme == "udp":
            family = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)[0]
            with socket.socket(family[0], socket.SOCK_DGRAM) as sock:
                sock.settimeout(target.timeout)
                for f in frames:
                    sock.sendto(f, family[4])
            return len(frames)
        raw = socket.create_connection((target.host, target.port), timeout=target.timeout)
        sock = raw
        try:
            if target.scheme == "tls":
                sock = _context(target).wrap_socket(raw, server_hostname=target.host)
            sock.sendall(b"".join(str(len(f)).encode() + b" " + f for f in frames))
            # Syslog has no acknowledgement: an orderly close (TLS close_notify, TCP FIN, then
            # the peer's close) is the most a sender can wait for. Errors after the data was
            # written do not make it unsent.
            try:
                if target.scheme == "tls":
                    sock.unwrap()
                else:
                    raw.shutdown(socket.SHUT_WR)
                    raw.recv(1)
            except (OSError, ssl.SSLError):
                pass
        finally:
            sock.close()
        return len(frames)
    except ExportError:
        raise
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DeliveryError(
            f"cannot reach the audit repository at {target.describe()} ({reason}); the "
            "messages stay in the local spool"
        ) from None
