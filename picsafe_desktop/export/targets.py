"""Export destinations from the site config, shared by the CLI and the GUI."""

from __future__ import annotations

from picsafe_desktop.export.dicom import PacsTarget
from picsafe_desktop.export.fhir import FhirTarget


def _setting(site, section: str, key: str, default):
    return getattr(getattr(site, section, None), key, default)


def pacs_target(site) -> PacsTarget | None:
    """The configured PACS, or None while `[pacs] ae_title` or `host` is empty."""
    ae, host = _setting(site, "pacs", "ae_title", ""), _setting(site, "pacs", "host", "")
    if not ae or not host:
        return None
    return PacsTarget(
        ae_title=ae,
        host=host,
        port=int(_setting(site, "pacs", "port", 104)),
        calling_ae_title=_setting(site, "pacs", "calling_ae_title", "PICSAFE"),
        tls=bool(_setting(site, "pacs", "tls", False)),
        tls_ca_file=_setting(site, "pacs", "tls_ca_file", ""),
        tls_cert_file=_setting(site, "pacs", "tls_cert_file", ""),
        tls_key_file=_setting(site, "pacs", "tls_key_file", ""),
    )


def stow_target(site):
    """The PACS's DICOMweb STOW-RS service when `[pacs] transport = "stow"` (issue 16)."""
    if _setting(site, "pacs", "transport", "dimse") != "stow":
        return None
    from picsafe_desktop.export.stow import StowTarget

    url = _setting(site, "pacs", "stow_url", "")
    if not url:
        return None
    return StowTarget(
        url=url,
        token=_setting(site, "pacs", "stow_token", ""),
        username=_setting(site, "pacs", "stow_username", ""),
        password=_setting(site, "pacs", "stow_password", ""),
        ca_file=_setting(site, "pacs", "stow_ca_file", ""),
    )


def commit_function(site):
    """`[pacs] storage_commitment = true`: the call that asks the PACS to commit what was sent
    (commitment.request bound to the site's PACS, listening port and timeout), else None."""
    target = pacs_target(site)
    if target is None or not _setting(site, "pacs", "storage_commitment", False):
        return None
    import functools

    from picsafe_desktop.export import commitment

    return functools.partial(
        commitment.request,
        target,
        port=int(_setting(site, "pacs", "commitment_port", 0)),
        timeout=float(_setting(site, "pacs", "commitment_timeout_seconds", 60.0)),
    )


def fhir_target(site) -> FhirTarget | None:
    """The configured FHIR server, or None while `[fhir] base_url` is empty."""
    base = _setting(site, "fhir", "base_url", "")
    if not base:
        return None
    return FhirTarget(
        base_url=base,
        token=_setting(site, "fhir", "token", ""),
        timeout=float(_setting(site, "fhir", "timeout_seconds", 30.0)),
        retries=int(_setting(site, "fhir", "retries", 3)),
        ca_file=_setting(site, "fhir", "ca_file", ""),
    )


def site_options(site, **choices):
    """ExportOptions with the site's destinations and names, plus the user's `choices`."""
    from picsafe_desktop.export.from_vault import ExportOptions

    return ExportOptions(
        pacs=pacs_target(site),
        stow=stow_target(site),
        commit=commit_function(site),
        fhir_target=fhir_target(site),
        mrn_system=_setting(site, "fhir", "mrn_system", ""),
        id_system=_setting(site, "fhir", "identifier_system", ""),
        institution=_setting(site, "export", "institution_name", ""),
        issuer_of_patient_id=_setting(site, "pacs", "issuer_of_patient_id", ""),
        **choices,
    )


def outbox_settings(site) -> dict[str, float]:
    """The outbox's retry timing ([outbox]) as keyword arguments of outbox.deliver."""
    return {
        "first_retry": float(_setting(site, "outbox", "first_retry_seconds", 30.0)),
        "max_retry": float(_setting(site, "outbox", "max_retry_seconds", 3600.0)),
    }
