"""SIGKILL the importing process at random moments; after each restart every photo must be
exactly once: verified in the vault or untouched at its source - never lost, never stored
twice, never half-wiped - and no plaintext may be left in the vault or the temp folder.

Reproduce a failure with the seed printed in its message: PICSAFE_KILL_SEED=<seed>.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from picsafe_desktop.importer.journal import PREFIX
from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.importer.wipe import WIPE_PREFIX
from picsafe_desktop.vault import Vault
from tests.importer_support import corpus_dir, make_vault, unique_jpeg
from tests.proc import drain

pytestmark = [pytest.mark.keyring, pytest.mark.corpus, pytest.mark.slow]

KILLS = 60
NEW_PER_ROUND = 3
# The smallest valid corpus JPEGs keep a round short.
BASES = (
    "nokia-n70-iptc-exifthumb__iptc.jpg",
    "broken-exif-canon-eos30d-gps-serial__broken1.jpg",
    "sony-dsc-hx5v-gps-exifthumb-ifd1make__Sony-DSC-HX5V-2.jpg",
    "iphone4-gps__Apple-iPhone-4.jpg",
)
CHILD = """
import sys
from pathlib import Path
from picsafe_desktop.importer.pipeline import Importer, import_paths
from picsafe_desktop.vault import Vault

vault_dir, service, drop = sys.argv[1:4]
with Vault.open(vault_dir, service) as vault:
    Importer(vault, actor="kill-test").resume()
    print("ready", flush=True)
    import_paths(vault, [Path(drop)], actor="kill-test")
print("done", flush=True)
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _marker(data: bytes) -> bytes:
    """48 bytes from the middle of the picture data: present in the original and in the
    scrubbed copy, so finding them in a file means plaintext pixels reached the disk."""
    middle = len(data) // 2
    return data[middle : middle + 48]


def _files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


class Harness:
    def __init__(self, tmp_path: Path, service: str, seed: int) -> None:
        self.vault_dir = tmp_path / "vault"
        self.drop = tmp_path / "drop"
        self.tmp = tmp_path / "child-tmp"
        self.drop.mkdir()
        self.tmp.mkdir()
        self.service = service
        self.rng = random.Random(seed)
        self.seed = seed
        self.bases = [(corpus_dir() / name).read_bytes() for name in BASES]
        self.photos: dict[Path, bytes] = {}  # unique originals, by source path
        self.copies: dict[Path, bytes] = {}  # second copies of photos already sent
        self.serial = 0

    def add_photos(self, count: int) -> list[bytes]:
        added = []
        for _ in range(count):
            self.serial += 1
            data = unique_jpeg(self.rng.choice(self.bases), f"kill-{self.seed}-{self.serial}")
            path = self.drop / f"patient {self.serial:04d}.jpg"
            path.write_bytes(data)
            self.photos[path] = data
            added.append(data)
        return added

    def add_duplicate(self) -> bytes:
        """A second copy of a photo already in the vault (its source is gone)."""
        self.serial += 1
        data = self.rng.choice([d for p, d in self.photos.items() if not p.exists()])
        path = self.drop / f"copy {self.serial:04d}.jpg"
        path.write_bytes(data)
        self.copies[path] = data
        return data

    def spawn(self) -> subprocess.Popen:
        env = dict(os.environ, TMPDIR=str(self.tmp), TEMP=str(self.tmp), TMP=str(self.tmp))
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(self.vault_dir), self.service, str(self.drop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run_to_end(self) -> float:
        """One uninterrupted run; returns seconds from 'ready' to exit (to aim the kills)."""
        proc = self.spawn()
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        start = time.monotonic()
        out, err = drain(proc)
        assert proc.returncode == 0 and "done" in out, err
        return time.monotonic() - start

    def run_and_kill(self, work_seconds: float) -> str:
        proc = self.spawn()
        if self.rng.random() < 0.15:
            # Kill while it opens the vault or resumes an earlier interrupted import.
            time.sleep(self.rng.uniform(0, 0.4))
            where = "start-up"
        else:
            line = proc.stdout.readline().strip()
            if line != "ready":
                proc.wait()
                pytest.fail(f"seed {self.seed}: child failed to start: {proc.stderr.read()}")
            time.sleep(self.rng.uniform(0, work_seconds))
            where = "import"
        proc.send_signal(signal.SIGKILL)  # no-op if it already finished
        proc.communicate()
        return where

    def check(self, recent: list[bytes], label: str) -> None:
        """Restart (resume) as the app does, then check the invariant for every photo."""
        with Vault.open(self.vault_dir, self.service) as vault:
            Importer(vault, actor="kill-test").resume()
            pending = [e for e in vault.journal_entries() if e[0].startswith(PREFIX)]
            assert pending == [], f"{label}: journal not empty after resume"
            in_vault = 0
            for path, data in self.photos.items():
                stored = vault.find_original(_sha(data)) is not None
                present = path.exists()
                untouched = present and path.read_bytes() == data
                assert stored != untouched, (
                    f"{label}: {path.name} is {'in the vault' if stored else 'not in the vault'}"
                    f" and {'untouched' if untouched else 'not untouched'} at its source"
                )
                assert untouched or not present, f"{label}: {path.name} left half-wiped"
                in_vault += stored
            for path, data in self.copies.items():
                assert vault.find_original(_sha(data)) is not None
                assert not path.exists() or path.read_bytes() == data, (
                    f"{label}: duplicate {path.name} left half-wiped"
                )
            assert len(vault.list_items()) == in_vault, f"{label}: a photo was stored twice"
        leftovers = [p.name for p in self.drop.iterdir() if p.name.startswith(WIPE_PREFIX)]
        assert leftovers == [], f"{label}: wipe leftovers {leftovers}"
        self.assert_no_plaintext(recent, label)

    def assert_no_plaintext(self, photos: list[bytes], label: str) -> None:
        markers = [_marker(d) for d in photos]
        for path in _files(self.vault_dir, self.tmp):
            content = path.read_bytes()
            for marker in markers:
                assert marker not in content, f"{label}: plaintext photo data in {path}"


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path, keyring_service):
    seed = int(os.environ.get("PICSAFE_KILL_SEED") or random.SystemRandom().randrange(1 << 30))
    h = Harness(tmp_path, keyring_service, seed)
    make_vault(h.vault_dir, keyring_service).close()
    # Calibrate: how long one round's import takes here, so kills land across all of it.
    recent = h.add_photos(NEW_PER_ROUND)
    work = h.run_to_end()
    h.check(recent, f"seed {seed} calibration")
    where_counts = {"start-up": 0, "import": 0}
    for kill in range(KILLS):
        at_source = [d for p, d in h.photos.items() if p.exists()]
        recent = at_source + h.add_photos(NEW_PER_ROUND)
        if kill % 5 == 4:
            recent.append(h.add_duplicate())
        where = h.run_and_kill(work * 1.3)
        where_counts[where] += 1
        h.check(recent, f"seed {seed} kill {kill + 1} ({where})")
    # Finally let everything still at its source go in, and check the whole history.
    h.run_to_end()
    h.check(list(h.photos.values()), f"seed {seed} final")
    assert all(not p.exists() for p in h.photos), f"seed {seed}: photos left after final run"
    with Vault.open(h.vault_dir, keyring_service) as vault:
        report = vault.verify()
        assert report.ok, f"seed {seed}: {report.problems}"
        assert len(vault.list_items()) == len(h.photos)
    assert where_counts["import"] >= KILLS // 2, where_counts
