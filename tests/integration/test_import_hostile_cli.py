"""Hostile input and faults on `picsafe-desktop import` (issue 13, findings 8, 10, 11, 13, 14)
against a real vault and keyring."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pytest

from picsafe_desktop import cli
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.importer_support import make_vault, small_jpegs, unique_jpeg

pytestmark = [pytest.mark.keyring, pytest.mark.corpus]

CONSENT = {
    "patient": {"mrn": "RX0012345", "name": "Ada Example"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Jo Smith", "role": "Registrar"},
    "body_site": "left forearm",
}


class Setup:
    def __init__(self, tmp_path, keyring_service):
        self.tmp = tmp_path
        self.service = keyring_service
        self.vault_dir = tmp_path / "vault"
        make_vault(self.vault_dir, keyring_service).close()
        self.consent = tmp_path / "consent.json"
        self.consent.write_text(json.dumps(CONSENT))
        self.photos = tmp_path / "photos"
        self.photos.mkdir()

    def photo(self, name: str, tag: str, index: int = 0):
        path = self.photos / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(unique_jpeg(small_jpegs()[index].read_bytes(), tag))
        return path

    def run(self, *sources, consent=None, extra=()):
        return cli.main(
            [*extra, "import", "--consent", str(consent or self.consent), "--vault",
             str(self.vault_dir), "--keyring-service", self.service, *map(str, sources)]
        )  # fmt: skip

    def items(self):
        with Vault.open(self.vault_dir, self.service) as vault:
            return vault.list_items()


@pytest.fixture
def setup(tmp_path, keyring_service):
    return Setup(tmp_path, keyring_service)


def test_deep_folder_is_refused_and_the_photo_beside_it_imported(setup, capsys, deep_tree):
    deep_tree(setup.photos)
    good = setup.photo("good.jpg", "deep")
    assert setup.run(setup.photos) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected error" not in err
    assert "folders deep" in err and "Smith QM123" in err
    (item,) = setup.items()
    assert item.state == ItemState.ACTIVE
    assert not good.exists()


def _cli_process(setup, *sources):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "picsafe_desktop", "import", "--consent", str(setup.consent),
         "--vault", str(setup.vault_dir), "--keyring-service", setup.service,
         *map(str, sources)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _blob_count(vault_dir) -> int:
    return sum(1 for _ in (vault_dir / "blobs").rglob("*.psv"))


def _freeze(vault_dir, what: str, flag: str = "+i") -> None:
    """The immutable flag stops root too (permission bits do not), even on open files.

    "folders": what `chmod -R a-w` does to a program holding the index open - no new files
    (blobs), while the open index still takes writes. "index": the index and its WAL too;
    the WAL's shared-memory file stays writable (SQLite maps it: freezing it kills the
    process with SIGBUS, which no application code can handle).
    """
    import subprocess

    paths = [p for p in [vault_dir, *vault_dir.rglob("*")] if p.is_dir()]
    if what == "index":
        paths += [p for p in vault_dir.glob("index.sqlite3*") if not p.name.endswith("-shm")]
    subprocess.run(["chattr", flag, *map(str, paths)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CAP_LINUX_IMMUTABLE)")
@pytest.mark.parametrize("what", ["folders", "index"])
def test_vault_made_read_only_mid_import_is_reported_and_loses_nothing(setup, what):
    """Issue 13, finding 10: the vault made read-only while a CLI import runs."""
    import hashlib
    import time

    big = max(small_jpegs()[:1] + list(small_jpegs()[0].parent.glob("*.jpg")),
              key=lambda p: p.stat().st_size)  # fmt: skip
    originals = {}
    for i in range(12):
        path = setup.photos / f"IMG_{i:02}.jpg"
        path.write_bytes(unique_jpeg(big.read_bytes(), f"ro{i}"))
        originals[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    child = _cli_process(setup, setup.photos)
    try:
        deadline = time.monotonic() + 120
        while _blob_count(setup.vault_dir) < 3 and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        _freeze(setup.vault_dir, what)
        out, err = child.communicate(timeout=180)
    finally:
        child.kill()
        _freeze(setup.vault_dir, "index", "-i")
    assert child.returncode == 1, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert "cannot be written" in err or "refused a write" in err, err
    assert "damaged" not in err and "restore" not in err
    left = {p.name for p in setup.photos.iterdir()}
    assert left, "the fault came after the whole batch: the test did not test anything"
    # Every photo is either still at its source, unchanged, or verified in the vault.
    with Vault.open(setup.vault_dir, setup.service) as vault:
        stored = {name for name, sha in originals.items() if vault.find_original(sha)}
        items = vault.list_items()
    for name in originals:
        if name in left:
            data = (setup.photos / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == originals[name]
        else:
            assert name in stored, f"{name} was wiped but is not in the vault"
    assert items
    if what == "folders":
        # The index still took writes: the stored photos got their consent.
        assert all(i.state == ItemState.ACTIVE for i in items)
        assert f"Imported {len(items)} photo(s)" in out
        return
    # Nothing was made usable without a consent, and the output names every stored photo.
    assert all(i.state == ItemState.AWAITING_CONSENT for i in items)
    assert "consent was NOT recorded" in out
    for name in stored:
        assert f"waiting for consent: {setup.photos / name}" in out, out


@contextlib.contextmanager
def small_filesystem(size: str):
    """A real, tiny file system (tmpfs): disk-full is the kernel's ENOSPC, not a mock."""
    import subprocess
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="picsafe-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        folder.rmdir()


