"""Lock screen with staff sign-in, idle auto-lock, and lock when the OS session locks or sleeps."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    SLOT,
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtDBus import QDBusConnection
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from picsafe_desktop.model import Staff
from picsafe_desktop.ui import look, winlock

log = logging.getLogger(__name__)

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
}


class IdleMonitor(QObject):
    """Emits `idle` after `minutes` without keyboard, mouse, touch or pen input in the app."""

    idle = Signal()

    def __init__(self, app, minutes: float, parent=None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(minutes * 60_000))
        self._timer.timeout.connect(self.idle)
        app.installEventFilter(self)

    def set_interval_ms(self, ms: int) -> None:
        self._timer.setInterval(ms)
        self.restart()

    def restart(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in _ACTIVITY and self._timer.isActive():
            self._timer.start()
        return False


class SessionLockWatcher(QObject):
    """Locks when the desktop session locks (screensaver) or the machine goes to sleep.

    Listens on D-Bus to org.freedesktop.ScreenSaver / org.gnome.ScreenSaver `ActiveChanged`
    (session bus) and logind's `PrepareForSleep` and session `Lock` (system bus); on Windows
    to session notifications and sleep through a native event filter (`winlock.py`). Where none
    is available (minimal desktops) the idle timer and the Lock button still protect.
    """

    session_locked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.listening: list[str] = []
        session = QDBusConnection.sessionBus()
        if session.isConnected():
            for service, path in (
                ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver"),
                ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver"),
            ):
                if session.connect(
                    "", path, service, "ActiveChanged", self, SLOT("_screensaver(bool)")
                ):
                    self.listening.append(service)
        system = QDBusConnection.systemBus()
        if system.isConnected():
            if system.connect(
                "org.freedesktop.login1",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager",
                "PrepareForSleep",
                self._sleep,
            ):
                self.listening.append("login1.PrepareForSleep")
            if system.connect(
                "org.freedesktop.login1",
                "",
                "org.freedesktop.login1.Session",
                "Lock",
                self._logind_lock,
            ):
                self.listening.append("login1.Lock")
        if sys.platform == "win32":  # no D-Bus there: Windows tells a window (winlock.py)
            self.windows = winlock.WindowsSessionListener(self.session_locked.emit)
            self.listening.append("Windows session notifications")

    @Slot(bool)
    def _screensaver(self, active: bool) -> None:
        if active:
            self.session_locked.emit("screensaver")

    @Slot(bool)
    def _sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:
            self.session_locked.emit("sleep")

    @Slot()
    def _logind_lock(self) -> None:
        self.session_locked.emit("session lock")


_INTRO = {
    "directory": QT_TRANSLATE_NOOP(
        "LockScreen", "Sign in with your hospital user name and password."
    ),
    "pin": QT_TRANSLATE_NOOP("LockScreen", "Sign in with your staff ID and PIN."),
    "unverified": QT_TRANSLATE_NOOP("LockScreen", "Sign in to see and import clinical photos."),
}
NOT_CHECKED = QT_TRANSLATE_NOOP("LockScreen", "names not checked")


def window_title(method: str, who: str = "") -> str:
    """The main window's title: who is signed in, and on a PC where typed names are allowed
    ([staff] allow_unverified_names), that nobody checked them - locked or not."""
    from picsafe_desktop import APP_NAME

    parts = [APP_NAME] + ([who] if who else [])
    title = " — ".join(parts)
    if method == "unverified":
        note = QCoreApplication.translate("LockScreen", NOT_CHECKED)
        title += f" ({note})" if who else f" — {note}"
    return title


class LockScreen(QWidget):
    """Shown whenever nobody is signed in. Holds no patient data, and no trace of who was
    signed in before: every sign-in starts from an empty form (issue 12, defect 5).

    The form depends on how this PC checks staff (services.sign_in_method): a directory user
    name and password, an enrolled staff ID and PIN, or (nothing set up) a typed name.
    """

    sign_in_requested = Signal(object, str)  # Staff, PIN or password

    def __init__(self, method: str | bool, parent=None, notice=None) -> None:
        super().__init__(parent)
        if isinstance(method, bool):  # the old require_pin switch
            method = "pin" if method else "unverified"
        self.method = method
        # () -> why nobody can sign in and what IT runs, or "" (services.sign_in_notice)
        self._notice = notice
        self.setObjectName("LockScreen")
        outer = QVBoxLayout(self)
        card = QFrame(self)
        card.setObjectName("lockCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setFixedWidth(440)
        self._card = card
        layout = QVBoxLayout(card)
        # Heading and intro apart: one rich-text label with both was cut off mid-sentence.
        title = QLabel(self.tr("<h2>PicSafe Desktop is locked</h2>"), card)
        layout.addWidget(title)
        intro = QLabel(
            self.tr("{intro} Every action is recorded under your name.").format(
                intro=self.tr(_INTRO[method])
            ),
            card,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.hint_label = QLabel("", card)
        self.hint_label.setObjectName("hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.hide()
        layout.addWidget(self.hint_label)
        # A vault nobody can sign in to (no staff enrolled): say exactly what IT runs.
        self.notice_label = QLabel("", card)
        self.notice_label.setObjectName("setupNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_label.setStyleSheet(look.error_style(" font-weight: bold"))
        self.notice_label.hide()
        layout.addWidget(self.notice_label)
        form = QFormLayout()
        self.name_edit = QLineEdit(card)
        self.name_edit.setAccessibleName(self.tr("Your name"))
        self.staff_id_edit = QLineEdit(card)
        self.staff_id_edit.setAccessibleName(
            self.tr("User name") if method == "directory" else self.tr("Staff ID")
        )
        self.role_edit = QLineEdit(card)
        self.role_edit.setAccessibleName(self.tr("Role"))
        self.role_edit.setPlaceholderText(self.tr("e.g. Staff nurse, Registrar"))
        self.pin_edit = QLineEdit(card)
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setAccessibleName(
            self.tr("Password") if method == "directory" else self.tr("PIN")
        )
        if method == "unverified":
            form.addRow(self.tr("&Name:"), self.name_edit)
            form.addRow(self.tr("Staff &ID:"), self.staff_id_edit)
            form.addRow(self.tr("&Role:"), self.role_edit)
            self.pin_edit.hide()
        else:
            form.addRow(
                self.tr("&User name:") if method == "directory" else self.tr("Staff &ID:"),
                self.staff_id_edit,
            )
            form.addRow(
                self.tr("&Password:") if method == "directory" else self.tr("&PIN:"), self.pin_edit
            )
            self.name_edit.hide()
            self.role_edit.hide()
        layout.addLayout(form)
        if method == "unverified":
            note = QLabel(
                self.tr(
                    "<b>Names not checked</b> on this PC: anyone can type any name, so the audit "
                    "log cannot say who acted. For a single-user evaluation PC only; on a ward, "
                    "IT enrols staff PINs or connects the hospital directory (security guide)."
                ),
                card,
            )
            note.setObjectName("unverifiedNote")
            note.setWordWrap(True)
            layout.addWidget(note)
        self.error_label = QLabel("", card)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setStyleSheet(look.error_style())
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        self.sign_in_button = QPushButton(self.tr("&Sign in"), card)
        look.primary(self.sign_in_button, "sign-in")
        self.sign_in_button.setAccessibleName(self.tr("Sign in"))
        self.sign_in_button.clicked.connect(self._submit)
        for edit in (self.name_edit, self.staff_id_edit, self.role_edit, self.pin_edit):
            edit.returnPressed.connect(self._submit)
        layout.addWidget(self.sign_in_button)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def reset(self, hint: str = "") -> None:
        """Empty every field: the next person types who they are (no pre-filled last user)."""
        for edit in (self.name_edit, self.staff_id_edit, self.role_edit, self.pin_edit):
            edit.clear()
        self.error_label.clear()
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
        self.set_busy(False)
        self._show_notice()
        first = self.name_edit if self.method == "unverified" else self.staff_id_edit
        first.setFocus()

    def _show_notice(self) -> None:
        notice = ""
        if self._notice is not None:
            try:
                notice = self._notice()
            except Exception as exc:  # noqa: BLE001 - sign-in itself still checks; never fatal
                log.warning(self.tr("could not check who may sign in (%s)"), type(exc).__name__)
        # The form stays: every attempt is still checked (and refused) and audited.
        self.notice_label.setText(notice)
        self.notice_label.setVisible(bool(notice))
        self._fit()

    def _fit(self) -> None:
        """Tall enough for every wrapped line at the card's fixed width (a centred card is
        otherwise given its one-line height, and long messages were cut off)."""
        layout = self._card.layout()
        layout.activate()
        self._card.setMinimumHeight(layout.totalHeightForWidth(self._card.width()))

    def set_busy(self, busy: bool) -> None:
        """While the PIN or password is being checked (on a worker), no second submit."""
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText(self.tr("Checking…") if busy else self.tr("&Sign in"))

    def show_error(self, message: str) -> None:
        """A refusal, in the words of the check (a back-off says how long to wait)."""
        self.set_busy(False)
        self.error_label.setText(message)
        self.pin_edit.clear()
        self._show_notice()  # still nobody enrolled, or by now someone is (and refits)

    def _submit(self) -> None:
        if not self.sign_in_button.isEnabled():
            return
        if self.method == "unverified":
            staff = Staff(
                self.name_edit.text().strip(),
                self.role_edit.text().strip(),
                self.staff_id_edit.text().strip(),
            )
            if not staff.name:
                self.show_error(self.tr("Enter your name to sign in."))
                self.name_edit.setFocus()
                return
        else:
            staff = Staff("", "", self.staff_id_edit.text().strip())
            if not staff.staff_id:
                self.show_error(
                    self.tr("Enter your user name to sign in.")
                    if self.method == "directory"
                    else self.tr("Enter your staff ID to sign in.")
                )
                self.staff_id_edit.setFocus()
                return
        self.error_label.clear()
        self.set_busy(True)
        self.sign_in_requested.emit(staff, self.pin_edit.text())
