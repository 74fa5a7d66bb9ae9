"""Issue 11: PySide6 6.12.0 on Python 3.11 aborts after ~10,000 signals (a refcount bug).

The traffic runs in a child process: an interpreter abort fails this test, not the whole suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Python 3.12 made True and None immortal: their counts never move, whatever an extension does.
# On 3.11 real code moves them a little (frames, caches); a leaked or dropped reference per
# call moves them by tens of thousands and, dropped, ends in "deallocating True or False".
TOLERANCE = 1_000


def run_child() -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.reliability.qt_refcount_child"],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    return proc, result


def test_100k_queued_signals_and_20k_set_hidden_keep_true_and_none_alive():
    proc, result = run_child()
    assert proc.returncode == 0, (
        f"the child died (exit {proc.returncode}): a Qt binding with a reference-count bug?\n"
        f"{proc.stderr[-2000:]}"
    )
    assert result["received"] == 100_000 and result["last"] == 99_999
    assert result["flags"] == 10_000
    assert result["hidden"] == 100
    assert abs(result["true_drift"]) < TOLERANCE, result
    assert abs(result["none_drift"]) < TOLERANCE, result
