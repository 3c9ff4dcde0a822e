"""Boundaries and consensus: how practice and beliefs about the role move in the team (ODD 7.5).

Gillard et al. 2013: challenges to existing practice boundaries were seen at every site
(theme 4); finding 4: without consensus on what peer practice is, PWs feel unequal,
disempowered, unsure of their identity and under-supported. Five rules, each after a published
mechanism:

1. ``converge_beliefs``: in the meeting, attendees move their belief about the PW role toward
   the status- and certainty-weighted mean of attendees within a confidence bound (Hegselmann &
   Krause 2002) while keeping a weight on their own expectation of the role (Friedkin &
   Johnsen), so consensus is partial; where the role definition was co-produced, the manager
   pulls beliefs toward it.
2. ``everyday_influence``: colleagues who share working days move each other's practice when
   it is within a confidence bound (Deffuant et al. 2000), and the more certain, higher-status
   party moves the other more (the idea of relative agreement, Deffuant et al. 2002, in a
   simpler weighting). Staff move more slowly than PWs but can move.
3. ``anchor``: each person keeps a weight on their own anchor that grows with confidence
   (Friedkin & Johnsen 1999), so co-option is usually partial.
4. ``enforce_boundaries``: practice beyond what the line manager believes the role is, plus a
   tolerance, may be pulled back; each such event is a boundary-tension event that lowers
   confidence and adds to disempowerment. Supervision acts through socialisation (ODD 7.4), not
   through enforcement, so the two rules can be varied separately.
5. ``update_identity``: confidence rises with validation and falls with mismatch between
   practice, anchor, the team's view of the role and the PW's expectation, and low consensus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import MANAGER, Workforce
from sim.params import param


@dataclass
class BoundariesParams:
    coproduced_role_definition: bool = param(
        False, source="Gillard 2013 finding 4; Gillard 2017 principles",
        doc="the team and PWs co-produced a shared definition of peer practice")
    coproduction_alignment: float = param(
        0.5, lo=0.0, hi=1.0, source="calibrated (ODD section 8)",
        doc="share of the way co-producing the definition moves everyone's expectation of the "
        "role toward it at the start")
    coproduction_pull: float = param(
        0.1, lo=0.0, hi=1.0, doc="share of the way beliefs move to the co-produced definition "
        "per meeting")
    coproduced_tolerance: float = param(
        0.15, lo=0.0, hi=1.0, doc="extra tolerance for peer practice a shared definition gives")
    belief_bound: float = param(0.3, lo=0.0, hi=1.0, source="Hegselmann & Krause 2002 epsilon",
                                doc="beliefs further apart than this do not influence each other")
    belief_rate: float = param(0.2, lo=0.0, hi=1.0, doc="share of the way to the bounded mean "
                               "per meeting")
    belief_stubbornness: float = param(
        0.15, lo=0.0, hi=1.0, source="calibrated (ODD section 8); Friedkin & Johnsen 1999",
        doc="share of the way beliefs return to the person's own expectation per meeting")
    influence_rate: float = param(
        0.05, lo=0.0, hi=1.0, source="Deffuant et al. 2000 mu (value assumption)",
        doc="weekly rate of everyday influence on practice")
    influence_bound: float = param(
        0.5, lo=0.0, hi=1.0, source="Deffuant et al. 2000 threshold (value assumption)",
        doc="colleagues whose practice differs by more than this do not influence each other")
    staff_influence_share: float = param(
        0.2, lo=0.0, hi=1.0, doc="how readily staff practice moves, relative to PWs")
    anchor_weight: float = param(
        0.1, lo=0.0, hi=1.0, source="Friedkin & Johnsen 1999 (value assumption)",
        doc="weekly pull back to one's anchor at full confidence")
    enforcement_probability: float = param(
        0.3, lo=0.0, hi=1.0, doc="weekly chance practice beyond the limit is challenged")
    tolerance: float = param(0.15, lo=0.0, hi=1.0, doc="practice allowed beyond the enforcer's "
                             "belief about the role")
    enforcement_pullback: float = param(
        0.5, lo=0.0, hi=1.0, doc="share of the excess removed by an enforcement event")
    event_confidence_loss: float = param(0.05, lo=0.0, hi=1.0,
                                         doc="confidence lost per boundary-tension event")
    confidence_gain: float = param(0.05, lo=0.0, hi=1.0, doc="weekly confidence gain at full "
                                   "validation")
    confidence_loss: float = param(0.05, lo=0.0, hi=1.0, doc="weekly confidence loss at full "
                                   "mismatch")
    disempowerment_memory: float = param(
        0.1, lo=0.0, hi=1.0, doc="weight of this week in the moving average of being overruled")
    champion_validation_weight: float = param(
        0.5, lo=0.0, hi=1.0, doc="weight of meeting a championing manager in a PW's weekly "
        "validation (0 = neutral)")
    user_validation_weight: float = param(
        0.5, lo=0.0, hi=1.0, doc="weight of relationships with service users in a PW's weekly "
        "validation (0 = neutral)")
    mismatch_doubt_weight: float = param(
        0.5, lo=0.0, hi=1.0, doc="weight of mismatch (practice, anchor, team view, expectation) "
        "in a PW's doubt (0 = neutral)")
    consensus_doubt_weight: float = param(
        0.5, lo=0.0, hi=1.0, doc="weight of low team consensus in a PW's doubt (0 = neutral)")


def team_mean(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(teams, 1) mean of ``values`` over ``members``; NaN for a team with none."""
    count = members.sum(axis=1, keepdims=True)
    total = np.where(members, values, 0.0).sum(axis=1, keepdims=True)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def team_belief(workforce: Workforce) -> np.ndarray:
    """(teams, 1) non-PW staff's mean belief about the PW role."""
    return team_mean(workforce.role_belief, workforce.is_staff)


