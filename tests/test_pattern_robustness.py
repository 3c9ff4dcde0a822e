"""Robustness that can fail, and fitted patterns kept apart from validated ones (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from experiments.patterns import robustness
from experiments.patterns.spec import SPEC_PATH, load_spec
from sim.config import load_config
from sim.params import ConfigError

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
SPEC = load_spec()


def test_odd_robustness_table_is_up_to_date():
    text = ODD.read_text()
    assert robustness.odd_with_ranges(text, SPEC.robustness) == text, (
        "run: python -m experiments.patterns --ranges")


def test_every_rival_rule_form_is_sampled():
    forms = {f.name for f in SPEC.robustness.forms}
    assert {"meetings.status_form", "boundaries.influence_form",
            "supervision.socialisation_form", "wellbeing.exit_form"} <= forms


def test_sign_setting_tables_overlap_across_the_arms_they_distinguish():
    by_name = {r.name: r for r in SPEC.robustness.ranges}
    for low_arm, high_arm in [("supervision.supervisor_norm.clinical",
                               "supervision.supervisor_norm.peer"),
                              ("supervision.training_norm.conventional",
                               "supervision.training_norm.peer"),
                              ("team.external_status.peer_worker",
                               "team.external_status.support_worker")]:
        assert by_name[high_arm].low < by_name[low_arm].high, (low_arm, high_arm)


def _leaf(name: str, config) -> object:
    for part in name.split("."):
        config = config[part] if isinstance(config, dict) else getattr(config, part)
    return config


def test_no_sampled_parameter_is_one_a_pattern_scenario_sets():
    """A sampled value replaces the scenario's: it must not be what defines a scenario."""
    defaults = load_config([])
    sampled = [r.name for r in SPEC.robustness.ranges]
    for label, overrides in SPEC.scenarios.items():
        scenario = load_config(overrides)
        changed = [n for n in sampled if _leaf(n, scenario) != _leaf(n, defaults)]
        assert not changed, (label, changed)


def _raw(ranges: dict | None = None, **section) -> dict:
    """patterns.yaml's robustness section with some ranges added or replaced."""
    raw = yaml.safe_load(SPEC_PATH.read_text())["robustness"]
    raw["ranges"] = {**raw["ranges"], **(ranges or {})}
    return {**raw, **section}


def test_an_assumption_without_an_elicited_range_takes_the_default_rule():
    robust = robustness.load_robustness(_raw())
    tolerance = next(r for r in robust.ranges if r.name == "boundaries.tolerance")
    assert (tolerance.low, tolerance.high) == pytest.approx((0.075, 0.3))
    share = next(r for r in robust.ranges if r.name == "meetings.acknowledgement_base")
    assert share.high == 1.0  # twice 0.5, clipped to the allowed range


@pytest.mark.parametrize("ranges, key", [
    ({"boundaries.no_such": {"range": [0, 1], "reason": "r"}},
     "robustness.ranges.boundaries.no_such"),
    ({"boundaries.tolerance": {"range": [0.1, 1.5], "reason": "r"}},
     "robustness.ranges.boundaries.tolerance"),
    ({"boundaries.tolerance": {"range": [0.1, 0.2]}},
     "robustness.ranges.boundaries.tolerance.reason"),
])
def test_bad_robustness_entries_are_refused_naming_the_entry(ranges, key):
    with pytest.raises(ConfigError) as err:
        robustness.load_robustness(_raw(ranges))
    assert err.value.key == key


def test_a_zero_default_without_an_explicit_range_is_refused():
    raw = _raw()
    del raw["ranges"]["supervision.validation.clinical"]  # 0.0: half to twice 0 is no range
    with pytest.raises(ConfigError) as err:
        robustness.load_robustness(raw)
    assert err.value.key == "robustness.default_rule.supervision.validation.clinical"


def test_design_stays_in_range_and_balances_every_form():
    points = robustness.design(SPEC.robustness, 12, seed=7)
    assert len(points) == 12
    for r in SPEC.robustness.ranges:
        assert points[r.name].between(r.low, r.high).all(), r.name
    for form in SPEC.robustness.forms:
        counts = points[form.name].value_counts()
        assert set(counts.index) == set(form.choices)
        assert counts.max() - counts.min() <= 1, form.name
    assert points.equals(robustness.design(SPEC.robustness, 12, seed=7))


def _calibration_log() -> list[str]:
    """The 'Which pattern drove it' cells of ODD 8.1."""
    section = ODD.read_text().split("### 8.1 Calibration log", 1)[1].split("###", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| 20")]
    assert rows, "no dated rows in the calibration log"
    return [row.rstrip(" |").rsplit(" | ", 1)[1] for row in rows]


def _patterns_named(cell: str) -> set[str]:
    """The pattern numbers a log cell starts with ('4 (lesson 4)' -> {'4'}, 'none' -> {})."""
    head = cell.split("(", 1)[0]
    return set(re.findall(r"\b(\d+[a-d]?)\b", head))


def test_no_validation_pattern_appears_in_the_calibration_log():
    fitted = set().union(*(_patterns_named(cell) for cell in _calibration_log()))
    assert fitted, "the log names no pattern"
    for c in SPEC.comparisons:
        family = c.id.rstrip("abcd")
        if c.id in fitted or family in fitted:
            assert c.role == "calibration", f"comparison {c.id} was fitted (ODD 8.1)"


def test_calibration_log_parser_reads_pattern_numbers_not_years():
    assert _patterns_named("4 (Gillard 2013, lesson 4)") == {"4"}
    assert _patterns_named("none (start-up artefact)") == set()
    assert _patterns_named("3, 5") == {"3", "5"}
