"""Working patterns (ODD 7.2): days, hours and who is at the team meeting."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce

from sim.agents import WEEKDAYS
from sim.rules import working_patterns
from sim.rules.working_patterns import WorkingPatternsParams, contract_days, days_per_week

MEETING = [1]


def attendance_rate(wf, params: WorkingPatternsParams, rng, weeks: int = 300) -> float:
    """Share of (week, person) pairs at the meeting."""
    seen = []
    for _ in range(weeks):
        working_patterns.weekly_presence(wf, params, MEETING, rng)
        seen.append(wf.attends_meeting.copy())
    return float(np.mean(seen))


def part_timers(n: int, fte: float, rng, aligned: bool = True, flexible: bool = False,
                paid: bool = True):
    wf = make_workforce(n_teams=n, fte=fte, paid=paid, flexible_days=flexible)
    shape = wf.fte.shape
    days = contract_days(wf.fte.ravel(), aligned, MEETING, rng.random((wf.fte.size, WEEKDAYS)))
    wf.fixed_days[...] = days.reshape(shape + (WEEKDAYS,))
    return wf


@pytest.mark.parametrize("fte", [0.2, 0.4, 0.6, 1.0])
def test_fixed_days_aligned_with_meeting_include_the_meeting_day(fte, rng):
    days = contract_days(np.full(500, fte), True, MEETING, rng.random((500, WEEKDAYS)))
    assert days[:, MEETING].all()
    assert (days.sum(axis=1) == days_per_week(np.array([fte]))[0]).all()


def test_fixed_aligned_days_always_attend_and_flexible_days_only_sometimes(rng):
    fixed = part_timers(20, 0.4, rng, aligned=True)
    flexible = part_timers(20, 0.4, rng, flexible=True)
    assert attendance_rate(fixed, WorkingPatternsParams(), rng) == 1.0
    rate = attendance_rate(flexible, WorkingPatternsParams(days="flexible"), rng)
    assert 0.3 < rate < 0.5  # two random days out of five hit the meeting day 40% of weeks


def test_fixed_days_not_aligned_with_meeting_miss_it_for_some_people(rng):
    unaligned = part_timers(50, 0.2, rng, aligned=False)
    assert attendance_rate(unaligned, WorkingPatternsParams(), rng, weeks=5) < 0.5


def test_hours_cap_lowers_contracted_days():
    capped = WorkingPatternsParams(fte=0.6, hours_cap_per_week=15.9)
    free = WorkingPatternsParams(fte=0.6)
    assert capped.effective_fte < free.effective_fte == 0.6
    assert capped.effective_fte * working_patterns.FULL_TIME_HOURS == pytest.approx(15.9)
    assert days_per_week(np.array([capped.effective_fte]))[0] < \
        days_per_week(np.array([free.effective_fte]))[0]


def test_volunteers_are_invited_to_fewer_meetings(rng):
    params = WorkingPatternsParams(volunteer_meeting_invite=0.5)
    paid = part_timers(20, 1.0, rng, paid=True)
    volunteers = part_timers(20, 1.0, rng, paid=False)
    assert attendance_rate(paid, params, rng) == 1.0
    assert 0.4 < attendance_rate(volunteers, params, rng) < 0.6
    never = WorkingPatternsParams(volunteer_meeting_invite=0.0)
    assert attendance_rate(volunteers, never, rng, weeks=20) == 0.0


def test_sick_and_vacant_slots_are_not_present(rng):
    wf = make_workforce(n_teams=2)
    wf.sick[0, 1] = True
    wf.occupied[1, 2] = False
    working_patterns.weekly_presence(wf, WorkingPatternsParams(), MEETING, rng)
    for team, slot in ((0, 1), (1, 2)):
        assert not wf.present_days[team, slot].any()
        assert not wf.attends_meeting[team, slot]
    assert wf.attends_meeting.sum() == wf.attends_meeting.size - 2
