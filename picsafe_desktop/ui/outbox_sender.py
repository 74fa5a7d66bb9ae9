"""The window's outbox sender: every `[outbox] poll_seconds` it delivers what is due on a worker
thread (never the GUI thread) and keeps a status-bar line like "3 photos waiting for the PACS";
the same pass forwards new audit events to the audit repository (ATNA, export/atna.py).

The line holds counts only, no patient data, so it stays visible while the window is locked.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QMainWindow

from picsafe_desktop.ui import workers

log = logging.getLogger(__name__)


class OutboxSender(QObject):
    def __init__(self, window: QMainWindow, services, poll_seconds: float = 15.0) -> None:
        super().__init__(window)
        self.services = services
        self.label = QLabel("", window)
        self.label.setObjectName("outboxStatus")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self._busy = False
        self.timer = QTimer(self)
        self.timer.setInterval(int(poll_seconds * 1000))
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        QTimer.singleShot(0, self.tick)  # show what waits from the last session at once

    def tick(self, force: bool = False) -> None:
        """Deliver what is due, then refresh the line; one pass at a time."""
        if self._busy:
            return
        self._busy = True
        workers.submit(self._pass, force, on_done=self._show, on_error=self._failed)

    def _pass(self, force: bool) -> str:
        self.services.outbox_deliver(force=force)
        problem = self.services.atna_pass()  # audit events to the repository (ATNA)
        if problem:
            log.info("audit events wait in the local spool")
        return self.services.outbox_banner()

    def _show(self, text: str) -> None:
        self._busy = False
        self.label.setText(text)
        self.label.setVisible(bool(text))

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        # A closed or read-only vault, a full disk: the next pass tries again.
        log.warning(self.tr("outbox pass failed (%s)"), type(exc).__name__)

    def stop(self) -> None:
        self.timer.stop()
