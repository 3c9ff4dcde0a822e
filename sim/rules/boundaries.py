"""Boundaries and consensus: how practice and beliefs about the role move in the team (ODD 7.5).

Gillard et al. 2013: challenges to existing practice boundaries were seen at every site
(theme 4); finding 4: without consensus on what peer practice is, PWs feel unequal,
disempowered, unsure of their identity and under-supported. Five rules, each after, or inspired
by, a published mechanism (ODD 7.5 says which):

1. ``converge_beliefs``: in the meeting, attendees move their belief about the PW role toward
   the status- and certainty-weighted mean of attendees within a confidence bound (Hegselmann &
   Krause 2002) while keeping a weight on their own expectation of the role (Friedkin &
   Johnsen), so consensus is partial; where the role definition was co-produced, the manager
   pulls beliefs toward it.
2. ``everyday_influence``: colleagues who share working days move each other's practice when
   it is within a confidence bound, and the more certain, higher-status party moves the other
   more: inspired by Deffuant et al. (2000) and the idea of relative agreement (Deffuant et
   al. 2002), in a simpler weighting with no uncertainty intervals. Staff move more slowly
   than PWs but can move. Rival forms (``influence_form``): random pairwise encounters as in
   Deffuant et al. 2000, and relative agreement with a per-person uncertainty as in Deffuant
   et al. 2002. The kernels (``bounded_mean``, ``weighted_pull``, ``deffuant_step``,
   ``relative_agreement_step``, ``anchoring_pull``) run on plain arrays, so the docking tests
   call them in the anchors' own settings.
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
from sim.params import as_team_axis, for_entries, param
from sim.rules import working_patterns
from sim.streams import TeamDraws

INFLUENCE_FORMS = ("weighted", "deffuant", "relative_agreement")


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
    influence_form: str = param(
        "weighted", choices=INFLUENCE_FORMS,
        source="rival forms (ODD 7.5): inspired by Deffuant 2000 / Deffuant 2000 / Deffuant 2002",
        doc="everyday influence on practice: status- and certainty-weighted bounded confidence "
        "among everyone sharing days (weighted), random pairwise encounters (deffuant), or "
        "relative agreement with per-person uncertainty (relative_agreement)")
    ra_uncertainty_unsure: float = param(
        0.6, lo=0.01, hi=2.0, source="assumption (Deffuant 2002 moderates: U of the range)",
        doc="relative agreement: uncertainty of practice of a newcomer at confidence 0")
    ra_uncertainty_confident: float = param(
        0.1, lo=0.01, hi=2.0, source="assumption (Deffuant 2002 extremists: u_e = 0.1)",
        doc="relative agreement: uncertainty of practice of a newcomer at confidence 1")


def masked_mean(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over ``members`` along the last axis; NaN where there are none."""
    count = members.sum(axis=-1)
    total = np.where(members, values, 0.0).sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def team_mean(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(teams, 1) mean of (teams, slots) ``values`` over ``members``; NaN for a team with none."""
    return masked_mean(values, members)[:, None]


def team_belief(workforce: Workforce) -> np.ndarray:
    """(teams, 1) non-PW staff's mean belief about the PW role."""
    return team_mean(workforce.role_belief, workforce.is_staff)


def consensus(workforce: Workforce) -> np.ndarray:
    """(teams,) 1 - spread of role beliefs across everyone in the team (0.5 = maximum spread)."""
    b, members = workforce.role_belief, workforce.occupied
    count = np.maximum(members.sum(axis=1, keepdims=True), 1)  # an empty team: spread 0
    mean = np.where(members, b, 0.0).sum(axis=1, keepdims=True) / count
    var = np.where(members, (b - mean) ** 2, 0.0).sum(axis=1) / count[:, 0]
    return np.clip(1.0 - np.sqrt(var) / 0.5, 0.0, 1.0)


def _pairs(mask: np.ndarray) -> np.ndarray:
    return mask[:, :, None] & mask[:, None, :]


def bounded_mean(values: np.ndarray, weights: np.ndarray, taking_part: np.ndarray,
                 bound: float) -> np.ndarray:
    """Hegselmann-Krause kernel on plain (groups, n) arrays: each participant's weighted mean
    of the participants whose value lies within ``bound`` of their own (itself included);
    a participant's own value where the weights sum to 0."""
    near = np.abs(values[:, :, None] - values[:, None, :]) <= as_team_axis(bound, 3)
    w = (_pairs(taking_part) & near) * weights[:, None, :]
    total = w.sum(axis=-1)
    return np.divide((w * values[:, None, :]).sum(axis=-1), total, out=values.copy(),
                     where=total > 0)


def converge_beliefs(workforce: Workforce, params: BoundariesParams,
                     role_description: float) -> None:
    """Bounded-confidence averaging of role beliefs among meeting attendees."""
    wf = workforce
    b = wf.role_belief
    mean = bounded_mean(b, wf.status * wf.confidence, wf.attends_meeting, params.belief_bound)
    change = params.belief_rate * (mean - b) + \
        params.belief_stubbornness * (wf.expectation - b)
    if params.coproduced_role_definition:
        manager_there = wf.attends_meeting[:, [MANAGER]]
        change += manager_there * params.coproduction_pull * (role_description - b)
    wf.role_belief += np.where(wf.attends_meeting, change, 0.0)


def everyday_influence(workforce: Workforce, params: BoundariesParams,
                       rng: np.random.Generator | TeamDraws | None = None,
                       shared_days: np.ndarray | None = None) -> None:
    """Bounded influence on practice between colleagues, in the form ``influence_form``:
    status- and certainty-weighted among everyone sharing days (``weighted``, no draws;
    ``shared_days`` as ``working_patterns.shared_days``, computed if not given), or random
    pairwise encounters on shared days (``deffuant``, ``relative_agreement``; ``rng``)."""
    wf = workforce
    readiness = np.where(wf.is_peer, 1.0, params.staff_influence_share)
    if params.influence_form != "weighted":
        if rng is None:
            raise ValueError(f"influence_form={params.influence_form!r} draws encounters: "
                             "pass the run's generator")
        _encounters(wf, params, readiness, rng)
        return
    together = working_patterns.shared_days(wf) if shared_days is None else shared_days
    pull = weighted_pull(wf.practice, together, wf.status, wf.confidence,
                         params.influence_bound)
    wf.practice += np.where(wf.occupied, params.influence_rate * readiness * pull, 0.0)


def weighted_pull(practice: np.ndarray, together: np.ndarray, status: np.ndarray,
                  confidence: np.ndarray, bound: float) -> np.ndarray:
    """Kernel of the ``weighted`` form on plain arrays: (groups, n) mean pull on each person's
    practice from the others, weighted by time together (groups, n, n) and by each other's
    share of the pair's status and confidence, from those within ``bound`` only."""
    x = practice
    within = np.abs(x[:, :, None] - x[:, None, :]) < as_team_axis(bound, 3)
    sway = within * _share(status) * _share(confidence)  # j's sway over i, 0..1
    together = together * ~np.eye(x.shape[1], dtype=bool)
    return (together * sway * (x[:, None, :] - x[:, :, None])).sum(axis=-1) / np.maximum(
        together.sum(axis=-1), 1e-9)


def random_pairs(present: np.ndarray,
                 rng: np.random.Generator | TeamDraws) -> tuple[np.ndarray, ...]:
    """A random matching of the people present in each group: (groups, pairs) index arrays
    i, j and a mask of pairs whose two members are both present (each person in one pair)."""
    keys = np.where(present, rng.random(present.shape), np.inf)
    order = np.argsort(keys, axis=-1)
    half = present.shape[-1] // 2
    i, j = order[..., 0:2 * half:2], order[..., 1:2 * half:2]
    both = np.take_along_axis(present, i, -1) & np.take_along_axis(present, j, -1)
    return i, j, both


def deffuant_step(x: np.ndarray, i: np.ndarray, j: np.ndarray, meets: np.ndarray, rate: float,
                  bound: float, readiness: np.ndarray | float = 1.0) -> None:
    """Deffuant et al. (2000) on plain (groups, n) arrays, in place: each meeting pair (i, j)
    whose values differ by less than ``bound`` moves each a share ``rate`` (times the mover's
    readiness) of the way to the other. Pairs must be disjoint (one matching)."""
    ready = np.broadcast_to(readiness, x.shape)
    xi, xj = np.take_along_axis(x, i, -1), np.take_along_axis(x, j, -1)
    close = meets & (np.abs(xi - xj) < bound)
    np.put_along_axis(x, i, xi + close * rate * np.take_along_axis(ready, i, -1) * (xj - xi), -1)
    np.put_along_axis(x, j, xj + close * rate * np.take_along_axis(ready, j, -1) * (xi - xj), -1)


def relative_agreement_step(x: np.ndarray, u: np.ndarray, i: np.ndarray, j: np.ndarray,
                            meets: np.ndarray, rate: float,
                            readiness: np.ndarray | float = 1.0) -> None:
    """Relative agreement (Deffuant, Amblard, Weisbuch & Faure 2002) on plain (groups, n)
    arrays, in place. Each person holds a value x and an uncertainty u (the interval
    [x - u, x + u]). For a meeting pair the overlap is h = min(x_i + u_i, x_j + u_j) -
    max(x_i - u_i, x_j - u_j); if h > u_j, j moves i: x_i += rate*(h/u_j - 1)*(x_j - x_i) and
    u_i += rate*(h/u_j - 1)*(u_j - u_i), and symmetrically. Confident people (small u) move
    others more and are moved less."""
    ready = np.broadcast_to(readiness, x.shape)
    xi, xj = np.take_along_axis(x, i, -1), np.take_along_axis(x, j, -1)
    ui, uj = np.take_along_axis(u, i, -1), np.take_along_axis(u, j, -1)
    h = np.minimum(xi + ui, xj + uj) - np.maximum(xi - ui, xj - uj)
    on_i = meets * (h > uj) * rate * np.take_along_axis(ready, i, -1) * (h / uj - 1.0)
    on_j = meets * (h > ui) * rate * np.take_along_axis(ready, j, -1) * (h / ui - 1.0)
    np.put_along_axis(x, i, xi + on_i * (xj - xi), -1)
    np.put_along_axis(x, j, xj + on_j * (xi - xj), -1)
    np.put_along_axis(u, i, ui + on_i * (uj - ui), -1)
    np.put_along_axis(u, j, uj + on_j * (ui - uj), -1)


def _encounters(wf: Workforce, params: BoundariesParams, readiness: np.ndarray,
                rng: np.random.Generator | TeamDraws) -> None:
    """Pairwise forms: on each weekday, a random matching of the colleagues present."""
    relative = params.influence_form == "relative_agreement"
    if relative:  # newcomers' uncertainty follows their confidence at hire
        fresh = wf.occupied & (wf.uncertainty_owner != wf.agent_id)
        unsure, confident = (for_entries(v, fresh) for v in (
            params.ra_uncertainty_unsure, params.ra_uncertainty_confident))
        wf.practice_uncertainty[fresh] = unsure + wf.confidence[fresh] * (confident - unsure)
        wf.uncertainty_owner[fresh] = wf.agent_id[fresh]
    for day in range(wf.present_days.shape[-1]):
        i, j, meets = random_pairs(wf.present_days[..., day], rng)
        if relative:
            relative_agreement_step(wf.practice, wf.practice_uncertainty, i, j, meets,
                                    params.influence_rate, readiness)
        else:
            deffuant_step(wf.practice, i, j, meets, params.influence_rate,
                          params.influence_bound, readiness)


def _share(values: np.ndarray) -> np.ndarray:
    """(teams, i, j) j's share of the pair's total, v_j / (v_i + v_j); 0.5 when equal."""
    total = values[:, :, None] + values[:, None, :]
    return np.divide(np.broadcast_to(values[:, None, :], total.shape), total,
                     out=np.full(total.shape, 0.5), where=total > 0)


def anchor(workforce: Workforce, params: BoundariesParams) -> None:
    """Everyone keeps a confidence-weighted pull back to the practice they brought."""
    wf = workforce
    wf.practice += np.where(wf.occupied, anchoring_pull(wf.practice, wf.anchor, wf.confidence,
                                                        params.anchor_weight), 0.0)


def anchoring_pull(practice: np.ndarray, anchors: np.ndarray, confidence: np.ndarray,
                   weight: float) -> np.ndarray:
    """Friedkin-Johnsen kernel on plain arrays: the step back toward one's anchor, a share
    ``weight`` times confidence of the way."""
    return weight * confidence * (anchors - practice)


def enforce_boundaries(workforce: Workforce, params: BoundariesParams, strictness: float,
                       rng: np.random.Generator | TeamDraws) -> None:
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
    agreement = np.clip(1.0 - distance / as_team_axis(np.maximum(params.belief_bound, 1e-9), 3),
                        0.0, 1.0)
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