def consensus(workforce: Workforce) -> np.ndarray:
    """(teams,) 1 - spread of role beliefs across everyone in the team (0.5 = maximum spread)."""
    wf = workforce
    mean = team_mean(wf.role_belief, wf.occupied)
    var = team_mean((wf.role_belief - mean) ** 2, wf.occupied)
    return np.clip(1.0 - np.sqrt(np.nan_to_num(var[:, 0])) / 0.5, 0.0, 1.0)


def _pairs(mask: np.ndarray) -> np.ndarray:
    return mask[:, :, None] & mask[:, None, :]


def converge_beliefs(workforce: Workforce, params: BoundariesParams,
                     role_description: float) -> None:
    """Bounded-confidence averaging of role beliefs among meeting attendees."""
    wf = workforce
    b = wf.role_belief
    near = np.abs(b[:, :, None] - b[:, None, :]) <= params.belief_bound
    weight = _pairs(wf.attends_meeting) & near
    w = weight * (wf.status * wf.confidence)[:, None, :]
    total = w.sum(axis=-1)
    bounded_mean = np.divide((w * b[:, None, :]).sum(axis=-1), total,
                             out=b.copy(), where=total > 0)
    change = params.belief_rate * (bounded_mean - b) + \
        params.belief_stubbornness * (wf.expectation - b)
    if params.coproduced_role_definition:
        manager_there = wf.attends_meeting[:, [MANAGER]]
        change += manager_there * params.coproduction_pull * (role_description - b)
    wf.role_belief += np.where(wf.attends_meeting, change, 0.0)


def everyday_influence(workforce: Workforce, params: BoundariesParams) -> None:
    """Bounded, status- and certainty-weighted influence on practice between colleagues."""
    wf = workforce
    x = wf.practice
    within = np.abs(x[:, :, None] - x[:, None, :]) < params.influence_bound
    sway = within * _share(wf.status) * _share(wf.confidence)  # j's sway over i, 0..1
    days = wf.present_days.astype(float)
    together = np.einsum("tid,tjd->tij", days, days) / days.shape[-1]
    together *= ~np.eye(x.shape[1], dtype=bool)
    pull = (together * sway * (x[:, None, :] - x[:, :, None])).sum(axis=-1) / np.maximum(
        together.sum(axis=-1), 1e-9)
    readiness = np.where(wf.is_peer, 1.0, params.staff_influence_share)
    wf.practice += np.where(wf.occupied, params.influence_rate * readiness * pull, 0.0)


def _share(values: np.ndarray) -> np.ndarray:
    """(teams, i, j) j's share of the pair's total, v_j / (v_i + v_j); 0.5 when equal."""
    total = values[:, :, None] + values[:, None, :]
    return np.divide(np.broadcast_to(values[:, None, :], total.shape), total,
                     out=np.full(total.shape, 0.5), where=total > 0)


def anchor(workforce: Workforce, params: BoundariesParams) -> None:
    """Everyone keeps a confidence-weighted pull back to the practice they brought."""
    wf = workforce
    wf.practice += np.where(wf.occupied, params.anchor_weight * wf.confidence *
                            (wf.anchor - wf.practice), 0.0)


