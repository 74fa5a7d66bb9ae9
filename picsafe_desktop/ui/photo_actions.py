"""What can be done with a photo from the window: view, export, redact, delete, withdraw, audit."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from picsafe_desktop.ui import workers
from picsafe_desktop.ui.thumbnails import ItemIdRole


def _show_if_current(viewer, row: int, data: bytes) -> None:
    """A photo decrypted for the viewer, unless the viewer was closed or moved on meanwhile."""
    try:
        if viewer.row == row:
            viewer.set_image(data)
    except RuntimeError:  # the viewer window was closed (and deleted) while decrypting
        pass


def _set_side(view, index: int, data: bytes) -> None:
    try:
        view.set_image(index, data)
    except RuntimeError:  # the comparison window was closed while decrypting
        pass


class PhotoActionsMixin:
    """MainWindow's photo actions; each runs its vault work on a worker and is audited there.

    Strings go through _tr, in this class's context (lupdate reads _tr as tr): self.tr would
    look them up under MainWindow first, and a plural (%n) not found there stops the search."""

    def __tr(self, text: str, disambiguation: str | None = None, n: int = -1) -> str:
        return QCoreApplication.translate("PhotoActionsMixin", text, disambiguation, n)

    def _confirm_destruction(self, title: str, text: str) -> bool:
        """Ask before anything is crypto-shredded; Cancel is the default."""
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _with_view_reason(self, item_id: str, then) -> None:
        """Intimate photos (issue 15): ask the reason for every view, then call then(reason)."""

        def checked(intimate: bool) -> None:
            reason = ""
            if intimate:
                reason, ok = QInputDialog.getText(
                    self,
                    self.__tr("Intimate image"),
                    self.__tr(
                        "Why are you viewing this intimate image? (recorded in the audit log)",
                    ),
                )
                if not ok or not reason.strip():
                    return
            then(reason)

        workers.submit(
            self.services.is_intimate,
            item_id,
            on_done=checked,
            on_error=self._error(self.__tr("Could not open the photo")),
        )

    def open_viewer(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        from picsafe_desktop.ui.viewer import PhotoViewer

        # Parented to the window so Qt (not Python's garbage collector) owns it.
        viewer = PhotoViewer(
            clipboard_clear_seconds=self.site.security.clipboard_clear_seconds, parent=self
        )
        viewer.setWindowFlag(Qt.WindowType.Window)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.resize(1000, 700)
        viewer.navigate.connect(lambda step, v=viewer: self._viewer_step(v, step))
        self.viewer = viewer
        self._show_in_viewer(viewer, index.row())
        viewer.show()

    def _show_in_viewer(self, viewer, row: int) -> None:
        """Load photo `row` of the grid into the viewer (each view is audited)."""
        model = self.thumbnails
        if not 0 <= row < model.rowCount():
            return
        viewer.row = row
        patient = self.current_patient()
        who = f"{patient.name or '(no name)'}, MRN {patient.mrn}" if patient else ""
        where = f"photo {row + 1} of {model.rowCount()}"
        viewer.set_context(f"{who}, {where}" if who else where, row > 0, row < model.rowCount() - 1)
        item_id = model.item(row).item_id
        # An intimate photo asks the reason for every view, next/previous included (issue 15).
        self._with_view_reason(
            item_id,
            lambda reason: workers.submit(
                self.services.view,
                item_id,
                reason,
                on_done=lambda data: _show_if_current(viewer, row, data),
                on_error=self._error(self.__tr("Could not open the photo")),
            ),
        )

    def _viewer_step(self, viewer, step: int) -> None:
        if self.locked:
            return
        row = viewer.row + step
        if 0 <= row < self.thumbnails.rowCount():
            self.grid.setCurrentIndex(self.thumbnails.index(row))
            self._show_in_viewer(viewer, row)

    def delete_selected(self) -> None:
        ids = self.selected_item_ids()
        if self.locked or not ids:
            return
        if self.ask_before_deleting() and not self._confirm_destruction(
            self.__tr("Delete photos"),
            self.__tr(
                (
                    "Permanently destroy {v0} photo(s)? They cannot be "
                    "recovered, not even from a backup of the vault."
                ),
            ).format(v0=len(ids)),
        ):
            return
        workers.submit(
            self.services.delete_photos,
            ids,
            "deleted by user",
            on_done=lambda n: (
                self.statusBar().showMessage(
                    self.__tr("%n photo(s) destroyed", "", n),
                    8000,
                ),
                self.refresh(),
            ),
            on_error=self._error(self.__tr("Could not delete")),
        )

    def show_audit(self, patient=None) -> None:
        if self.locked:
            return
        from picsafe_desktop.ui.audit_view import AuditView

        view = AuditView(parent=self)
        view.setWindowFlag(Qt.WindowType.Window)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.setWindowTitle(
            self.__tr("Audit log — {patient}").format(patient=patient.name or patient.mrn)
            if patient
            else self.__tr("Audit log")
        )
        view.fit_screen()

        def load():
            rows = (
                self.services.patient_audit_rows(patient) if patient else self.services.audit_rows()
            )
            names, patients = self.services.audit_names()
            return rows, self.services.verify_audit(), names, patients

        workers.submit(
            load,
            on_done=lambda r: view.set_rows(*r),
            on_error=self._error(self.__tr("Could not read the audit log")),
        )
        view.show()

    def show_patient_audit(self) -> None:
        patient = self.current_patient()
        if patient is not None:
            self.show_audit(patient)

    def show_timeline(self) -> None:
        """The patient's photos by body site and date; two can be compared side by side."""
        patient = self.current_patient()
        if self.locked or patient is None:
            return
        services = self.services

        def load():
            from picsafe_desktop import timeline

            pairs, thumbs = [], {}
            for item in services.photos(patient.consent_ids):
                meta = services.metadata(item.item_id)
                site = timeline.site_text(meta, services.read_consent(item.consent_id).body_site)
                taken = meta.get("capture_time")
                moment = dt.datetime.fromisoformat(taken) if taken else item.created_at
                photo = timeline.TimelinePhoto(
                    item.item_id, moment, bool(meta.get("redacted_from"))
                )
                pairs.append((photo, site))
                thumbs[item.item_id] = services.thumbnail(item.item_id)
            return timeline.group_by_site(pairs), thumbs

        who = f"{patient.name or '(no name)'}, MRN {patient.mrn}"
        workers.submit(
            load,
            on_done=lambda found: self._open_timeline(who, *found),
            on_error=self._error(self.__tr("Could not open the timeline")),
        )

    def _open_timeline(self, who: str, groups, thumbs) -> None:
        if self.locked:
            return
        from picsafe_desktop.ui.timeline import TimelineDialog

        dialog = TimelineDialog(who, groups, thumbs, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.compare_requested.connect(lambda ids: self._compare(who, ids, groups))
        self.timeline_dialog = dialog
        dialog.show()

    def _compare(self, who: str, item_ids: list, groups) -> None:
        from picsafe_desktop.ui.timeline import ComparisonView

        when = {p.item_id: p.taken for g in groups for p in g.photos}
        site = {p.item_id: g.site for g in groups for p in g.photos}
        captions = tuple(
            f"{site[i]} — {when[i]:%d %b %Y %H:%M}" if when[i] else site[i] for i in item_ids
        )
        view = ComparisonView(captions, parent=self)
        view.setWindowFlag(Qt.WindowType.Window)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.setWindowTitle(self.__tr("Compare — {who}").format(who=who))
        self.comparison = view
        for index, item_id in enumerate(item_ids):
            workers.submit(
                self.services.view,
                item_id,
                on_done=lambda data, n=index: _set_side(view, n, data),
                on_error=self._error(self.__tr("Could not open the photo")),
            )
        view.show()

    def show_settings(self) -> None:
        from picsafe_desktop.ui.settings_dialog import SettingsDialog

        echo = self.services.pacs_echo if self.services is not None else None
        dialog = SettingsDialog(self.site, echo=echo, parent=self)
        dialog.preferences_saved.connect(self.apply_preferences)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def current_patient(self):
        item = self.patient_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def show_export(self) -> None:
        """Export the patient's photos: all of them ticked, or the grid's selection."""
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        from picsafe_desktop.ui.export_dialog import ExportDialog

        model = self.thumbnails
        items = [model.item(r) for r in range(model.rowCount())]
        consent_of = {i.item_id: i.consent_id for i in items}
        uses = None
        for consent_id in dict.fromkeys(consent_of.values()):
            allowed = set(self.services.read_consent(consent_id).uses)
            uses = allowed if uses is None else uses & allowed
        selected = self.selected_item_ids()
        photos = [
            (i.item_id, model.index(r).data(), model.pixmap(i.item_id)) for r, i in enumerate(items)
        ]
        services = self.services

        def run(kind, use, options, item_ids, progress):
            # One export per consent: each is checked against its own consent's uses.
            by_consent: dict[str, list[str]] = {}
            for item_id in item_ids:
                by_consent.setdefault(consent_of[item_id], []).append(item_id)
            outcomes = [
                services.export(c, kind, use, options, ids, progress=progress)
                for c, ids in by_consent.items()
            ]
            if len(outcomes) == 1:
                return outcomes[0]
            import dataclasses

            last = outcomes[-1]
            return dataclasses.replace(last, photos=sum(o.photos for o in outcomes))

        patient = self.current_patient()
        dialog = ExportDialog(
            run,
            self.services.export_destinations(),
            photos,
            uses or set(),
            parent=self,
            patient=f"{patient.name or '(no name)'}, MRN {patient.mrn}" if patient else "",
            checked=set(selected) if len(selected) > 1 else None,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog = dialog
        dialog.open()

    def show_redaction(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item_id = index.data(ItemIdRole)
        self._with_view_reason(
            item_id,
            lambda reason: workers.submit(
                self.services.view,
                item_id,
                reason,
                on_done=lambda data: self._open_redaction(item_id, data),
                on_error=self._error(self.__tr("Could not open the photo")),
            ),
        )

    def _open_redaction(self, item_id: str, data: bytes) -> None:
        from picsafe_desktop.ui.redaction_editor import RedactionDialog

        if self.locked:
            return
        from picsafe_desktop.deid import faces

        # the export face stop's detector (issue 15): finds masked and turned faces too
        dialog = RedactionDialog(data, suggest=faces.find_faces, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            boxes, replace = dialog.boxes(), dialog.replace_original
            if not boxes:
                return
            workers.submit(
                self.services.redact,
                item_id,
                boxes,
                replace,
                on_done=lambda _id: (
                    self.statusBar().showMessage(
                        self.__tr("Redacted copy saved (original destroyed)")
                        if replace
                        else self.__tr("Redacted copy saved"),
                        8000,
                    ),
                    self.refresh(),  # the patient's photo count changed
                    self.refresh_photos(),
                ),
                on_error=self._error(self.__tr("Could not redact the photo")),
            )

        dialog.accepted.connect(accepted)
        self.redaction_dialog = dialog
        dialog.open()

    def refresh_photos(self) -> None:
        self._patient_selected(self.patient_list.currentItem())

    def withdraw_consent(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item = self.thumbnails.item(index.row())
        scope = self._withdrawal_scope()  # issue 15: partial withdrawal keeps the record
        if scope is None:
            return
        workers.submit(
            self.services.withdraw_consent,
            item.consent_id,
            scope,
            "withdrawn by the patient",
            on_done=lambda exports: self._withdrawn(exports, scope),
            on_error=self._error(self.__tr("Could not withdraw")),
        )

    # -- consent governance (issue 15): identifiability answer, patient's copy --------------
    def _add_governance_actions(self, photo_menu, patient_menu) -> None:
        from PySide6.QtGui import QAction

        self.identifiability_action = QAction(self.__tr("Identifia&bility…"), self)
        self.identifiability_action.setStatusTip(
            self.__tr(
                "A clinician's answer: does this photo identify the patient? (audited)",
            )
        )
        self.identifiability_action.triggered.connect(self.set_identifiability)
        photo_menu.addAction(self.identifiability_action)
        self.patient_copy_action = QAction(self.__tr("Patient's &copy of the consent…"), self)
        self.patient_copy_action.setStatusTip(
            self.__tr("Save the patient's PDF copy of this consent")
        )
        self.patient_copy_action.triggered.connect(self.save_patient_copy)
        patient_menu.addAction(self.patient_copy_action)
        from picsafe_desktop.ui.consent_amend import make_amend_action

        self.amend_action = make_amend_action(self)  # add/remove a use, fix the body site
        patient_menu.addAction(self.amend_action)
        for act in (self.identifiability_action, self.patient_copy_action, self.amend_action):
            act.setEnabled(False)
            self._patient_actions.append(act)

    @staticmethod
    def _governance_rows(meta: dict, consent) -> list[tuple[str, str]]:
        """Details-pane rows: this photo's identifiability and flags, the consent's state."""
        answer = (meta.get("identifiability") or "unknown").replace("_", " ")
        if meta.get("redacted_from"):
            answer += QCoreApplication.translate("PhotoActionsMixin", " (redacted version)")
        elif meta.get("identifiability_confirmed_by"):
            answer += QCoreApplication.translate(
                "PhotoActionsMixin", " (confirmed by {who})"
            ).format(who=meta["identifiability_confirmed_by"])
        rows = [(QCoreApplication.translate("PhotoActionsMixin", "Identifiability"), answer)]
        if meta.get("intimate"):
            rows.append(
                (
                    QCoreApplication.translate("PhotoActionsMixin", "Intimate"),
                    QCoreApplication.translate(
                        "PhotoActionsMixin", "yes: a reason is asked on every view"
                    ),
                )
            )
        if meta.get("taken_before_consent"):
            rows.append(
                (
                    QCoreApplication.translate("PhotoActionsMixin", "Warning"),
                    QCoreApplication.translate(
                        "PhotoActionsMixin", "taken before the recorded bedside consent time"
                    ),
                )
            )
        if consent.consented_at is not None:
            rows.append(
                (
                    QCoreApplication.translate("PhotoActionsMixin", "Consent obtained"),
                    f"{consent.consented_at:%d %b %Y %H:%M}",
                )
            )
        if consent.withdrawn is not None:
            rows.append(
                (
                    QCoreApplication.translate("PhotoActionsMixin", "Withdrawn"),
                    consent.withdrawn.value,
                )
            )
        if consent.review_on is not None:
            rows.append(
                (
                    QCoreApplication.translate("PhotoActionsMixin", "Review consent on"),
                    f"{consent.review_on:%d %b %Y}",
                )
            )
        return rows

    def set_identifiability(self) -> None:
        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item_id = index.data(ItemIdRole)
        choices = [self.__tr("Not identifiable"), self.__tr("Identifiable")]
        answer, ok = QInputDialog.getItem(
            self,
            self.__tr("Identifiability"),
            self.__tr("Having looked at the photo, it is:"),
            choices,
            0,
            False,
        )
        if not ok:
            return
        reason, ok = QInputDialog.getText(
            self,
            self.__tr("Identifiability"),
            self.__tr("Why? (recorded in the audit log)"),
        )
        if not ok or not reason.strip():
            return
        value = "not_identifiable" if answer == choices[0] else "identifiable"
        workers.submit(
            self.services.set_identifiability,
            item_id,
            value,
            reason,
            on_done=lambda _r: self.statusBar().showMessage(
                self.__tr("Photo marked {answer}").format(answer=answer.lower()),
                8000,
            ),
            on_error=self._error(self.__tr("Could not record the answer")),
        )

    def save_patient_copy(self) -> None:
        from picsafe_desktop.ui.file_dialogs import save_file_name

        index = self.grid.currentIndex()
        if self.locked or not index.isValid():
            return
        item = self.thumbnails.item(index.row())
        path = save_file_name(  # keeps no folder history (patient-named folders)
            self,
            self.__tr("Patient's copy of the consent"),
            self.__tr("consent-copy.pdf"),
            self.__tr("PDF (*.pdf)"),
        )
        if not path:
            return
        workers.submit(
            self.services.patient_copy,
            item.consent_id,
            path,
            on_done=lambda out: self.statusBar().showMessage(
                self.__tr("Saved {out}").format(out=out), 8000
            ),
            on_error=self._error(self.__tr("Could not save the patient's copy")),
        )

    def _withdrawal_scope(self) -> str | None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.__tr("Withdraw consent"),
            self.__tr(
                "What does the patient withdraw?\n\n"
                "Teaching and publication only: the photos stay for the clinical record.\n"
                "Everything: every photo of this consent is destroyed; copies already in the "
                "medical record follow the site's policy. Copies already exported are listed "
                "afterwards so they can be followed up.",
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("withdrawScopeBox")
        secondary = box.addButton(
            self.__tr("Teaching and &publication only"),
            QMessageBox.ButtonRole.AcceptRole,
        )
        everything = box.addButton(
            self.__tr("&Everything (destroy photos)"),
            QMessageBox.ButtonRole.DestructiveRole,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is secondary:
            return "secondary"
        return "full" if clicked is everything else None

    def _withdrawn(self, exports: list, scope: str = "full") -> None:
        self.refresh()
        text = (
            self.__tr("Consent withdrawn; its photos were destroyed.")
            if scope == "full"
            else self.__tr(
                "Teaching and publication withdrawn; the photos stay for the clinical record."
            )
        )
        if exports:
            lines = [
                f"{e.get('at', '')}: {e.get('kind', '?')} to {e.get('destination', '?')}"
                for e in exports
            ]
            text += "\n\nThese copies were already exported and must be followed up:\n" + "\n".join(
                sorted(set(lines))
            )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.__tr("Consent withdrawn"),
            text,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("withdrawnBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
