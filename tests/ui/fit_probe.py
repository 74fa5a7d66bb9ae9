"""Does each screen fit and show its text whole? Run in a process of its own, because the scale
factor (QT_SCALE_FACTOR) is read once, when Qt starts:

    QT_SCALE_FACTOR=1.25 DISPLAY=:n python -m tests.ui.fit_probe VAULT_DIR KEYRING_SERVICE \
        REPORT.json [SHOTS_DIR]

Walks the journey as a nurse does - the sign-in screen, the empty state, the intake grid, the
consent form (both tabs), the main window with photos, the export dialog - and writes, per
screen, whether the window fits the screen, which texts are cut off (label or button smaller
than its text needs, or pushed outside the window), and whether the form needs scrolling.
Used by tests/ui/test_scaling.py; with SHOTS_DIR it also saves what the screen showed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QLabel,
    QRadioButton,
    QScrollArea,
    QWidget,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
PHOTOS = (
    "iphone4-gps__Apple-iPhone-4.jpg",
    "google-pixel-gps-makernote__IMG_20180725_163423.jpg",
    "canon-powershot-sx60-orient6-xmp-iptc__canon_hdr_NO.jpg",
)


def settle(seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def wait_until(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the window")
        QApplication.processEvents()
        time.sleep(0.02)


def _text(widget: QWidget) -> str:
    if isinstance(widget, (QLabel, QAbstractButton)):
        return widget.text().replace("&", "")
    return ""


def _in_scroll_area(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _visible_rect(widget: QWidget, top: QWidget) -> QRect:
    """The part of the widget that its ancestors (up to the window) leave on screen."""
    rect = QRect(widget.mapTo(top, widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    while parent is not None:
        rect = rect & QRect(parent.mapTo(top, parent.rect().topLeft()), parent.size())
        if parent is top:
            break
        parent = parent.parentWidget()
    return rect


def cut_texts(top: QWidget) -> list[str]:
    """Visible labels and buttons whose text does not fit: smaller than the text needs, or
    partly outside the window (not counting what a scroll area can scroll to)."""
    found = []
    for widget in top.findChildren(QWidget):
        text = _text(widget)
        if not text.strip() or not widget.isVisibleTo(top) or not widget.isVisible():
            continue
        if widget.window() is not top:
            continue
        size, hint = widget.size(), widget.sizeHint()
        why = ""
        if isinstance(widget, QLabel) and widget.wordWrap():
            need = widget.heightForWidth(size.width()) if widget.hasHeightForWidth() else -1
            if need > size.height() + 1:
                why = f"height {size.height()} < {need}"
            elif widget.minimumSizeHint().width() > size.width() + 1:
                why = f"width {size.width()} < {widget.minimumSizeHint().width()}"
        elif isinstance(widget, (QLabel, QCheckBox, QRadioButton, QAbstractButton)):
            if hint.width() > size.width() + 1:
                why = f"width {size.width()} < {hint.width()}"
            elif hint.height() > size.height() + 1 and not isinstance(widget, QLabel):
                why = f"height {size.height()} < {hint.height()}"
        if not why and not _in_scroll_area(widget, top):
            shown = _visible_rect(widget, top)
            if shown.width() < size.width() - 1 or shown.height() < size.height() - 1:
                why = f"only {shown.width()}x{shown.height()} of {size.width()}x{size.height()}"
        if why:
            found.append(f"{type(widget).__name__} {text[:50]!r}: {why}")
    return found


def hidden_actions(top: QWidget) -> list[str]:
    """Toolbar actions pushed behind the toolbar's overflow button (the » at its end)."""
    from PySide6.QtWidgets import QToolBar

    found = []
    for toolbar in top.findChildren(QToolBar):
        if not toolbar.isVisible():
            continue
        for act in toolbar.actions():
            button = toolbar.widgetForAction(act)
            if act.isVisible() and button is not None and not button.isVisible():
                found.append(f"toolbar action {act.text().replace('&', '')!r}: hidden behind »")
    return found


def scrolling(top: QWidget) -> list[str]:
    """Scroll areas in the window that need scrolling to show everything."""
    out = []
    for area in top.findChildren(QScrollArea):
        if area.isVisible() and area.verticalScrollBar().maximum() > 0:
            name = area.objectName() or area.accessibleName() or "scroll area"
            out.append(f"{name} (by {area.verticalScrollBar().maximum()} points)")
    return out


