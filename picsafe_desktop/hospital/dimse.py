"""A DICOM peer of the hospital (worklist, PACS) and opening associations to it, with TLS."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from pynetdicom import AE

from picsafe_desktop.export import dicom


class DimseError(Exception):
    """The peer could not be reached or refused; the message names it and what to check."""


@dataclass(frozen=True)
class DicomPeer:
    role: str  # "worklist" / "PACS": named in messages
    ae_title: str
    host: str
    port: int
    calling_ae_title: str = "PICSAFE"
    tls: bool = False
    tls_ca_file: str = ""  # empty: the system's trusted certificates
    tls_cert_file: str = ""  # client certificate, when the peer asks for one
    tls_key_file: str = ""
    timeout: float = 30.0

    def describe(self) -> str:
        scheme = "dicom-tls" if self.tls else "dicom"
        return f"{scheme}://{self.ae_title}@{self.host}:{self.port}"


def tls_args(peer: DicomPeer) -> tuple[ssl.SSLContext, str] | None:
    return dicom.tls_args(peer, f"the {peer.role}", DimseError)


def make_ae(peer: DicomPeer) -> AE:
    return dicom.make_ae(peer)


def associate(ae: AE, peer: DicomPeer, **kwargs):  # noqa: ANN003, ANN201 - pynetdicom types
    """An established association, or DimseError saying what to check."""
    try:  # plain TCP first: a clear message when nobody listens
        with socket.create_connection((peer.host, peer.port), timeout=peer.timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DimseError(
            f"cannot reach the {peer.role} at {peer.describe()} ({reason}); check host and port "
            f"and whether the {peer.role} is running"
        ) from None
    try:
        assoc = ae.associate(
            peer.host, peer.port, ae_title=peer.ae_title, tls_args=tls_args(peer), **kwargs
        )
    except OSError as exc:
        raise DimseError(f"cannot reach the {peer.role} at {peer.describe()}: {exc}") from exc
    if assoc.is_established:
        return assoc
    _drop_socket(assoc)
    if assoc.is_rejected:
        raise DimseError(
            f"the {peer.role} at {peer.describe()} rejected the connection; check that it knows "
            f"the calling AE title {peer.calling_ae_title!r} and the called AE title"
        )
    raise DimseError(
        f"no DICOM connection to the {peer.role} at {peer.describe()}: check host, port and "
        "whether it is running (and TLS matches its settings)"
    )


def _drop_socket(assoc) -> None:  # noqa: ANN001
    """pynetdicom 3.0 leaves the socket of a failed association open (e.g. plain DICOM to a
    TLS port); close it so no file descriptor leaks per failed lookup."""
    transport = getattr(getattr(assoc, "dul", None), "socket", None)
    raw = getattr(transport, "socket", None)
    if raw is not None:
        raw.close()
