"""The keyring lost mid-session (issue 13), drilled with the real Secret Service of the test
session: its login collection locked, and its daemon killed. The window shows a banner at
once, imports go on (nothing lost), and the banner goes when the keyring answers again."""

from __future__ import annotations

import gc
import os
import signal
import warnings

import pytest
import secretstorage

from tests.conftest import _heal_test_keyring
from tests.ui import test_desktop as desktop
from tests.ui.test_desktop import close_dialogs, sign_in, wait_for_intake
from tests.ui.test_intake_waiting import phone

pytestmark = [pytest.mark.keyring]

site, services, window = desktop.site, desktop.services, desktop.window
__all__ = ["phone"]


@pytest.fixture(scope="module", autouse=True)
def _collect_dead_sockets():
    """After the module (the window, its workers and the vault gone): close what keyring's
    backend left to the garbage collector, so no later test is blamed for it."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(3):
            gc.collect()


@pytest.fixture
def healed(request):
    """Whatever a drill did to the daemon, the next test finds a working, unlocked keyring."""
    yield
    _heal_test_keyring(request.node.nodeid + " (after its own drill)")
    # keyring's backend leaves the D-Bus sockets of the calls the dead daemon cut off to the
    # garbage collector: close them here, not in the next test's setup.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(3):
            gc.collect()


def lock_keyring() -> None:
    with secretstorage.dbus_init() as conn:
        secretstorage.get_default_collection(conn).lock()


def kill_keyring_daemon() -> None:
    """SIGKILL the process that owns org.freedesktop.secrets on this test's D-Bus session."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    with open_dbus_connection(bus="SESSION") as conn:
        call = new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",))
        (pid,) = conn.send_and_get_reply(call).body
    os.kill(pid, signal.SIGKILL)


# keyring's Secret Service backend leaves its D-Bus socket to the garbage collector when the
# daemon vanishes mid-call (a library detail, not ours): that ResourceWarning is not the drill's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("fault", [lock_keyring, kill_keyring_daemon], ids=["locked", "killed"])
def test_keyring_lost_mid_session_shows_a_banner_and_imports_go_on(
    healed, qtbot, window, services, phone, fault
):
    sign_in(qtbot, window)
    banner = window.keyring_banner
    assert not banner.isVisible()
    fault()
    window.start_import([str(phone)])
    intake = wait_for_intake(qtbot, window)
    assert len(intake.remaining()) == 3  # imported, waiting for consent: nothing lost
    qtbot.waitUntil(banner.isVisible, timeout=15000)
    text = banner.label.text()
    assert "keyring has stopped answering" in text
    assert "log out and in again" in text and "call IT" in text
    for jargon in ("Error", "D-Bus", "Prompt", "dismissed"):
        assert jargon not in text
    close_dialogs(window)
    _heal_test_keyring("keyring drill: the keyring back")
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=20000)  # the anchor caught up
    assert not services.keyring_trouble()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("fault", [lock_keyring, kill_keyring_daemon], ids=["locked", "killed"])
def test_start_up_with_the_keyring_gone_says_what_to_do_plainly(healed, site, services, fault):
    """What the start-up window shows ("The photo vault cannot be opened. {why}") is the
    refusal's text: no exception class, no D-Bus words; those go to the log."""
    from picsafe_desktop.services import Services
    from picsafe_desktop.vault import KeyringUnavailable

    service = services.vault._service
    services.close()
    fault()
    with pytest.raises(KeyringUnavailable) as refused:
        Services.open_vault(site, service)
    said = str(refused.value)
    del refused  # its traceback holds the dead daemon's sockets: the fixture collects them
    assert "unlock" in said and "IT" in said
    for jargon in ("Error", "Exception", "D-Bus", "Prompt", "dismissed", "collection"):
        assert jargon not in said, said
    _heal_test_keyring("keyring drill: the keyring back")
    Services.open_vault(site, service).close()  # back as it was once the keyring answers
