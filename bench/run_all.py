"""Runs every bench/bench_*.py (what `make bench` does), each inside the test services, and
prints each one's wall time and the total.

By default the slow benchmarks get lighter settings that keep their medians meaningful but
drop repetitions (QUICK below), so a fresh clone's run stays well under 15 minutes on a loaded
2-core machine. `BENCH_FULL=1` runs each with its own defaults; `BENCH_ONLY=import,scale` runs
only those. The settings go through each benchmark's own arguments: its measuring code is
unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Per benchmark: arguments for `make bench` (the bench's docstring says what they mean).
QUICK = {
    # 1,000 photos instead of 3,000 in the grid: the first screen is the same size.
    "bench_grid": ["1000"],
    # Medians of 11 instead of 21 paired runs.
    "bench_hospital": ["--runs", "11"],
    # 5 paired CLI runs; in process the target's 200 x 12 MP photos in 3 paired runs (median of 3)
    # instead of 2 (a median of 2 is a mean).
    "bench_import": ["--runs", "5", "--count", "200", "--pairs", "3"],
    # 10 x 12 MB photos, and a 2,000-item vault for the listing (bench_scale lists 100,000).
    "bench_vault": ["--photos", "10", "--items", "2000"],
}


def main() -> int:
    full = os.environ.get("BENCH_FULL") == "1"
    only = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    benches = sorted((REPO / "bench").glob("bench_*.py"))
    if only:
        benches = [b for b in benches if b.stem.removeprefix("bench_") in only]
    times: list[tuple[str, float]] = []
    started = time.perf_counter()
    for bench in benches:
        args = [] if full else QUICK.get(bench.stem, [])
        print(f"== {bench.relative_to(REPO)} {' '.join(args)}".rstrip(), flush=True)
        t0 = time.perf_counter()
        cmd = ["scripts/with-test-services", ".venv/bin/python", str(bench.relative_to(REPO))]
        rc = subprocess.call([*cmd, *args], cwd=REPO)
        times.append((bench.stem, time.perf_counter() - t0))
        if rc:
            print(f"{bench.name} failed (exit status {rc})", file=sys.stderr)
            return rc
    total = time.perf_counter() - started
    print("== wall time per benchmark")
    for name, seconds in times:
        print(f"  {name:<22} {seconds:6.0f} s")
    print(f"  {'total':<22} {total:6.0f} s ({total / 60:.1f} min)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
