"""Recruitment: who becomes a PW and what they and the team expect of the role (ODD 7.1).

Gillard et al. 2013, finding 1: without a formal process (co-produced role description, lived
experience as an essential criterion, a peer on the panel) the PW and the team can expect
different things of the role from the moment of selection. Every new PW expects the role to
ask for the practice they bring, give or take; the team's beliefs come from its culture. A
formal process is a few conversations about the role in which the team, the new PW and the
written description hear each other with the meeting's bounded confidence (Hegselmann &
Krause 2002; ``negotiate_role``), so the expectations narrow only as far as the views are close
enough to be heard; informal selection (staff nominating a service user they know) holds no
such conversation. The gap is not an input of either process.

Vacancies (PWs or staff) are refilled through the same rule after a delay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import MANAGER, PEER, PROFESSIONS, WEEKDAYS, Workforce
from sim.params import for_entries, param, per_team_table, table_lookup
from sim.rules.boundaries import bounded_mean, team_mean
from sim.rules.context import ContextParams
from sim.rules.working_patterns import FULL_TIME_HOURS, WorkingPatternsParams, contract_days
from sim.streams import TeamDraws, as_team_draws
from sim.team import TeamParams, roster_slots


@dataclass
class RecruitmentParams:
    process: str = param("formal", choices=("formal", "informal"),
                         source="Gillard 2013 finding 1")
    same_service: bool = param(True, source="Gillard 2013: every PW came from their service")
    role_description: float = param(
        0.75, lo=0.0, hi=1.0, doc="the practice the PW post asks for (0 conventional .. 1 "
        "peer), written into a formal role description; the reference for drift")
    expectation_sd: float = param(
        0.15, lo=0.0, hi=0.5, doc="spread of a new PW's expectation of the role around the "
        "practice they bring (their anchor)")
    negotiation_rounds: int = param(
        3, lo=0, hi=20, source="Gillard 2013 finding 1 (the parts of a formal process); the "
        "count is an assumption", doc="conversations about the role in a formal process "
        "(writing the role description, the interview, induction); 0 = none")
    description_weight: float = param(
        1.0, lo=0.0, hi=5.0, doc="weight the written role description carries in those "
        "conversations, against a person's status x certainty (0 = none)")
    anchor: float = param(0.8, lo=0.0, hi=1.0, doc="mean lived-experience anchor of new PWs")
    anchor_sd: float = param(0.08, lo=0.0, hi=0.5, doc="spread of PW anchors")
    confidence_at_hire: float = param(0.5, lo=0.0, hi=1.0, doc="PW identity certainty at hire")
    formal_confidence_bonus: float = param(
        0.1, lo=0.0, hi=1.0, doc="extra certainty from a clear, formally agreed role")
    known_tie: float = param(
        0.3, lo=0.0, hi=1.0, doc="initial tie of a same-service PW to staff who know them")
    new_tie: float = param(0.05, lo=0.0, hi=1.0, doc="initial tie between strangers")
    former_user_status_penalty: float = param(
        0.05, lo=0.0, hi=1.0, doc="status a same-service PW loses as a former service user")
    refill_delay_weeks: int = param(12, lo=0, hi=156, doc="weeks a vacancy stays open")


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def expectation_draw(params: RecruitmentParams, anchors: np.ndarray, new_pws: np.ndarray,
                     rng: np.random.Generator | TeamDraws) -> np.ndarray:
    """Expectations of the new PWs in the mask ``new_pws``, before any conversation about the
    role: each expects the role to ask for the practice they bring (``anchors``, their entries
    in ``np.nonzero`` order), give or take ``expectation_sd``. The same draw for either process,
    so the two differ only by what a formal process then does (``negotiate_role``)."""
    return _clip(anchors + as_team_draws(rng).normal_for(new_pws, 0.0, params.expectation_sd))


def hire(
    workforce: Workforce,
    mask: np.ndarray,
    team: TeamParams,
    params: RecruitmentParams,
    working: WorkingPatternsParams,
    context: ContextParams,
    meeting_days: list[int],
    rng: np.random.Generator | TeamDraws,
) -> None:
    """Fill the slots in ``mask`` (teams, slots) with new people, PWs or staff by slot role."""
    wf, draws = workforce, as_team_draws(rng)
    peer = mask & (wf.role == PEER)
    staff = mask & (wf.role != PEER)

    # Non-peer staff and managers: practice and beliefs from the sector's culture.
    mix = per_team_table([team.profession_mix.get(p, 0.0) for p in PROFESSIONS[1:-1]])
    drawn = 1 + draws.choice_for(staff, mix.shape[-1], mix / mix.sum(axis=-1, keepdims=True))
    wf.profession[staff] = np.where(wf.role[np.nonzero(staff)[1]] == MANAGER, 0, drawn)
    wf.practice[staff] = _clip(draws.normal_for(staff, context.sector_value(
        context.staff_practice), context.staff_practice_sd))
    wf.anchor[staff] = wf.practice[staff]
    wf.role_practice[staff] = wf.practice[staff]
    team_belief = team_mean(wf.role_belief, wf.is_staff)[:, 0]
    culture_belief = draws.normal_for(staff, context.sector_value(context.staff_role_belief),
                                      context.staff_role_belief_sd)
    # Newcomers to an established team take its current belief; at start-up, the culture's.
    prior = team_belief[np.nonzero(staff)[0]]
    wf.role_belief[staff] = _clip(np.where(np.isnan(prior), culture_belief, prior))
    wf.expectation[staff] = wf.role_belief[staff]
    wf.confidence[staff] = for_entries(team.staff_confidence, staff)
    wf.fte[staff] = 1.0
    wf.paid[staff] = True
    wf.flexible_days[staff] = False

    # PWs: lived-experience anchor, expectation set by the recruitment process.
    wf.profession[peer] = len(PROFESSIONS) - 1
    wf.anchor[peer] = _clip(draws.normal_for(peer, params.anchor, params.anchor_sd))
    wf.practice[peer] = wf.anchor[peer]
    wf.role_practice[peer] = for_entries(params.role_description, peer)
    wf.expectation[peer] = expectation_draw(params, wf.anchor[peer], peer, draws)
    wf.role_belief[peer] = wf.expectation[peer]
    formal = params.process == "formal"
    wf.confidence[peer] = for_entries(np.minimum(1.0, params.confidence_at_hire
                                                 + formal * params.formal_confidence_bonus), peer)
    wf.fte[peer] = for_entries(working.effective_fte, peer)
    wf.paid[peer] = working.paid
    wf.flexible_days[peer] = working.days == "flexible"

    status = table_lookup(per_team_table([team.external_status[p] for p in PROFESSIONS]),
                          wf.profession)
    if params.same_service:
        status = np.where(peer, status - params.former_user_status_penalty, status)
    wf.external_status[mask] = _clip(status)[mask]
    wf.status[mask] = wf.external_status[mask]
    wf.fixed_days[mask] = contract_days(wf.fte[mask], working.aligned_with_meeting,
                                        meeting_days, draws.random_for(mask, (WEEKDAYS,)))
    if team.roster:
        take_people_as_they_are(wf, mask, team, working)
    wf.strain[mask] = 0.0
    wf.disempowerment[mask] = 0.0
    wf.supported[mask] = 0.5  # neutral until the person has a history in the team
    wf.staff_valuation[mask] = 0.5  # neutral until staff have worked with the PW
    wf.tenure_weeks[mask] = 0
    wf.occupied[mask] = True
    wf.vacancy_weeks[mask] = 0

    # Ties: a same-service PW is already known to the staff who cared for them.
    first_tie = np.zeros(mask.shape)
    first_tie[mask] = for_entries(params.new_tie, mask)
    if params.same_service:
        first_tie[peer] = for_entries(params.known_tie, peer)
    hiring = np.nonzero(mask.any(axis=1))[0]  # only these teams' ties change
    new, occupied, first_tie = mask[hiring], wf.occupied[hiring], first_tie[hiring]
    involves_new = new[:, :, None] | new[:, None, :]
    pairs = occupied[:, :, None] & occupied[:, None, :] & ~np.eye(mask.shape[1], dtype=bool)
    pair_tie = np.maximum(first_tie[:, :, None], first_tie[:, None, :])
    wf.ties[hiring] = np.where(involves_new, np.where(pairs, pair_tie, 0.0), wf.ties[hiring])


def take_people_as_they_are(workforce: Workforce, mask: np.ndarray, team: TeamParams,
                            working: WorkingPatternsParams) -> None:
    """A planner's roster fixes each post's profession, FTE and days: a hire into a post has
    the post's terms (the model's draws for those are overwritten, so other draws are unmoved).
    A PW post without fixed days works flexible days; the hours cap still applies to PWs."""
    wf, slots = workforce, roster_slots(team.roster)
    t_idx, s_idx = np.nonzero(mask)
    wf.profession[mask] = slots.profession[s_idx]
    peer = wf.role[s_idx] == PEER
    cap = for_entries(working.hours_cap_per_week / FULL_TIME_HOURS, mask)
    wf.fte[mask] = np.where(peer, np.minimum(slots.fte[s_idx], cap), slots.fte[s_idx])
    wf.flexible_days[mask] = slots.flexible[s_idx]
    fixed = ~slots.flexible[s_idx]
    wf.fixed_days[t_idx[fixed], s_idx[fixed]] = slots.fixed_days[s_idx[fixed]]
    status = table_lookup(per_team_table([team.external_status[p] for p in PROFESSIONS]),
                          wf.profession)[mask]
    wf.external_status[mask] = np.where(peer, wf.external_status[mask], _clip(status))
    wf.status[mask] = wf.external_status[mask]


def establish_team(workforce: Workforce, team: TeamParams) -> None:
    """Staff in post when the PW role is introduced already know each other."""
    staff = workforce.is_staff
    pairs = staff[:, :, None] & staff[:, None, :] & ~np.eye(staff.shape[1], dtype=bool)
    workforce.ties[pairs] = for_entries(team.established_tie, pairs)


def negotiate_role(workforce: Workforce, new_pws: np.ndarray, params: RecruitmentParams,
                   belief_bound: float, belief_rate: float) -> None:
    """A formal process is a few conversations about the role (writing the description, the
    interview with a peer on the panel, induction) among everyone in post in a team hiring a
    PW, with the written description as one more voice. In each, a person's view of the role
    moves ``belief_rate`` of the way to the status- and certainty-weighted mean of the views
    within ``belief_bound`` of their own: the meeting's Hegselmann-Krause kernel and rates
    (``boundaries``, 7.5), so a formal process is the team's ordinary way of agreeing, given
    time and a text. The description does not move. What is agreed is what each then expects
    of the role, so belief stubbornness later pulls toward it. Views far from everyone's are
    not moved: a team whose culture is far from lived experience and from the description
    stays where it was.
    """
    wf = workforce
    hiring = np.nonzero(new_pws.any(axis=1))[0]
    if params.process != "formal" or params.negotiation_rounds == 0 or len(hiring) == 0:
        return

    def for_hiring(value: float | np.ndarray) -> np.ndarray:
        """(hiring teams, 1): a parameter's value in each hiring team (per team or shared)."""
        per_team = np.ndim(value) > 0
        return np.broadcast_to(np.reshape(value, (-1, 1))[hiring] if per_team else value,
                               (len(hiring), 1)).astype(float)

    taking_part = wf.occupied[hiring]
    views = np.concatenate([wf.role_belief[hiring], for_hiring(params.role_description)], axis=1)
    weights = np.concatenate([wf.status[hiring] * wf.confidence[hiring],
                              for_hiring(params.description_weight)], axis=1)
    voices = np.concatenate([taking_part, np.ones((len(hiring), 1), dtype=bool)], axis=1)
    bound, rate = for_hiring(belief_bound), for_hiring(belief_rate)
    for _ in range(params.negotiation_rounds):
        heard = bounded_mean(views, weights, voices, bound)
        views[:, :-1] += np.where(taking_part, rate * (heard[:, :-1] - views[:, :-1]), 0.0)
    agreed = np.where(taking_part, views[:, :-1], wf.role_belief[hiring])
    wf.role_belief[hiring] = agreed
    wf.expectation[hiring] = np.where(taking_part, agreed, wf.expectation[hiring])


def due_vacancies(workforce: Workforce) -> np.ndarray:
    """Return the (teams, slots) mask of vacancies due to be filled this week, and count the
    others down: a post left with delay d stays open for d whole weeks."""
    vacant = ~workforce.occupied
    due = vacant & (workforce.vacancy_weeks <= 0)
    workforce.vacancy_weeks[vacant & ~due] -= 1
    return due


def open_vacancies(workforce: Workforce, leavers: np.ndarray, params: RecruitmentParams) -> None:
    """Leavers free their slot; it stays open for the refill delay."""
    wf = workforce
    wf.occupied[leavers] = False
    wf.agent_id[leavers] = -1
    wf.vacancy_weeks[leavers] = params.refill_delay_weeks
    t_idx, s_idx = np.nonzero(leavers)
    wf.ties[t_idx, s_idx, :] = 0.0
    wf.ties[t_idx, :, s_idx] = 0.0

