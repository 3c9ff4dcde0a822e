"""Boundaries and consensus (ODD 7.5): beliefs, practice, enforcement and identity."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, staff_slots

from sim.agents import MANAGER
from sim.rules import boundaries
from sim.rules.boundaries import BoundariesParams

BELIEFS = np.array([[0.1, 0.15, 0.2, 0.8, 0.85, 0.9]])  # two camps 0.6 apart


def equal_weights(**values):
    """Everyone with the same status and confidence, so averaging weights are equal."""
    return make_workforce(status=0.5, confidence=0.5, **values)


def averaging(**fields) -> BoundariesParams:
    """Bounded averaging alone: no pull back to one's own expectation."""
    return BoundariesParams(belief_stubbornness=0.0, **fields)


# --- converge_beliefs (Hegselmann & Krause) ---------------------------------------------------

def test_converge_beliefs_reduces_spread_among_attendees_within_bound():
    wf = equal_weights(role_belief=[[0.35, 0.4, 0.45, 0.5, 0.55, 0.6]])
    before = wf.role_belief.std()
    boundaries.converge_beliefs(wf, averaging(belief_bound=0.3), 0.75)
    assert wf.role_belief.std() < before
    assert wf.role_belief.mean() == pytest.approx(0.475)  # equal weights: mean conserved


def test_converge_beliefs_does_not_pull_across_the_bound():
    wf = equal_weights(role_belief=BELIEFS)
    boundaries.converge_beliefs(wf, averaging(belief_bound=0.3, belief_rate=0.5), 0.75)
    low, high = wf.role_belief[0, :3], wf.role_belief[0, 3:]
    assert low.mean() == pytest.approx(0.15) and high.mean() == pytest.approx(0.85)
    assert low.std() < BELIEFS[0, :3].std() and high.std() < BELIEFS[0, 3:].std()
    assert high.min() - low.max() >= BELIEFS[0, 3] - BELIEFS[0, 2]


def test_converge_beliefs_pulls_camps_together_when_the_bound_covers_them():
    wf = equal_weights(role_belief=BELIEFS)
    boundaries.converge_beliefs(wf, averaging(belief_bound=1.0, belief_rate=0.5), 0.75)
    assert wf.role_belief[0, 3:].min() - wf.role_belief[0, :3].max() < 0.6


def test_converge_beliefs_ignores_those_not_at_the_meeting():
    wf = equal_weights(role_belief=[[0.3, 0.35, 0.4, 0.45, 0.5, 0.55]])
    wf.attends_meeting[0, 5] = False
    boundaries.converge_beliefs(wf, averaging(belief_bound=1.0), 0.75)
    assert wf.role_belief[0, 5] == 0.55
    # the absentee's belief does not pull the others: they converge on their own mean
    attendees = wf.role_belief[0, :5]
    assert attendees.mean() == pytest.approx(0.4)


def test_higher_status_and_certainty_weigh_more_in_the_mean():
    wf = equal_weights(role_belief=[[0.6, 0.4, 0.4, 0.4, 0.4, 0.4]])
    plain = equal_weights(role_belief=[[0.6, 0.4, 0.4, 0.4, 0.4, 0.4]])
    wf.status[0, 0] = 1.0
    params = averaging(belief_bound=0.5)
    boundaries.converge_beliefs(wf, params, 0.75)
    boundaries.converge_beliefs(plain, params, 0.75)
    assert wf.role_belief[0, 1] > plain.role_belief[0, 1]


@pytest.mark.parametrize("manager_present", [True, False])
def test_coproduced_definition_pulls_beliefs_toward_role_description(manager_present):
    def after(coproduced: bool) -> np.ndarray:
        wf = equal_weights(role_belief=0.4)
        wf.attends_meeting[0, MANAGER] = manager_present
        params = averaging(coproduced_role_definition=coproduced, coproduction_pull=0.1)
        boundaries.converge_beliefs(wf, params, role_description=0.75)
        return wf.role_belief[0, 1:]

    with_definition, without = after(True), after(False)
    np.testing.assert_array_equal(without, 0.4)
    if manager_present:
        np.testing.assert_allclose(with_definition, 0.4 + 0.1 * (0.75 - 0.4))
    else:  # the manager carries the co-produced definition into the meeting
        np.testing.assert_array_equal(with_definition, without)


def test_beliefs_keep_a_weight_on_own_expectation():
    def after(stubbornness: float) -> np.ndarray:
        wf = equal_weights(role_belief=BELIEFS, expectation=0.9)
        params = BoundariesParams(belief_bound=1.0, belief_rate=0.2,
                                  belief_stubbornness=stubbornness)
        boundaries.converge_beliefs(wf, params, 0.75)
        return wf.role_belief[0]

    assert (after(0.15) >= after(0.0)).all() and after(0.15)[0] > after(0.0)[0]
    np.testing.assert_allclose(after(0.15) - after(0.0), 0.15 * (0.9 - BELIEFS[0]))


