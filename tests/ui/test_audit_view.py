"""The audit log view: rows, filter, and the verification banner."""

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from picsafe_desktop.ui.audit_view import AuditView
from picsafe_desktop.vault import AuditReport, AuditRow

UTC = dt.UTC


def row(seq, actor, event, subject, details=None, minute=0):
    at = dt.datetime(2024, 5, 1, 9, minute, 30, tzinfo=UTC)
    return AuditRow(seq, at, event, actor, subject, details or {})


ROWS = [
    row(1, "Jo Bloggs (N123)", "sign_in", "session", minute=1),
    row(2, "Jo Bloggs (N123)", "import", "batch-7f3a", {"photos": 3, "source": "phone"}, 2),
    row(3, "Sam Shah (D9)", "view", "item-1c2d", {"purpose": "clinic"}, 3),
    row(4, "Sam Shah (D9)", "export", "item-1c2d", {"targets": ["pdf", "fhir"]}, 4),
]


@pytest.fixture
def view(qtbot):
    v = AuditView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def shown(view, column):
    return [view.proxy.index(r, column).data() for r in range(view.proxy.rowCount())]


def test_waiting_then_intact(view):
    assert "Checking" in view.banner.text()
    assert view.banner_ok() is None
    view.set_rows(ROWS, AuditReport(ok=True, problems=[], rows=57))
    assert view.banner.text() == "Audit log intact — 57 entries verified"
    assert view.banner_ok() is True
    assert "#dff3e4" in view.banner.styleSheet()  # green


def test_intact_count_falls_back_to_rows_given(qtbot):
    class Report:
        ok = True
        problems = []

    v = AuditView(ROWS, Report())
    qtbot.addWidget(v)
    assert v.banner.text() == "Audit log intact — 4 entries verified"


def test_tampered_banner_names_the_problems(view):
    problems = ["audit row 2 (import at 2024-05-01): edited", "audit row(s) 3 removed"]
    view.set_rows(ROWS, AuditReport(ok=False, problems=problems, rows=4))
    assert view.banner.text() == (
        "Audit log has been tampered with: "
        "audit row 2 (import at 2024-05-01): edited; audit row(s) 3 removed"
    )
    assert view.banner_ok() is False
    assert "#fde2e2" in view.banner.styleSheet()  # red


def test_many_problems_are_cut_short_in_the_banner_but_listed_in_full(view):
    problems = [f"audit row {n}: edited" for n in range(1, 13)]
    view.set_rows(ROWS, AuditReport(ok=False, problems=problems))
    text = view.banner.text()
    assert "audit row 5: edited" in text and "audit row 6: edited" not in text
    assert "and 7 more" in text
    assert view.banner.toolTip().splitlines() == problems


def test_rows_shown_newest_first_with_readable_cells(view):
    view.set_rows(ROWS, AuditReport(ok=True, rows=4))
    assert view.proxy.rowCount() == 4
    assert shown(view, 2) == ["photo exported", "photo opened", "import", "signed in"]
    local = ROWS[0].at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert shown(view, 0)[-1] == local
    assert shown(view, 1)[0] == "Sam Shah (D9)"
    assert shown(view, 3)[0] == "item-1c2d"
    assert shown(view, 4)[0] == "targets: pdf, fhir"
    assert shown(view, 4)[2] == "photos: 3; source: phone"
    assert [view.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Time",
        "Staff",
        "Event",
        "Subject",
        "Details",
    ]


def test_sort_by_staff_on_header_click(view, qtbot):
    view.set_rows(ROWS, AuditReport(ok=True, rows=4))
    view.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert shown(view, 1) == ["Jo Bloggs (N123)"] * 2 + ["Sam Shah (D9)"] * 2


def test_filter_matches_any_column_case_insensitively(view, qtbot):
    view.set_rows(ROWS, AuditReport(ok=True, rows=4))
    assert view.count_label.text() == "4 entries"
    qtbot.keyClicks(view.filter_edit, "SHAH")
    assert shown(view, 1) == ["Sam Shah (D9)"] * 2
    assert view.count_label.text() == "2 of 4 entries"
    view.filter_edit.clear()
    qtbot.keyClicks(view.filter_edit, "phone")  # in the details column
    assert shown(view, 2) == ["import"]
    view.filter_edit.clear()
    assert view.proxy.rowCount() == 4


def test_ctrl_f_goes_to_the_filter(view, qtbot):
    with qtbot.waitActive(view):
        view.activateWindow()
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.filter_edit.hasFocus()


def test_accessible_names_and_fits_ward_screen(view):
    for w in (view.banner, view.filter_edit, view.table, view.count_label):
        assert w.accessibleName()
    hint = view.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768
