"""Hospital connections from the site config (docs/configuration.md, docs/hospital.md)."""

from __future__ import annotations

from picsafe_desktop.hospital.dimse import DicomPeer


def _section(site, name: str):
    return getattr(site, name, None)


def _peer(section, role: str, **extra) -> DicomPeer | None:  # noqa: ANN001, ANN003
    """A `[worklist]` or `[pacs]` section as a DICOM peer; None while ae_title or host is empty."""
    if section is None or not section.ae_title or not section.host:
        return None
    return DicomPeer(
        role=role,
        ae_title=section.ae_title,
        host=section.host,
        port=int(section.port),
        calling_ae_title=section.calling_ae_title,
        tls=bool(section.tls),
        tls_ca_file=section.tls_ca_file,
        tls_cert_file=section.tls_cert_file,
        tls_key_file=section.tls_key_file,
        **extra,
    )


def worklist_peer(site) -> DicomPeer | None:
    """The configured worklist, or None while `[worklist] ae_title` or `host` is empty."""
    wl = _section(site, "worklist")
    return _peer(wl, "worklist", timeout=float(wl.timeout_seconds)) if wl is not None else None


def pacs_peer(site) -> DicomPeer | None:
    """The PACS as a DICOM peer (for storage commitment), or None when not configured."""
    return _peer(_section(site, "pacs"), "PACS")