def test_coproducing_the_definition_moves_everyone_toward_it_at_the_start():
    def start(coproduced: bool):
        wf = make_workforce(role_belief=BELIEFS, expectation=BELIEFS)
        params = BoundariesParams(coproduced_role_definition=coproduced,
                                  coproduction_alignment=0.5)
        boundaries.coproduce_definition(wf, params, role_description=0.75)
        return wf

    with_definition, without = start(True), start(False)
    np.testing.assert_array_equal(without.role_belief, BELIEFS)
    for state in (with_definition.role_belief, with_definition.expectation):
        np.testing.assert_allclose(np.abs(state - 0.75), 0.5 * np.abs(BELIEFS - 0.75))
    assert boundaries.consensus(with_definition)[0] > boundaries.consensus(without)[0]


def test_consensus_falls_with_spread_of_beliefs():
    agreed = boundaries.consensus(make_workforce(role_belief=0.5))
    split = boundaries.consensus(make_workforce(role_belief=BELIEFS))
    assert agreed[0] == 1.0 and split[0] < 0.5


# --- everyday_influence (relative agreement) --------------------------------------------------

def influence_setup(staff_status: float = 0.8):
    """Staff at practice 0.3 (high status, certain), PWs at 0.5 (low status, less certain)."""
    wf = make_workforce(practice=0.3, anchor=0.3)
    pw = peer_slots(wf)
    wf.practice[0, pw] = 0.5
    wf.status[0, staff_slots(wf)] = staff_status
    return wf


def test_everyday_influence_moves_pw_practice_toward_high_status_staff():
    wf = influence_setup()
    pw, staff = peer_slots(wf), staff_slots(wf)
    boundaries.everyday_influence(wf, BoundariesParams())
    pw_move = 0.5 - wf.practice[0, pw]
    staff_move = wf.practice[0, staff] - 0.3
    assert (pw_move > 0).all()  # PWs move down toward staff
    assert (staff_move >= 0).all()  # staff move, if at all, toward the PWs
    assert pw_move.min() > 5 * staff_move.max()  # and much less


def test_higher_status_staff_pull_pws_further():
    high, low = influence_setup(0.9), influence_setup(0.3)
    for wf in (high, low):
        boundaries.everyday_influence(wf, BoundariesParams())
    pw = peer_slots(high)
    assert (high.practice[0, pw] < low.practice[0, pw]).all()


def test_staff_move_less_readily_than_pws():
    def staff_move(share: float) -> float:
        wf = influence_setup(staff_status=0.2)  # equal status so only readiness differs
        boundaries.everyday_influence(wf, BoundariesParams(staff_influence_share=share))
        return float(wf.practice[0, staff_slots(wf)].mean() - 0.3)

    assert 0 < staff_move(0.2) < staff_move(1.0)
    assert staff_move(0.0) == 0.0


def test_no_influence_beyond_the_influence_bound():
    wf = influence_setup()
    pw = peer_slots(wf)
    wf.practice[0, pw] = 0.9  # 0.6 from the staff's 0.3
    boundaries.everyday_influence(wf, BoundariesParams(influence_bound=0.5))
    np.testing.assert_allclose(wf.practice[0, pw], 0.9)
    np.testing.assert_allclose(wf.practice[0, staff_slots(wf)], 0.3)
    boundaries.everyday_influence(wf, BoundariesParams(influence_bound=0.7))
    assert (wf.practice[0, pw] < 0.9).all()


def test_more_certain_colleagues_sway_more():
    def pw_after(staff_confidence: float) -> np.ndarray:
        wf = influence_setup()
        wf.confidence[0, staff_slots(wf)] = staff_confidence
        boundaries.everyday_influence(wf, BoundariesParams())
        return wf.practice[0, peer_slots(wf)]

    assert (pw_after(0.9) < pw_after(0.3)).all()


def test_no_influence_between_people_who_never_share_a_day():
    wf = influence_setup()
    pw = peer_slots(wf)
    wf.present_days[0, pw] = [False, False, False, True, True]
    wf.present_days[0, staff_slots(wf)] = [True, True, True, False, False]
    boundaries.everyday_influence(wf, BoundariesParams())
    np.testing.assert_allclose(wf.practice[0, pw], 0.5)


# --- anchor (Friedkin & Johnsen) ---------------------------------------------------------------

