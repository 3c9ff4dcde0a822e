"""Named scenarios in an experiment: crossed with the design's points, labelled, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.params import ConfigError
from sim.sweep.plan import build_plan
from sim.sweep.schema import DesignConfig, ExperimentConfig, FactorConfig

SCENARIOS = {"formal": [], "informal": ["recruitment=informal", "supervision.interval_weeks=2"]}


def experiment(**changes) -> ExperimentConfig:
    base = {"name": "scenarios_test", "base": ["organisation.n_teams=1"],
            "scenarios": SCENARIOS, "replications": 2}
    return ExperimentConfig(**(base | changes))


def test_each_scenario_is_one_point_without_factors():
    plan = build_plan(experiment(), Path.cwd())
    assert [p.scenario for p in plan.points] == ["formal", "informal"]
    formal, informal = (p.params for p in plan.points)
    assert (formal.recruitment.process, informal.recruitment.process) == ("formal", "informal")
    assert (formal.supervision.interval_weeks, informal.supervision.interval_weeks) == (4, 2)
    assert plan.n_runs == 4


def test_every_design_point_runs_in_every_scenario_with_shared_seeds():
    factor = FactorConfig(name="supervision.socialisation_rate", range=[0.1, 0.2])
    plan = build_plan(experiment(factors=[factor], design=DesignConfig(kind="lhs", samples=3)),
                      Path.cwd())
    assert [p.scenario for p in plan.points] == ["formal"] * 3 + ["informal"] * 3
    assert [p.values["design_point"] for p in plan.points] == [0, 1, 2, 0, 1, 2]
    rates = [p.params.supervision.socialisation_rate for p in plan.points]
    assert rates[:3] == rates[3:]  # both scenarios meet the same sampled conditions
    seeds = {plan.run_spec(r).point_id: plan.run_spec(r).seed for r in range(0, plan.n_runs, 2)}
    assert len(set(seeds.values())) == 1  # replicate 0 has the same seed everywhere


def test_a_factor_value_wins_over_a_scenarios_override():
    factor = FactorConfig(name="supervision.interval_weeks", levels=[8])
    plan = build_plan(experiment(factors=[factor]), Path.cwd())
    assert {p.params.supervision.interval_weeks for p in plan.points} == {8}


def test_a_bad_scenario_override_is_refused_before_running():
    with pytest.raises(ConfigError, match="recruitment"):
        build_plan(experiment(scenarios={"bad": ["recruitment=nonexistent"]}), Path.cwd())
