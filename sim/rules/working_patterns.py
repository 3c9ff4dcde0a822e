"""Working patterns: contracted hours, fixed or flexible days, and who is at the meeting (ODD 7.2).

Gillard et al. 2013, finding 2: flexible working arrangements, meant to help PWs, can keep
existing hierarchies in place. Every PW in the study was part-time or unpaid; UK benefit rules
(2014) capped permitted work below 16 hours a week. Here each person works a number of days a
week set by their hours; fixed days are contracted once (and include the team meeting day when
aligned with it), flexible days are re-drawn every week to suit the PW, so they meet the
meeting day only by chance. Volunteers are not always invited to meetings. Sickness (from the
wellbeing rule) removes a whole week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import WEEKDAYS, Workforce
from sim.params import param
from sim.streams import TeamDraws

FULL_TIME_HOURS = 37.5  # NHS Agenda for Change full-time week


@dataclass
class WorkingPatternsParams:
    fte: float = param(0.4, lo=0.05, hi=1.0,
                       source="Gillard 2013: every PW part-time or unpaid (0.4 assumption)",
                       doc="contracted fraction of a full-time week for PWs")
    days: str = param("fixed", choices=("fixed", "flexible"), source="Gillard 2013 finding 2",
                      doc="fixed contracted days, or days re-drawn each week to suit the PW")
    aligned_with_meeting: bool = param(
        True, doc="fixed days include the team meeting day(s)")
    hours_cap_per_week: float = param(
        37.5, lo=1.0, hi=37.5, source="UK benefit rules 2014: under 16 h/week (the cap case)",
        doc="maximum permitted hours a week (37.5 = no cap)")
    paid: bool = param(True, source="Gillard 2013 site table: paid or volunteer")
    volunteer_meeting_invite: float = param(
        0.5, lo=0.0, hi=1.0, doc="chance a present volunteer is included in a meeting")

    @property
    def effective_fte(self) -> float:
        """Contracted FTE after the hours cap (per team where an ensemble's runs differ)."""
        return np.minimum(self.fte, self.hours_cap_per_week / FULL_TIME_HOURS)


def days_per_week(fte: np.ndarray) -> np.ndarray:
    """Whole days worked a week for a contracted FTE (at least one)."""
    return np.clip(np.rint(fte * WEEKDAYS), 1, WEEKDAYS).astype(np.int64)


def _random_days(n_days: np.ndarray, order: np.ndarray,
                 first: np.ndarray | None = None) -> np.ndarray:
    """(n, weekdays) masks with n_days random days each, taken in the order of the uniform
    draws ``order`` (n, weekdays); days in ``first`` are taken first."""
    if first is not None:
        order = order - first  # preferred days sort before all others
    rank = np.argsort(np.argsort(order, axis=-1), axis=-1)
    return rank < n_days[:, None]


def contract_days(
    fte: np.ndarray, aligned_with_meeting: bool, meeting_days: list[int], order: np.ndarray,
) -> np.ndarray:
    """Fixed working days for new hires (``fte``: (n,); ``order``: (n, weekdays) uniform
    draws): random, or built around the meeting day(s)."""
    first = np.zeros(fte.shape + (WEEKDAYS,))
    if aligned_with_meeting:
        first[:, meeting_days] = 1.0
    return _random_days(days_per_week(fte), order, first)


def weekly_presence(
    workforce: Workforce, params: WorkingPatternsParams, meeting_days: list[int],
    rng: np.random.Generator | TeamDraws,
) -> None:
    """Set this week's present days and meeting attendance for everyone."""
    wf = workforce
    order = rng.random(wf.fixed_days.shape)  # drawn for every slot: streams stay aligned
    flexible = wf.flexible_days
    days = wf.fixed_days.copy()
    days[flexible] = _random_days(days_per_week(wf.fte[flexible]), order[flexible])
    at_work = wf.occupied & ~wf.sick
    wf.present_days = days & at_work[..., None]
    invited = wf.paid | (rng.random(wf.paid.shape) < params.volunteer_meeting_invite)
    wf.attends_meeting = wf.present_days[..., meeting_days].any(axis=-1) & invited


def shared_days(workforce: Workforce) -> np.ndarray:
    """(teams, slots, slots) share of this week's weekdays each pair both worked, 0..1."""
    days = workforce.present_days.astype(float)
    return np.einsum("tid,tjd->tij", days, days) / days.shape[-1]
