"""Glue between the vault and the exporters: load a consented batch, run one export, audit it.

The consent is checked before any photo is decrypted, and every export (and every failed
attempt) is written to the vault's audit log: who, which photos, what kind, where to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from picsafe_desktop import consent as consent_rules
from picsafe_desktop import deid
from picsafe_desktop.export import dicom, fhir, files, package, pdf
from picsafe_desktop.export.consent_gate import check_allowed
from picsafe_desktop.export.types import ExportBatch, ExportError, ExportPhoto
from picsafe_desktop.model import ItemState, PhotoFacts, Staff, Use

KINDS = ("pdf", "fhir", "dicom", "package")


@dataclass(frozen=True)
class ExportOptions:
    """Where and how to export; only the fields of the chosen kind are used."""

    out: Path | None = None  # pdf, package; dicom/fhir: write files instead of sending
    pdf_password: str | None = None
    passphrase: str | None = None  # package
    recipients: tuple[str, ...] = ()  # package
    pacs: dicom.PacsTarget | None = None
    stow: Any = None  # stow.StowTarget: `[pacs] transport = "stow"` sends by DICOMweb (issue 16)
    # issue 16: after a send to the PACS, `commit(pairs) -> CommitResult` (storage commitment)
    commit: Callable[..., Any] | None = None
    fhir_target: fhir.FhirTarget | None = None
    mrn_system: str = ""
    id_system: str = ""  # base of PicSafe's FHIR identifier systems ([fhir] identifier_system)
    institution: str = ""
    issuer_of_patient_id: str = ""


@dataclass(frozen=True)
class ExportOutcome:
    kind: str
    destination: str
    photos: int
    report_id: str
    detail: str = ""  # e.g. the study UID or the number of resources stored


def _capture_time(meta: dict[str, Any]) -> dt.datetime | None:
    taken = meta.get("capture_time")
    try:  # kept exactly as recorded: its own UTC offset, or naive when the camera had none
        return dt.datetime.fromisoformat(taken) if taken else None
    except (TypeError, ValueError):
        return None


def _facts(meta: dict[str, Any]) -> PhotoFacts:
    return PhotoFacts(
        width=int(meta.get("width") or 0),
        height=int(meta.get("height") or 0),
        orientation=int(meta.get("orientation") or 1),
        capture_time=_capture_time(meta),
    )


def _site(meta: dict[str, Any], fallback: str) -> tuple[str, dict | None]:
    """(free text, coded site) from the metadata's `body_site`: the ward's coded dict
    {"code", "display", "laterality", "text"} when present, else today's free text."""
    value = meta.get("body_site")
    if isinstance(value, dict):
        text = str(value.get("text") or value.get("display") or "").strip()
        return text or fallback, value if value.get("code") else None
    return str(value or fallback), None


def _batch_order(vault: Any, batch_id: str) -> tuple[dict[str, int], dt.datetime | None]:
    """Each item's position in its import batch (vault order) and the batch's earliest capture
    time, so any subset of the batch numbers its photos and dates its study the same way."""
    items = vault.list_items(batch_id=batch_id)
    numbers = {item.item_id: n for n, item in enumerate(items, start=1)}
    times = [t for t in (_capture_time(vault.read_metadata(i.item_id)) for i in items) if t]
    return numbers, (min(times, key=lambda t: t.replace(tzinfo=None)) if times else None)


def load_batch(
    vault: Any,
    consent_id: str,
    *,
    actor: str,
    staff: Staff,
    use: Use = Use.RECORD,
    item_ids: Sequence[str] | None = None,
) -> ExportBatch:
    """The consent's active photos as an ExportBatch (consent checked before decrypting)."""
    record = consent_rules.record_from_dict(vault.read_consent(consent_id, actor=actor))
    check_allowed(record, use)
    items = [i for i in vault.list_items(consent_id=consent_id) if i.state == ItemState.ACTIVE]
    if item_ids:
        wanted = set(item_ids)
        unknown = wanted - {i.item_id for i in items}
        if unknown:
            raise ExportError(
                f"photo(s) {', '.join(sorted(unknown))} are not active photos of consent "
                f"{consent_id}"
            )
        items = [i for i in items if i.item_id in wanted]
    if not items:
        raise ExportError(f"consent {consent_id} covers no active photos to export")
    numbers, study_time = _batch_order(vault, items[0].batch_id)
    photos = []
    for item in items:
        data = vault.read(item.item_id, actor=actor, purpose="export")
        meta = vault.read_metadata(item.item_id)
        if item.media_type == "image/jpeg":
            expected = str(meta.get("clean_sha256") or hashlib.sha256(data).hexdigest())
        else:
            # PNG/WebP (screenshots, some apps): the record's formats carry JPEG only.
            data = deid.to_jpeg(data)
            expected = hashlib.sha256(data).hexdigest()
        text, coded = _site(meta, record.body_site)
        photos.append(
            ExportPhoto(
                item_id=item.item_id,
                jpeg=data,
                facts=_facts(meta),
                body_site=text,
                sha256=expected,
                number=numbers.get(item.item_id, 0),
                site=coded,
                **consent_rules.photo_governance(meta, record),
            )
        )
    return ExportBatch(
        batch_id=items[0].batch_id,
        consent=record,
        photos=tuple(photos),
        staff=staff,
        use=use,
        study_time=study_time,
    )


