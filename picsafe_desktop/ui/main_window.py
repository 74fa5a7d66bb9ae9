"""The main window: what a nurse sees between patients.

Pages: the lock screen (nobody signed in, nothing identifying on screen), the empty state
(signed in, no photos yet) and the browser (patients | thumbnail grid | details).
All vault work runs on worker threads through `services`; this module only draws.
"""

from __future__ import annotations

import datetime as dt
import logging
from html import escape

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QSettings,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop import APP_NAME, __version__
from picsafe_desktop.services import Permission, sign_in_method
from picsafe_desktop.ui import heap, look, workers
from picsafe_desktop.ui.importing import ImportMixin
from picsafe_desktop.ui.lock import IdleMonitor, LockScreen, SessionLockWatcher, window_title
from picsafe_desktop.ui.photo_actions import PhotoActionsMixin
from picsafe_desktop.ui.thumbnails import ItemIdRole, ThumbnailModel
from picsafe_desktop.ui.wristband_scan import WristbandScanMixin

log = logging.getLogger(__name__)
PATIENT_CHUNK = 1000  # patient rows built per turn of the event loop (about 5 ms)

EMPTY_STATE_TEXT = QT_TRANSLATE_NOOP(
    "MainWindow",
    "<h2>No photos yet</h2>"
    "<p>To bring clinical photos in:</p>"
    "<ul>"
    "<li>connect the phone with its USB cable and unlock it, or</li>"
    "<li>drag photos from a folder onto this window, or</li>"
    "<li>press <b>Import photos</b> in the toolbar.</li>"
    "</ul>"
    "<p>Each photo is stripped of hidden data (location, phone serial, dates) and "
    "encrypted. You then sort the photos by patient and record each patient's consent. "
    "Photos on a phone stay there until you choose to delete them from here.</p>",
)


def _taken(iso: str | None) -> dt.datetime | None:
    """The capture time stored in a photo's metadata, if the camera recorded a valid one."""
    try:
        return dt.datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _when(iso: str | None) -> str:
    """A capture time as people read it, with the UTC offset when the camera recorded one."""
    moment = _taken(iso)
    if moment is None:
        return iso or QCoreApplication.translate("MainWindow", "not recorded by the camera")
    text = moment.strftime("%d %b %Y %H:%M")
    return f"{text} (UTC{moment:%z})" if moment.tzinfo else text


def _bring_up(dialog) -> None:
    """Show a window-modal dialog and give it the keyboard (the form on top of the intake
    must get Tab, Enter and the Lock shortcut, even without a window manager)."""
    dialog.open()
    dialog.raise_()
    dialog.activateWindow()


def _site_words(meta: dict, consent_site: str) -> str:
    from picsafe_desktop import timeline

    words = timeline.site_text(meta, consent_site)
    return "—" if words == timeline.UNRECORDED else words


def _same_person(a, b) -> bool:
    """Same staff member: by staff ID when both have one, else by name."""
    if a.staff_id and b.staff_id:
        return a.staff_id.strip().lower() == b.staff_id.strip().lower()
    return a.name.strip().lower() == b.name.strip().lower()


