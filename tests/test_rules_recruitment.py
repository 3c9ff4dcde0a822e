"""Recruitment (ODD 7.1): direction of effect of each setting, one rule at a time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, roles, small_model, staff_slots

from sim.agents import PEER, Workforce
from sim.rules import recruitment
from sim.rules.boundaries import team_belief
from sim.rules.context import ContextParams
from sim.rules.meetings import mean_tie
from sim.rules.recruitment import RecruitmentParams
from sim.rules.working_patterns import WorkingPatternsParams
from sim.team import TeamParams


def hire_everyone(n_teams: int = 1, seed: int = 0, n_nonpeer: int = 3, n_peer: int = 2,
                  **recruitment_fields) -> Workforce:
    """An empty organisation filled in one go by ``recruitment.hire``."""
    wf = Workforce(role=roles(n_nonpeer, n_peer), n_teams=n_teams)
    params = dataclasses.replace(RecruitmentParams(), **recruitment_fields)
    recruitment.hire(wf, np.ones(wf.occupied.shape, dtype=bool), TeamParams(), params,
                     WorkingPatternsParams(), ContextParams(), [1], np.random.default_rng(seed))
    return wf


def test_new_pws_expect_the_practice_they_bring_in_either_process(rng):
    anchors = rng.uniform(0.3, 0.9, 4000)
    params = RecruitmentParams(expectation_sd=0.1)
    expected = recruitment.expectation_draw(params, anchors, np.ones(4000, dtype=bool), rng)
    assert abs((expected - anchors).mean()) < 0.01
    assert abs((expected - anchors).std() - 0.1) < 0.01
    assert np.corrcoef(expected, anchors)[0, 1] > 0.8


def test_informal_recruitment_gives_larger_expectation_gap_at_hire():
    def gap_at_hire(process: str, **fields: float) -> float:
        wf = small_model(n_teams=30, recruitment={"process": process, **fields}).workforce
        pw = wf.is_peer
        return float(np.abs(wf.expectation - team_belief(wf))[pw].mean())

    formal, informal = gap_at_hire("formal"), gap_at_hire("informal")
    assert informal > formal + 0.03
    # the difference is the conversations': without them the processes hire alike
    assert gap_at_hire("formal", negotiation_rounds=0) == pytest.approx(informal)


def negotiated(views: np.ndarray, **fields: float) -> Workforce:
    """A team (manager, 3 staff, 2 PWs) whose views are ``views`` after a formal hire of
    both PWs (the meeting's bound 0.3 and rate 0.2 unless given)."""
    bound, rate = fields.pop("belief_bound", 0.3), fields.pop("belief_rate", 0.2)
    wf = make_workforce(role_belief=views.copy(), expectation=views.copy())
    params = dataclasses.replace(RecruitmentParams(process="formal", role_description=0.75),
                                 **fields)
    recruitment.negotiate_role(wf, wf.is_peer.copy(), params, bound, rate)
    return wf


def test_formal_conversations_narrow_the_gap_between_pws_and_staff():
    views = np.array([[0.5, 0.45, 0.55, 0.6, 0.8, 0.75]])
    after = negotiated(views)
    pw, staff = peer_slots(after), staff_slots(after)
    before_gap = views[0, pw].mean() - views[0, staff].mean()
    after_gap = after.role_belief[0, pw].mean() - after.role_belief[0, staff].mean()
    assert 0 < after_gap < before_gap
    # what was agreed is what each now expects
    np.testing.assert_array_equal(after.expectation, after.role_belief)
    informal = make_workforce(role_belief=views.copy())
    recruitment.negotiate_role(informal, informal.is_peer.copy(),
                               RecruitmentParams(process="informal"), 0.3, 0.2)
    np.testing.assert_array_equal(informal.role_belief, views)


def test_views_too_far_from_every_other_are_not_moved_by_the_conversations():
    # staff at 0.1-0.2, PWs and description at 0.75-0.85: nobody within 0.3 of the other side
    views = np.array([[0.15, 0.1, 0.2, 0.15, 0.85, 0.8]])
    after = negotiated(views)
    staff, pw = staff_slots(after), peer_slots(after)
    assert (after.role_belief[0, staff] <= 0.2).all()  # staff agree among themselves only
    assert (after.role_belief[0, pw] >= 0.75).all()
    wide = negotiated(views, belief_bound=1.0)
    assert (wide.role_belief[0, staff] > views[0, staff] + 0.05).all()


def test_the_written_description_pulls_the_agreed_view_toward_it():
    views = np.array([[0.5, 0.45, 0.55, 0.6, 0.7, 0.65]])  # everyone below the description 0.75
    voiced, silent = negotiated(views, description_weight=2.0), negotiated(views,
                                                                          description_weight=0.0)
    assert voiced.role_belief.mean() > silent.role_belief.mean() + 0.02
    assert negotiated(views, description_weight=0.0).role_belief.mean() == pytest.approx(
        silent.role_belief.mean())


def test_more_conversations_move_views_further_and_none_moves_nothing():
    views = np.array([[0.5, 0.45, 0.55, 0.6, 0.8, 0.75]])
    np.testing.assert_array_equal(negotiated(views, negotiation_rounds=0).role_belief, views)
    spread = [np.ptp(negotiated(views, negotiation_rounds=k).role_belief) for k in (1, 3, 9)]
    assert spread[0] > spread[1] > spread[2]


def test_only_teams_hiring_a_pw_hold_the_conversations():
    views = np.array([[0.5, 0.45, 0.55, 0.6, 0.8, 0.75]] * 2)
    wf = make_workforce(n_teams=2, role_belief=views.copy(), expectation=views.copy())
    hiring = wf.is_peer.copy()
    hiring[1] = False
    recruitment.negotiate_role(wf, hiring, RecruitmentParams(process="formal"), 0.3, 0.2)
    np.testing.assert_array_equal(wf.role_belief[1], views[1])
    assert not np.array_equal(wf.role_belief[0], views[0])


def test_formal_recruitment_gives_new_pws_more_confidence():
    formal = hire_everyone(process="formal")
    informal = hire_everyone(process="informal")
    assert (formal.confidence[formal.is_peer] > informal.confidence[informal.is_peer]).all()


def test_pw_confidence_at_hire_stays_in_0_1():
    wf = hire_everyone(process="formal", confidence_at_hire=0.95, formal_confidence_bonus=0.1)
    assert (wf.confidence[wf.is_peer] <= 1.0).all()


def test_same_service_pw_starts_with_lower_status():
    known = hire_everyone(same_service=True)
    stranger = hire_everyone(same_service=False)
    pw, staff = peer_slots(known), staff_slots(known)
    penalty = RecruitmentParams().former_user_status_penalty
    np.testing.assert_allclose(known.status[0, pw], stranger.status[0, pw] - penalty)
    np.testing.assert_allclose(known.external_status[0, pw],
                               stranger.external_status[0, pw] - penalty)
    np.testing.assert_array_equal(known.status[0, staff], stranger.status[0, staff])


@pytest.mark.parametrize("same_service", [True, False])
def test_same_service_pw_refilling_a_post_is_already_known_to_staff(same_service):
    params = RecruitmentParams(same_service=same_service)
    wf = make_workforce()
    pw = peer_slots(wf)[0]
    leaving = np.zeros(wf.occupied.shape, dtype=bool)
    leaving[0, pw] = True
    recruitment.open_vacancies(wf, leaving, params)
    assert (wf.ties[0, pw, :] == 0).all() and (wf.ties[0, :, pw] == 0).all()
    recruitment.hire(wf, leaving, TeamParams(), params, WorkingPatternsParams(), ContextParams(),
                     [1], np.random.default_rng(0))
    expected = params.known_tie if same_service else params.new_tie
    others = np.arange(wf.occupied.shape[1]) != pw
    np.testing.assert_allclose(wf.ties[0, pw, others], expected)
    np.testing.assert_allclose(wf.ties[0, others, pw], expected)
    assert wf.ties[0, pw, pw] == 0


def test_initial_ties_are_symmetric():
    # Regression: hire() once copied each hired row into its column, leaving ties[PW, staff]
    # at new_tie while ties[staff, PW] was known_tie (fixed in d851ec3).
    wf = small_model(n_teams=2).workforce
    np.testing.assert_array_equal(wf.ties, np.swapaxes(wf.ties, 1, 2))
    assert (np.diagonal(wf.ties, axis1=1, axis2=2) == 0).all()


def test_pw_and_staff_refilled_in_the_same_week_get_symmetric_ties():
    wf = make_workforce()
    both = np.zeros(wf.occupied.shape, dtype=bool)
    both[0, [1, peer_slots(wf)[0]]] = True
    recruitment.open_vacancies(wf, both, RecruitmentParams())
    recruitment.hire(wf, both, TeamParams(), RecruitmentParams(same_service=True),
                     WorkingPatternsParams(), ContextParams(), [1], np.random.default_rng(0))
    np.testing.assert_array_equal(wf.ties, np.swapaxes(wf.ties, 1, 2))
    assert wf.ties[0, 1, peer_slots(wf)[0]] == RecruitmentParams().known_tie


def test_founding_staff_already_know_each_other():
    wf = small_model(n_teams=2, team={"established_tie": 0.5}).workforce
    staff = staff_slots(wf)
    block = wf.ties[:, staff][:, :, staff]
    off_diagonal = ~np.eye(len(staff), dtype=bool)
    np.testing.assert_array_equal(block[:, off_diagonal], 0.5)


def test_same_service_gives_pw_higher_initial_ties_to_staff():
    def pw_mean_tie(same_service: bool) -> float:
        wf = small_model(n_peer=1, recruitment={"same_service": same_service}).workforce
        return float(mean_tie(wf)[wf.is_peer].mean())

    assert pw_mean_tie(True) > pw_mean_tie(False)


def test_staff_joining_an_established_team_take_its_belief():
    wf = make_workforce(role_belief=0.62)
    nurse = staff_slots(wf)[1]
    slot = np.zeros(wf.occupied.shape, dtype=bool)
    slot[0, nurse] = True
    recruitment.open_vacancies(wf, slot, RecruitmentParams())
    wf.role_belief[0, nurse] = 0.0  # stale value of the leaver must not matter
    recruitment.hire(wf, slot, TeamParams(), RecruitmentParams(), WorkingPatternsParams(),
                     ContextParams(), [1], np.random.default_rng(0))
    assert wf.role_belief[0, nurse] == pytest.approx(0.62)


def test_pw_practice_starts_at_their_anchor_and_belief_at_their_expectation():
    wf = hire_everyone(n_teams=3)
    pw = wf.is_peer
    np.testing.assert_array_equal(wf.practice[pw], wf.anchor[pw])
    np.testing.assert_array_equal(wf.role_belief[pw], wf.expectation[pw])
    assert (wf.role[np.nonzero(pw)[1]] == PEER).all()


@pytest.mark.parametrize("delay", [1, 4, 12])
def test_vacancy_is_refilled_after_the_delay(delay):
    wf = make_workforce()
    leaving = np.zeros(wf.occupied.shape, dtype=bool)
    leaving[0, peer_slots(wf)[0]] = True
    recruitment.open_vacancies(wf, leaving, RecruitmentParams(refill_delay_weeks=delay))
    assert not wf.occupied[leaving].any()
    assert (wf.agent_id[leaving] == -1).all()
    due = [recruitment.due_vacancies(wf)[leaving].item() for _ in range(delay + 1)]
    assert due == [False] * delay + [True]  # open for `delay` whole weeks, filled the next


def test_pws_are_hired_into_the_role_description_and_staff_into_their_own_practice():
    wf = hire_everyone(process="informal", role_description=0.7)
    assert (wf.role_practice[wf.is_peer] == 0.7).all()
    assert (wf.role_practice[wf.is_staff] == wf.practice[wf.is_staff]).all()