def _fill(folder: Path, leave: int) -> None:
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
@pytest.mark.parametrize("free_kib", [0, 8, 16, 24, 96, 400, 900, 1400])
def test_disk_full_is_named_and_never_called_damage(tmp_path, keyring_service, free_kib):
    """Issue 13, finding 11: disk full while a batch is created (and just after)."""
    import hashlib
    import subprocess
    import sys

    with small_filesystem("6m") as fs:
        setup = Setup.__new__(Setup)
        setup.tmp, setup.service = tmp_path, keyring_service
        setup.vault_dir = fs / "vault"
        make_vault(setup.vault_dir, keyring_service).close()
        setup.consent = tmp_path / "consent.json"
        setup.consent.write_text(json.dumps(CONSENT))
        setup.photos = tmp_path / "photos"
        originals = {}
        for i in range(4):
            path = setup.photo(f"IMG_{i}.jpg", f"full{free_kib}", i)
            originals[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        _fill(fs, free_kib * 1024)
        proc = subprocess.run(
            [sys.executable, "-m", "picsafe_desktop", "import", "--consent", str(setup.consent),
             "--vault", str(setup.vault_dir), "--keyring-service", keyring_service,
             str(setup.photos)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        out, err = proc.stdout, proc.stderr
        assert proc.returncode == 1, out + err
        assert "Traceback" not in err and "unexpected error" not in err, err
        assert "full" in err, err
        for wrong in ("damaged", "restore", "backup"):
            assert wrong not in (out + err).lower(), out + err
        assert not ("unchanged" in err and "stored" in err), err
        (fs / "filler").unlink()
        with Vault.open(setup.vault_dir, keyring_service) as vault:
            stored = {name for name, sha in originals.items() if vault.find_original(sha)}
        left = {p.name for p in setup.photos.iterdir()}
        for name in originals:
            assert name in left or name in stored, f"{name} lost"
            if name in stored and "consent was NOT recorded" in out:
                assert f"waiting for consent: {setup.photos / name}" in out, out


def test_file_names_with_newlines_and_rtl_overrides_are_escaped_on_the_terminal(setup, capsys):
    """Issue 13, finding 13: a name can fake a line of output or reverse what is shown."""
    (setup.photos / "IMG_1.jpg\nimported: all fine").write_bytes(b"not a photo")
    (setup.photos / "scan\u202egpj.exe.jpg").write_bytes(b"\xff\xd8 not a jpeg either")
    assert setup.run(setup.photos) == 1
    err = capsys.readouterr().err
    assert "\u202e" not in err and "\nimported: all fine" not in err
    assert "IMG_1.jpg\\x0aimported: all fine" in err
    assert "scan\\u202egpj.exe.jpg" in err


def test_an_oversized_file_is_refused_before_it_is_read(setup):
    """Issue 13, finding 14: a 1.2 GB file was read whole (2.5 GB of memory) before the size
    check. A sparse file costs no disk; reading it would still cost the memory."""
    import subprocess
    import sys

    huge = setup.photos / "huge.jpg"
    with open(huge, "wb") as f:
        f.truncate(1_200_000_000)
    setup.photo("good.jpg", "huge")
    # VmHWM, not ru_maxrss: the latter carries the forking parent's peak (the test runner's)
    wrapper = (
        "import sys\n"
        "from picsafe_desktop import cli\n"
        "rc = cli.main(sys.argv[1:])\n"
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print('MAXRSS_KIB', hwm.split()[1], file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, "import", "--consent", str(setup.consent), "--vault",
         str(setup.vault_dir), "--keyring-service", setup.service, str(setup.photos)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "huge.jpg: 1.2 GB is larger than any photo PicSafe imports" in proc.stderr
    peak_mib = int(proc.stderr.rsplit("MAXRSS_KIB", 1)[1].split()[0]) / 1024
    assert peak_mib < 400, f"peak memory {peak_mib:.0f} MiB"
    assert huge.exists() and len(setup.items()) == 1


def test_a_file_still_being_copied_is_not_called_truncated(setup, capsys):
    """Issue 13, finding 14: half a JPEG written moments ago is a copy in progress."""
    whole = unique_jpeg(small_jpegs()[0].read_bytes(), "growing")
    copying = setup.photos / "copying.jpg"
    copying.write_bytes(whole[: len(whole) // 2])
    old = setup.photos / "old-broken.jpg"
    old.write_bytes(whole[: len(whole) // 3])
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert setup.run(setup.photos) == 1
    err = capsys.readouterr().err
    assert "copying.jpg: still being copied; it was left in place" in err
    assert "copying.jpg: not imported, PicSafe cannot de-identify it" not in err
    assert "old-broken.jpg: not imported, PicSafe cannot de-identify it" in err
    assert "truncated" in err.split("old-broken.jpg", 1)[1]
    assert copying.exists() and old.exists()


def test_a_fresh_file_that_is_no_photo_at_all_is_not_called_still_copying(setup, capsys):
    (setup.photos / "notes.jpg").write_text("not a photo at all")
    assert setup.run(setup.photos) == 1
    err = capsys.readouterr().err
    assert "notes.jpg: not imported, PicSafe cannot de-identify it" in err
    assert "still being copied" not in err


def test_a_heic_with_trailing_bytes_is_imported_and_the_extra_bytes_explained(setup, corpus):
    heic = setup.photos / "IMG_0001.heic"
    data = (corpus / "iphone7-gps-thumb__IMG_2682.heic").read_bytes()
    heic.write_bytes(data + b"MESSENGER-TRAILER " * 200)
    assert setup.run(setup.photos) == 0
    (item,) = setup.items()
    with Vault.open(setup.vault_dir, setup.service) as vault:
        meta = vault.read_metadata(item.item_id)
    assert meta["removed_metadata"].get("heif:trailing bytes") == 1
    assert any("after the end of the HEIF image" in n for n in meta["deid_notes"])


def test_photos_left_waiting_by_an_earlier_run_are_mentioned(setup, capsys):
    """Issue 13, finding 14: photos stored before a kill waited for consent without a word."""
    from picsafe_desktop.importer.files import scan_paths
    from picsafe_desktop.importer.pipeline import Importer

    earlier = setup.photo("earlier/IMG_1.jpg", "earlier", 1)
    with Vault.open(setup.vault_dir, setup.service) as vault:  # a run killed before consent
        scan = scan_paths([earlier])
        Importer(vault, actor="cli:test").run(scan.candidates, source_label="Files")
    setup.photo("now/IMG_2.jpg", "now", 2)
    assert setup.run(setup.photos / "now") == 0
    err = capsys.readouterr().err
    assert "1 photo(s) from 1 earlier import(s) are in the vault and wait for consent" in err
    states = sorted(i.state.value for i in setup.items())
    assert states == sorted([ItemState.ACTIVE.value, ItemState.AWAITING_CONSENT.value])
