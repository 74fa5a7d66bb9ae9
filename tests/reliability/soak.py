"""`make soak`: SIGKILL the product 100 times at random moments of an import, a consent being
recorded and a photo being deleted; after each kill, restart as the app does and check that no
photo is lost or stored twice, that nothing is usable without its consent, and that no
plaintext photo data reached the vault folder or the temp folder.

Not part of the test suite (it takes minutes); tests/reliability/test_import_kill.py is the
quick version of the import part. Prints
`kills: 100, photos: N, lost: 0, duplicated: 0, plaintext leaks: 0` and exits 1 on any failure.
Reproduce a run with its seed: `make soak SEED=123` (or PICSAFE_SOAK_SEED=123).
Run through scripts/with-test-services (a real Secret Service keyring).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from picsafe_desktop.importer.pipeline import Importer
from picsafe_desktop.importer.wipe import WIPE_PREFIX
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
from tests.importer_support import CORPUS, make_vault, unique_jpeg

KILLS = int(os.environ.get("PICSAFE_SOAK_KILLS", "100"))
BASES = (
    "nokia-n70-iptc-exifthumb__iptc.jpg",
    "broken-exif-canon-eos30d-gps-serial__broken1.jpg",
    "sony-dsc-hx5v-gps-exifthumb-ifd1make__Sony-DSC-HX5V-2.jpg",
    "iphone4-gps__Apple-iPhone-4.jpg",
)
CONSENT = {
    "patient": {"mrn": "SOAK0001", "name": "Soak Patient"},
    "capacity": "self",
    "uses": ["record"],
    "method": "verbal",
    "witness": {"name": "Nurse Witness"},
    "obtained_by": {"name": "Dr Soak", "role": "Registrar"},
}
# The child does one operation, as the app would after a start: recover, then act.
CHILD = """
import sys
from pathlib import Path
from picsafe_desktop import consent
from picsafe_desktop.importer.pipeline import Importer, import_paths
from picsafe_desktop.model import ItemState
from picsafe_desktop.vault import Vault
import json

vault_dir, service, drop, op, arg = sys.argv[1:6]
with Vault.open(vault_dir, service) as vault:
    Importer(vault, actor="soak").resume()
    print("ready", flush=True)
    if op == "import":
        import_paths(vault, [Path(drop)], actor="soak")
    elif op == "consent":
        record = consent.load_consent_json(json.loads(arg))
        batches = {i.batch_id for i in vault.list_items(state=ItemState.AWAITING_CONSENT)}
        for batch_id in sorted(batches):
            consent.store(vault, batch_id, record, actor="soak")
    elif op == "delete":
        vault.delete(arg, actor="soak", reason="soak test")
