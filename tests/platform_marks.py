"""Marks for tests that cannot run on Windows (issue 18: the Windows CI runs tests/unit).

Each reason starts with "only on POSIX", the one platform skip tests/ci_skips.py allows under
CI=true, followed by what the test needs that Windows lacks. On Linux and macOS these marks
never skip anything.
"""

from __future__ import annotations

import os

import pytest

ON_WINDOWS = os.name == "nt"


def posix_only(why: str) -> pytest.MarkDecorator:
    """Skip on Windows, saying why: `@posix_only("os.mkfifo")`."""
    return pytest.mark.skipif(ON_WINDOWS, reason=f"only on POSIX: {why}")
