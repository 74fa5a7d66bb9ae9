"""tests/ci_skips.py: under CI=true a skip fails unless its reason is on the allow-list, and
the run names what it could not test (issue 13, finding 16). Real pytest runs in a child."""

from __future__ import annotations

import os
from pathlib import Path

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

EXAMPLE = """
import pytest

def test_runs():
    pass

def test_needs_a_display():
    pytest.skip("no X display")

@pytest.mark.skipif(True, reason="mounting a small tmpfs needs root")
def test_root_only():
    pass

@pytest.mark.skipif(True, reason="file names are bytes only on POSIX")
def test_posix_only():
    pass

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
"""


def _run(pytester, monkeypatch, ci: str):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makepyfile(test_example=EXAMPLE)
    return pytester.runpytest_subprocess("-p", "tests.ci_skips", "-p", "no:cacheprovider")


def test_under_ci_a_skip_fails_unless_allowed_and_the_summary_names_it(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    # A skip in the test body fails it; a skipif mark (decided at setup) errors it.
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1, xfailed=1)
    out = result.stdout.str()
    assert "skipped under CI=true: no X display" in out
    assert "skipped under CI=true: mounting a small tmpfs needs root" in out
    assert "could not run on this machine" in out
    assert "test_posix_only: file names are bytes only on POSIX" in out


def test_outside_ci_skips_stay_skips(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert "could not run on this machine" not in result.stdout.str()
