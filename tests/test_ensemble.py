"""Ensembles: runs stacked along the team axis give every run's tables exactly as alone."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import small_config

from sim.ensemble import EnsembleModel, number_fields, stack_params, structure_key
from sim.model import PeerWorkModel
from sim.streams import TeamDraws
from sim.team import StaffPost

#: One config per structure the rules can take: every rival rule form, recruitment process,
#: working pattern, sector, option and a planner's roster.
STRUCTURES = {
    "default": {},
    "expectation_states": {"meetings": {"status_form": "expectation_states"}},
    "persistent_status": {"meetings": {"status_form": "persistent"}},
    "deffuant_coproduced": {"boundaries": {"influence_form": "deffuant",
                                           "coproduced_role_definition": True}},
    "relative_agreement": {"boundaries": {"influence_form": "relative_agreement"}},
    "march_peer_training": {"supervision": {
        "socialisation_form": "march", "whole_team_training": True, "supervisor": "peer",
        "boundary_focus": "personal", "training_content": "peer"}},
    "threshold_exit": {"wellbeing": {"exit_form": "threshold"}},
    "informal_voluntary_network": {"recruitment": {"process": "informal",
                                                   "same_service": False},
                                   "context": {"sector": "voluntary", "peer_network": True}},
    "flexible_unpaid": {"working_patterns": {"days": "flexible", "paid": False,
                                             "aligned_with_meeting": False}},
    "knock_outs": {"schedule": {"meeting_status": False, "leaving": False}},
}


def _moved(x: float, lo: float | None, hi: float | None, rng: np.random.Generator) -> float:
    """``x`` moved by up to 20% (or from 0 to up to 0.05), clipped to [lo, hi]."""
    y = x * rng.uniform(0.8, 1.2) if x else rng.uniform(0.0, 0.05)
    y = max(y, lo) if lo is not None else y
    return float(min(y, hi) if hi is not None else y)


def perturbed(config, rng: np.random.Generator):
    """``config`` with every number parameter (and table entry) moved by up to 20%, within
    its allowed range, so a rule that mixed up two runs' values would show."""
    changes = {}
    kinds = number_fields(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = perturbed(value, rng)
        elif f.name in kinds:
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if kinds[f.name] == "float":
                changes[f.name] = _moved(value, lo, hi, rng)
            else:
                changes[f.name] = {key: _moved(x, lo, hi, rng) for key, x in value.items()}
    return dataclasses.replace(config, **changes)


def assert_same_run(alone: PeerWorkModel, ensemble: EnsembleModel, run: int) -> None:
    for table in ("timeseries", "agents", "leavers"):
        pd.testing.assert_frame_equal(getattr(alone.recorder, table)(),
                                      getattr(ensemble.recorder, table)(run), check_exact=True)
    expected, got = alone.recorder.summary(), ensemble.recorder.summary(run)
    assert expected.keys() == got.keys()
    moved = [key for key in expected if not (
        expected[key] == got[key] or (math.isnan(expected[key]) and math.isnan(got[key])))]
    assert not moved, moved


def roster_team(n_nonpeer: int, n_peer: int) -> list[StaffPost]:
    return ([StaffPost("manager", "manager", 1.0, [0, 1, 2, 3, 4])]
            + [StaffPost("nonpeer", "nurse", 0.8, [1, 2, 3, 4])] * n_nonpeer
            + [StaffPost("peer_worker", "peer_worker", 0.4, [])] * n_peer)


@pytest.mark.parametrize("structure", sorted(STRUCTURES))
def test_mixed_ensemble_gives_each_run_its_lone_tables(structure):
    """Every number parameter differs between the runs, and seeds and team counts too."""
    rng = np.random.default_rng(sorted(STRUCTURES).index(structure))
    base = small_config(n_teams=3, horizon=40, n_nonpeer=5, **STRUCTURES[structure])
    configs = [perturbed(base, rng) for _ in range(3)]
    configs[1] = dataclasses.replace(configs[1], organisation=dataclasses.replace(
        configs[1].organisation, n_teams=2))
    seeds = [21, 22, 23]
    ensemble = EnsembleModel(configs, seeds).run()
    for run, (config, seed) in enumerate(zip(configs, seeds, strict=True)):
        assert_same_run(PeerWorkModel(config, seed=seed).run(), ensemble, run)


def test_a_run_is_the_same_in_any_position_and_ensemble_size():
    base = small_config(n_teams=2, horizon=30)
    rng = np.random.default_rng(5)
    others = [perturbed(base, rng) for _ in range(4)]
    target = perturbed(base, rng)
    alone = PeerWorkModel(target, seed=99).run()
    for position, size in ((0, 1), (0, 3), (2, 3), (4, 5)):
        configs = others[:size - 1]
        configs.insert(position, target)
        seeds = [1 + i for i in range(size)]
        seeds[position] = 99
        assert_same_run(alone, EnsembleModel(configs, seeds).run(), position)


def test_planner_roster_runs_in_an_ensemble():
    base = small_config(n_teams=2, horizon=30, n_nonpeer=3)
    base = dataclasses.replace(base, team=dataclasses.replace(base.team,
                                                               roster=roster_team(3, 2)))
    rng = np.random.default_rng(3)
    configs = [perturbed(base, rng) for _ in range(2)]
    ensemble = EnsembleModel(configs, [4, 5]).run()
    for run, seed in enumerate((4, 5)):
        assert_same_run(PeerWorkModel(configs[run], seed=seed).run(), ensemble, run)


def test_structure_key_separates_rule_forms_not_numbers_or_seeds():
    base = small_config()
    numbers = dataclasses.replace(base, seed=7, wellbeing=dataclasses.replace(
        base.wellbeing, exit_base=0.01), supervision=dataclasses.replace(
        base.supervision, supervisor_norm={**base.supervision.supervisor_norm, "clinical": 0.1}))
    assert structure_key(numbers) == structure_key(base)
    form = dataclasses.replace(base, wellbeing=dataclasses.replace(base.wellbeing,
                                                                   exit_form="threshold"))
    interval = dataclasses.replace(base, supervision=dataclasses.replace(
        base.supervision, interval_weeks=2))
    assert len({structure_key(c) for c in (base, form, interval)}) == 3


def test_stack_params_keeps_shared_numbers_scalar_and_spreads_the_others():
    a = small_config(n_teams=2)
    b = dataclasses.replace(a, organisation=dataclasses.replace(a.organisation, n_teams=3),
                            wellbeing=dataclasses.replace(a.wellbeing, exit_base=0.01))
    stacked = stack_params([a, b])
    assert stacked.organisation.n_teams == 5
    assert stacked.wellbeing.demand_weight == a.wellbeing.demand_weight
    assert stacked.wellbeing.exit_base.shape == (5, 1)
    assert stacked.wellbeing.exit_base[:, 0].tolist() == [a.wellbeing.exit_base] * 2 + [0.01] * 3
    with pytest.raises(ValueError, match="equal structure"):
        stack_params([a, dataclasses.replace(a, wellbeing=dataclasses.replace(
            a.wellbeing, exit_form="threshold"))])


def test_team_draws_split_by_run_match_each_generator_alone():
    draws = TeamDraws([np.random.default_rng(1), np.random.default_rng(2)], [2, 3])
    full = draws.random((5, 4))
    np.testing.assert_array_equal(full[:2], np.random.default_rng(1).random((2, 4)))
    np.testing.assert_array_equal(full[2:], np.random.default_rng(2).random((3, 4)))
    mask = np.array([[True, False], [True, True], [False, False], [False, False], [True, True]])
    values = TeamDraws([np.random.default_rng(1), np.random.default_rng(2)],
                       [2, 3]).normal_for(mask, np.array([[0.0]] * 2 + [[10.0]] * 3), 1.0)
    np.testing.assert_array_equal(values[:3], np.random.default_rng(1).normal(0.0, 1.0, 3))
    np.testing.assert_array_equal(values[3:], np.random.default_rng(2).normal(10.0, 1.0, 2))


def test_ensemble_people_have_their_lone_runs_ids_without_mesa_agents():
    configs = [small_config(n_teams=2, horizon=30), small_config(n_teams=1, horizon=30)]
    ensemble = EnsembleModel(configs, [3, 4]).run()
    assert len(ensemble.agents) == 0
    alone = PeerWorkModel(configs[1], seed=4).run()
    np.testing.assert_array_equal(ensemble.workforce.agent_id[2:], alone.workforce.agent_id)
    in_post = alone.workforce.agent_id[alone.workforce.occupied]
    assert set(in_post) == {agent.unique_id for agent in alone._agent_at.values()}
