"""Packaging: console scripts, lock files that satisfy pyproject, licence and citation metadata.

The wheel itself (conf/ inside, runs outside the checkout) is built and run by .ci/run.
"""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
LOCKS = sorted((REPO / "requirements").glob("py3*.txt"))


def test_every_console_script_names_a_callable():
    assert set(PYPROJECT["scripts"]) >= {"pwsim-run", "pwsim-sweep", "pwsim-compare",
                                         "pwsim-sensitivity", "pwsim-discover", "pwsim-app"}
    for name, target in PYPROJECT["scripts"].items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), name


def lock_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


@pytest.mark.parametrize("lock", LOCKS, ids=[p.stem for p in LOCKS])
def test_lock_pins_every_dependency_within_pyproject(lock):
    """Each stack's lock pins every dependency pyproject asks for on that Python, at a version
    its range admits (so the lower bounds are versions the suite ran with)."""
    major, minor = re.fullmatch(r"py(\d)(\d+)", lock.stem).groups()
    env = {**default_environment(), "python_version": f"{major}.{minor}",
           "python_full_version": f"{major}.{minor}.0"}
    pins = lock_pins(lock)
    requirements = [Requirement(r) for r in (*PYPROJECT["dependencies"],
                                             *PYPROJECT["optional-dependencies"]["dev"])]
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{lock.name} does not pin {req.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock.name}: {req.name}=={pins[name]} is outside pyproject's {req.specifier}")


def test_there_is_a_lock_for_the_running_python_stack():
    assert (REPO / "requirements" / f"py{sys.version_info[0]}{sys.version_info[1]}.txt").is_file()


def test_licence_and_citation_agree_with_pyproject():
    assert PYPROJECT["license"] == "MIT"
    assert "MIT License" in (REPO / "LICENSE").read_text()
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["version"] == PYPROJECT["version"]
    assert citation["license"] == PYPROJECT["license"]
    assert "git_revision" in citation["message"]
