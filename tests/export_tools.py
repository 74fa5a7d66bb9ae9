"""Command-line tools the export tests run (installed by scripts/install-system-deps.sh)."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(tool: str) -> str:
    """Path of `tool`; skip outside CI when it is missing, fail in CI."""
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None
    )
    if path is None:
        message = f"{tool} is not installed (scripts/install-system-deps.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path