def enforce_boundaries(workforce: Workforce, params: BoundariesParams, strictness: float,
                       rng: np.random.Generator) -> None:
    """Challenge PW practice beyond the line manager's limit; record boundary-tension events.

    Only a manager in post who worked with the PW this week can challenge their practice.
    """
    wf = workforce
    allowed = wf.role_belief[:, [MANAGER]] + params.tolerance + \
        params.coproduced_role_definition * params.coproduced_tolerance
    excess = np.maximum(wf.practice - allowed, 0.0)
    chance = np.clip(params.enforcement_probability * strictness, 0.0, 1.0)
    draw = rng.random(wf.practice.shape)
    wf.boundary_event = wf.is_peer & met_manager(wf) & (excess > 0) & (draw < chance)
    wf.practice -= np.where(wf.boundary_event, params.enforcement_pullback * excess, 0.0)
    wf.confidence -= np.where(wf.boundary_event, params.event_confidence_loss, 0.0)
    m = params.disempowerment_memory
    wf.disempowerment += np.where(wf.is_peer, m * (wf.boundary_event - wf.disempowerment), 0.0)


def mismatch(workforce: Workforce) -> np.ndarray:
    """(teams, slots) mean distance between practice, anchor, team view and expectation."""
    wf = workforce
    belief = team_belief(wf)
    belief = np.where(np.isnan(belief), wf.role_belief, belief)
    return (np.abs(wf.practice - wf.anchor) + np.abs(wf.practice - belief)
            + np.abs(wf.expectation - belief)) / 3.0


def move_expectations(workforce: Workforce, who: np.ndarray, target: float,
                      share: float) -> None:
    """Move both expectation and belief about the role a share of the way to ``target``.

    Used where a process changes what people expect of the role durably (a formal recruitment
    process, co-producing the definition, whole-team training): belief stubbornness then
    pulls toward the new expectation instead of undoing the change.
    """
    for state in (workforce.expectation, workforce.role_belief):
        state += np.where(who, share * (target - state), 0.0)


def coproduce_definition(workforce: Workforce, params: BoundariesParams,
                         role_description: float) -> None:
    """Co-producing the definition of peer practice moves everyone's expectation and belief."""
    if params.coproduced_role_definition:
        move_expectations(workforce, workforce.occupied, role_description,
                          params.coproduction_alignment)


def agreeing_ties(workforce: Workforce, params: BoundariesParams) -> np.ndarray:
    """(teams, slots) mean tie to colleagues weighted by agreement on what the PW role is
    (1 for the same belief, 0 at the confidence bound or beyond): colleagues who see the role
    differently give less support (Gillard 2013, finding 4)."""
    wf = workforce
    distance = np.abs(wf.role_belief[:, :, None] - wf.role_belief[:, None, :])
    agreement = np.clip(1.0 - distance / max(params.belief_bound, 1e-9), 0.0, 1.0)
    others = _pairs(wf.occupied) & ~np.eye(wf.occupied.shape[1], dtype=bool)
    count = np.maximum(others.sum(axis=-1), 1)
    return (wf.ties * agreement * others).sum(axis=-1) / count


def met_manager(workforce: Workforce) -> np.ndarray:
    """(teams, slots) whether each person shared a working day with the manager this week."""
    days = workforce.present_days
    return (days & days[:, [MANAGER]]).any(axis=-1)


def validation(workforce: Workforce, params: BoundariesParams, champion_effort: float,
               user_relationship: np.ndarray) -> np.ndarray:
    """(teams, slots) weekly validation of a PW: a championing manager met this week, and the
    relationships built with their service users (whose progress PWs see)."""
    wf = workforce
    at_work = wf.present_days.any(axis=-1)
    return np.where(at_work, params.champion_validation_weight * champion_effort * met_manager(wf)
                    + params.user_validation_weight * user_relationship, 0.0)


def update_identity(workforce: Workforce, params: BoundariesParams, validation: np.ndarray,
                    team_consensus: np.ndarray) -> None:
    """PW confidence: up with validation (0..1), down with mismatch and low consensus."""
    wf = workforce
    doubt = params.mismatch_doubt_weight * mismatch(wf) + \
        params.consensus_doubt_weight * (1.0 - team_consensus[:, None])
    change = params.confidence_gain * validation * (1 - wf.confidence) - \
        params.confidence_loss * doubt * wf.confidence
    wf.confidence = np.clip(wf.confidence + np.where(wf.is_peer, change, 0.0), 0.0, 1.0)
