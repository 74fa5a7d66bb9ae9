"""A banner while the OS keyring stops answering mid-session (issue 13).

The vault keeps working without the keyring (its master key is in memory): imports go on and
nothing is lost, but its state anchor - written to the keyring after each change - falls
behind until the keyring answers again, and the next start-up needs the keyring to read the
master key. So the ward must know now, not at the next start: the banner names the problem and
what to do, and goes away by itself when the vault's retried keyring write succeeds.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from picsafe_desktop.ui import look

POLL_MS = 1000  # a flag read on the GUI thread; the keyring itself is retried off it


class KeyringBanner(QFrame):
    def __init__(self, trouble, parent: QWidget | None = None) -> None:
        """`trouble()`: True while the keyring does not answer (Services.keyring_trouble)."""
        super().__init__(parent)
        self._trouble = trouble
        self.setObjectName("keyringBanner")
        self.setStyleSheet(
            look.notice_style("#keyringBanner", "border-bottom:1px solid #e0c060;")
        )
        row = QHBoxLayout(self)
        self.label = QLabel(
            self.tr(
                "<b>The computer's keyring has stopped answering.</b> Photos are still "
                "imported and kept encrypted in the vault, but PicSafe cannot save the vault's "
                "latest state in the keyring, and will not start again until the keyring "
                "answers. Unlock the keyring, or log out and in again; if this message stays, "
                "call IT. It goes away by itself once the keyring answers."
            ),
            self,
        )
        self.label.setWordWrap(True)
        self.setAccessibleName(self.tr("Keyring problem"))
        row.addWidget(self.label, 1)
        self.hide()
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        try:
            trouble = bool(self._trouble())
        except Exception:  # noqa: BLE001 - a closed vault at shutdown: nothing to show
            trouble = False
        self.setVisible(trouble)
