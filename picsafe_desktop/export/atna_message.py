"""DICOM audit messages (PS3.15 Annex A.5) for the vault's audit rows.

Each vault audit event maps to one DICOM audit event (EventID from CID 400, DCM codes).
Patient identifiers appear only where the schema puts them - a Patient
ParticipantObjectIdentification (ParticipantObjectID = MRN, ParticipantObjectName = name) -
never in the event, participant or source elements. Staff names are the users (ActiveParticipant
UserName), as A.5.2 asks; free-text reasons and file names are never sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

# (code, meaning) of the DICOM audit events (PS3.16 CID 400) and event types (CID 401-405).
APPLICATION_ACTIVITY = ("110100", "Application Activity")
AUDIT_LOG_USED = ("110101", "Audit Log Used")
DICOM_INSTANCES_TRANSFERRED = ("110104", "DICOM Instances Transferred")
EXPORT = ("110106", "Export")
IMPORT = ("110107", "Import")
PATIENT_RECORD = ("110110", "Patient Record")
QUERY = ("110112", "Query")
SECURITY_ALERT = ("110113", "Security Alert")
USER_AUTHENTICATION = ("110114", "User Authentication")

APPLICATION_START = ("110120", "Application Start")
APPLICATION_STOP = ("110121", "Application Stop")
LOGIN = ("110122", "Login")
LOGOUT = ("110123", "Logout")
SECURITY_CONFIGURATION = ("110129", "Security Configuration")
SOFTWARE_CONFIGURATION = ("110131", "Software Configuration")
USE_OF_RESTRICTED_FUNCTION = ("110132", "Use of Restricted Function")
SECURITY_ROLES_CHANGED = ("110136", "Security Roles Changed")
USER_SECURITY_ATTRIBUTES_CHANGED = ("110137", "User Security Attributes Changed")
# No DCM type says "changed outside the application or rolled back": a PicSafe-local code.
VAULT_TAMPER = ("vault-tamper", "Vault changed outside PicSafe or rolled back", "PicSafe")

APPLICATION_ROLE = ("110150", "Application")
DESTINATION_ROLE = ("110152", "Destination Role ID")
SOURCE_ROLE = ("110153", "Source Role ID")

# event -> (DICOM event, action code, event type or None). Unlisted events are Application
# Activity with the event name as a PicSafe-local event type code.
_EVENTS: dict[str, tuple[tuple[str, str], str, tuple[str, ...] | None]] = {
    "sign_in": (USER_AUTHENTICATION, "E", LOGIN),
    "sign_in_refused": (USER_AUTHENTICATION, "E", LOGIN),
    "sign_out": (USER_AUTHENTICATION, "E", LOGOUT),
    "session": (USER_AUTHENTICATION, "E", LOGIN),
    "batch_create": (IMPORT, "C", None),
    "import_batch": (IMPORT, "C", None),
    "import_recovered": (IMPORT, "C", None),
    "export": (EXPORT, "R", None),
    "export_failed": (EXPORT, "R", None),
    "outbox_queued": (EXPORT, "R", None),
    "patient_copy": (EXPORT, "R", None),
    "view": (PATIENT_RECORD, "R", None),
    "metadata": (PATIENT_RECORD, "U", None),
    "consent": (PATIENT_RECORD, "C", None),
    "consent_view": (PATIENT_RECORD, "R", None),
    "consent_amended": (PATIENT_RECORD, "U", None),
    "consent_withdrawn": (PATIENT_RECORD, "U", None),
    "uses_added": (PATIENT_RECORD, "U", None),
    "uses_removed": (PATIENT_RECORD, "U", None),
    "identifiability": (PATIENT_RECORD, "U", None),
    "consent_draft_discarded": (PATIENT_RECORD, "D", None),
    "delete": (PATIENT_RECORD, "D", None),
    "consent_delete": (PATIENT_RECORD, "D", None),
    "device_delete": (PATIENT_RECORD, "D", None),
    "patient_lookup": (QUERY, "E", None),
    "patient_query": (QUERY, "E", None),  # services.lookup_patient, `patient lookup`
    "worklist_query": (QUERY, "E", None),
    "patient_search": (QUERY, "E", None),
    "audit_read": (AUDIT_LOG_USED, "R", None),
    "audit_verify": (AUDIT_LOG_USED, "R", None),
    "disposal_report": (AUDIT_LOG_USED, "R", None),
    "staff_add": (SECURITY_ALERT, "E", SECURITY_ROLES_CHANGED),
    "staff_remove": (SECURITY_ALERT, "E", SECURITY_ROLES_CHANGED),
    "staff_reset": (SECURITY_ALERT, "E", USER_SECURITY_ATTRIBUTES_CHANGED),
    "quarantine": (SECURITY_ALERT, "E", USE_OF_RESTRICTED_FUNCTION),
    "quarantine_shred": (SECURITY_ALERT, "E", USE_OF_RESTRICTED_FUNCTION),
    "repair_relink": (SECURITY_ALERT, "E", SECURITY_CONFIGURATION),
    "vault_recover": (SECURITY_ALERT, "E", SECURITY_CONFIGURATION),
    "tamper": (SECURITY_ALERT, "E", VAULT_TAMPER),
    "vault_create": (APPLICATION_ACTIVITY, "E", APPLICATION_START),
    "vault_upgrade": (APPLICATION_ACTIVITY, "E", SOFTWARE_CONFIGURATION),
    "application_start": (APPLICATION_ACTIVITY, "E", APPLICATION_START),
    "application_stop": (APPLICATION_ACTIVITY, "E", APPLICATION_STOP),
}
_FAILED = {"sign_in_refused", "export_failed"}
VL_PHOTOGRAPHIC = "1.2.840.10008.5.1.4.1.1.77.1.4"


@dataclass(frozen=True)
class Source:
    """Who reports: this PC (AuditSourceID) at this site (AuditEnterpriseSiteID)."""

    source_id: str = field(default_factory=socket.gethostname)
    site_id: str = ""
    app_name: str = "picsafe-desktop"


@dataclass(frozen=True)
class Event:
    """One audit event, as the forwarder knows it (from a vault audit row or an alert)."""

    event: str  # the vault's event token, e.g. "export"
    at: dt.datetime
    actor: str  # the staff member ("system" and "cli:login" too)
    subject: str = ""  # an id: item, consent, batch (never a patient identifier)
    patient_id: str = ""  # MRN, only into the Patient ParticipantObject
    patient_name: str = ""
    destination: str = ""  # where an export went (a URL or dicom://AE@host:port)
    study_uid: str = ""
    instances: tuple[str, ...] = ()
    photos: int = 0
    failed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def dicom_events(event: Event) -> list[tuple[tuple[str, str], str, tuple[str, ...] | None]]:
    """The DICOM event(s) for `event`: an export to the PACS is also DICOM Instances
    Transferred."""
    mapped = _EVENTS.get(event.event, (APPLICATION_ACTIVITY, "E", None))
    out = [mapped]
    if event.event == "export" and event.details.get("kind") == "dicom":
        out.append((DICOM_INSTANCES_TRANSFERRED, "R", None))
    return out


def _coded(parent: etree._Element, tag: str, code: tuple[str, ...], system: str = "DCM"):
    """(code, meaning) in DCM, or (code, meaning, coding scheme)."""
    scheme = code[2] if len(code) > 2 else system
    return etree.SubElement(
        parent,
        tag,
        {"csd-code": code[0], "codeSystemName": scheme, "originalText": code[1]},
    )


def _datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="milliseconds")


def _token(text: str) -> str:
    """xsd:token: no leading/trailing or repeated spaces, no tabs or line breaks."""
    return " ".join(str(text).split())


def build(event: Event, source: Source, dicom_event=None) -> bytes:
    """The AuditMessage XML (UTF-8, one line) for `event` as `dicom_event` (default: first)."""
    (code, action, event_type) = dicom_event or dicom_events(event)[0]
    root = etree.Element("AuditMessage")
    ident = etree.SubElement(
        root,
        "EventIdentification",
        {
            "EventActionCode": action,
            "EventDateTime": _datetime(event.at),
            "EventOutcomeIndicator": "4" if (event.failed or event.event in _FAILED) else "0",
        },
    )
    _coded(ident, "EventID", code)
    if event_type is not None:
        _coded(ident, "EventTypeCode", event_type)
    elif code == APPLICATION_ACTIVITY:
        _coded(ident, "EventTypeCode", (event.event, event.event), system="PicSafe")

    # The person (or this program, for "system") who did it.
    user = etree.SubElement(
        root,
        "ActiveParticipant",
        {"UserID": event.actor or "unknown", "UserIsRequestor": "true"},
    )
    if code in (EXPORT, DICOM_INSTANCES_TRANSFERRED):
        _coded(user, "RoleIDCode", SOURCE_ROLE)
    # This application on this PC.
    app = etree.SubElement(
        root,
        "ActiveParticipant",
        {
            "UserID": source.app_name,
            "AlternativeUserID": str(_pid()),
            "UserIsRequestor": "false",
            "NetworkAccessPointID": _token(source.source_id),
            "NetworkAccessPointTypeCode": "1",
        },
    )
    _coded(app, "RoleIDCode", APPLICATION_ROLE)
    if event.destination:
        dest = etree.SubElement(
            root,
            "ActiveParticipant",
            {"UserID": _token(event.destination), "UserIsRequestor": "false"},
        )
        _coded(dest, "RoleIDCode", DESTINATION_ROLE)

    src = etree.SubElement(
        root, "AuditSourceIdentification", {"AuditSourceID": _token(source.source_id)}
    )
    if source.site_id:
        src.set("AuditEnterpriseSiteID", _token(source.site_id))
    etree.SubElement(src, "AuditSourceTypeCode", {"csd-code": "1"})  # end-user interface

    if event.patient_id:
        patient = etree.SubElement(
            root,
            "ParticipantObjectIdentification",
            {
                "ParticipantObjectID": _token(event.patient_id),
                "ParticipantObjectTypeCode": "1",
                "ParticipantObjectTypeCodeRole": "1",
            },
        )
        _coded(patient, "ParticipantObjectIDTypeCode", ("2", "Patient Number"), "RFC-3881")
        etree.SubElement(patient, "ParticipantObjectName").text = _token(
            event.patient_name or event.patient_id
        )
    if code == DICOM_INSTANCES_TRANSFERRED and event.study_uid:
        study = etree.SubElement(
            root,
            "ParticipantObjectIdentification",
            {
                "ParticipantObjectID": event.study_uid,
                "ParticipantObjectTypeCode": "2",
                "ParticipantObjectTypeCodeRole": "3",
            },
        )
        _coded(study, "ParticipantObjectIDTypeCode", ("110180", "Study Instance UID"))
        etree.SubElement(study, "ParticipantObjectName").text = "photographs"
        desc = etree.SubElement(study, "ParticipantObjectDescription")
        sop = etree.SubElement(
            desc, "SOPClass", {"UID": VL_PHOTOGRAPHIC, "NumberOfInstances": str(event.photos)}
        )
        for uid in event.instances:
            etree.SubElement(sop, "Instance", {"UID": uid})
    elif event.subject:
        # The vault's own record id (a random hex id, no patient data), so the repository
        # can be matched with this PC's audit log.
        obj = etree.SubElement(
            root,
            "ParticipantObjectIdentification",
            {
                "ParticipantObjectID": event.subject,
                "ParticipantObjectTypeCode": "2",
                "ParticipantObjectTypeCodeRole": "4",
            },
        )
        _coded(obj, "ParticipantObjectIDTypeCode", ("vault-record", "PicSafe vault record"),
               "PicSafe")  # fmt: skip
        etree.SubElement(obj, "ParticipantObjectName").text = event.event
        if event.photos:
            detail = base64.b64encode(str(event.photos).encode()).decode()
            etree.SubElement(obj, "ParticipantObjectDetail", {"type": "photos", "value": detail})
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


def _pid() -> int:
    import os

    return os.getpid()
