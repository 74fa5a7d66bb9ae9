"""Peak memory (resident set) of an in-process import, each in a fresh interpreter:
a batch of 10 photos against a batch of --photos (flat = the batch size does not matter),
and one --big-mb MB JPEG (target for both: under 300 MB; the file's size is the yardstick).

    scripts/with-test-services .venv/bin/python bench/bench_memory.py [--photos 1000] [--big-mb 500]
"""

from __future__ import annotations

import argparse
import io
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

TARGET_MB = 300
PHOTO = "iphone4-gps__Apple-iPhone-4.jpg"  # 5 MP, 0.3 MB: a batch of 1,000 stays quick

CHILD = """
import sys
sys.path.insert(0, {repo!r})
from picsafe_desktop.importer.events import Outcome
from picsafe_desktop.importer.pipeline import import_paths
from picsafe_desktop.vault import Vault
with Vault.open({vault!r}, {service!r}) as vault:
    result = import_paths(vault, [{drop!r}], actor="bench")
print("IMPORTED", result.count(Outcome.IMPORTED))
try:  # this process's own peak: ru_maxrss also counts the parent's peak (kept across exec)
    with open("/proc/self/status") as f:
        print("HWM", next(x for x in f if x.startswith("VmHWM:")).split()[1])
except OSError:
    pass
"""


def import_rss(work: Path, name: str, fill) -> tuple[float, float, int]:
    drop = work / f"{name}-drop"
    drop.mkdir()
    size = fill(drop)
    vault, service = c.new_vault(work / f"{name}-vault")
    code = CHILD.format(repo=str(c.REPO), vault=str(vault), service=service, drop=str(drop))
    try:
        start = time.perf_counter()
        peak, out = c.child_peak_rss_mb(code)
        seconds = time.perf_counter() - start
    finally:
        c.forget_keys(service)
    found = dict(line.split(None, 1) for line in out.splitlines() if line[:4] in ("IMPO", "HWM "))
    if "HWM" in found:  # Linux: the child's own high-water mark (see CHILD)
        peak = int(found["HWM"]) / 1024
    imported = int(found["IMPORTED"])
    return peak, seconds, imported if size else 0


def big_jpeg(path: Path, megabytes: int) -> int:
    """A noisy JPEG of about `megabytes` MB (quality 100, 4:4:4): tiles of noise pasted."""
    from PIL import Image

    tile = Image.merge("RGB", [Image.effect_noise((1024, 1024), 90) for _ in range(3)])
    buf = io.BytesIO()
    tile.save(buf, "JPEG", quality=100, subsampling=0)
    per_pixel = len(buf.getvalue()) / (1024 * 1024)
    # A large canvas of pasted tiles compresses about 10% better than the one tile: aim high.
    pixels = min(1.1 * megabytes * 1e6 / per_pixel, (1 << 28) * 0.95)  # under the 256 MP limit
    width = math.ceil(math.sqrt(pixels * 4 / 3) / 1024) * 1024
    height = max(1024, int(pixels / width) // 1024 * 1024)
    canvas = Image.new("RGB", (width, height))
    for y in range(0, height, 1024):
        for x in range(0, width, 1024):
            canvas.paste(tile, (x, y))
    canvas.save(path, "JPEG", quality=100, subsampling=0)
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--big-mb", type=int, default=500)
    args = parser.parse_args()
    base = c.corpus_files([PHOTO])[0].read_bytes()
    work = Path(tempfile.mkdtemp(prefix="picsafe-bench-mem-"))
    try:
        print("Peak resident memory of an in-process import (fresh interpreter each)")
        rows = []
        for n in (10, args.photos):

            def copies(drop: Path, n: int = n) -> int:
                return c.write_copies(drop, [base], n, f"m{n}")

            peak, secs, got = import_rss(work, f"batch{n}", copies)
            verdict = "met" if peak < TARGET_MB else "NOT met"
            rows.append(peak)
            print(
                f"  batch of {n:5d} x 5 MP JPEG: {peak:6.0f} MB peak ({got} imported, "
                f"{secs:.0f} s)  target < {TARGET_MB} MB: {verdict}"
            )
        print(f"  ratio {args.photos} / 10 photos: {rows[1] / rows[0]:.2f}x (1.0 = flat)")
        size = 0

        def fill(drop: Path) -> int:
            nonlocal size
            size = big_jpeg(drop / "big.jpg", args.big_mb)
            return size

        peak, secs, got = import_rss(work, "big", fill)
        print(
            f"  one {size / 1e6:.0f} MB JPEG: {peak:6.0f} MB peak = {peak * 2**20 / size:.2f}x "
            f"the file ({got} imported, {secs:.0f} s)  target < {TARGET_MB} MB: "
            f"{'met' if peak < TARGET_MB else 'NOT met'}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
