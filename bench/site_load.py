"""Load test of a hospital site on loopback: 8 ward PCs sending into one Orthanc on PostgreSQL.

Not CI (slow, and it needs Debian's `orthanc`, `orthanc-postgresql` and `postgresql`):

    scripts/with-test-services .venv/bin/python bench/site_load.py [--senders 8] [--photos 25]

It makes a throwaway PostgreSQL cluster (initdb + pg_ctl, as the `postgres` user when run as
root) on a free loopback port, starts Orthanc with the PostgreSQL index plugin on it, then runs
`--senders` processes at once, each a ward PC sending `--photos` record photos (batches of 5,
one patient each) with the product's C-STORE code (export/dicom.py). It reports throughput and
checks, by SOP Instance UID, that every photo is in Orthanc exactly once - and again after one
PC sends everything a second time (what a retry after a lost acknowledgement does).
Everything it made is removed at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "corpus"
PHOTO = "iphone6-gps-exifthumb__iphone_hdr_YES.jpg"  # an 8 MP phone photo, ~2 MB
PER_BATCH = 5
AET = "SITELOAD"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool(name: str) -> str:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install postgresql (scripts/install-system-deps.sh --test)")
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    """A throwaway cluster on a loopback port, trust authentication for the local user."""

    def __init__(self, root: Path) -> None:
        self.data = root / "pgdata"
        self.port = _free_port()
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(
            _as_postgres([_tool("initdb"), "-D", str(self.data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            _as_postgres([_tool("pg_ctl"), "-D", str(self.data), "-w", "-l",
                          str(self.data / "log.txt"), "-o",
                          f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1",
                          "start"]),
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            _as_postgres([_tool("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", "postgres", "orthanc"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
            capture_output=True,
        )  # fmt: skip


class Orthanc:
    def __init__(self, root: Path, pg: Postgres) -> None:
        plugin = "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"
        if not Path(plugin).exists():
            sys.exit("orthanc-postgresql is not installed (scripts/install-system-deps.sh --test)")
        self.dicom_port, self.http_port = _free_port(), _free_port()
        config = {
            "Name": "site-load",
            "StorageDirectory": str(root / "storage"),
            "IndexDirectory": str(root / "storage"),
            "DicomAet": AET,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomAlwaysAllowStore": True,
            "StorageCompression": False,
            "ConcurrentJobs": 2,
            "Plugins": [plugin],
            "PostgreSQL": {
                "EnableIndex": True,
                "EnableStorage": False,
                "Host": "127.0.0.1",
                "Port": pg.port,
                "Database": "orthanc",
                "Username": "postgres",
                "Password": "",
                "Lock": False,
            },
        }
        (root / "orthanc.json").write_text(json.dumps(config))
        self.log = (root / "orthanc.log").open("wb")
        orthanc = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
        self.proc = subprocess.Popen(
            [orthanc, str(root / "orthanc.json")], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/system")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"Orthanc did not start; see {root / 'orthanc.log'}")
                time.sleep(0.3)
        if "postgresql" not in json.dumps(self.get("/plugins")).lower():
            sys.exit("Orthanc did not load the PostgreSQL index plugin")

    def get(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=60) as r:
            return json.loads(r.read())

    def post(self, path: str, body: str):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=body.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def _batches(pc: int, photos: int, jpeg: bytes):
    from tests.export_data import batch, photo

    for b in range(0, photos, PER_BATCH):
        items = [photo(f"pc{pc}-b{b}-{i}", jpeg) for i in range(min(PER_BATCH, photos - b))]
        yield dataclasses.replace(batch(items), batch_id=f"site-load-pc{pc}-batch{b}")


def _sender(pc: int, photos: int, jpeg: bytes, port: int, out) -> None:
    """One ward PC: send its batches one after another, as its outbox would."""
    from picsafe_desktop.export import dicom

    target = dicom.PacsTarget(ae_title=AET, host="127.0.0.1", port=port, timeout=120)
    uids: list[str] = []
    batches = list(_batches(pc, photos, jpeg))  # built before the clock starts
    started = time.time()
    for b in batches:
        uids += dicom.send(b, target).sent
    out.put((pc, uids, started, time.time()))


def _run(senders: int, photos: int, jpeg: bytes, port: int):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_sender, args=(pc, photos, jpeg, port, out)) for pc in range(senders)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    # from the first sender's first photo to the last sender's last acknowledgement
    return results, max(r[3] for r in results) - min(r[2] for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--photos", type=int, default=25, help="photos per sender")
    args = parser.parse_args(argv)
    from picsafe_desktop.deid import scrub

    source = CORPUS / PHOTO
    if not source.is_file():
        sys.exit(f"photo corpus not found at {CORPUS}")
    jpeg = scrub(source.read_bytes()).data
    root = Path(tempfile.mkdtemp(prefix="picsafe-site-load-"))
    os.chmod(root, 0o755)
    pg = orthanc = None
    try:
        pg = Postgres(root / "pg")
        orthanc = Orthanc(root, pg)
        results, elapsed = _run(args.senders, args.photos, jpeg, orthanc.dicom_port)
        expected = {uid for _pc, uids, _s, _e in results for uid in uids}
        total = args.senders * args.photos
        stats = orthanc.get("/statistics")
        missing = [u for u in expected if len(orthanc.post("/tools/lookup", u)) != 1]
        print(f"senders {args.senders}, photos {total} of {len(jpeg) / 1e6:.2f} MB each")
        rate = total * len(jpeg) / elapsed / 1e6
        print(f"sending took {elapsed:.1f} s: {total / elapsed:.1f} photos/s, "
              f"{rate:.1f} MB/s into Orthanc on PostgreSQL")  # fmt: skip
        slowest = max(e - s for _pc, _u, s, e in results)
        print(f"slowest sender {slowest:.1f} s ({args.photos / slowest:.2f} photos/s per PC)")
        print(f"acknowledged {len(expected)}, Orthanc holds {stats['CountInstances']}, "
              f"missing {len(missing)}")  # fmt: skip
        # A retry after a lost acknowledgement: PC 0 sends all of its photos again.
        again, _ = _run(1, args.photos, jpeg, orthanc.dicom_port)
        after = orthanc.get("/statistics")["CountInstances"]
        print(f"after PC 0 re-sent its {args.photos} photos: Orthanc holds {after}")
        ok = (
            len(expected) == total
            and stats["CountInstances"] == total
            and not missing
            and after == total
        )
        print("OK: nothing lost, nothing duplicated" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if orthanc is not None:
            orthanc.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
