"""Organisational context (ODD 7.7): sector culture at hire, and the cross-team peer network."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, roles, small_model, staff_slots

from sim.agents import Workforce
from sim.rules import context, recruitment
from sim.rules.context import ContextParams
from sim.rules.recruitment import RecruitmentParams
from sim.rules.working_patterns import WorkingPatternsParams
from sim.team import TeamParams

NETWORK = ContextParams(peer_network=True, peer_network_interval_weeks=4,
                        peer_network_anchor_pull=0.1, peer_network_confidence=0.05,
                        peer_network_support=0.3)


def hired_in(sector: str) -> Workforce:
    wf = Workforce(role=roles(6, 2), n_teams=200)
    recruitment.hire(wf, np.ones(wf.occupied.shape, dtype=bool), TeamParams(),
                     RecruitmentParams(), WorkingPatternsParams(), ContextParams(sector=sector),
                     [1], np.random.default_rng(11))
    return wf


def test_sector_culture_sets_staff_practice_and_beliefs_at_hire():
    nhs, voluntary = hired_in("nhs"), hired_in("voluntary")
    table = ContextParams()
    for state, key in (("practice", "staff_practice"), ("role_belief", "staff_role_belief")):
        low = getattr(nhs, state)[nhs.is_staff].mean()
        high = getattr(voluntary, state)[voluntary.is_staff].mean()
        assert high > low
        expected = getattr(table, key)["voluntary"] - getattr(table, key)["nhs"]
        assert high - low == pytest.approx(expected, abs=0.02)


def test_sector_does_not_change_what_pws_bring():
    nhs, voluntary = hired_in("nhs"), hired_in("voluntary")
    peer = nhs.is_peer
    np.testing.assert_array_equal(nhs.anchor[peer], voluntary.anchor[peer])
    np.testing.assert_array_equal(nhs.expectation[peer], voluntary.expectation[peer])


def test_sector_sets_boundary_strictness():
    strictness = {s: small_model(n_teams=1, context={"sector": s}).strictness
                  for s in ("nhs", "partnership", "voluntary")}
    assert strictness["voluntary"] < strictness["partnership"] < strictness["nhs"]


def network_week(params: ContextParams, week: int = 0, **values):
    wf = make_workforce(practice=0.4, anchor=0.8, confidence=0.5, **values)
    support = context.peer_network_meeting(wf, week, params)
    return wf, support


def test_peer_network_pulls_practice_to_anchor_and_raises_confidence():
    wf, support = network_week(NETWORK)
    pw, staff = peer_slots(wf), staff_slots(wf)
    np.testing.assert_allclose(wf.practice[0, pw], 0.4 + 0.1 * 0.4)
    np.testing.assert_allclose(wf.confidence[0, pw], 0.5 + 0.05 * 0.5)
    np.testing.assert_array_equal(support[0, pw], 0.3)
    # staff are not part of the peer network
    np.testing.assert_array_equal(wf.practice[0, staff], 0.4)
    np.testing.assert_array_equal(wf.confidence[0, staff], 0.5)
    np.testing.assert_array_equal(support[0, staff], 0.0)


@pytest.mark.parametrize("enabled, week", [(False, 0), (False, 8), (True, 1), (True, 6)])
def test_peer_network_does_nothing_when_disabled_or_not_due(enabled, week):
    params = ContextParams(peer_network=enabled, peer_network_interval_weeks=4)
    wf, support = network_week(params, week=week)
    np.testing.assert_array_equal(wf.practice, 0.4)
    np.testing.assert_array_equal(wf.confidence, 0.5)
    np.testing.assert_array_equal(support, 0.0)


def test_peer_network_meets_every_interval():
    due = [week for week in range(13) if network_week(NETWORK, week=week)[1].any()]
    assert due == [0, 4, 8, 12]


def test_pws_not_at_work_miss_the_peer_network():
    wf = make_workforce(practice=0.4, anchor=0.8)
    away, there = peer_slots(wf)
    wf.present_days[0, away] = False
    support = context.peer_network_meeting(wf, 0, NETWORK)
    assert wf.practice[0, away] == 0.4 and support[0, away] == 0
    assert wf.practice[0, there] > 0.4 and support[0, there] > 0
