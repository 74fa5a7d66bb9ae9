"""Import benchmarks against the floor, measured in the same run on the same files.

The floor is what any import must at least do per photo: `dd conv=fsync` (a durable copy)
and `shred -u` (wipe the source), one file at a time. PicSafe also scrubs, makes a
thumbnail, encrypts, journals, reads back and verifies.

1. CLI: `picsafe-desktop import --consent ...` of the corpus's 13 phone JPEGs (23 MB), whole
   process with start-up, against the floor on the same 13 files; medians of --runs paired
   runs (target: <= 1.5x).
2. In process, as the GUI runs it (`import_paths` on a worker): --count 12-MP JPEGs against
   the floor on the same files (target: <= 1.2x). CPU time / wall time shows how much of the
   second core the pipeline uses.

Run (needs the OS keyring; `make bench` provides one):
    scripts/with-test-services .venv/bin/python bench/bench_import.py [--runs 5] [--count 200]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402


def cli_import(work: Path, bases: list[bytes], run: int) -> float:
    drop = work / f"cli-drop-{run}"
    c.write_copies(drop, bases, len(bases), f"cli{run}")
    vault, service = c.new_vault(work / f"cli-vault-{run}")
    consent = c.consent_file(work)
    cmd = [
        *c.cli(),
        "import",
        "--consent",
        str(consent),
        "--vault",
        str(vault),
        "--keyring-service",
        service,
        "-q",
        str(drop),
    ]
    try:
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        seconds = time.perf_counter() - start
    finally:
        c.forget_keys(service)
    if any(drop.iterdir()):
        raise SystemExit("the CLI import left source files behind")
    return seconds


def cli_floor(work: Path, bases: list[bytes], run: int) -> float:
    folder = work / f"floor-drop-{run}"
    c.write_copies(folder, bases, len(bases), f"floor{run}")
    return c.floor(folder, work / f"floor-out-{run}")


def bench_cli(work: Path, runs: int) -> None:
    bases = [p.read_bytes() for p in c.corpus_files(c.PHONE_JPEGS)]
    ours, floors = [], []
    for run in range(runs):  # paired and alternating, so drift hits both alike
        if run % 2:
            floors.append(cli_floor(work, bases, run))
            ours.append(cli_import(work, bases, run))
        else:
            ours.append(cli_import(work, bases, run))
            floors.append(cli_floor(work, bases, run))
    mb = sum(map(len, bases)) / 1e6
    print(f"CLI import, {len(bases)} phone JPEGs ({mb:.0f} MB), medians of {runs} paired runs")
    print(
        "  "
        + c.ratio_line("picsafe-desktop import vs floor", c.median(ours), c.median(floors), 1.5)
    )
    print(
        f"  per-run ratios: {', '.join(f'{o / f:.2f}' for o, f in zip(ours, floors, strict=True))}"
    )


def bench_in_process(work: Path, count: int) -> None:
    from picsafe_desktop.importer.events import Outcome
    from picsafe_desktop.importer.pipeline import import_paths
    from picsafe_desktop.vault import Vault

    bases = [p.read_bytes() for p in c.corpus_files(c.TWELVE_MP)]
    drop = work / "ip-drop"
    size = c.write_copies(drop, bases, count, "ip")
    folder, service = c.new_vault(work / "ip-vault")
    try:
        with Vault.open(folder, service) as vault:
            start, cpu = time.perf_counter(), time.process_time()
            result = import_paths(vault, [drop], actor="bench")
            ours, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        c.forget_keys(service)
    if result.count(Outcome.IMPORTED) != count or any(drop.iterdir()):
        raise SystemExit(f"imported {result.count(Outcome.IMPORTED)} of {count}")
    fdrop = work / "ip-floor"
    c.write_copies(fdrop, bases, count, "ipf")
    base = c.floor(fdrop, work / "ip-floor-out")
    print(f"In-process import (as the GUI runs it), {count} x 12 MP JPEG ({size / 1e6:.0f} MB)")
    print("  " + c.ratio_line("import_paths vs floor", ours, base, 1.2))
    print(
        f"  {count / ours:.1f} photos/s; CPU {cpu:.1f} s over {ours:.1f} s wall "
        f"= {cpu / ours:.2f} cores busy on average"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="paired CLI runs (default 5)")
    parser.add_argument("--count", type=int, default=200, help="12 MP photos (default 200)")
    args = parser.parse_args()
    for tool in ("dd", "shred"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")
    work = Path(tempfile.mkdtemp(prefix="picsafe-bench-"))
    try:
        bench_cli(work, args.runs)
        bench_in_process(work, args.count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
