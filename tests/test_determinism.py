"""Seeds: same seed, same run; different seed, different run; one random stream per family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config

from sim.config import load_config
from sim.model import PeerWorkModel

HORIZON = 40


def run(seed: int = 3, **groups) -> PeerWorkModel:
    return PeerWorkModel(small_config(n_teams=3, horizon=HORIZON, seed=seed, **groups)).run()


def trajectory(cfg, arrays=("workforce.practice",)) -> dict[str, np.ndarray]:
    """Each named array after every week, stacked (weeks, ...)."""
    model = PeerWorkModel(cfg)
    seen: dict[str, list[np.ndarray]] = {name: [] for name in arrays}
    while model.running:
        model.step()
        for name in arrays:
            owner, attr = name.split(".")
            seen[name].append(getattr(getattr(model, owner), attr).copy())
    return {name: np.array(values) for name, values in seen.items()}


def first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    """First week at which two trajectories differ, None if never."""
    differs = [not np.array_equal(x, y) for x, y in zip(a, b, strict=True)]
    return differs.index(True) if any(differs) else None


def test_same_seed_gives_identical_tables():
    a, b = run(seed=3), run(seed=3)
    pd.testing.assert_frame_equal(a.recorder.timeseries(), b.recorder.timeseries(),
                                  check_exact=True)
    pd.testing.assert_frame_equal(a.recorder.agents(), b.recorder.agents(), check_exact=True)
    assert a.recorder.summary() == pytest.approx(b.recorder.summary(), nan_ok=True, abs=0,
                                                 rel=0)


def test_different_seeds_give_different_runs():
    a, b = run(seed=3), run(seed=4)
    ts_a, ts_b = a.recorder.timeseries(), b.recorder.timeseries()
    assert not ts_a["pw_practice"].equals(ts_b["pw_practice"])
    assert not ts_a["user_recovery"].equals(ts_b["user_recovery"])
    assert not np.array_equal(a.caseload.baseline_recovery, b.caseload.baseline_recovery)


def test_seed_argument_overrides_config_seed():
    cfg = small_config(n_teams=2, horizon=10, seed=99)
    by_argument = PeerWorkModel(cfg, seed=5).run()
    by_config = PeerWorkModel(small_config(n_teams=2, horizon=10, seed=5)).run()
    assert by_argument.seed_value == 5
    pd.testing.assert_frame_equal(by_argument.recorder.timeseries(),
                                  by_config.recorder.timeseries(), check_exact=True)


def test_one_run_does_not_disturb_the_next():
    """No global random state: a run in between does not change a run's results."""
    first = run(seed=8).recorder.timeseries()
    run(seed=9)
    np.random.seed(0)
    np.random.random(100)
    again = run(seed=8).recorder.timeseries()
    pd.testing.assert_frame_equal(first, again, check_exact=True)


def test_every_family_has_its_own_stream():
    model = PeerWorkModel(small_config())
    firsts = [float(rng.random()) for rng in model.streams.values()]
    assert len(set(firsts)) == len(firsts)
    assert set(model.streams) >= {"recruitment", "working_patterns", "meetings", "boundaries",
                                  "wellbeing", "service_users"}


@pytest.mark.parametrize("change", [
    {"valuation_rate": 0.2},
    {"staff_gain": 0.02, "admission_hazard": 0.0},
    {"noise_sd": 0.05, "admission_hazard": 0.0},
    {"peer_practice_gain": 0.05, "admission_hazard": 0.0},
])
def test_service_user_parameters_leave_workforce_trajectory_identical(change):
    """A service-user parameter with no causal path to staff must not shift staff draws."""
    base = {"admission_hazard": 0.0} if "admission_hazard" in change else {}
    names = ("workforce.practice", "workforce.confidence", "workforce.status",
             "workforce.occupied")
    a = trajectory(small_config(n_teams=3, horizon=60, service_users=base), names)
    b = trajectory(small_config(n_teams=3, horizon=60, service_users=change), names)
    for name in names:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_staff_gain_reaches_the_workforce_only_through_admissions():
    """With admissions on, staff_gain changes recovery and so admissions; admitted users miss
    PW contacts, which changes relationships, then PW validation and confidence, then practice.
    The workforce must diverge only after that chain, never before (streams are separate)."""
    names = ("caseload.admissions", "caseload.relationship", "workforce.confidence",
             "workforce.practice")
    a = trajectory(small_config(n_teams=3, horizon=60), names)
    b = trajectory(small_config(n_teams=3, horizon=60, service_users={"staff_gain": 0.02}), names)
    weeks = [first_difference(a[n], b[n]) for n in names]
    admissions, relationship, confidence, practice = weeks
    assert admissions is not None, "staff_gain should change who is admitted"
    assert relationship is not None and relationship > admissions
    if confidence is not None:
        assert confidence > relationship
    if practice is not None:
        assert practice > (confidence if confidence is not None else relationship)


def test_scenarios_share_common_random_numbers_for_service_users():
    """Every preset starts from the same service users (their stream ignores the scenario)."""
    base = PeerWorkModel(load_config(["organisation.n_teams=2", "team.caseload=20"]))
    for scenario in ("london", "south", "north", "good_practice", "no_pw"):
        other = PeerWorkModel(load_config([f"scenario={scenario}", "organisation.n_teams=2",
                                           "team.caseload=20"]))
        np.testing.assert_array_equal(other.caseload.baseline_recovery,
                                      base.caseload.baseline_recovery, err_msg=scenario)
