"""The order of a week is written once in ``PeerWorkModel``'s docstring and mirrored in ODD 3."""

from __future__ import annotations

import inspect
import re

import pytest
from conftest import REPO

from sim.model import PeerWorkModel

ODD = REPO / "docs" / "ODD.md"
ITEM = re.compile(r"^\s*(\d+)\.\s+(\S.*)$")


def numbered_list(lines: list[str]) -> list[tuple[int, str]]:
    """The first contiguous numbered list in ``lines``: (number, text) with wrapped lines
    joined and whitespace normalised."""
    items: list[list] = []
    for line in lines:
        match = ITEM.match(line)
        if match:
            items.append([int(match[1]), match[2].strip()])
        elif items and line.strip() and line.startswith((" ", "\t")) and \
                not line.lstrip().startswith(("|", "#")):
            items[-1][1] += " " + line.strip()  # continuation of a wrapped item
        elif items:
            break
    return [(n, " ".join(text.split())) for n, text in items]


def title(text: str) -> str:
    """A step's title: the text before the first colon (the whole text if there is none)."""
    return text.split(":", 1)[0].strip().rstrip(".")


def docstring_steps() -> list[tuple[int, str]]:
    doc = inspect.getdoc(PeerWorkModel) or ""
    start = doc.index("The order of a week")
    return numbered_list(doc[start:].splitlines()[1:])


def odd_steps() -> list[tuple[int, str]]:
    if not ODD.exists():
        pytest.fail(f"{ODD} is missing: ODD section 3 must mirror the model's schedule")
    lines = ODD.read_text(encoding="utf-8").splitlines()
    heading = next((i for i, line in enumerate(lines)
                    if line.startswith("#") and "Process overview and scheduling" in line), None)
    assert heading is not None, "no heading containing 'Process overview and scheduling'"
    level = len(lines[heading]) - len(lines[heading].lstrip("#"))
    section = []
    for line in lines[heading + 1:]:
        if re.match(rf"^#{{1,{level}}} ", line):
            break
        section.append(line)
    return numbered_list(section)


def test_docstring_schedule_is_numbered_one_to_n():
    steps = docstring_steps()
    assert len(steps) >= 10
    assert [n for n, _ in steps] == list(range(1, len(steps) + 1))


def test_odd_schedule_has_the_same_step_titles_as_the_docstring():
    model, odd = docstring_steps(), odd_steps()
    assert [(n, title(t)) for n, t in odd] == [(n, title(t)) for n, t in model]


def test_odd_schedule_is_a_copy_of_the_docstring():
    assert odd_steps() == docstring_steps()


def test_step_code_follows_the_numbered_order():
    """Comments ``# N. Title`` (or ``# N.-M. ...``) in ``step()`` walk the list in order."""
    source = inspect.getsource(PeerWorkModel.step)
    seen: list[int] = []
    for first, last in re.findall(r"#\s*(\d+)\.(?:-(\d+)\.)?", source):
        seen += list(range(int(first), int(last or first) + 1))
    assert seen == [n for n, _ in docstring_steps()]


def test_numbered_list_parser_reads_titles_and_stops_at_the_list_end():
    text = ["intro", "1. First: detail", "2. Second step", "   wrapped", "", "| 1 | table |"]
    assert numbered_list(text) == [(1, "First: detail"), (2, "Second step wrapped")]
    assert title("First: detail") == "First" and title("Second step.") == "Second step"
