"""The wristband scan of a waiting batch, run while the intake is already open (issue 17).

The intake used to open only after every photo of the batch had been decrypted and fully
decoded for a barcode: 43 s after a 200-photo import. Now the sets (by capture time) and
their thumbnails come first; the scan runs on workers (two photos at a time, reduced
decodes: services.scan_wristbands) and reports each band as it is found. Each band photo
then leaves the intake at once (so nobody can select it any more), its MRN goes to its set
and to an open consent form with no MRN yet, and it is crypto-shredded on a worker
(services.settle_wristbands, audited). A band photo already chosen for the open consent
form leaves that form's photos; one that is the form's only photo stays the clinician's
choice and is not shredded.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QCoreApplication

from picsafe_desktop.ui import workers


class WristbandScanMixin:
    """MainWindow's side: needs intake_dialog, consent_dialog, services, locked, _error."""

    def __tr(self, text: str, disambiguation: str | None = None, n: int = -1) -> str:
        # In this class's context, like the other MainWindow mixins (see ImportMixin._tr).
        return QCoreApplication.translate("WristbandScanMixin", text, disambiguation, n)

    _wristband_scans: set
    _consent_ids: list  # the open consent form's photos, less band photos found since
    _consent_shown: list  # the photos the form showed (its per-photo answers follow them)

    def answers_for_kept(self, record, kept: list):  # noqa: ANN001, ANN201 - ConsentRecord
        """The form's per-photo identifiability answers for the photos still recorded, when
        band photos left the form after it opened."""
        shown = list(self.__dict__.get("_consent_shown", ()))
        answers = record.photo_identifiability
        if len(answers) != len(shown) or len(kept) == len(shown):
            return record
        keep = set(kept)
        pairs = zip(shown, answers, strict=True)
        return dataclasses.replace(
            record, photo_identifiability=tuple(a for i, a in pairs if i in keep)
        )

    def start_wristband_scan(self, batch) -> None:  # noqa: ANN001 - services.IntakeBatch
        scans = self.__dict__.setdefault("_wristband_scans", set())
        batch_id = batch.batch_id
        ids = [i for s in batch.sets for i in s.item_ids]
        if not ids or batch_id in scans or not self.services.wristband_scan_needed(batch_id):
            return
        scans.add(batch_id)
        intake = self.intake_dialog
        if intake is not None and not intake.status.text():
            self._wristband_status = self.__tr(
                "Looking for a wristband barcode among the %n photo(s)… you can start meanwhile.",
                "",
                len(ids),
            )
            intake.status.setText(self._wristband_status)
        workers.submit(
            self.services.scan_wristbands,
            batch_id,
            ids,
            on_progress=lambda found, b=batch_id: self._wristband_found(b, *found),
            on_done=lambda _found, b=batch_id: self._wristband_scan_done(b),
            on_error=lambda exc, b=batch_id: self._wristband_scan_failed(b, exc),
        )

    def preload_consent_form(self) -> None:
        """Import the consent form's modules on a worker while the intake is on screen: the
        first import cost the GUI thread about 0.35 s (of a 1.5 s stall under load) when the
        clinician pressed Record consent. Defining classes off the GUI thread is safe; no
        widget is made there."""
        import importlib
        import sys

        def preload() -> None:
            importlib.import_module("picsafe_desktop.ui.consent_dialog")
            # Issue 17: the form's patient-lookup check imports the hospital modules on
            # first use (20-40 ms on the GUI thread under load): made once here instead.
            if self.services is not None:
                self.services.lookup_configured()

        if "picsafe_desktop.ui.consent_dialog" not in sys.modules:
            workers.submit(
                preload,
                on_error=lambda _exc: None,  # imported again, on use, where errors show
            )

    def wristband_scan_running(self) -> bool:
        return bool(self.__dict__.get("_wristband_scans"))

    def _wristband_found(self, batch_id: str, item_id: str, mrn: str) -> None:
        if self.locked:  # not settled now: the batch is scanned again at the next intake
            self.__dict__.setdefault("_wristband_missed", set()).add(batch_id)
            return
        intake = self.intake_dialog
        ours = intake is not None and intake.batch.batch_id == batch_id
        chosen = list(self.__dict__.get("_consent_ids", ()))
        dialog = self.consent_dialog if ours else None
        if dialog is not None and item_id in chosen:
            if len(chosen) == 1:
                dialog.set_wristband_mrn(mrn)
                return  # the form's only photo: recorded or refused as the clinician decides
            self._consent_ids.remove(item_id)
        if ours:
            intake.apply_wristbands({item_id: mrn})
            if dialog is not None:
                dialog.set_wristband_mrn(intake.mrn_for(self._consent_ids))
        workers.submit(
            self.services.settle_wristbands,
            batch_id,
            {item_id: mrn},
            on_done=lambda _ids: self._wristband_settled(batch_id),
            on_error=self._error(self.__tr("Could not destroy a photo of a wristband")),
        )

    def _wristband_settled(self, batch_id: str) -> None:
        intake = self.intake_dialog
        if (
            intake is not None
            and intake.batch.batch_id == batch_id
            and not intake.remaining()
            and self.consent_dialog is None
        ):
            intake.done(0)  # the batch held only a wristband photo

    def _wristband_scan_done(self, batch_id: str) -> None:
        self._wristband_scans.discard(batch_id)
        intake = self.intake_dialog
        if intake is not None and intake.status.text() == getattr(self, "_wristband_status", None):
            intake.status.setText("")
        missed = self.__dict__.get("_wristband_missed", set())
        if not self.locked and batch_id not in missed:  # scanned, even when nothing was found
            workers.submit(
                self.services.settle_wristbands,
                batch_id,
                {},
                on_error=lambda _exc: None,  # scanned again at the next intake: harmless
            )
        missed.discard(batch_id)

    def _wristband_scan_failed(self, batch_id: str, exc: Exception) -> None:
        self._wristband_scans.discard(batch_id)
        intake = self.intake_dialog
        if intake is not None and intake.status.text() == getattr(self, "_wristband_status", None):
            intake.status.setText(
                self.__tr(
                    "The photos could not be checked for a wristband: type the MRN in the form."
                )
            )
