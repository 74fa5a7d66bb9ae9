"""Lock screen with staff sign-in, idle auto-lock, and lock when the OS session locks or sleeps."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import SLOT, QEvent, QObject, Qt, QTimer, Signal, Slot
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
from picsafe_desktop.ui import winlock

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


class LockScreen(QWidget):
    """Shown whenever nobody is signed in. Holds no patient data; the form asks who you are."""

    sign_in_requested = Signal(object, str)  # Staff, PIN

    def __init__(self, require_pin: bool, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("LockScreen")
        outer = QVBoxLayout(self)
        card = QFrame(self)
        card.setObjectName("lockCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setFixedWidth(440)
        layout = QVBoxLayout(card)
        title = QLabel(
            "<h2>PicSafe Desktop is locked</h2>"
            "<p>Sign in to see and import clinical photos. Every action is recorded "
            "under your name.</p>",
            card,
        )
        title.setWordWrap(True)
        layout.addWidget(title)
        form = QFormLayout()
        self.name_edit = QLineEdit(card)
        self.name_edit.setAccessibleName("Your name")
        self.staff_id_edit = QLineEdit(card)
        self.staff_id_edit.setAccessibleName("Staff ID")
        self.role_edit = QLineEdit(card)
        self.role_edit.setAccessibleName("Role")
        self.role_edit.setPlaceholderText("e.g. Staff nurse, Registrar")
        form.addRow("&Name:", self.name_edit)
        form.addRow("Staff &ID:", self.staff_id_edit)
        form.addRow("&Role:", self.role_edit)
        self.pin_edit = QLineEdit(card)
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setAccessibleName("PIN")
        if require_pin:
            form.addRow("&PIN:", self.pin_edit)
        else:
            self.pin_edit.hide()
        layout.addLayout(form)
        self.error_label = QLabel("", card)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        self.sign_in_button = QPushButton("&Sign in", card)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.clicked.connect(self._submit)
        for edit in (self.name_edit, self.staff_id_edit, self.role_edit, self.pin_edit):
            edit.returnPressed.connect(self._submit)
        layout.addWidget(self.sign_in_button)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def prefill(self, staff: Staff | None) -> None:
        """Keep who was signed in (not PHI) so unlocking after a break is one PIN or one click."""
        if staff:
            self.name_edit.setText(staff.name)
            self.staff_id_edit.setText(staff.staff_id)
            self.role_edit.setText(staff.role)
        self.pin_edit.clear()
        self.error_label.clear()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.pin_edit.clear()

    def _submit(self) -> None:
        staff = Staff(
            self.name_edit.text().strip(),
            self.role_edit.text().strip(),
            self.staff_id_edit.text().strip(),
        )
        if not staff.name:
            self.show_error("Enter your name to sign in.")
            self.name_edit.setFocus()
            return
        self.sign_in_requested.emit(staff, self.pin_edit.text())
