"""Start-up: `picsafe-desktop --version` against a bare interpreter start, same run.

    .venv/bin/python bench/bench_startup.py [--runs 11]

Prints the medians, the difference (what PicSafe itself costs) and the target (< 0.15 s).
`python -X importtime -m picsafe_desktop --version` shows where any regression comes from.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

TARGET = 0.15


def run_times(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    bare, ours, scrub_help = [], [], []
    for _ in range(args.runs):  # interleaved, so load changes hit all three alike
        bare += run_times([sys.executable, "-c", "pass"], 1)
        ours += run_times([*c.cli(), "--version"], 1)
        scrub_help += run_times([*c.cli(), "scrub", "--help"], 1)
    b, o, s = c.median(bare), c.median(ours), c.median(scrub_help)
    print(f"Start-up, medians of {args.runs} interleaved runs")
    print(f"  python -c pass:              {b:.3f} s")
    print(
        f"  picsafe-desktop --version:   {o:.3f} s  ({o / b:.2f}x the bare interpreter, "
        f"+{(o - b) * 1000:.0f} ms)  target < {TARGET} s: {'met' if o < TARGET else 'NOT met'}"
    )
    print(f"  picsafe-desktop scrub --help: {s:.3f} s  ({s / b:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