class MainWindow(ImportMixin, PhotoActionsMixin, WristbandScanMixin, QMainWindow):
    def __init__(self, site, services=None, monitor=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.site = site
        self.services = services
        self.consent_dialog = None
        self._session = None  # the sign-in this window shows, set on the GUI thread
        self.intake_dialog = None
        self._checking_batches = False
        self._draft_owner = None  # who was filling the consent form when the window locked
        self._pending_problems = None  # the import problem report, shown after consent
        self._phone_checks: dict = {}  # DCIM path -> services.PhoneCheck
        self._phone_checks_running: set = set()
        self._phone_cleanup = None  # (device or volume, label, count) to offer deleting
        self._last_staff = None
        self.last_import = None
        self._waiting_problems: list = []  # import problems kept for the next sign-in
        self._problem_box = None
        self._problem_lines: list[str] = []
        self.setWindowTitle(window_title(sign_in_method(site)))
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1200, 720)
        self.setMinimumSize(look.at_most_screen(QSize(800, 560), self))

        self.stack = QStackedWidget(self)
        notice = services.sign_in_notice if services is not None else None
        self.lock_screen = LockScreen(sign_in_method(site), self, notice=notice)
        self.lock_screen.sign_in_requested.connect(self.sign_in)
        self.empty_state = self._build_empty_state()
        self.browser = self._build_browser()
        for page in (self.lock_screen, self.empty_state, self.browser):
            self.stack.addWidget(page)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = self._build_banner(central)
        self.progress_area = QVBoxLayout()
        if services is not None:  # the keyring stops answering mid-session (issue 13)
            from picsafe_desktop.ui.keyring_banner import KeyringBanner

            self.keyring_banner = KeyringBanner(services.keyring_trouble, central)
            layout.addWidget(self.keyring_banner)
        layout.addWidget(self.banner)
        layout.addLayout(self.progress_area)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_actions()
        self.thumbnails.modelReset.connect(self._update_photo_actions)
        self.statusBar().showMessage(self.tr("Ready"))
        from picsafe_desktop.ui.intake import WaitingEntry

        self.waiting_entry = WaitingEntry(self)  # photos left waiting: reopen them (issue 12)
        self.waiting_entry.clicked.connect(self.reopen_waiting)
        self.statusBar().addPermanentWidget(self.waiting_entry)

        app = QApplication.instance()
        self.idle = IdleMonitor(app, site.security.idle_lock_minutes, self)
        self.idle.idle.connect(lambda: self.lock("idle"))
        self.session_watcher = SessionLockWatcher(self)
        self.session_watcher.session_locked.connect(self.lock)
        self._pending_volumes: list = []
        self.monitor = monitor
        if monitor is not None:
            monitor.volume_appeared.connect(self.volume_appeared)
            monitor.volume_gone.connect(self.volume_gone)
            monitor.drop_batch.connect(self.drop_folder_batch)
            monitor.drop_refusals.connect(self.drop_folder_refusals)
        self.outbox_sender = None
        if services is not None and getattr(services, "outbox_in_use", bool)():
            from picsafe_desktop.ui.outbox_sender import OutboxSender

            poll = getattr(getattr(site, "outbox", None), "poll_seconds", 15.0)
            self.outbox_sender = OutboxSender(self, services, poll)
        self._restore_geometry()
        self._show_locked()
        heap.settle()  # issue 17: the open vault's objects out of the collector's walks

    # -- building --------------------------------------------------------------------------
    def _build_empty_state(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        label = QLabel(EMPTY_STATE_TEXT, page)
        label.setObjectName("emptyStateLabel")
        label.setAccessibleName(self.tr("How to get photos in"))
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFixedWidth(560)
        # A word-wrapped rich-text label between stretches gets its one-line height unless
        # told otherwise, which cut the last paragraph off mid-sentence.
        label.setMinimumHeight(label.heightForWidth(560))
        layout.addStretch(1)
        layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.empty_state_label = label
        return page

    def _build_browser(self) -> QWidget:
        splitter = QSplitter(self)
        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        self.search_edit = QLineEdit(left)
        self.search_edit.setPlaceholderText(self.tr("Search by MRN or name"))
        self.search_edit.setAccessibleName(self.tr("Search patients by MRN or name"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._filter_patients)
        self.patient_list = QListWidget(left)
        # Every row is two lines of text: 10,000 patients lay out without measuring each row.
        self.patient_list.setUniformItemSizes(True)
        self._patient_rows: list[list] = []  # [item, patient, hidden] per row, for the filter
        self.patient_list.setAccessibleName(self.tr("Patients"))
        self.patient_list.currentItemChanged.connect(self._patient_selected)
        left_layout.addWidget(self.search_edit)
        left_layout.addWidget(self.patient_list, 1)

        from picsafe_desktop.ui.settings_dialog import read_preference

        size = int(read_preference("thumbnail_size"))
        self.thumbnails = ThumbnailModel(
            self._load_thumbnail, size=size, parent=self, caption=self._caption_for
        )
        self.grid = QListView(splitter)
        self.grid.setAccessibleName(self.tr("Photos"))
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)  # lets the view ask only for visible rows
        self.grid.setIconSize(QSize(size, size))
        self.grid.setSpacing(6)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.thumbnails)
        self.grid.selectionModel().currentChanged.connect(self._photo_selected)
        self.grid.doubleClicked.connect(lambda _: self.open_viewer())

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        self.details = QLabel(self.tr("Select a photo to see its details."), right)
        self.details.setObjectName("details")
        self.details.setAccessibleName(self.tr("Photo details"))
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.details.linkActivated.connect(self._details_link)
        right_layout.addWidget(self.details, 1)
        splitter.setSizes([260, 640, 300])
        splitter.setStretchFactor(1, 1)
        return splitter

    def _set_icons(self) -> None:
        """Every action carries one of the app's own icons (resources/icons)."""
        for name, icon_name in (
            ("import_action", "import"),
            ("usb_action", "phone"),
            ("view_action", "view"),
            ("delete_action", "delete"),
            ("audit_action", "audit"),
            ("export_action", "export"),
            ("redact_action", "redact"),
            ("withdraw_action", "withdraw"),
            ("patient_audit_action", "audit"),
            ("timeline_action", "timeline"),
            ("lock_action", "lock"),
            ("switch_user_action", "switch-user"),
            ("quit_action", "quit"),
            ("about_action", "about"),
            ("settings_action", "settings"),
            ("identifiability_action", "identifiable"),
            ("patient_copy_action", "document"),
            ("amend_action", "consent"),
        ):
            act = getattr(self, name, None)
            if act is not None:
                act.setIcon(look.icon(icon_name))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """Every toolbar action stays on screen - Lock above all - at 125 % and 150 % of a
        1366-pixel screen: when the labels do not fit, the less used actions show only their
        icon (their name is the tooltip), then all but Lock."""
        toolbar = getattr(self, "toolbar", None)
        if toolbar is None:
            return
        key = (self.width(), self.user_label.text(), self.lock_action.isVisible())
        if key == getattr(self, "_toolbar_fitted", None):
            return  # restyling lays the toolbar out again: do it once per change
        self._toolbar_fitted = key
        style = Qt.ToolButtonStyle
        steps = (
            (),
            (self.view_action, self.redact_action, self.delete_action, self.audit_action),
            (self.import_action, self.export_action, self.switch_user_action),
        )
        shortened: list = []
        for step in steps:
            shortened += step
            needed = 0
            for act in toolbar.actions():
                button = toolbar.widgetForAction(act)
                if button is not None and hasattr(button, "setToolButtonStyle"):
                    short = act in shortened
                    button.setToolButtonStyle(
                        style.ToolButtonIconOnly if short else style.ToolButtonTextBesideIcon
                    )
                if button is not None and act.isVisible():
                    needed += button.sizeHint().width() + toolbar.layout().spacing()
            margins = toolbar.contentsMargins()
            if needed + margins.left() + margins.right() + 24 <= self.width():
                return

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        # The signed-in name changes the toolbar's width: fit it again once laid out.
        if watched is getattr(self, "toolbar", None) and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self._fit_toolbar)
        return super().eventFilter(watched, event)

    def _build_actions(self) -> None:
        toolbar = QToolBar(self.tr("Main"), self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)

        def action(text, slot, shortcut=None, tip=""):
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(shortcut)
            act.setToolTip(tip or text.replace("&", ""))
            return act

        self.import_action = action(
            self.tr("&Import photos…"),
            self.choose_import,
            "Ctrl+I",
            self.tr("Import photos from files or folders"),
        )
        self.usb_action = action(
            self.tr("Import from &USB camera or phone…"),
            self.choose_usb_device,
            tip=self.tr("Phones and cameras connected by USB (PTP/MTP)"),
        )
        self.view_action = action(self.tr("&Open photo"), self.open_viewer, self.tr("Return"))
        self.delete_action = action(
            self.tr("&Delete photos…"), self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.audit_action = action(self.tr("&Audit log"), lambda: self.show_audit(), "Ctrl+L")
        self.export_action = action(
            self.tr("&Export…"),
            self.show_export,
            "Ctrl+E",
            self.tr("Send the patient's photos into the record"),
        )
        self.redact_action = action(
            self.tr("&Redact…"),
            self.show_redaction,
            "Ctrl+R",
            self.tr("Black out or blur parts of the photo"),
        )
        self.withdraw_action = action(self.tr("&Withdraw consent…"), self.withdraw_consent)
        self.patient_audit_action = action(
            self.tr("Audit log for this &patient"), self.show_patient_audit
        )
        self.timeline_action = action(
            self.tr("&Timeline and comparison…"),
            self.show_timeline,
            "Ctrl+T",
            self.tr("The patient's photos by body site and date; compare two side by side"),
        )
        self.lock_action = action(
            self.tr("&Lock"),
            lambda: self.lock("button"),
            "Ctrl+Shift+L",
            self.tr("Lock now: hide all patient data until someone signs in"),
        )
        self.switch_user_action = action(
            self.tr("S&witch user"),
            self.switch_user,
            "Ctrl+Shift+U",
            self.tr("Sign out and let someone else sign in (their actions go under their name)"),
        )
        self.quit_action = action(self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)
        self.about_action = action(
            self.tr("&About {APP_NAME}").format(APP_NAME=APP_NAME), self.show_about
        )
        self.settings_action = action(
            self.tr("&Settings…"), self.show_settings, QKeySequence.StandardKey.Preferences
        )

        for act in (
            self.import_action,
            self.view_action,
            self.export_action,
            self.redact_action,
            self.delete_action,
            self.audit_action,
        ):
            toolbar.addAction(act)
        spacer = QWidget(toolbar)
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        toolbar.addWidget(spacer)
        # Who is signed in, always on screen while anyone is (issue 12, defect 5).
        self.user_label = QLabel("", toolbar)
        self.user_label.setObjectName("signedInLabel")
        self.user_label.setAccessibleName(self.tr("Signed in as"))
        toolbar.addWidget(self.user_label)
        toolbar.addAction(self.switch_user_action)
        toolbar.addAction(self.lock_action)
        self.toolbar = toolbar
        toolbar.installEventFilter(self)  # _fit_toolbar: every action stays on screen

        file_menu = self.menuBar().addMenu(self.tr("&File"))
        for act in (
            self.import_action,
            self.usb_action,
            self.settings_action,
            self.switch_user_action,
            self.lock_action,
        ):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        photo_menu = self.menuBar().addMenu(self.tr("&Photo"))
        for act in (self.view_action, self.export_action, self.redact_action, self.delete_action):
            photo_menu.addAction(act)
        patient_menu = self.menuBar().addMenu(self.tr("P&atient"))
        for act in (
            self.timeline_action,
            self.withdraw_action,
            self.patient_audit_action,
            self.audit_action,
        ):
            patient_menu.addAction(act)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)
        self._patient_actions = [
            self.timeline_action,
            self.patient_audit_action,
            self.usb_action,
            self.import_action,
            self.view_action,
            self.delete_action,
            self.audit_action,
            self.lock_action,
            self.switch_user_action,
            self.settings_action,
            self.export_action,
            self.redact_action,
            self.withdraw_action,
        ]
        self._add_governance_actions(photo_menu, patient_menu)  # issue 15 (photo_actions.py)
        self._set_icons()
        # What each action needs from the signed-in role; the rest only needs someone.
        self._needs = {
            self.import_action: (Permission.IMPORT,),
            self.usb_action: (Permission.IMPORT,),
            self.view_action: (Permission.VIEW,),
            self.export_action: (Permission.EXPORT,),
            self.redact_action: (Permission.REDACT,),
            self.delete_action: (Permission.DELETE,),
            self.withdraw_action: (Permission.DELETE,),
            self.audit_action: (Permission.AUDIT,),
            self.patient_audit_action: (Permission.AUDIT, Permission.VIEW),
        }

    def _allowed(self, act) -> bool:
        return not self.locked and all(self.services.can(p) for p in self._needs.get(act, ()))

    # -- lock / sign-in --------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        # Unlocked only once this window has shown the session the services hold.
        session = self._session
        return session is None or self.services is None or self.services.session is not session

    def _show_locked(self, hint: str = "") -> None:
        for act in self._patient_actions:
            act.setEnabled(False)
        self.user_label.setText("")
        self.lock_screen.reset(hint)
        self.stack.setCurrentWidget(self.lock_screen)
        self.idle.stop()

    def sign_in(self, staff, pin: str = "") -> None:
        """Check the PIN or password on a worker (Argon2 or a directory bind can take a
        moment; the window stays responsive), then open the session."""
        if self.services is None:
            return
        self.lock_screen.set_busy(True)
        workers.submit(
            self.services.sign_in,
            staff,
            pin,
            on_done=self._signed_in,
            # PinError, an unreachable directory, vault errors: shown, never fatal.
            on_error=lambda exc: self.lock_screen.show_error(str(exc)),
        )

    def _signed_in(self, session) -> None:
        if self.services.session is not session:
            return  # locked again (or someone else) while the check ran
        self._session = session
        self.lock_screen.reset()
        for act in self._patient_actions:
            act.setEnabled(self._allowed(act))
        self._update_photo_actions()
        who = session.actor
        self.user_label.setText(
            self.tr("Signed in: <b>{name}</b> · {role}").format(
                name=escape(who), role=escape(session.role_label)
            )
        )
        self.user_label.setToolTip(
            {
                "directory": self.tr("Signed in with the hospital directory"),
                "pin": self.tr("Signed in with an enrolled PIN"),
            }.get(session.method, self.tr("Signed in with a name that was not checked"))
        )
        self.setWindowTitle(window_title(session.method, who))
        self.statusBar().showMessage(self.tr("Signed in as {name}").format(name=session.staff.name))
        self.idle.restart()
        self.refresh()
        self._show_volume_banner()
        self.show_waiting_problems()
        self._resume_or_discard_draft(session.staff)
        self.check_waiting_batches()

    def switch_user(self) -> None:
        """One action: sign the current person out (locking the window) and ask for the next."""
        self.lock("switch user", hint=self.tr("Signed out. The next person signs in here."))

    def _resume_or_discard_draft(self, staff) -> None:
        """The intake and consent form hidden by a lock come back for the person who was
        using them; for anyone else the draft is dropped (audited) and the photos wait."""
        owner, self._draft_owner = self._draft_owner, None
        intake, dialog = self.intake_dialog, self.consent_dialog
        if owner is None or intake is None:
            return
        if _same_person(owner, staff):
            _bring_up(intake)
            if dialog is not None:
                dialog.set_locked(False)
                _bring_up(dialog)
            return
        if dialog is not None:
            self.consent_dialog = None
            dialog.close_without_decision()
            workers.submit(
                self.services.discard_consent_draft,
                intake.batch.batch_id,
                owner.name,
                on_error=self._error(
                    self.tr("Could not record that the consent draft was discarded")
                ),
            )
        self.intake_dialog = None
        intake.deleteLater()

    def lock(self, reason: str = "button", hint: str = "") -> None:
        """Hide every trace of patient data, then ask who is there."""
        if self.locked and self.stack.currentWidget() is self.lock_screen:
            return
        keep = self._hide_drafts()
        for widget in QApplication.topLevelWidgets():
            if widget is not self and widget not in keep and widget.isVisible():
                if widget.isWindow():
                    widget.close()
        self.patient_list.clear()
        self._patient_rows = []
        self._patients_shown = getattr(self, "_patients_shown", 0) + 1  # drop pending rows
        self.search_edit.clear()
        self.thumbnails.clear()
        self.details.setText("")
        self._session = None
        if self.services is not None:
            self.services.sign_out(reason)
        self.banner.hide()
        self.waiting_entry.hide()
        from picsafe_desktop.ui.viewer import clear_clipboard_if_ours

        clear_clipboard_if_ours()  # a copied photo must not outlive the session
        from picsafe_desktop.ui.body_map import forget_recent

        forget_recent()  # the body map's recent sites belong to the session
        self.statusBar().showMessage(self.tr("Locked"))
        self.setWindowTitle(window_title(sign_in_method(self.site)))
        log.info("window locked (%s)", reason)
        self._show_locked(hint)

    def _hide_drafts(self) -> set:
        """Locking hides the intake and a half-filled consent form (fields and signature stay
        in memory only, never on disk or screen) for the same person to finish later."""
        if self.intake_dialog is None:
            return set()
        if self._draft_owner is None:
            self._draft_owner = self.services.staff if self.services is not None else None
        if self.consent_dialog is not None:
            self.consent_dialog.set_locked(True)
            self.consent_dialog.hide()
        self.intake_dialog.hide()
        return {self.intake_dialog, self.consent_dialog}

    def apply_preferences(self) -> None:
        """Settings saved: the thumbnail size applies now, not at the next start."""
        from picsafe_desktop.ui.settings_dialog import read_preference

        size = int(read_preference("thumbnail_size"))
        current = self.grid.currentIndex().data(ItemIdRole)
        self.thumbnails.set_size(size)
        self.grid.setIconSize(QSize(size, size))
        row = self.thumbnails.row_of(current) if current else -1
        if row >= 0:
            self.grid.setCurrentIndex(self.thumbnails.index(row))

    def ask_before_deleting(self) -> bool:
        """The "Ask before deleting photos" preference (Settings)."""
        from picsafe_desktop.ui.settings_dialog import read_preference

        return bool(read_preference("confirm_delete"))

    # -- content ---------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.locked:
            return
        if not self.services.can(Permission.VIEW):
            # Reception and IT sign in without seeing patients or photos.
            session = self.services.session
            self.empty_state_label.setText(
                self.tr(
                    "<h2>Signed in as {name} ({role})</h2>"
                    "<p>Your role does not show patients or photos. {what}</p>"
                ).format(
                    name=escape(session.staff.name),
                    role=escape(session.role_label),
                    what=self.tr("You can import photos and record consent.")
                    if self.services.can(Permission.IMPORT)
                    else self.tr("Vault checks and the audit log are in the menus."),
                )
            )
            self.stack.setCurrentWidget(self.empty_state)
            return
        self.empty_state_label.setText(self.tr(EMPTY_STATE_TEXT))
        workers.submit(
            self.services.patients,
            on_done=self._show_patients,
            on_error=self._error(self.tr("Could not list patients")),
        )

    def _show_patients(self, patients) -> None:
        if self.locked:
            return
        current = self.patient_list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole).mrn if current else None
        self.patient_list.clear()
        self._patient_rows = []
        self._patients_shown = getattr(self, "_patients_shown", 0) + 1
        if not patients:
            self.thumbnails.set_items([])
            self.details.setText("")
            self.stack.setCurrentWidget(self.empty_state)
            return
        self.stack.setCurrentWidget(self.browser)
        self._add_patient_rows(patients, 0, keep, self._patients_shown)

    def _add_patient_rows(self, patients, start: int, keep, generation: int) -> None:
        """PATIENT_CHUNK rows per turn of the event loop (issue 17: building 10,000 rows in
        one go stalled the window at sign-in); the first patient is selected from the first
        chunk on, so their photos load while the rest of the list is built."""
        if generation != self._patients_shown or self.locked:
            return  # refreshed or locked meanwhile
        text = self.search_edit.text()
        end = min(len(patients), start + PATIENT_CHUNK)
        self.patient_list.setUpdatesEnabled(False)
        for patient in patients[start:end]:
            label = (
                f"{patient.name or '(no name)'}\nMRN {patient.mrn} · {patient.photo_count} photos"
            )
            item = QListWidgetItem(label, self.patient_list)
            item.setData(Qt.ItemDataRole.UserRole, patient)
            hide = not patient.matches(text)
            if hide:
                item.setHidden(True)
            self._patient_rows.append([item, patient, hide])
            if patient.mrn == keep:
                self.patient_list.setCurrentItem(item)
        self.patient_list.setUpdatesEnabled(True)
        if end < len(patients):
            if keep is None and self.patient_list.currentItem() is None:
                self.patient_list.setCurrentRow(0)
            QTimer.singleShot(0, lambda: self._add_patient_rows(patients, end, keep, generation))
        elif self.patient_list.currentItem() is None:
            self.patient_list.setCurrentRow(0)

    def _filter_patients(self, text: str) -> None:
        # Only rows whose visibility changes are touched (and nothing is read back from Qt):
        # a keystroke over 10,000 patients stays well under a frame.
        for row in self._patient_rows:
            hide = not row[1].matches(text)
            if hide != row[2]:
                row[0].setHidden(hide)
                row[2] = hide

    def _patient_selected(self, current, _previous=None) -> None:
        if current is None or self.locked:
            self.thumbnails.set_items([])
            return
        patient = current.data(Qt.ItemDataRole.UserRole)
        workers.submit(
            self.services.photos,
            patient.consent_ids,
            on_done=self._show_photos,
            on_error=self._error(self.tr("Could not list photos")),
        )

    def _show_photos(self, items) -> None:
        """Replace the grid's photos, keeping the photo the user had selected (else the
        first, so the details pane is never blank or stale)."""
        if self.locked:
            return
        current = self.grid.currentIndex().data(ItemIdRole)
        self.thumbnails.set_items(items)
        row = self.thumbnails.row_of(current) if current else -1
        if row < 0 and items:
            row = 0
        if row >= 0:
            self.grid.setCurrentIndex(self.thumbnails.index(row))
        else:
            self.details.setText("")

    def _details_link(self, link: str) -> None:
        """ "Show the original photo" in a redacted copy's details."""
        if link.startswith("item:"):
            row = self.thumbnails.row_of(link[5:])
            if row >= 0:
                self.grid.setCurrentIndex(self.thumbnails.index(row))
            else:
                self.statusBar().showMessage(self.tr("The original photo was destroyed."), 8000)

    def _caption_for(self, item_id: str):
        """Grid caption: when the photo was taken (clinically useful), if the camera said;
        a redacted copy is badged so it never passes for the original."""
        meta = self.services.metadata(item_id)
        moment = _taken(meta.get("capture_time"))
        caption = self.tr("Taken {moment:%d %b %Y %H:%M}").format(moment=moment) if moment else ""
        if meta.get("redacted_from"):
            copy = self.tr("Redacted copy · {caption}").format(caption=caption).rstrip(" ·")
            return copy, self.tr("REDACTED COPY")
        return caption

    def _consent(self, consent_id: str):
        return self.services.read_consent(consent_id)  # audited once per sign-in

    def _load_thumbnail(self, item_id: str) -> bytes:
        return self.services.thumbnail(item_id)

    def selected_item_ids(self) -> list[str]:
        return [i.data(ItemIdRole) for i in self.grid.selectionModel().selectedIndexes()]

    def _update_photo_actions(self) -> None:
        has_photo = not self.locked and self.grid.currentIndex().isValid()
        for act in (
            self.view_action,
            self.export_action,
            self.redact_action,
            self.delete_action,
            self.withdraw_action,
        ):
            act.setEnabled(has_photo and self._allowed(act))

    def _photo_selected(self, current, _previous=None) -> None:
        self._update_photo_actions()
        if not current.isValid() or self.locked:
            self.details.setText("")
            return
        item = self.thumbnails.item(current.row())
        workers.submit(
            self._details_for,
            item,
            on_done=self.details.setText,
            on_error=self._error(self.tr("Could not read photo details")),
        )

    def _details_for(self, item) -> str:
        meta = self.services.metadata(item.item_id)
        consent = self._consent(item.consent_id) if item.consent_id else None
        width, height = meta.get("width", "?"), meta.get("height", "?")
        if meta.get("orientation") in (5, 6, 7, 8):
            width, height = height, width  # as shown (upright), not as stored
        rows = [
            (self.tr("Captured"), _when(meta.get("capture_time"))),
            (self.tr("Size"), self.tr("{width} × {height} px").format(width=width, height=height)),
            (self.tr("Imported"), item.created_at.strftime("%d %b %Y %H:%M")),
        ]
        link = ""
        if meta.get("redacted_from"):
            n = meta.get("redactions")
            hidden = self.tr("%n area(s) hidden", "", n) if isinstance(n, int) else "?"
            rows.insert(0, (self.tr("Redacted copy"), hidden))
            link = self.tr("<p><a href='item:{item}'>Show the original photo</a></p>").format(
                item=meta["redacted_from"]
            )
        if consent:
            uses = ", ".join(sorted(u.value for u in consent.uses))
            rows += [
                (
                    self.tr("Consent"),
                    self.tr("recorded {when:%d %b %Y %H:%M} by {who}").format(
                        when=consent.obtained_at, who=consent.obtained_by.name
                    ),
                ),
                (self.tr("Uses allowed"), uses),
                (self.tr("Body site"), _site_words(meta, consent.body_site)),  # photo's own first
                (self.tr("Indication"), consent.indication or "—"),
            ]
            rows += self._governance_rows(meta, consent)  # issue 15 (photo_actions.py)
        pacs = self.services.pacs_status(item.item_id)  # issue 16: storage commitment
        if pacs:
            rows.append(("PACS", pacs))
        from html import escape

        cells = "".join(
            f"<tr><td><b>{escape(k)}</b></td><td>{escape(str(v))}</td></tr>" for k, v in rows
        )
        return f"<table cellspacing=4>{cells}</table>{link}"

    # -- intake and consent ----------------------------------------------------------------
    def check_waiting_batches(self) -> None:
        """Open the intake step while any batch waits (after import, sign-in and start-up)."""
        if self.locked or self.intake_dialog is not None or self._checking_batches:
            return
        if not self.services.can(Permission.CONSENT):
            return  # IT: the batch waits for someone who may record consent
        self._checking_batches = True
        workers.submit(
            self._first_waiting,
            on_done=self._open_intake,
            on_error=lambda exc: (
                setattr(self, "_checking_batches", False),
                self._error(self.tr("Could not check for photos waiting for consent"))(exc),
            ),
        )

    def _first_waiting(self):
        self._unreadable_waiting = []  # read on the GUI thread once this returns
        for number, batch in enumerate(self.services.waiting_batches()):
            intake = self.services.prepare_intake(batch, scan=False)  # scanned after it opens
            self._unreadable_waiting += intake.unreadable
            if intake.sets:  # a batch that held only a wristband photo is settled
                return intake, len(self.services.waiting_batches()) - number
        return None

    def _open_intake(self, found) -> None:
        self._checking_batches = False
        unreadable, self._unreadable_waiting = getattr(self, "_unreadable_waiting", []), []
        if unreadable:
            self.show_import_problems(
                self.tr(
                    "%n photo(s) waiting for consent cannot be read; they were left as they "
                    "are. Call IT before anything else.",
                    "",
                    len(unreadable),
                ),
                unreadable,
                note=self.tr("The other photos are not affected."),
            )
        if found is None and not self.locked and self.intake_dialog is None:
            self.waiting_entry.show_count(0, [])
            self.report_pending_problems()  # nothing waits for consent: report now
        if found is None or self.locked or self.intake_dialog is not None:
            return
        from picsafe_desktop.ui.intake import IntakeDialog

        batch, waiting = found
        dialog = IntakeDialog(batch, waiting, parent=self)
        dialog.consent_requested.connect(self._open_consent)
        dialog.destroy_requested.connect(self._destroy_not_clinical)
        dialog.finished.connect(lambda _r, d=dialog: self._intake_finished(d))
        self._lock_shortcut(dialog)
        self.intake_dialog = dialog
        self.waiting_entry.hide()
        _bring_up(dialog)
        self.start_wristband_scan(batch)  # issue 17: in the background, ui/wristband_scan.py
        self.preload_consent_form()

    def _intake_finished(self, dialog) -> None:
        if self.intake_dialog is not dialog:
            return
        self.intake_dialog = None
        dialog.deleteLater()
        self.recount_phone_cleanup()
        if dialog.remaining():
            self.count_waiting(announce=True)
            self.report_pending_problems()
        elif not self.locked:
            self.check_waiting_batches()

    def count_waiting(self, announce: bool = False) -> None:
        """Show "N photos waiting for consent" (all batches) while the intake is closed; with
        `announce`, say it in the status bar too. One count, from the vault, for both: the
        intake's own list holds only its batch, so it once said 2 where the entry said 1002."""

        def counted(batches) -> None:
            if not self.locked and self.intake_dialog is None:
                photos = sum(len(b.item_ids) for b in batches)
                self.waiting_entry.show_count(photos, [b.imported_by for b in batches])
                if announce and photos:
                    self.statusBar().showMessage(
                        self.tr(
                            "%n photo(s) still wait for consent: open them from the bottom "
                            "right, or at the next sign-in.",
                            "",
                            photos,
                        ),
                        10000,
                    )

        workers.submit(self.services.waiting_batches, on_done=counted, on_error=lambda _e: None)

    def reopen_waiting(self) -> None:
        """The waiting entry clicked: the intake opens again on the oldest waiting batch."""
        self.waiting_entry.hide()
        self.check_waiting_batches()

    def _lock_shortcut(self, dialog) -> None:
        # The dialogs are modal, so the window's Lock shortcut must work inside them too.
        lock_here = QShortcut(self.lock_action.shortcut(), dialog)
        lock_here.activated.connect(lambda: self.lock("button"))
        # The intake and the consent form on top of it each carry one: either locks.
        lock_here.activatedAmbiguously.connect(lambda: self.lock("button"))

    def _open_consent(self, item_ids: list, mrn: str) -> None:
        intake = self.intake_dialog
        if intake is None or self.locked or self.consent_dialog is not None:
            return
        from picsafe_desktop import consent
        from picsafe_desktop.ui.consent_dialog import ConsentDialog

        wordings = consent.site_wordings(self.site)  # by language, retention paragraph added
        thumbs = [intake.batch.thumbnails.get(i, b"") for i in item_ids]
        dialog = ConsentDialog(
            thumbs,
            self.services.staff,
            wordings,
            parent=intake,
            mrn=mrn or "",
            review_at_age=self.site.consent.review_at_age,
            # issue 16: check the patient against the worklist / FHIR server when configured
            lookup=self.services.lookup_patient if self.services.lookup_configured() else None,
        )
        imported_by = intake.batch.imported_by
        dialog.setWindowTitle(
            self.tr("Consent — %n photo(s) imported by {who}", "", len(item_ids)).format(
                who=imported_by
            )
            if imported_by
            else self.tr("Consent — %n photo(s)", "", len(item_ids))
        )
        batch_id = intake.batch.batch_id
        # A list the wristband scan may still shorten while the form is open (issue 17).
        self._consent_ids, self._consent_shown = (ids := list(item_ids)), list(item_ids)
        dialog.finished.connect(
            lambda _r, d=dialog, ids=ids: self._consent_finished(d, batch_id, ids)
        )
        self._lock_shortcut(dialog)
        self.consent_dialog = dialog
        _bring_up(dialog)

    def _consent_finished(self, dialog, batch_id: str, item_ids: list) -> None:
        if self.consent_dialog is dialog:
            self.consent_dialog = None
        dialog.deleteLater()
        n = len(item_ids)
        if dialog.result_record is not None:
            # Photos given a body site of their own at intake keep it (issue 12).
            sites = self.intake_dialog.sites_for(item_ids) if self.intake_dialog else {}
            # Read on the GUI thread; answers trimmed to the photos the wristband scan left.
            record = self.answers_for_kept(dialog.result_record, item_ids)
            site = dialog.body_site()
            task = (
                lambda: self.services.record_consent(batch_id, record, item_ids, site, sites=sites),
            )
            message = self.tr("Consent recorded for %n photo(s)", "", n)
        elif dialog.refused:
            task = (
                lambda: self.services.refuse_consent(
                    batch_id, item_ids, mrn=dialog.refused_mrn, reason=dialog.refusal_reason
                ),
            )
            message = self.tr("Consent refused: %n photo(s) destroyed", "", n)
        else:
            return
        self._settle(task, item_ids, message, self.tr("Could not save the consent decision"))

    def _destroy_not_clinical(self, item_ids: list) -> None:
        intake = self.intake_dialog
        if intake is None:
            return
        n = len(item_ids)
        if self.ask_before_deleting() and not self._confirm_destruction(
            self.tr("Destroy photos"),
            self.tr(
                "Destroy %n photo(s) that are not clinical or not of this patient? They are "
                "erased from the vault for good; no copy remains.",
                "",
                n,
            ),
        ):
            return
        task = (self.services.destroy_not_clinical, intake.batch.batch_id, item_ids)
        self._settle(
            task,
            item_ids,
            self.tr("%n photo(s) destroyed", "", n),
            self.tr("Could not destroy the photos"),
        )

    def _settle(self, task, item_ids: list, message: str, failure: str) -> None:
        """Run a consent decision on a worker; then take its photos out of the intake."""
        intake = self.intake_dialog
        if intake is not None:
            intake.set_busy("Saving…")

        def done(_result) -> None:
            self.statusBar().showMessage(message, 8000)
            if self.intake_dialog is not None:
                self.intake_dialog.remove(item_ids)
                self.intake_dialog.set_status(message + ".")
                if not self.intake_dialog.remaining():
                    self.intake_dialog.done(0)
            self.refresh()

        def failed(exc) -> None:
            if self.intake_dialog is not None:
                self.intake_dialog.set_status("")
            self._error(failure)(exc)

        workers.submit(*task, on_done=done, on_error=failed)

    def about_text(self) -> str:
        return (
            f"<b>{APP_NAME}</b> {__version__}<br>"
            "De-identifies, encrypts and records consent for clinical photos, "
            "and sends them only into the medical record."
        )

    def show_about(self) -> None:
        QMessageBox.about(
            self, self.tr("About {APP_NAME}").format(APP_NAME=APP_NAME), self.about_text()
        )

    # -- plumbing --------------------------------------------------------------------------
    def _error(self, what: str):
        def show(exc: Exception) -> None:
            log.warning(self.tr("%s: %s"), what, type(exc).__name__)
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                APP_NAME,
                f"{what}.\n\n{exc}",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

        return show

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event) -> None:  # noqa: N802
        QSettings().setValue("window/geometry", self.saveGeometry())
        if self.outbox_sender is not None:
            self.outbox_sender.stop()
        if self.services is not None and not self.locked:
            self.services.sign_out("quit")
        super().closeEvent(event)