def report(name: str, top: QWidget, shots: Path | None) -> dict:
    settle()
    screen = QGuiApplication.primaryScreen().availableGeometry()
    frame = top.frameGeometry()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        shot = QGuiApplication.primaryScreen().grabWindow(
            0, frame.x(), frame.y(), frame.width(), frame.height()
        )
        shot.save(str(shots / f"{name}.png"))
    return {
        "screen": name,
        "screen_size": [screen.width(), screen.height()],
        "window": [frame.x(), frame.y(), frame.width(), frame.height()],
        "fits": screen.contains(frame),
        "cut": cut_texts(top) + hidden_actions(top),
        "scrolling": scrolling(top),
    }


def _record(form) -> None:
    """Fill the form's required fields and record consent, as a nurse would."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from picsafe_desktop.model import Capacity, Method

    form.mrn_edit.setText("RX7712345")
    form.name_edit.setText("Alex Example")
    form.body_site_edit.setText("left forearm")
    form.capacity_buttons[Capacity.SELF].setChecked(True)
    form.method_buttons[Method.WRITTEN].setChecked(True)
    pad = form.signature_pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(30, 90))
    for step, x in enumerate(range(40, 300, 12)):
        QTest.mouseMove(pad, QPoint(x, 60 + (step % 5) * 10))
    QTest.mouseRelease(
        pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 80)
    )
    wait_until(form.record_button.isEnabled)
    form.record_button.click()


def main(vault_dir: str, service: str, out: str, shots_dir: str | None = None) -> int:
    from picsafe_desktop import config
    from picsafe_desktop.app import create_qt_app
    from picsafe_desktop.model import Staff
    from picsafe_desktop.services import Services
    from picsafe_desktop.staff.pins import StaffStore
    from picsafe_desktop.ui.main_window import MainWindow
    from picsafe_desktop.vault import Vault
    from tests.ui.journey_photos import with_capture_time
    from tests.unit.vault_support import TEST_KDF

    create_qt_app()
    shots = Path(shots_dir) if shots_dir else None
    work = Path(vault_dir)
    site = config.from_dict(
        {"vault": {"path": str(work / "vault")}, "logging": {"file": str(work / "app.log")}}
    )
    vault, _code = Vault.create(site.vault.path, service, kdf=TEST_KDF)
    services = Services(site, vault)
    StaffStore.for_vault(vault).add(
        "N4411", "Sam Okafor", ["clinician"], "4826", title="Staff nurse", actor="probe"
    )
    drop = work / "phone"
    drop.mkdir()
    times = ("2025:05:06 10:01:10", "2025:05:06 10:03:00", "2025:05:06 10:41:00")
    for n, (name, when) in enumerate(zip(PHOTOS, times, strict=True)):
        data = (CORPUS / name).read_bytes() + bytes([n])
        (drop / f"IMG_{n:04d}.JPG").write_bytes(with_capture_time(data, when))

    results = []
    screen = QGuiApplication.primaryScreen().availableGeometry()
    window = MainWindow(site, services)
    window.setGeometry(screen)  # as a maximised window on this screen
    window.show()
    results.append(report("sign-in", window, shots))
    window.sign_in(Staff("", "", "N4411"), "4826")
    wait_until(lambda: not window.locked)
    wait_until(lambda: window.stack.currentWidget() is window.empty_state)
    results.append(report("empty-state", window, shots))

    window.start_import([str(drop)])
    wait_until(lambda: window.intake_dialog is not None and window.intake_dialog.isVisible())
    intake = window.intake_dialog
    wait_until(lambda: intake.consent_button.isEnabled())
    results.append(report("intake", intake, shots))
    intake.consent_button.click()
    wait_until(lambda: window.consent_dialog is not None and window.consent_dialog.isVisible())
    form = window.consent_dialog
    results.append(report("consent", form, shots))
    form.more_tabs.setCurrentIndex(1)
    results.append(report("consent-more", form, shots))
    form.more_tabs.setCurrentIndex(0)
    _record(form)
    wait_until(lambda: len(intake.remaining()) == 1)
    intake.later_button.click()  # the third photo waits for later

    wait_until(lambda: window.thumbnails.rowCount() == 2)
    wait_until(lambda: window.thumbnails.cached_count() == 2)
    window.grid.setCurrentIndex(window.thumbnails.index(0))
    settle(0.5)
    results.append(report("main-window", window, shots))
    window.export_action.trigger()
    wait_until(lambda: getattr(window, "export_dialog", None) is not None)
    export = window.export_dialog
    wait_until(export.isVisible)
    results.append(report("export", export, shots))
    export.close()
    Path(out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    window.close()
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