def test_anchor_pulls_practice_back_more_with_higher_confidence():
    def pulled(confidence: float) -> np.ndarray:
        wf = make_workforce(practice=0.4, anchor=0.8, confidence=confidence)
        boundaries.anchor(wf, BoundariesParams(anchor_weight=0.1))
        return wf.practice[0]

    low, high = pulled(0.2), pulled(0.9)
    assert (low > 0.4).all() and (high > low).all()
    np.testing.assert_allclose(high, 0.4 + 0.1 * 0.9 * 0.4)


# --- enforce_boundaries -----------------------------------------------------------------------

def enforcement_setup():
    """Manager belief 0.4, tolerance 0.15: PWs may go up to 0.55."""
    wf = make_workforce(role_belief=0.4, disempowerment=0.2)
    pw = peer_slots(wf)
    wf.practice[0, pw] = [0.8, 0.5]  # one beyond the limit, one within
    wf.practice[0, 2] = 0.9  # a non-peer member of staff beyond it too
    return wf, pw


def test_enforcement_creates_events_only_above_the_limit():
    wf, (over, within) = enforcement_setup()
    params = BoundariesParams(enforcement_probability=1.0, tolerance=0.15,
                              enforcement_pullback=0.5, event_confidence_loss=0.05,
                              disempowerment_memory=0.1)
    boundaries.enforce_boundaries(wf, params, 1.0, np.random.default_rng(0))
    assert wf.boundary_event[0, over] and not wf.boundary_event[0, within]
    assert wf.boundary_event.sum() == 1  # never for staff
    assert wf.practice[0, over] == pytest.approx(0.8 - 0.5 * (0.8 - 0.55))
    assert wf.practice[0, within] == 0.5 and wf.practice[0, 2] == 0.9
    assert wf.confidence[0, over] == pytest.approx(0.45)
    assert wf.confidence[0, within] == 0.5
    assert wf.disempowerment[0, over] == pytest.approx(0.2 + 0.1 * 0.8)
    assert wf.disempowerment[0, within] == pytest.approx(0.2 - 0.1 * 0.2)


def test_enforcement_limit_follows_the_line_managers_belief():
    wf, (over, _) = enforcement_setup()
    wf.role_belief[0, MANAGER] = 0.7
    params = BoundariesParams(enforcement_probability=1.0, tolerance=0.15)
    boundaries.enforce_boundaries(wf, params, 1.0, np.random.default_rng(0))
    assert not wf.boundary_event.any()  # 0.8 is within 0.7 + 0.15


def test_coproduced_definition_widens_the_tolerance():
    wf, _ = enforcement_setup()
    params = BoundariesParams(enforcement_probability=1.0, coproduced_role_definition=True,
                              coproduced_tolerance=0.3)
    boundaries.enforce_boundaries(wf, params, 1.0, np.random.default_rng(0))
    assert not wf.boundary_event.any()


@pytest.mark.parametrize("strictness", [0.3, 1.0, 2.0])
def test_stricter_culture_enforces_more_often(strictness):
    wf = make_workforce(n_teams=2000, role_belief=0.4)
    wf.practice[:, peer_slots(wf)] = 0.9
    params = BoundariesParams(enforcement_probability=0.3)
    boundaries.enforce_boundaries(wf, params, strictness, np.random.default_rng(1))
    rate = wf.boundary_event[:, peer_slots(wf)].mean()
    assert rate == pytest.approx(min(0.3 * strictness, 1.0), abs=0.03)


# --- update_identity ---------------------------------------------------------------------------

def identity_after(validation: float, consensus: float) -> np.ndarray:
    wf = make_workforce()
    boundaries.update_identity(wf, BoundariesParams(), np.full(wf.occupied.shape, validation),
                               np.array([consensus]))
    return wf.confidence[0]


def test_validation_raises_confidence():
    pw = peer_slots(make_workforce())
    assert (identity_after(1.0, 1.0)[pw] > identity_after(0.0, 1.0)[pw]).all()
    assert (identity_after(1.0, 1.0)[pw] > 0.5).all()


def test_low_consensus_lowers_confidence():
    pw = peer_slots(make_workforce())
    assert (identity_after(0.5, 0.2)[pw] < identity_after(0.5, 1.0)[pw]).all()
    assert (identity_after(0.0, 0.2)[pw] < 0.5).all()


def test_mismatch_lowers_confidence():
    def after(expectation: float) -> np.ndarray:
        wf = make_workforce(expectation=expectation)
        boundaries.update_identity(wf, BoundariesParams(), np.zeros(wf.occupied.shape),
                                   np.array([1.0]))
        return wf.confidence[0, peer_slots(wf)]

    assert (after(0.95) < after(0.5)).all()  # team belief is 0.5


def test_identity_moves_only_pw_confidence():
    staff = staff_slots(make_workforce())
    np.testing.assert_array_equal(identity_after(1.0, 0.0)[staff], 0.7)
