"""Scale benchmark (issue 17): a vault of 10,000 and one of 100,000 photos (1,000 and 10,000
patients x 10 photos), measured in the same run; prints each figure and the 100k/10k ratio.

- list: `Vault.list_items()` (every row's MAC checked) and `picsafe-desktop vault list --json`
  (whole process, start-up included);
- lookup: find a patient by MRN and list their photos (median over 200 patients);
- sign-in: `Services.sign_in` with an enrolled staff ID and PIN (Argon2 check) +
  `Services.patients()` on an open vault (one sealed patient index decrypted, one audit row),
  and a refresh of the list;
- one audited change (the cost every write pays as the vault grows);
- open: `Vault.open` (trust checks over every row's state entry, blob sweep).

The vaults are built once under bench/out/ (synthetic patients; kept between runs) with
`eatmydata`, which turns fsync into a no-op: only to make generating them fast. Photos are small
random blobs (listing never reads a blob); each row, key, seal and state entry is what
`Vault.put` and `Vault.put_consent` write. The test keyring is thrown away after each run, so
each run puts the master key back with the vault's recovery code (kept beside it, bench data).

Run: scripts/with-test-services .venv/bin/python bench/bench_scale.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, cli, median

OUT = REPO / "bench" / "out"
SERVICE = "picsafe-bench-scale"
PER_PATIENT = 10
FORMAT = 2  # bump when the builder changes what it writes: old vaults are rebuilt


def folder_for(items: int) -> Path:
    return OUT / f"scale-{items}"


def build(root: Path, items: int) -> None:
    """Write a vault of `items` active photos (runs under eatmydata, see main)."""
    from picsafe_desktop.model import ItemState
    from picsafe_desktop.vault import KdfParams, Vault
    from picsafe_desktop.vault.crypto import (
        Kind,
        mac,
        seal_bytes,
        seal_field,
        seal_stream,
        wrap_aad,
    )
    from picsafe_desktop.vault.records import _json_bytes, _new_id, _now, _oid

    vault, code = Vault.create(
        root / "vault", SERVICE, kdf=KdfParams(time_cost=1, memory_kib=8192, parallelism=1)
    )
    from _common import CONSENT

    from picsafe_desktop import consent

    base = consent.record_to_dict(
        consent.record_from_fields(CONSENT, wording=consent.load_wording(None, None))
    )
    rng = random.Random(items)
    keys = vault._k()
    active = ItemState.ACTIVE.value
    with vault._tx() as conn:
        for p in range(items // PER_PATIENT):
            mrn = f"BX{p:07d}"
            at = _now()
            batch_id = _new_id()
            label = seal_field(
                keys.field, b"bench phone", b"picsafe-vault/v1/batch-label\x00" + batch_id.encode()
            )
            conn.execute(
                "INSERT INTO batches (batch_id, created_at, mac, label) VALUES (?, ?, ?, ?)",
                (batch_id, at, mac(keys.row, "batch", batch_id, at), label),
            )
            vault._touched.add(("batch", batch_id))
            consent_id = _new_id()
            record = dict(base, consent_id=consent_id)  # a complete record, as the dialog's
            record["patient"] = {
                "mrn": mrn,
                "name": f"Bench Patient {p:05d}",
                "birth_date": f"19{50 + p % 50:02d}-0{1 + p % 9}-1{p % 9}",
            }
            data_key = os.urandom(32)
            mrn_mac = mac(keys.lookup, "mrn", mrn)
            conn.execute(
                "INSERT INTO consents (consent_id, batch_id, created_at, mrn_mac, mac, "
                "wrapped_key, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    consent_id,
                    batch_id,
                    at,
                    mrn_mac,
                    mac(keys.row, "consent", consent_id, batch_id, at, mrn_mac),
                    seal_field(keys.wrap, data_key, wrap_aad(Kind.CONSENT, _oid(consent_id))),
                    seal_bytes(data_key, Kind.CONSENT, _oid(consent_id), _json_bytes(record, "r")),
                ),
            )
            vault._touched.add(("consent", consent_id))
            for _ in range(PER_PATIENT):
                item_id = _new_id()
                oid = _oid(item_id)
                key = os.urandom(32)
                body = rng.randbytes(256)
                vault._blobs.write(item_id, seal_stream(key, Kind.CONTENT, oid, _reader(body)))
                created = _now()
                row_mac = vault._item_mac(
                    item_id, batch_id, active, len(body), "image/jpeg", created, consent_id, None
                )
                conn.execute(
                    "INSERT INTO items (item_id, batch_id, state, size, media_type, created_at, "
                    "consent_id, original_mac, mac, wrapped_key, thumbnail, metadata) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                    (
                        item_id,
                        batch_id,
                        active,
                        len(body),
                        "image/jpeg",
                        created,
                        consent_id,
                        row_mac,
                        seal_field(keys.wrap, key, wrap_aad(Kind.CONTENT, oid)),
                        seal_bytes(key, Kind.THUMBNAIL, oid, b"thumb"),
                        seal_bytes(key, Kind.METADATA, oid, b'{"body_site": "left forearm"}'),
                    ),
                )
                vault._touched.add(("item", item_id))
        vault._audit_in(conn, "bench_build", "bench", vault.vault_id, {"items": items})
    vault.close()
    (root / "recovery-code.txt").write_text(code)
    (root / "built.json").write_text(json.dumps({"format": FORMAT, "items": items}))


def _reader(body: bytes):
    import io

    return io.BytesIO(body).read


def ensure_built(items: int) -> Path:
    root = folder_for(items)
    try:
        if json.loads((root / "built.json").read_text()) == {"format": FORMAT, "items": items}:
            return root
    except (OSError, ValueError):
        pass
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    start = time.perf_counter()
    wrapper = ["eatmydata"] if shutil.which("eatmydata") else []
    if not wrapper:
        print("eatmydata not installed: building without it (slow)")
    subprocess.run(
        [*wrapper, sys.executable, __file__, "--build", str(items)], check=True, cwd=REPO
    )
    print(f"built {root} ({items:,} photos) in {time.perf_counter() - start:.0f} s")
    return root


class Clock:
    """Wall and CPU time of one step: on a busy shared machine the CPU time is what the step
    costs (wall time there includes waiting for a core)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def measure(root: Path, items: int, only: set[str] | None = None) -> dict[str, tuple[float, float]]:
    """Each figure as (wall, CPU) seconds, the medians of its repeats."""
    from picsafe_desktop.vault import Vault

    path = root / "vault"
    Vault.recover(path, (root / "recovery-code.txt").read_text(), SERVICE, actor="bench")
    vault = Vault.open(path, SERVICE)  # a vault built by an older program gets its indexes
    try:
        enrol_bench_staff(vault)
    finally:
        vault.close()
    samples: dict[str, list[Clock]] = {}

    def timed(name: str) -> Clock:
        clock = Clock()
        samples.setdefault(name, []).append(clock)
        return clock

    for _ in range(3):
        with timed("open"):
            vault = Vault.open(path, SERVICE)
        vault.close()

    vault = Vault.open(path, SERVICE)
    try:
        for _ in range(3):
            with timed("list"):
                listed = vault.list_items()
            assert len(listed) == items, len(listed)

        if only is None or only & {"lookup", "write", "sign_in", "refresh"}:
            _service_figures(root, path, items, vault, timed)
    finally:
        vault.close()
    return _cli_list(path, items, samples, timed)


