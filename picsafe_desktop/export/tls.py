"""Client TLS contexts from the site config's CA files (FHIR, STOW-RS)."""

from __future__ import annotations

import ssl

from picsafe_desktop.export.types import ExportError


def tls_context(ca_file: str, setting: str) -> ssl.SSLContext:
    """The client TLS context trusting `ca_file` (or the system store); a file that is missing
    or holds no PEM certificate is a configuration error naming `setting`, not a crash."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ExportError(
            f"the CA file {ca_file} set as {setting} in the site configuration cannot be used "
            f"({reason}); it must be a readable file of PEM certificates: ask IT to fix it"
        ) from None
