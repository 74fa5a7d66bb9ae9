"""Issue 11: what a ward PC installs is exactly the set that was tested.

requirements/*.txt are written by scripts/lock-deps (exact versions, hashes); scripts/setup
installs them with `pip --require-hashes`. These checks need no network.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(name: str) -> dict[str, str]:
    """{package: version} for the pins of requirements/NAME.txt that apply to this machine."""
    pins = {}
    for line in (REPO / "requirements" / f"{name}.txt").read_text().splitlines():
        match = PIN.match(line)
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_every_pin_has_hashes():
    for name in ("build", "app", "test", "bundle"):
        text = (REPO / "requirements" / f"{name}.txt").read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
        for block in blocks:
            if PIN.match(block.splitlines()[0]):
                assert "--hash=sha256:" in block, f"{name}.txt: no hash for {block.split()[0]}"


def test_installed_environment_is_the_locked_test_set():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    wrong = {}
    for package, want in locked("test").items():
        have = installed.get(package)
        if have != want:
            wrong[package] = (have, want)
    assert not wrong, f"installed (have, locked) differ — run scripts/setup --test: {wrong}"


def test_app_and_test_sets_agree():
    app, test = locked("app"), locked("test")
    assert {p: test.get(p) for p in app} == app


def test_lock_satisfies_pyproject():
    """After editing pyproject.toml, scripts/lock-deps must run before anything installs."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    wanted += project["optional-dependencies"]["test"]
    pins = locked("test")
    for spec in wanted:
        req = Requirement(spec)
        if req.marker and not req.marker.evaluate():
            continue
        pinned = pins.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is in pyproject.toml but not locked"
        assert req.specifier.contains(pinned, prereleases=True), (
            f"{req.name}=={pinned} in the lock does not satisfy {req.specifier} — "
            "run scripts/lock-deps"
        )


@pytest.mark.parametrize("bad", ["6.12.0"])
def test_pyproject_excludes_the_qt_binding_that_aborts(bad):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    qt = next(Requirement(d) for d in project["dependencies"] if d.startswith("PySide6"))
    assert not qt.specifier.contains(bad)
