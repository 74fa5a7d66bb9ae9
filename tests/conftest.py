"""Test harness shared by every suite.

Real services come from scripts/with-test-services (a D-Bus session with gnome-keyring's Secret
Service, and Xvfb). Outside it, tests that need them skip with the reason — except under CI,
where a missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Under CI a skip fails unless this machine truly cannot provide what it needs.
pytest_plugins = ["tests.ci_skips"]

# No display (plain `pytest` on a server): widgets still work on Qt's offscreen platform.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run through scripts/test)")
    pytest.skip(f"{reason}; run the suite with scripts/test")


@pytest.fixture(scope="session", autouse=True)
def _private_user_folders(tmp_path_factory: pytest.TempPathFactory):
    """Keep config, data, logs and QSettings of the app under test out of the real home."""
    base = tmp_path_factory.mktemp("home")
    saved = {
        k: os.environ.get(k)
        for k in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "PICSAFE_CONFIG")
    }
    os.environ["XDG_CONFIG_HOME"] = str(base / "config")
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    os.environ["XDG_STATE_HOME"] = str(base / "state")
    os.environ.pop("PICSAFE_CONFIG", None)
    yield base
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def qapp():
    """The application as the product creates it (names, high-DPI policy), shared by UI tests."""
    from picsafe_desktop.app import create_qt_app

    return create_qt_app(["picsafe-desktop-tests"])


@pytest.fixture
def deep_tree():
    """Builds folder trees deeper than the recursion limit and removes them afterwards, so
    pytest's recursive clean-up of old temp folders never meets one in a later run."""
    from tests import deep_trees

    built: list[Path] = []

    def make(parent: Path, levels: int = deep_trees.DEPTH) -> Path:
        top = deep_trees.build(parent, levels)
        built.append(top)
        return top

    yield make
    for top in built:
        deep_trees.remove(top)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"photo corpus not found at {CORPUS} (it lives beside the repository)")
    return CORPUS


@pytest.fixture(scope="session")
def secret_service():
    """The real Secret Service keyring backend, or skip/fail with the reason."""
    import keyring
    from keyring.backends import SecretService

    backend = keyring.get_keyring()
    if not isinstance(backend, SecretService.Keyring):
        _missing(f"no Secret Service keyring (keyring chose {type(backend).__name__})")
    return backend


_KEYRING_RESTARTS: list[str] = []


def _default_collection_usable() -> bool:
    import secretstorage
    from secretstorage.collection import Collection

    try:
        with secretstorage.dbus_init() as conn:
            return not Collection(conn, "/org/freedesktop/secrets/aliases/default").is_locked()
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def _heal_test_keyring(test: str) -> None:
    """The harness's gnome-keyring daemon has been seen to vanish mid-run (D-Bus then starts a
    fresh one with no unlocked login collection, and every later keyring test fails with
    "Prompt dismissed"). Inside scripts/with-test-services, start it again on the same
    throwaway keyring, and say so in the run's summary: it is the test machine's daemon, not
    the product, that went away."""
    if not os.environ.get("PICSAFE_IN_TEST_SESSION") or _default_collection_usable():
        return
    import subprocess

    subprocess.run(
        ["gnome-keyring-daemon", "--replace", "--unlock", "--components=secrets"],
        input=b"picsafe-test",
        capture_output=True,
        timeout=30,
        check=False,
    )
    _KEYRING_RESTARTS.append(test)


def pytest_terminal_summary(terminalreporter):
    if _KEYRING_RESTARTS:
        terminalreporter.section("test keyring daemon restarted (the machine's, not the app's)")
        for test in _KEYRING_RESTARTS:
            terminalreporter.write_line(f"before {test}")


@pytest.fixture
def keyring_service(secret_service, request) -> str:
    """A keyring service name unique to this test; its entries are deleted afterwards."""
    _heal_test_keyring(request.node.nodeid)
    name = f"picsafe-test-{uuid.uuid4().hex[:12]}"
    yield name
    import secretstorage

    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        for item in collection.search_items({"service": name}):
            item.delete()


@pytest.fixture(scope="session")
def real_display() -> str:
    """An X display (Xvfb from the harness), for tests of what a real window shows."""
    display = os.environ.get("DISPLAY")
    if not display or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        _missing("no X display")
    return display


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    """A real Orthanc PACS on loopback ports with a throwaway configuration."""
    from tests.export_tools import Orthanc, require

    server = Orthanc(tmp_path_factory.mktemp("orthanc"), require("Orthanc"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hospital_orthanc(tmp_path_factory):
    """Orthanc as the hospital's RIS/PACS (issue 16): the ModalityWorklists plugin serving the
    .wl files tests write into `server.worklists`, DICOMweb at /dicom-web/, and a modality
    "PICSAFE" at `server.commit_port` for its storage commitment reports."""
    from tests.hospital_tools import start_hospital_orthanc

    server = start_hospital_orthanc(tmp_path_factory.mktemp("hospital-orthanc"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
