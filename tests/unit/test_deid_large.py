"""200-megapixel photos import within the stated memory budget (docs/deidentification.md).

Each measurement runs scrub() in a fresh interpreter and reads its peak resident memory, so
nothing else in the test process distorts it. Pillow's global decompression-bomb limit must
be left exactly as it was.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from picsafe_desktop.deid import MAX_PIXELS, ImageTooLarge, scrub
from tests.unit.deid_synthetic import huge_gray_jpeg, huge_gray_png

REPO = Path(__file__).resolve().parents[2]
MB = 1 << 20
# 200 MP as a Samsung 200 MP sensor writes it (16320 x 12240 = 199.8 MP).
WIDTH, HEIGHT = 16320, 12240

# Peak memory of the scrub alone: ru_maxrss would include the parent's peak (Linux keeps it
# across exec), so read VmHWM after resetting it with /proc/self/clear_refs.
_MEASURE = """
import gc, json, sys
from PIL import Image
from picsafe_desktop.deid import scrub

def status(key):
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith(key + ":"))
    return int(line.split()[1]) * 1024

with open(sys.argv[1], "rb") as f:
    data = f.read()
limit = Image.MAX_IMAGE_PIXELS
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak to the current resident size
before = status("VmRSS")
result = scrub(data)
peak = status("VmHWM")
print(json.dumps({"before": before, "peak": peak, "size": [result.facts.width,
      result.facts.height], "limit_unchanged": Image.MAX_IMAGE_PIXELS == limit}))
"""


def measure(tmp_path: Path, data: bytes) -> dict:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("peak-memory measurement needs Linux /proc")
    # The synthetic file goes to disk only to hand it to the child interpreter.
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_200_megapixel_jpeg_scrubs_in_under_64_mb(tmp_path):
    report = measure(tmp_path, huge_gray_jpeg(WIDTH, HEIGHT))
    assert report["size"] == [WIDTH, HEIGHT]
    assert report["limit_unchanged"]
    # Lossless path: no full decode (the check decodes at 1/8 scale).
    assert report["peak"] - report["before"] < 64 * MB


@pytest.mark.slow
def test_200_megapixel_png_scrubs_in_under_64_mb(tmp_path):
    report = measure(tmp_path, huge_gray_png(WIDTH, HEIGHT))
    assert report["size"] == [WIDTH, HEIGHT]
    assert report["limit_unchanged"]
    # The image stream is inflated in 1 MB steps and never held whole.
    assert report["peak"] - report["before"] < 64 * MB


@pytest.mark.slow
def test_heic_decode_stays_within_12_bytes_per_pixel(tmp_path):
    """HEIC must be decoded; the budget is per pixel (200 MP -> 2.4 GB at most)."""
    width, height = 4000, 3000
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    heif = pillow_heif.from_pillow(im)
    buf = io.BytesIO()
    heif.save(buf, quality=40)
    report = measure(tmp_path, buf.getvalue())
    assert report["size"] == [width, height]
    assert (report["peak"] - report["before"]) / (width * height) < 12


def test_pixel_limit_is_ours_not_pillows():
    assert MAX_PIXELS >= WIDTH * HEIGHT > Image.MAX_IMAGE_PIXELS * 2
    side = 16400  # 269 MP, above our limit: refused from the header, nothing decoded
    with pytest.raises(ImageTooLarge, match="megapixels"):
        scrub(huge_gray_jpeg(side, side))
    with pytest.raises(ImageTooLarge):
        scrub(huge_gray_png(side, side))
    before = Image.MAX_IMAGE_PIXELS
    assert scrub(huge_gray_jpeg(12000, 8000)).facts.width == 12000  # 96 MP > Pillow's limit
    assert Image.MAX_IMAGE_PIXELS == before
