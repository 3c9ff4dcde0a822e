"""Team meetings (ODD 7.3): status built from speaking turns; ties grow and fade."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots

from sim.rules import meetings
from sim.rules.meetings import MeetingsParams


class TurnSpy:
    """Wraps a Generator and keeps every ``multinomial`` draw (the speaking turns)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        self.turns: list[np.ndarray] = []

    def multinomial(self, n, pvals):
        out = self._rng.multinomial(n, pvals)
        self.turns.append(out.copy())
        return out

    def __getattr__(self, name):
        return getattr(self._rng, name)


def test_attending_pw_gains_status_above_external(rng):
    wf = make_workforce()
    pw = peer_slots(wf)
    for _ in range(20):
        meetings.hold_meeting(wf, MeetingsParams(), rng)
    assert (wf.status[0, pw] > wf.external_status[0, pw] + 0.01).all()


def test_absent_pw_status_drifts_back_to_external(rng):
    params = MeetingsParams(status_rate=0.1)
    wf = make_workforce()
    pw = peer_slots(wf)
    wf.status[0, pw] = 0.6
    wf.attends_meeting[0, pw] = False
    meetings.hold_meeting(wf, params, rng)
    np.testing.assert_allclose(wf.status[0, pw], 0.6 + 0.1 * (0.2 - 0.6))
    for _ in range(200):
        meetings.hold_meeting(wf, params, rng)
    np.testing.assert_allclose(wf.status[0, pw], wf.external_status[0, pw], atol=1e-6)


def test_attending_keeps_pw_status_above_an_absent_pw(rng):
    wf = make_workforce()
    present, absent = peer_slots(wf)
    wf.attends_meeting[0, absent] = False
    for _ in range(30):
        meetings.hold_meeting(wf, MeetingsParams(), rng)
    assert wf.status[0, present] > wf.status[0, absent] == pytest.approx(0.2)


def test_higher_status_speaks_more():
    wf = make_workforce(n_teams=50)
    low, high = peer_slots(wf)
    wf.status[:, high] = 0.9
    spy = TurnSpy()
    meetings.hold_meeting(wf, MeetingsParams(status_salience=2.0, speaking_turns=30), spy)
    turns = spy.turns[0]
    assert turns[:, high].mean() > 1.5 * turns[:, low].mean()
    assert (turns.sum(axis=1) == 30).all()


def test_no_status_salience_gives_equal_chances():
    wf = make_workforce(n_teams=400)
    wf.status[:, 0] = 1.0
    spy = TurnSpy()
    meetings.hold_meeting(wf, MeetingsParams(status_salience=0.0, speaking_turns=60), spy)
    mean_turns = spy.turns[0].mean(axis=0)
    np.testing.assert_allclose(mean_turns, 60 / wf.occupied.shape[1], rtol=0.1)


def test_absent_people_take_no_turns():
    wf = make_workforce(n_teams=5)
    wf.attends_meeting[:, 1] = False
    spy = TurnSpy()
    meetings.hold_meeting(wf, MeetingsParams(), spy)
    assert (spy.turns[0][:, 1] == 0).all()


def test_team_without_a_meeting_leaves_status_at_external(rng):
    wf = make_workforce(n_teams=2)
    wf.attends_meeting[1] = False
    wf.status[1] = 0.5
    meetings.hold_meeting(wf, MeetingsParams(status_rate=1.0), rng)
    np.testing.assert_allclose(wf.status[1], wf.external_status[1])


def test_ties_grow_between_people_together_and_fade_with_absence():
    params = MeetingsParams(tie_gain=0.1, tie_decay=0.03)
    wf = make_workforce()
    away = peer_slots(wf)[1]
    wf.present_days[0, away] = False
    wf.attends_meeting[0, away] = False
    before = wf.ties.copy()
    meetings.update_ties(wf, params)
    together = np.arange(wf.occupied.shape[1]) != away
    pairs = np.ix_(together, together)
    off_diagonal = ~np.eye(together.sum(), dtype=bool)
    # Full contact: every co-present pair closes 10% of the gap to 1.
    np.testing.assert_allclose(wf.ties[0][pairs][off_diagonal],
                               before[0][pairs][off_diagonal] + 0.1 * 0.9)
    # No contact: ties to the absent person lose 3%.
    np.testing.assert_allclose(wf.ties[0, away, together], 0.1 * 0.97)
    np.testing.assert_allclose(wf.ties[0, together, away], 0.1 * 0.97)
    assert (np.diag(wf.ties[0]) == 0).all()


def test_ties_grow_more_with_more_shared_days():
    params = MeetingsParams()
    wf = make_workforce()
    a, b = peer_slots(wf)
    wf.attends_meeting[0, [a, b]] = False
    wf.present_days[0, b] = [True, False, False, False, False]
    meetings.update_ties(wf, params)
    assert wf.ties[0, a, 0] > wf.ties[0, b, 0] > 0.1 * (1 - params.tie_decay)


def test_ties_of_vacant_slots_do_not_change():
    wf = make_workforce()
    wf.occupied[0, 2] = False
    wf.ties[0, 2, :] = 0.0
    wf.ties[0, :, 2] = 0.0
    meetings.update_ties(wf, MeetingsParams())
    assert (wf.ties[0, 2, :] == 0).all() and (wf.ties[0, :, 2] == 0).all()
