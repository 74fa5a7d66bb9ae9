"""Helpers for tests that run the product in child processes."""

from __future__ import annotations

import subprocess


def drain(proc: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    """Everything the child wrote, then its exit.

    Not communicate(): that reads the raw pipes and loses lines a readline() already pulled
    into the text buffer (a fast child can print its next line together with "ready").
    """
    with proc.stdout, proc.stderr:
        out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=timeout)
    return out, err
