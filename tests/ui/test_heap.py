"""Issue 17: the objects alive once the main window is built (an open vault's state: hundreds
of thousands at 100,000 photos) are exempt from the collector's full walks, which held the
GIL 75-95 ms each and stalled the window while a worker listed patients at sign-in."""

from __future__ import annotations

import gc

import pytest

from picsafe_desktop import config
from picsafe_desktop.ui import heap
from picsafe_desktop.ui.main_window import MainWindow


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the other tests run with the collector as usual


def test_objects_alive_at_settle_are_left_out_of_collections(unfrozen):
    session_state = [{"entry": n} for n in range(20_000)]  # e.g. a vault's state entries
    heap.settle()
    assert gc.get_freeze_count() >= len(session_state)
    made_later = [[n] for n in range(100)]
    gc.collect()  # later collections still free later garbage; frozen objects stay
    assert session_state[-1] == {"entry": 19_999} and made_later[0] == [0]


def test_building_the_main_window_settles_the_heap(qtbot, unfrozen):
    assert gc.get_freeze_count() == 0
    window = MainWindow(config.from_dict({}))
    qtbot.addWidget(window)
    assert gc.get_freeze_count() > 0
