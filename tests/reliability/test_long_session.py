"""Issue 11: the real main window survives a long shift (sign-in, thousands of thumbnail loads,
50 lock/unlock cycles). In a child process, so an abort fails this test, not the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.keyring, pytest.mark.slow]

PHOTOS, CYCLES = 48, 50


def test_sign_in_2000_thumbnail_loads_and_50_locks(tmp_path, keyring_service, real_display):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.long_session_child",
            str(tmp_path),
            keyring_service,
            str(PHOTOS),
            str(CYCLES),
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"the window died (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["cycles"] == CYCLES
    assert result["thumbnail_loads"] >= 2_000, result