def run_export(
    batch: ExportBatch,
    kind: str,
    options: ExportOptions,
    progress: Callable[[int, int], None] | None = None,
) -> ExportOutcome:
    """Perform one export of an already loaded batch (no vault access here)."""
    n = len(batch.photos)
    if kind == "pdf":
        out = _need_out(options)
        files.write_file(
            out,
            pdf.render_report(batch, site_name=options.institution, password=options.pdf_password),
        )
        return ExportOutcome(
            kind, str(out), n, batch.report_id, "password-protected" if options.pdf_password else ""
        )
    if kind == "package":
        out = _need_out(options)
        data = package.build_package(
            batch,
            passphrase=options.passphrase,
            recipients=options.recipients,
            mrn_system=options.mrn_system,
            site_name=options.institution,
            id_system=options.id_system,
        )
        files.write_file(out, data)
        return ExportOutcome(kind, str(out), n, batch.report_id)
    if kind == "fhir":
        if options.out is not None:  # the validated Bundle as a file instead of sending it
            bundle = fhir.build_bundle(
                batch,
                mrn_system=options.mrn_system,
                site_name=options.institution,
                id_system=options.id_system,
            )
            files.write_file(options.out, json.dumps(bundle, ensure_ascii=False).encode())
            return ExportOutcome(kind, str(options.out), n, batch.report_id, "bundle saved")
        if options.fhir_target is None:
            raise ExportError("no FHIR server is configured ([fhir] base_url and token)")
        result = fhir.send(
            batch,
            options.fhir_target,
            mrn_system=options.mrn_system,
            site_name=options.institution,
            id_system=options.id_system,
        )
        return ExportOutcome(kind, result.destination, n, batch.report_id, result.summary())
    if kind == "dicom":
        extra = {
            "institution": options.institution,
            "issuer_of_patient_id": options.issuer_of_patient_id,
        }
        if options.out is not None:  # write Part 10 files instead of sending
            folder = Path(options.out)
            if not folder.is_dir():
                raise ExportError(f"{folder} is not a folder; DICOM files need a folder")
            datasets = dicom.build_datasets(batch, **extra)
            written: list[Path] = []
            try:
                for i, ds in enumerate(datasets, start=1):
                    # named by Instance Number: a subset's files match the whole batch's
                    target = folder / f"photo-{int(ds.InstanceNumber):02d}.dcm"
                    files.write_file(target, dicom.to_bytes(ds))
                    written.append(target)
                    if progress:
                        progress(i, len(datasets))
            except ExportError:
                for done in written:  # all or nothing: no half study left for someone to send
                    done.unlink(missing_ok=True)
                raise
            return ExportOutcome(
                kind, str(folder), n, batch.report_id, f"study {datasets[0].StudyInstanceUID}"
            )
        if options.stow is not None:  # issue 16: DICOMweb STOW-RS instead of C-STORE
            from picsafe_desktop.export import stow

            result = stow.send(batch, options.stow, progress=progress, **extra)
            return ExportOutcome(
                kind, result.destination, n, batch.report_id, f"study {result.study_uid}"
            )
        if options.pacs is None:
            raise ExportError("no PACS is configured ([pacs] ae_title and host)")
        result = dicom.send(batch, options.pacs, progress=progress, **extra)
        return ExportOutcome(
            kind, result.destination, n, batch.report_id, f"study {result.study_uid}"
        )
    raise ExportError(f"unknown export kind {kind!r}; choose one of {', '.join(KINDS)}")


def _need_out(options: ExportOptions) -> Path:
    if options.out is None:
        raise ExportError("give the file to write (--out)")
    return Path(options.out)


def send(
    vault,
    batch: ExportBatch,
    kind: str,
    options: ExportOptions,
    *,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> ExportOutcome:
    """Run one export; a record copy sent to the PACS is then storage-committed and the
    answer recorded per photo (issue 16). Shared by direct exports and the outbox."""
    outcome = run_export(batch, kind, options, progress)
    if kind == "dicom" and options.out is None and options.commit and not batch.deidentified:
        from picsafe_desktop.export import committed

        said = committed.commit_and_record(vault, batch, options.commit, actor=actor)
        outcome = dataclasses.replace(outcome, detail=f"{outcome.detail}; {said}")
    return outcome


def export_from_vault(
    vault: Any,
    consent_id: str,
    kind: str,
    options: ExportOptions,
    *,
    actor: str,
    staff: Staff,
    use: Use = Use.RECORD,
    item_ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportOutcome:
    """Load, export and audit. A refused or failed export is audited too, then re-raised."""
    if kind not in KINDS:
        raise ExportError(f"unknown export kind {kind!r}; choose one of {', '.join(KINDS)}")
    base = {"kind": kind, "use": Use(use).value, "consent_id": consent_id}
    try:
        batch = load_batch(vault, consent_id, actor=actor, staff=staff, use=use, item_ids=item_ids)
        outcome = send(vault, batch, kind, options, actor=actor, progress=progress)
    except ExportError as exc:
        vault.audit(
            "export_failed",
            actor=actor,
            subject=consent_id,
            details=dict(base, reason=type(exc).__name__),
        )
        raise
    for photo in batch.photos:
        vault.audit(
            "export",
            actor=actor,
            subject=photo.item_id,
            details=dict(base, destination=outcome.destination, report_id=outcome.report_id),
        )
    return outcome
