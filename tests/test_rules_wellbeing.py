"""Wellbeing and retention (ODD 7.6): strain, sickness and leaving; the same rule for everyone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, small_model, staff_slots

from sim.rules import wellbeing
from sim.rules.wellbeing import WellbeingParams

PARAMS = WellbeingParams(demand_weight=0.06, ambiguity_weight=0.1, mismatch_weight=0.1,
                         exclusion_weight=0.05, recovery_rate=0.5, recovery_slowing=1.0,
                         support_memory=0.1, exit_base=0.002, exit_strain_ratio=1.54,
                         strain_reference=0.5, exit_drift_ratio=2.91, drift_reference=0.3,
                         unpaid_exit_multiplier=1.7,
                         sickness_base=0.01, sickness_per_strain=0.03)
INPUTS = {"demand": 1.0, "ambiguity": 0.2, "exclusion": 0.5, "support": 0.5}


def strain_after(weeks: int = 1, strain: float = 0.5, supported: float = 0.5,
                 practice: float | None = None, **inputs: float) -> np.ndarray:
    """Strain of every slot after ``weeks`` of the same inputs (INPUTS unless given)."""
    given = {**INPUTS, **inputs}
    wf = make_workforce(strain=strain, supported=supported)
    if practice is not None:
        wf.practice[...] = practice
    full = {k: np.full(wf.occupied.shape, v) for k, v in given.items()}
    for _ in range(weeks):
        wellbeing.accumulate_strain(wf, PARAMS, full["demand"], full["ambiguity"],
                                    full["exclusion"], full["support"])
    return wf.strain


@pytest.mark.parametrize("source, low, high", [
    ("demand", 0.5, 2.0), ("ambiguity", 0.0, 0.8), ("exclusion", 0.0, 1.0)])
def test_strain_rises_with_each_source_of_load(source, low, high):
    assert (strain_after(**{source: high}) > strain_after(**{source: low})).all()


def test_strain_rises_with_mismatch_between_practice_and_anchor():
    # make_workforce anchors staff at 0.3 and PWs at 0.8; practice 0.55 is off for both
    assert (strain_after(practice=0.55) > strain_after()).all()


def test_support_relieves_strain():
    assert (strain_after(weeks=5, support=1.0) < strain_after(weeks=5, support=0.0)).all()
    assert (strain_after(supported=0.9) < strain_after(supported=0.1)).all()


def test_recovery_slows_as_strain_rises():
    low, high = 0.2, 2.0
    relief_low = low - strain_after(strain=low, demand=0, ambiguity=0, exclusion=0)
    relief_high = high - strain_after(strain=high, demand=0, ambiguity=0, exclusion=0)
    assert (relief_high / high < relief_low / low).all()


def test_strain_never_negative_and_zero_for_vacant_slots():
    wf = make_workforce(strain=0.01, supported=1.0)
    wf.occupied[0, 1] = False
    zero = np.zeros(wf.occupied.shape)
    wellbeing.accumulate_strain(wf, WellbeingParams(recovery_rate=5.0, recovery_slowing=0.0),
                                zero, zero, zero, np.ones(wf.occupied.shape))
    assert (wf.strain >= 0).all() and wf.strain[0, 1] == 0


def test_same_inputs_give_same_strain_and_exit_hazard_for_pw_and_non_peer():
    """No built-in fragility: a PW slot and a non-peer slot in identical state stay identical."""
    wf = make_workforce(practice=0.5, anchor=0.7, role_practice=0.7, strain=0.4, supported=0.4,
                        fte=0.4)
    pw, nurse = peer_slots(wf)[0], staff_slots(wf)[1]
    rng = np.random.default_rng(3)
    for _ in range(10):
        shape = wf.occupied.shape
        demand, ambiguity, exclusion, support = (np.full(shape, v) for v in rng.random(4))
        wellbeing.accumulate_strain(wf, PARAMS, demand, ambiguity, exclusion, support)
        assert wf.strain[0, pw] == wf.strain[0, nurse] > 0
        assert wf.supported[0, pw] == wf.supported[0, nurse]
    hazard = wellbeing.exit_hazard(wf, PARAMS)
    assert hazard[0, pw] == hazard[0, nurse]


def test_support_differs_by_role_only_through_the_manager_championing_pws():
    wf = make_workforce()
    pw, nurse = peer_slots(wf)[0], staff_slots(wf)[1]
    received = np.full(wf.occupied.shape, 0.1)
    ties = np.full(wf.occupied.shape, 0.4)
    neutral = wellbeing.weekly_support(wf, PARAMS, received, ties, champion_effort=0.0)
    assert neutral[0, pw] == neutral[0, nurse]
    championed = wellbeing.weekly_support(wf, PARAMS, received, ties, champion_effort=1.0)
    assert championed[0, pw] > championed[0, nurse] == neutral[0, nurse]


def test_drift_below_the_practice_the_role_asks_for_raises_exit_hazard():
    wf = make_workforce(role_practice=0.8)
    wf.practice[0] = [0.8, 0.6, 0.4, 0.2, 0.8, 0.9]
    hazard = wellbeing.exit_hazard(wf, PARAMS)[0]
    assert hazard[0] < hazard[1] < hazard[2] < hazard[3]
    assert hazard[5] == hazard[4] == hazard[0]  # practice above the role's is not drift
    # proportional hazards: each drift_reference of drift multiplies the hazard by the ratio
    assert hazard[3] / hazard[0] == pytest.approx(PARAMS.exit_drift_ratio ** (0.6 / 0.3))


def test_odds_ratios_map_onto_hazard_ratios():
    wf = make_workforce(role_practice=0.8, practice=0.8)
    wf.strain[0] = [0.0, PARAMS.strain_reference, 0.0, 0.0, 0.0, 0.0]
    wf.practice[0, 2] = 0.8 - PARAMS.drift_reference
    hazard = wellbeing.exit_hazard(wf, PARAMS)[0]
    assert hazard[0] == pytest.approx(PARAMS.exit_base)
    assert hazard[1] / hazard[0] == pytest.approx(PARAMS.exit_strain_ratio)
    assert hazard[2] / hazard[0] == pytest.approx(PARAMS.exit_drift_ratio)


def test_strain_raises_exit_hazard():
    wf = make_workforce(strain=[[0.0, 0.5, 1.0, 2.0, 0.0, 2.0]])
    hazard = wellbeing.exit_hazard(wf, PARAMS)[0]
    assert hazard[0] < hazard[1] < hazard[2] < hazard[3]


def test_unpaid_posts_have_higher_exit_hazard():
    wf = make_workforce(paid=[[True, True, True, True, True, False]])
    hazard = wellbeing.exit_hazard(wf, PARAMS)[0]
    assert hazard[5] == pytest.approx(PARAMS.unpaid_exit_multiplier * hazard[4])
    assert hazard[5] > hazard[4]


def test_sickness_rises_with_strain():
    def sick(strain: float) -> np.ndarray:
        wf = make_workforce(n_teams=500, strain=strain)
        wellbeing.draw_sickness(wf, PARAMS, np.random.default_rng(7))
        return wf.sick

    calm, strained = sick(0.0), sick(5.0)
    assert strained.mean() > 3 * calm.mean() > 0
    assert (strained | ~calm).all()  # same draws: everyone sick when calm is sick when strained


@pytest.mark.parametrize("chance", [0.0, 0.05, 0.3])
def test_recorded_sickness_absence_is_the_share_of_in_post_weeks_off_sick(chance):
    # no strain term and no leaving, so the chance of a sick week is the same every week
    model = small_model(n_teams=20, horizon=52, wellbeing={
        "sickness_base": chance, "sickness_per_strain": 0.0, "exit_base": 0.0}).run()
    summary = model.recorder.summary()
    person_weeks = 20 * 52  # per slot type and team: 2 PWs, 5 staff
    for who, people in (("pw", 2), ("staff", 5)):
        share = summary[f"{who}_sickness_absence"]
        assert share == pytest.approx(chance, abs=4 * np.sqrt(
            chance * (1 - chance) / (people * person_weeks)) + 1e-12), who


def test_higher_exit_hazard_means_more_leavers():
    def leavers(strain: float) -> np.ndarray:
        wf = make_workforce(n_teams=500, strain=strain)
        return wellbeing.draw_leavers(wf, WellbeingParams(exit_base=0.01, exit_strain_ratio=3.0),
                                      np.random.default_rng(9)).copy()

    calm, strained = leavers(0.0), leavers(3.0)
    assert strained.sum() > 3 * calm.sum() > 0
    assert (strained | ~calm).all()


def test_vacant_slots_neither_fall_sick_nor_leave():
    wf = make_workforce(n_teams=50, strain=50.0)
    wf.occupied[:, 1] = False
    wellbeing.draw_sickness(wf, PARAMS, np.random.default_rng(0))
    wellbeing.draw_leavers(wf, WellbeingParams(exit_base=1.0), np.random.default_rng(0))
    assert not wf.sick[:, 1].any() and not wf.exited[:, 1].any()


def test_workload_falls_with_team_hours():
    full = make_workforce(fte=1.0)
    part = make_workforce(fte=0.5)
    assert (wellbeing.workload(part, 40, PARAMS) > wellbeing.workload(full, 40, PARAMS)).all()
    np.testing.assert_allclose(wellbeing.workload(full, 40, PARAMS),
                               40 / 6 / PARAMS.caseload_per_fte)


def test_ambiguity_rises_with_low_consensus_and_expectation_gap():
    wf = make_workforce(expectation=0.5)
    belief = np.array([[0.5]])
    clear = wellbeing.ambiguity(wf, WellbeingParams(), belief, np.array([1.0]))
    split = wellbeing.ambiguity(wf, WellbeingParams(), belief, np.array([0.4]))
    wf.expectation[0, peer_slots(wf)] = 0.9
    gap = wellbeing.ambiguity(wf, WellbeingParams(), belief, np.array([1.0]))
    assert (clear == 0).all() and (split > clear).all()
    assert (gap[0, peer_slots(wf)] > clear[0, peer_slots(wf)]).all()


def test_support_sources_combine_without_exceeding_one():
    wf = make_workforce()
    shape = wf.occupied.shape
    nothing, session = np.zeros(shape), np.full(shape, 0.6)
    ties = np.full(shape, 0.5)
    base = wellbeing.weekly_support(wf, PARAMS, (nothing,), ties, 0.6)
    more = wellbeing.weekly_support(wf, PARAMS, (session,), ties, 0.6)
    most = wellbeing.weekly_support(wf, PARAMS, (session, session), ties, 0.6)
    assert (base < more).all() and (more < most).all()  # every source adds something
    assert (most <= 1.0).all()
    full = wellbeing.weekly_support(wf, WellbeingParams(baseline_support=1.0), (session,), ties,
                                    1.0)
    np.testing.assert_allclose(full, 1.0)


def test_exit_hazard_is_finite_for_extreme_valid_parameters():
    wf = make_workforce(strain=30.0)
    params = WellbeingParams(exit_base=0.0, strain_reference=0.01, exit_strain_ratio=20.0)
    with np.errstate(over="ignore", invalid="ignore"):
        hazard = wellbeing.exit_hazard(wf, params)
    assert not np.isnan(hazard).any()


def test_exit_drift_is_measured_from_the_role_not_the_personal_anchor():
    """Lombardi 2025's exposure is tasks outside the role: a PW whose personal anchor is far
    above the role's practice, but who practises as the role asks, is not drifting."""
    wf = make_workforce(practice=0.75, role_practice=0.75)
    wf.anchor[0] = [0.75, 0.75, 0.75, 0.75, 0.75, 1.0]
    hazard = wellbeing.exit_hazard(wf, PARAMS)[0]
    assert hazard[5] == hazard[4]
