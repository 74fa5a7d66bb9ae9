"""scripts/install-system-deps.sh waits for the dpkg lock instead of failing (issue 18)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.platform_marks import posix_only

pytestmark = posix_only("a Debian shell script run with bash and apt-get")

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-system-deps.sh"

LOCKED = (
    "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 "
    "(unattended-upgr)\nE: Unable to acquire the dpkg frontend lock "
    "(/var/lib/dpkg/lock-frontend), is another process using it?"
)


def _fake_bin(tmp_path: Path, busy_runs: int) -> Path:
    """apt-get that reports the lock held `busy_runs` times, then succeeds; nothing installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    counter = tmp_path / "count"
    counter.write_text("0")
    (bin_dir / "apt-get").write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{counter}"); n=$((n + 1)); echo "$n" > "{counter}"\n'
        f'echo "$*" >> "{tmp_path}/calls"\n'
        f'if [ "$n" -le {busy_runs} ]; then printf "%s\\n" "{LOCKED}" >&2; exit 100; fi\n'
        "exit 0\n"
    )
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # as root: no sudo
    (bin_dir / "systemctl").write_text("#!/bin/sh\nexit 1\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, busy_runs: int, wait: int) -> subprocess.CompletedProcess:
    bin_dir = _fake_bin(tmp_path, busy_runs)
    env = dict(os.environ)
    env.update(PATH=f"{bin_dir}:{env['PATH']}", LOCK_RETRY_SECONDS="0", LOCK_WAIT_SECONDS=str(wait))
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def _runtime_packages() -> list[str]:
    """The script's RUNTIME list, as it installs it (the list grows; the test need not)."""
    import re

    found = re.search(r"^RUNTIME=\(([^)]*)\)", SCRIPT.read_text(), re.M)
    assert found, "RUNTIME=(...) not found in the script"
    return found.group(1).split()


def test_a_held_dpkg_lock_is_waited_for(tmp_path):
    result = _run(tmp_path, busy_runs=3, wait=900)
    assert result.returncode == 0, result.stderr
    assert "Waiting for another package installer" in result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[-1].endswith("--no-install-recommends " + " ".join(_runtime_packages()))
    assert all("DPkg::Lock::Timeout=900" in call for call in calls)


def test_other_apt_failures_still_fail(tmp_path):
    result = _run(tmp_path, busy_runs=1000, wait=0)
    assert result.returncode != 0
    assert "Could not get lock" in result.stderr
