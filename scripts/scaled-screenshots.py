"""Screenshots of the main window and the consent form at 125 % and 150 % display scaling and
in the high-contrast scheme, each on an X server of exactly 1366x768 (docs/translating.md):

    HOME=/home/nurse scripts/with-test-services .venv/bin/python scripts/scaled-screenshots.py \
        docs/screenshots

Runs the same journey as tests/ui/test_scaling.py (tests/ui/fit_probe.py) with a throwaway
vault whose key is removed from the keyring afterwards, and prints what did not fit.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.ui.test_scaling import probe  # noqa: E402 - the repository's own test helper

RUNS = (  # (file name prefix, QT_SCALE_FACTOR, PICSAFE_HIGH_CONTRAST)
    ("scale-125", "1.25", ""),
    ("scale-150", "1.5", ""),
    ("high-contrast", "1", "dark"),
)
SCREENS = {"main-window": "main-window", "consent": "consent"}


def main(out_dir: str = "docs/screenshots") -> int:
    import secretstorage

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for prefix, factor, contrast in RUNS:
        work = Path(tempfile.mkdtemp(prefix="picsafe-scaled-"))
        service = f"picsafe-screenshots-{uuid.uuid4().hex[:8]}"
        os.environ["PICSAFE_HIGH_CONTRAST"] = contrast
        try:
            found = probe(work, service, factor, work / "shots")
            for screen, name in SCREENS.items():
                target = out / f"{prefix}-{name}.png"
                shutil.copyfile(work / "shots" / f"{screen}.png", target)
                print(target)
            for screen, report in found.items():
                for problem in report["cut"] + ([] if report["fits"] else ["off screen"]):
                    print(f"  {prefix} {screen}: {problem}")
        finally:
            with secretstorage.dbus_init() as conn:
                collection = secretstorage.get_default_collection(conn)
                for item in collection.search_items({"service": service}):
                    item.delete()
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