STAFF_ID, STAFF_PIN = "BN1", "482913"  # bench data, like the recovery code beside the vault


def enrol_bench_staff(vault) -> None:
    """Sign-in checks an enrolled staff ID and PIN (the default method): enrol one, the way
    `picsafe-desktop staff add` does, unless an earlier run already did."""
    from picsafe_desktop.staff import pins
    from picsafe_desktop.staff.enrol import enrol

    if not any(e.staff_id == STAFF_ID for e in pins.StaffStore.for_vault(vault).list()):
        enrol(vault, STAFF_ID, "Bench Nurse", ("clinician",), STAFF_PIN, actor="bench")


def _service_figures(root: Path, path: Path, items: int, vault, timed) -> None:
    """Lookup, one audited change, sign-in and refresh, on the open vault."""
    from picsafe_desktop import config
    from picsafe_desktop.model import Staff
    from picsafe_desktop.services import Services

    rng = random.Random(7)
    patients = items // PER_PATIENT
    for p in rng.sample(range(patients), min(200, patients)):
        with timed("lookup"):
            (consent_id,) = vault.find_by_mrn(f"bx{p:07d}")
            photos = vault.list_items(consent_id=consent_id)
        assert len(photos) == PER_PATIENT

    for _ in range(5):
        with timed("write"):
            vault.audit("bench_probe", actor="bench", subject=vault.vault_id)

    site = config.from_dict(
        {"vault": {"path": str(path)}, "logging": {"file": str(root / "bench.log")}}
    )
    services = Services(site, vault)
    for _ in range(3):
        with timed("sign_in"):
            services.sign_in(Staff("", "", STAFF_ID), STAFF_PIN)  # PIN checked (Argon2)
            shown = services.patients()
        assert len(shown) == patients, len(shown)
        with timed("refresh"):
            services.patients()
        services.sign_out("bench")


