"""Import benchmarks against the floor, measured in the same run on the same files.

The floor is what any import must at least do per photo: `dd conv=fsync` (a durable copy)
and `shred -u` (wipe the source), one file at a time. PicSafe also scrubs, makes a
thumbnail, encrypts, journals, reads back and verifies.

1. CLI: `picsafe-desktop import --consent ...` of the corpus's 13 phone JPEGs (23 MB), whole
   process with start-up, against the floor on the same 13 files; medians of --runs paired
   runs (target: <= 1.5x).
2. In process, as the GUI runs it (`import_paths` on a worker): --count 12-MP JPEGs against
   the floor on the same files, medians of --pairs paired runs (target: <= 1.2x). CPU time /
   wall time shows how busy the cores were (well under 1: the batch waits on the disk).

Run (needs the OS keyring; `make bench` provides one):
    scripts/with-test-services .venv/bin/python bench/bench_import.py [--runs 5] [--count 200]
        [--pairs 2]
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


def compile_package() -> None:
    """Byte-compile picsafe_desktop first, as an installed copy is: with
    PYTHONDONTWRITEBYTECODE set (as on the development VM) every CLI run would otherwise
    compile about 80 modules from source, which no installed PicSafe does."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(c.REPO / "picsafe_desktop")],
        check=True,
        capture_output=True,
    )


def bench_cli(work: Path, runs: int) -> None:
    compile_package()
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


def in_process_once(work: Path, bases: list[bytes], count: int, run: int) -> tuple[float, float]:
    from picsafe_desktop.importer.events import Outcome
    from picsafe_desktop.importer.pipeline import import_paths
    from picsafe_desktop.vault import Vault

    drop = work / f"ip-drop-{run}"
    c.write_copies(drop, bases, count, f"ip{run}")
    folder, service = c.new_vault(work / f"ip-vault-{run}")
    try:
        with Vault.open(folder, service) as vault:
            start, cpu = time.perf_counter(), time.process_time()
            result = import_paths(vault, [drop], actor="bench")
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        c.forget_keys(service)
    if result.count(Outcome.IMPORTED) != count or any(drop.iterdir()):
        raise SystemExit(f"imported {result.count(Outcome.IMPORTED)} of {count}")
    shutil.rmtree(folder, ignore_errors=True)  # keep the disk from filling over the runs
    return seconds, cpu


def in_process_floor(work: Path, bases: list[bytes], count: int, run: int) -> float:
    folder = work / f"ip-floor-{run}"
    c.write_copies(folder, bases, count, f"ipf{run}")
    out = work / f"ip-floor-out-{run}"
    seconds = c.floor(folder, out)
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def bench_in_process(work: Path, count: int, pairs: int) -> None:
    bases = [p.read_bytes() for p in c.corpus_files(c.TWELVE_MP)]
    size = sum(len(bases[i % len(bases)]) for i in range(count))
    ours, floors, cpus = [], [], []
    for run in range(pairs):  # paired and alternating, as for the CLI
        if run % 2:
            floors.append(in_process_floor(work, bases, count, run))
        seconds, cpu = in_process_once(work, bases, count, run)
        ours.append(seconds)
        cpus.append(cpu)
        if not run % 2:
            floors.append(in_process_floor(work, bases, count, run))
    o, f = c.median(ours), c.median(floors)
    print(
        f"In-process import (as the GUI runs it), {count} x 12 MP JPEG ({size / 1e6:.0f} MB), "
        f"medians of {pairs} paired runs"
    )
    print("  " + c.ratio_line("import_paths vs floor", o, f, 1.2))
    print(
        f"  per-run ratios: {', '.join(f'{a / b:.2f}' for a, b in zip(ours, floors, strict=True))}"
    )
    print(
        f"  {count / o:.1f} photos/s; CPU {c.median(cpus):.1f} s over {o:.1f} s wall "
        f"= {c.median(cpus) / o:.2f} cores busy on average"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="paired CLI runs (default 5)")
    parser.add_argument("--count", type=int, default=200, help="12 MP photos (default 200)")
    parser.add_argument("--pairs", type=int, default=2, help="paired in-process runs (default 2)")
    args = parser.parse_args()
    for tool in ("dd", "shred"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")
    work = Path(tempfile.mkdtemp(prefix="picsafe-bench-"))
    try:
        bench_cli(work, args.runs)
        bench_in_process(work, args.count, args.pairs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
