"""The real window on the scale vaults of bench_scale.py (10,000 and 100,000 photos; 1,000 and
10,000 patients): sign in until the patient list and the first patient's photos are shown, then
filter the patient list (setHidden over every row) as a person types. A 5 ms QTimer heartbeat
on the Qt event loop gives the longest stall of the GUI thread in each phase.

Run (X display and keyring from the test services; builds the vaults if missing):
    scripts/with-test-services .venv/bin/python bench/bench_scale_window.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import time

from bench_scale import PER_PATIENT, SERVICE, STAFF_ID, STAFF_PIN, enrol_bench_staff, ensure_built

TYPED = ("B", "BX", "BX0", "BX00", "BX004", "BX0042", "", "Patient 07", "zzz", "")


class Heartbeat:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0


def wait(app, until, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not until():
        if time.perf_counter() > end:
            raise SystemExit("timed out waiting for the window")
        app.processEvents()
        time.sleep(0.001)


def run(items: int) -> dict[str, float]:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from picsafe_desktop import config
    from picsafe_desktop.model import Staff
    from picsafe_desktop.services import Services
    from picsafe_desktop.ui.main_window import MainWindow
    from picsafe_desktop.vault import Vault

    root = ensure_built(items)
    path = root / "vault"
    Vault.recover(path, (root / "recovery-code.txt").read_text(), SERVICE, actor="bench")
    site = config.from_dict(
        {
            "vault": {"path": str(path)},
            "logging": {"file": str(root / "bench.log")},
            # No "allow_unverified_names": the bench enrols a staff member and signs in with
            # the PIN (with unverified names on, an empty name is refused: "Enter your name").
        }
    )
    app = QApplication.instance()
    vault = Vault.open(path, SERVICE)
    enrol_bench_staff(vault)  # sign-in checks a staff ID and PIN
    services = Services(site, vault)
    window = MainWindow(site, services)
    window.resize(1366, 768)
    window.show()
    wait(app, lambda: window.isVisible())
    beat = Heartbeat()
    out = {}
    patients = items // PER_PATIENT

    beat.reset()
    start = time.perf_counter()
    window.sign_in(Staff("", "", STAFF_ID), STAFF_PIN)
    wait(
        app,
        lambda: window.patient_list.count() == patients and window.thumbnails.rowCount() > 0,
    )
    out["sign_in"] = time.perf_counter() - start
    out["sign_in_stall"] = beat.worst

    worst_filter = 0.0
    beat.reset()
    start = time.perf_counter()
    for text in TYPED:
        window.search_edit.setText(text)  # textChanged -> _filter_patients, as when typing
        app.processEvents()
    out["filter"] = (time.perf_counter() - start) / len(TYPED)
    worst_filter = beat.worst
    out["filter_stall"] = worst_filter
    shown = sum(not window.patient_list.item(r).isHidden() for r in range(patients))
    assert shown == patients, shown

    window.close()
    QThreadPool.globalInstance().waitForDone(30000)
    services.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    from picsafe_desktop.app import create_qt_app

    create_qt_app()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {n: run(n) for n in sizes}
    small, large = sizes[0], sizes[-1]
    print(f"\n{'window':48} {small:>9,} {large:>9,}  ratio")
    for key, label in (
        ("sign_in", "sign in -> patient list and first photos shown"),
        ("sign_in_stall", "  longest GUI stall meanwhile (5 ms heartbeat)"),
        ("filter", "patient filter, per keystroke"),
        ("filter_stall", "  longest GUI stall while filtering"),
    ):
        a, b = results[small][key], results[large][key]
        print(f"{label:48} {a * 1000:7.1f}ms {b * 1000:7.1f}ms {b / a:6.1f}x")


if __name__ == "__main__":
    main()