def _cli_list(path: Path, items: int, samples, timed) -> dict[str, tuple[float, float]]:
    for _ in range(3):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        with timed("cli_list") as clock:
            done = subprocess.run(
                [*cli(), "vault", "list", "--vault", str(path), "--keyring-service", SERVICE]
                + ["--json"],
                capture_output=True,
                cwd=REPO,
            )
        # The child's CPU time, not this process's.
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        clock.cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"vault list failed: {done.stderr.decode(errors='replace')[-500:]}")
        assert len(json.loads(done.stdout)["items"]) == items
    return {
        name: (median(c.wall for c in clocks), median(c.cpu for c in clocks))
        for name, clocks in samples.items()
    }


LABELS = {
    "list": ("Vault.list_items(), all photos", 1.0),
    "cli_list": ("`vault list --json`, whole process", 1.0),
    "lookup": ("find by MRN + that patient's photos", 0.020),
    "sign_in": ("sign in + patient list (Services.patients)", 1.0),
    "refresh": ("patient list refresh", 1.0),
    "write": ("one audited change (transaction)", None),
    "open": ("Vault.open (trust checks, sweep)", None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", help="comma-separated figures to measure, e.g. list,cli_list,open (default: all)"
    )
    args = parser.parse_args()
    if args.build:
        build(folder_for(args.build), args.build)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    only = set(args.only.split(",")) if args.only else None
    results = {n: measure(ensure_built(n), n, only) for n in sizes}
    small, large = sizes[0], sizes[-1]
    print("\nwall time (CPU time in brackets: on a busy machine, what the step itself costs)")
    print(f"{'':44} {small:>18,} {large:>18,}  ratio  target at {large:,}")
    for key, (label, target) in LABELS.items():
        if key not in results[small]:
            continue
        (aw, ac), (bw, bc) = results[small][key], results[large][key]
        verdict = ""
        if target is not None:
            verdict = f"< {target * 1000:.0f} ms: " + ("met" if bw < target else "NOT met")
        a = f"{aw * 1000:7.1f} ({ac * 1000:6.1f})ms"
        b = f"{bw * 1000:7.1f} ({bc * 1000:6.1f})ms"
        print(f"{label:44} {a} {b} {bw / aw:5.1f}x  {verdict}")


if __name__ == "__main__":
    main()