print("done", flush=True)
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _marker(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[middle : middle + 48]


class Soak:
    def __init__(self, root: Path, service: str, seed: int) -> None:
        self.vault_dir, self.drop, self.tmp = root / "vault", root / "drop", root / "tmp"
        self.drop.mkdir()
        self.tmp.mkdir()
        self.service = service
        self.rng = random.Random(seed)
        self.bases = [(CORPUS / name).read_bytes() for name in BASES]
        self.photos: dict[str, bytes] = {}  # original sha -> bytes, every photo ever dropped
        self.deleted: set[str] = set()  # originals whose deletion was asked for
        self.serial = 0
        self.durations: dict[str, float] = {}
        self.failures: list[str] = []
        self.lost = self.duplicated = self.leaks = 0

    def add_photos(self, count: int) -> None:
        for _ in range(count):
            self.serial += 1
            data = unique_jpeg(self.rng.choice(self.bases), f"soak-{self.serial}")
            (self.drop / f"patient {self.serial:04d}.jpg").write_bytes(data)
            self.photos[_sha(data)] = data

    def spawn(self, op: str, arg: str = "-") -> subprocess.Popen:
        import json

        if op == "consent":
            arg = json.dumps(CONSENT)
        env = dict(os.environ, TMPDIR=str(self.tmp), TEMP=str(self.tmp), TMP=str(self.tmp))
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(self.vault_dir), self.service, str(self.drop),
             op, arg],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip

    def run(self, op: str, arg: str = "-", kill: bool = True) -> None:
        proc = self.spawn(op, arg)
        line = proc.stdout.readline().strip()
        if line != "ready":
            proc.kill()
            _out, err = proc.communicate()
            raise SystemExit(f"soak: the child did not start ({op}): {err}")
        if not kill:
            start = time.monotonic()
            _out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise SystemExit(f"soak: an uninterrupted {op} failed: {err}")
            self.durations[op] = max(0.05, time.monotonic() - start)
            return
        time.sleep(self.rng.uniform(0, self.durations[op] * 1.3))
        proc.send_signal(signal.SIGKILL)  # a no-op if it already finished
        proc.communicate()

    def pick_op(self) -> tuple[str, str]:
        with Vault.open(self.vault_dir, self.service) as vault:
            active = vault.list_items(state=ItemState.ACTIVE)
            waiting = vault.list_items(state=ItemState.AWAITING_CONSENT)
            by_item = {}
            if active:
                for sha, _data in self.photos.items():
                    item_id = vault.find_original(sha)
                    if item_id:
                        by_item[item_id] = sha
        roll = self.rng.random()
        if roll < 0.2 and by_item:
            item_id = self.rng.choice(sorted(by_item))
            self.deleted.add(by_item[item_id])
            return "delete", item_id
        if roll < 0.55 and waiting:
            return "consent", "-"
        if not any(self.drop.iterdir()) or self.rng.random() < 0.5:
            self.add_photos(3)
        return "import", "-"

    def check(self, label: str) -> None:
        with Vault.open(self.vault_dir, self.service) as vault:
            Importer(vault, actor="soak").resume()
            items = vault.list_items()
            stored = {sha for sha in self.photos if vault.find_original(sha)}
            for item in items:
                if item.state == ItemState.ACTIVE and not item.consent_id:
                    self.fail(f"{label}: item {item.item_id} is usable without a consent")
        at_source = {_sha(p.read_bytes()) for p in self.drop.iterdir() if p.is_file()}
        for sha in self.photos:
            if sha not in stored and sha not in at_source and sha not in self.deleted:
                self.lost += 1
                self.fail(f"{label}: a photo is neither in the vault nor at its source")
        if len(items) != len(stored):
            self.duplicated += len(items) - len(stored)
            self.fail(f"{label}: {len(items)} items for {len(stored)} photos")
        halfway = [p.name for p in self.drop.iterdir() if p.name.startswith(WIPE_PREFIX)]
        if halfway:
            self.fail(f"{label}: wipe leftovers {halfway}")
        markers = [_marker(d) for d in self.photos.values()]
        for folder in (self.vault_dir, self.tmp):
            for path in folder.rglob("*"):
                if path.is_file():
                    content = path.read_bytes()
                    if any(m in content for m in markers):
                        self.leaks += 1
                        self.fail(f"{label}: plaintext photo data in {path}")

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"soak: {message}", file=sys.stderr)


def main() -> int:
    seed = int(os.environ.get("PICSAFE_SOAK_SEED") or random.SystemRandom().randrange(1 << 30))
    service = f"picsafe-soak-{uuid.uuid4().hex[:12]}"
    kinds = {"import": 0, "consent": 0, "delete": 0}
    with tempfile.TemporaryDirectory(prefix="picsafe-soak-") as root:
        soak = Soak(Path(root), service, seed)
        make_vault(soak.vault_dir, service).close()
        try:
            # Calibrate how long each operation takes here, so the kills land all through it.
            soak.add_photos(3)
            soak.run("import", kill=False)
            soak.add_photos(3)
            soak.run("import", kill=False)
            soak.run("consent", kill=False)
            op, arg = soak.pick_op()
            while op != "delete":
                op, arg = soak.pick_op()
                if op != "delete":
                    soak.run(op, arg, kill=False)
            soak.run("delete", arg, kill=False)
            soak.check("calibration")
            for kill in range(KILLS):
                op, arg = soak.pick_op()
                kinds[op] += 1
                soak.run(op, arg)
                soak.check(f"seed {seed} kill {kill + 1} ({op})")
                if (kill + 1) % 10 == 0:
                    print(f"soak: {kill + 1} kills, {len(soak.photos)} photos", file=sys.stderr)
            soak.run("import", kill=False)  # everything still at a source goes in at the end
            soak.check(f"seed {seed} final")
            with Vault.open(soak.vault_dir, service) as vault:
                report = vault.verify()
                if not report.ok:
                    soak.fail(f"seed {seed}: vault verify: {report.problems}")
        finally:
            _forget(service)
    print(f"seed: {seed}; kills during import {kinds['import']}, consent {kinds['consent']}, "
          f"delete {kinds['delete']}")  # fmt: skip
    print(
        f"kills: {KILLS}, photos: {len(soak.photos)}, lost: {soak.lost}, "
        f"duplicated: {soak.duplicated}, plaintext leaks: {soak.leaks}"
    )
    return 1 if soak.failures else 0


def _forget(service: str) -> None:
    import secretstorage

    with secretstorage.dbus_init() as conn:
        collection = secretstorage.get_default_collection(conn)
        for item in collection.search_items({"service": service}):
            item.delete()


if __name__ == "__main__":
    sys.exit(main())
