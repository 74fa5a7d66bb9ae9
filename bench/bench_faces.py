"""Recall and false alarms of the export face stop: MTCNN (deid.faces) against the Haar cascade.

    .venv/bin/python bench/bench_faces.py --faces DIR --others DIR [--others DIR ...]

Without --faces (as `make bench` runs it) the corpus's one portrait is the face set.

Every photo in --faces shows one frontal face; each is also tried darkened (two levels, a
rough stand-in for darker skin under ward lighting: no real photos of varied skin tone were
available), with drawn sunglasses, with a drawn surgical mask, turned 20, 45 and 90 degrees,
at 1/4 and 1/8 size, in grey, blurred and dim. Every photo in --others shows no face and
counts false alarms. Prints a line per image and the totals. Not part of the test suite.

The figures in docs/consent.md came from three real faces (scikit-image's astronaut.png,
matplotlib's grace_hopper.jpg, the corpus's canon-eos-7d-serial-person photo) and 20 photos
without faces (other scikit-image samples and the corpus JPEGs).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from picsafe_desktop.deid import scrub, suggest_faces  # noqa: E402
from picsafe_desktop.deid.faces import find_faces  # noqa: E402

SUFFIXES = {".jpg", ".jpeg", ".png"}
PORTRAIT = "canon-eos-7d-serial-person-xmp-iptc__Canon-EOS-7D.jpg"


def _clean(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=92)
    return scrub(out.getvalue()).data


def _variants(image: Image.Image, box) -> dict[str, Image.Image]:
    x, y, w, h = box
    rgb = image.convert("RGB")

    def tinted(factors) -> Image.Image:
        out = rgb.copy()
        face = np.asarray(rgb.crop((x, y, x + w, y + h))).astype(float) * np.array(factors)
        out.paste(Image.fromarray(face.clip(0, 255).astype("uint8")), (x, y))
        return out

    glasses = rgb.copy()
    pen = ImageDraw.Draw(glasses)
    eye_y, r = y + int(h * 0.38), int(w * 0.13)
    for eye_x in (x + int(w * 0.3), x + int(w * 0.7)):
        pen.ellipse([eye_x - r, eye_y - int(r * 0.7), eye_x + r, eye_y + int(r * 0.7)], fill=20)
    mask = rgb.copy()
    ImageDraw.Draw(mask).polygon(
        [(x + int(w * 0.12), y + int(h * 0.55)), (x + int(w * 0.88), y + int(h * 0.55)),
         (x + int(w * 0.8), y + int(h * 0.98)), (x + int(w * 0.2), y + int(h * 0.98))],
        fill=(170, 200, 225),
    )  # fmt: skip
    return {
        "original": rgb,
        "darker": tinted((0.42, 0.33, 0.27)),
        "much darker": tinted((0.25, 0.19, 0.16)),
        "sunglasses": glasses,
        "mask": mask,
        "turned 20": rgb.rotate(20, expand=True, fillcolor=(128, 128, 128)),
        "turned 45": rgb.rotate(45, expand=True, fillcolor=(128, 128, 128)),
        "turned 90": rgb.rotate(90, expand=True),
        "1/4 size": rgb.resize((rgb.width // 4, rgb.height // 4)),
        "1/8 size": rgb.resize((rgb.width // 8, rgb.height // 8)),
        "grey": ImageOps.grayscale(rgb).convert("RGB"),
        "blurred": rgb.filter(ImageFilter.GaussianBlur(4)),
        "dim": Image.fromarray((np.asarray(rgb).astype(float) * 0.25).astype("uint8")),
    }


def _photos(folder: Path):
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in SUFFIXES:
            try:
                with Image.open(path) as image:
                    yield path, ImageOps.exif_transpose(image).convert("RGB")
            except OSError:
                continue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path)
    parser.add_argument("--others", type=Path, action="append", default=[])
    args = parser.parse_args()
    if args.faces is None:  # `make bench` on a fresh machine: the corpus's one portrait
        holder = tempfile.TemporaryDirectory(prefix="bench-faces-")  # removed at exit
        args.faces = Path(holder.name)
        (args.faces / PORTRAIT).symlink_to(REPO.parent / "shared" / "corpus" / PORTRAIT)
    hits = {"mtcnn": 0, "haar": 0}
    took = {"mtcnn": 0.0, "haar": 0.0}
    tried = 0
    for path, image in _photos(args.faces):
        found = find_faces(_clean(image))
        if not found:
            print(f"{path.name}: no face found in the original; skipped")
            continue
        box = max(found, key=lambda b: b[2] * b[3])
        for kind, variant in _variants(image, box).items():
            clean = _clean(variant)
            result = {}
            for name, detect in (("mtcnn", find_faces), ("haar", suggest_faces)):
                start = time.perf_counter()
                result[name] = len(detect(clean))
                took[name] += time.perf_counter() - start
                hits[name] += bool(result[name])
            tried += 1
            print(f"{path.name:40.40s} {kind:12s} mtcnn={result['mtcnn']} haar={result['haar']}")
    alarms = {"mtcnn": 0, "haar": 0}
    others = 0
    for folder in args.others:
        for _path, image in _photos(folder):
            clean = _clean(image)
            others += 1
            for name, detect in (("mtcnn", find_faces), ("haar", suggest_faces)):
                alarms[name] += bool(detect(clean))
    for name in ("mtcnn", "haar"):
        print(
            f"{name}: recall {hits[name]}/{tried}, false alarms {alarms[name]}/{others}, "
            f"{took[name] / max(tried, 1):.2f} s per face photo"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
