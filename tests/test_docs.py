"""The documentation stays in step with the code: parameter tables, ODD submodels, schedule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim import docs
from sim.config import SimConfig
from sim.model import PeerWorkModel
from sim.params import describe

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
RULE_MODULES = sorted(p.stem for p in (ROOT / "sim" / "rules").glob("*.py")
                      if p.stem != "__init__")


def _numbered_steps(text: str) -> list[tuple[str, str]]:
    """(number, step title: the text before the colon, or the whole line) of each list item."""
    return [(m[1], m[2].split(":")[0].strip())
            for m in re.finditer(r"^\s*(\d+)\. (.+)$", text, re.M)]


def test_params_md_is_up_to_date() -> None:
    assert docs.check(), "docs/params.md is stale: run `python -m sim.docs`"


@pytest.mark.parametrize("key", [row["key"] for row in describe(SimConfig)])
def test_every_parameter_is_in_params_md(key: str) -> None:
    assert f"`{key}`" in docs.PARAMS_MD.read_text(encoding="utf-8")


@pytest.mark.parametrize("module", RULE_MODULES)
def test_every_rule_module_has_an_odd_subsection(module: str) -> None:
    headings = re.findall(r"^### 7\.\d+ .*$", ODD.read_text(encoding="utf-8"), re.M)
    assert any(f"rules/{module}.py" in h for h in headings), \
        f"docs/ODD.md has no '### 7.x' subsection naming sim/rules/{module}.py"


def test_odd_schedule_matches_model_docstring() -> None:
    text = ODD.read_text(encoding="utf-8")
    section = re.search(r"^##[^\n]*Process overview and scheduling[^\n]*\n(.*?)^## ", text,
                        re.M | re.S)
    assert section, "docs/ODD.md has no 'Process overview and scheduling' section"
    expected = _numbered_steps(PeerWorkModel.__doc__ or "")
    assert expected, "the PeerWorkModel docstring lost its numbered schedule"
    assert _numbered_steps(section[1]) == expected
