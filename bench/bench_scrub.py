"""Scrub throughput against `exiftool -all=` on the same 12-megapixel JPEGs and every HEIC of
the corpus (iPhone, Samsung, Xiaomi, Nokia, Sony .HIF; grids, rotations, 10-bit).

    .venv/bin/python bench/bench_scrub.py [--repeat 3] [--corpus ../shared/corpus]

Prints MB/s and photos/s for picsafe's scrub() (in process, bytes in/bytes out, as the import
pipeline calls it), for `picsafe-desktop scrub SRC DST` one process per photo, and for
exiftool, both one process per photo (how a script would call it) and one process for all
photos (exiftool's best case), and the ratios (above 1: PicSafe is faster). Not part of the
test suite.

exiftool is only a speed baseline: `-all=` rewrites metadata but leaves vendor APPn blocks and
HEIF thumbnails, depth maps and gain maps in place; scrub() removes them. Both leave the
HEVC/JPEG image data untouched. Inputs come from the shared corpus; without it, synthetic
12 MP photos are made (the HEIC ones take a few seconds to encode).
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from picsafe_desktop.deid import scrub  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
TWELVE_MP = {
    "jpeg": [
        "google-pixel-gps-makernote__IMG_20180725_163423.jpg",
        "samsung-galaxy-s7edge-SM-G935L-gps__Samsung-SM-G935L-Galaxy-S7-Edge.jpg",
    ],
    "heic": [
        "iphone11promax-gps-xmp__IMG_5195.HEIC",
        "iphone13pro-gps-depth__pug.heic",
        "iphone13promax-orient6-thumb__iphone_13_pro_max.HEIC",
        "iphone7-gps-thumb__IMG_2682.heic",
        "nokia-8.3-5g-gps__HMD_Nokia_8.3_5G_hdr.heif",
        "samsung-galaxy-s10plus-SM-G975F-orient6__Issue-487.heic",
        "sony-ilce-7sm3-serial-thumbs__cat.hif",
        "xiaomi-M2012K11AG-gps-exifthumb__xiaomi.heic",
    ],
}


def synthetic(kind: str) -> list[tuple[str, bytes]]:
    import piexif
    import pillow_heif
    from PIL import Image

    im = Image.effect_noise((4000, 3000), 30).convert("RGB")
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"Synthetic"}})
    buf = io.BytesIO()
    if kind == "jpeg":
        im.save(buf, "JPEG", quality=92, exif=exif)
    else:
        heif = pillow_heif.from_pillow(im)
        heif.info["exif"] = exif
        heif.save(buf, quality=80)
    return [(f"synthetic-12mp.{kind}", buf.getvalue())]


def inputs(kind: str, corpus: Path) -> list[tuple[str, bytes]]:
    files = [corpus / name for name in TWELVE_MP[kind] if (corpus / name).is_file()]
    if not files:
        return synthetic(kind)
    return [(f.name, f.read_bytes()) for f in files]


def time_scrub(photos: list[tuple[str, bytes]], repeat: int) -> float:
    scrub(photos[0][1])  # warm up imports and codecs
    start = time.perf_counter()
    for _ in range(repeat):
        for _, data in photos:
            scrub(data)
    return time.perf_counter() - start


def time_exiftool(photos: list[tuple[str, bytes]], repeat: int, batch: bool) -> float:
    tool = shutil.which("exiftool")
    if tool is None:
        raise SystemExit("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = []
        for name, data in photos:
            path = folder / name
            path.write_bytes(data)
            sources.append(path)
        start = time.perf_counter()
        for i in range(repeat):
            out = folder / f"out{i}"
            out.mkdir()
            if batch:
                cmd = [tool, "-q", "-all=", "-o", f"{out}/", *map(str, sources)]
                subprocess.run(cmd, check=True, capture_output=True)
            else:
                for src in sources:
                    cmd = [tool, "-q", "-all=", "-o", str(out / src.name), str(src)]
                    subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - start


def time_cli(photos: list[tuple[str, bytes]], repeat: int) -> float:
    """`picsafe-desktop scrub SRC DST`, one process per photo (start-up included)."""
    script = Path(sys.executable).with_name("picsafe-desktop")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "picsafe_desktop"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = []
        for name, data in photos:
            path = folder / name
            path.write_bytes(data)
            sources.append(path)
        start = time.perf_counter()
        for i in range(repeat):
            out = folder / f"cli{i}"
            out.mkdir()
            for src in sources:
                subprocess.run([*cmd, "scrub", str(src), str(out)], check=True,
                               capture_output=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the photos")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()

    print(f"{'kind':5} {'tool':26} {'photos/s':>9} {'MB/s':>8}   (above 1x: PicSafe faster)")
    for kind in ("jpeg", "heic"):
        photos = inputs(kind, args.corpus)
        count = len(photos) * args.repeat
        megabytes = sum(len(d) for _, d in photos) * args.repeat / 1e6
        ours = time_scrub(photos, args.repeat)
        cli = time_cli(photos, args.repeat)
        per_file = time_exiftool(photos, args.repeat, batch=False)
        batched = time_exiftool(photos, args.repeat, batch=True)
        for label, seconds in (
            ("picsafe scrub()", ours),
            ("picsafe-desktop scrub", cli),
            ("exiftool -all= (per photo)", per_file),
            ("exiftool -all= (batched)", batched),
        ):
            print(f"{kind:5} {label:26} {count / seconds:9.2f} {megabytes / seconds:8.1f}")
        print(
            f"{kind:5} ratio exiftool time / scrub() time: {per_file / ours:.2f}x per-photo, "
            f"{batched / ours:.2f}x batched  ({len(photos)} photos x {args.repeat}, "
            f"{megabytes / args.repeat:.1f} MB per pass)"
        )
        print(
            f"{kind:5} ratio exiftool per photo / picsafe-desktop scrub per photo: "
            f"{per_file / cli:.2f}x (both whole processes)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
