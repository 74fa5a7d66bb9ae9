"""Hospital connections from the site config (docs/configuration.md, docs/hospital.md)."""

from __future__ import annotations

from picsafe_desktop.hospital.dimse import DicomPeer


def _section(site, name: str):
    return getattr(site, name, None)


def worklist_peer(site) -> DicomPeer | None:
    """The configured worklist, or None while `[worklist] ae_title` or `host` is empty."""
    wl = _section(site, "worklist")
    if wl is None or not wl.ae_title or not wl.host:
        return None
    return DicomPeer(
        role="worklist",
        ae_title=wl.ae_title,
        host=wl.host,
        port=int(wl.port),
        calling_ae_title=wl.calling_ae_title,
        tls=bool(wl.tls),
        tls_ca_file=wl.tls_ca_file,
        tls_cert_file=wl.tls_cert_file,
        tls_key_file=wl.tls_key_file,
        timeout=float(wl.timeout_seconds),
    )


def pacs_peer(site) -> DicomPeer | None:
    """The PACS as a DICOM peer (for storage commitment), or None when not configured."""
    pacs = _section(site, "pacs")
    if pacs is None or not pacs.ae_title or not pacs.host:
        return None
    return DicomPeer(
        role="PACS",
        ae_title=pacs.ae_title,
        host=pacs.host,
        port=int(pacs.port),
        calling_ae_title=pacs.calling_ae_title,
        tls=bool(pacs.tls),
        tls_ca_file=pacs.tls_ca_file,
        tls_cert_file=pacs.tls_cert_file,
        tls_key_file=pacs.tls_key_file,
    )
