"""Child process for test_qt_refcount: heavy Qt signal traffic, then the reference counts.

A PySide6 build that drops a reference to True or None on each emit (6.12.0 on Python 3.11)
aborts the interpreter after a few thousand calls, so this runs apart from the test process:
an abort fails that test instead of killing the suite. Prints one JSON line on success.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem

EMITS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
HIDES = 20_000


class Worker(QObject):
    """Emits from its own thread, so every delivery crosses a queued connection."""

    value = Signal(int)
    flag = Signal(bool)
    finished = Signal()

    @Slot()
    def run(self) -> None:
        for n in range(EMITS):
            self.value.emit(n)
            if n % 10 == 0:
                self.flag.emit(n % 20 == 0)
        self.finished.emit()


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.flags = 0
        self.last = -1

    @Slot(int)
    def on_value(self, n: int) -> None:
        self.count += 1
        self.last = n

    @Slot(bool)
    def on_flag(self, value: bool) -> None:
        self.flags += 1

    @Slot()
    def on_finished(self) -> None:
        # Quit from the GUI thread: QGuiApplication.quit() called on the worker's thread
        # waits for the GUI thread, which waits for the GIL that worker holds.
        QApplication.quit()


def main() -> int:
    app = QApplication(sys.argv[:1])
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)

    receiver = Receiver()
    thread = QThread()
    worker = Worker()
    worker.moveToThread(thread)
    worker.value.connect(receiver.on_value)  # receiver lives in the GUI thread: queued
    worker.flag.connect(receiver.on_flag)
    worker.finished.connect(receiver.on_finished)
    thread.started.connect(worker.run)
    thread.start()
    app.exec()
    thread.quit()
    thread.wait()
    app.processEvents()  # deliver whatever was still queued when quit() came through

    listing = QListWidget()
    items = [QListWidgetItem(f"photo {n}", listing) for n in range(200)]
    for n in range(HIDES):
        items[n % len(items)].setHidden(n % 2 == 0)
    hidden = sum(item.isHidden() for item in items)

    print(
        json.dumps(
            {
                "received": receiver.count,
                "flags": receiver.flags,
                "last": receiver.last,
                "hidden": hidden,
                "true_drift": sys.getrefcount(True) - true_before,
                "none_drift": sys.getrefcount(None) - none_before,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
