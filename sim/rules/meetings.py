"""Team meetings: status built act by act; ties grow with contact, fade without (ODD 7.3).

Status (Skvoretz & Fararo 1996; Ridgeway; Grow, Flache & Wittek 2015): a meeting is a number
of speaking turns; the chance of taking a turn grows with status (softmax over attendees); a
turn is acknowledged more often by those the speaker has ties to. A person's status moves toward
their external (professional) status lifted by the acknowledged share of turns they took; a
person absent from the meeting drifts back toward the external ordering, where a PW's category
label puts them low. This is how flexible working can perpetuate hierarchy (Gillard 2013,
finding 2). Rival forms (``status_form``): status kept while absent (``persistent``), or status
as the expectation advantage combining external status with behaviour-interchange records
(``expectation_states``, after Skvoretz & Fararo 1996; ODD 7.3).

Ties (Guimera et al. 2005): pairs who share working days and meetings strengthen their tie;
ties fade when people are not together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Workforce
from sim.params import as_team_axis, param
from sim.rules import working_patterns
from sim.streams import TeamDraws

STATUS_FORMS = ("relax_external", "persistent", "expectation_states")


@dataclass
class MeetingsParams:
    meeting_days: list[int] = param([1], lo=0, hi=4, doc="weekdays of the team meeting, 0=Mon")
    speaking_turns: int = param(30, lo=1, hi=500, doc="speaking turns in a meeting")
    status_salience: float = param(
        2.0, lo=0.0, hi=20.0, doc="softmax weight of status on the chance of speaking")
    acknowledgement_base: float = param(
        0.5, lo=0.0, hi=1.0, doc="chance a turn is acknowledged with no ties")
    status_lift: float = param(
        0.5, lo=0.0, hi=1.0, doc="share of the distance to status 1 a full, acknowledged share "
        "of the meeting earns")
    status_rate: float = param(0.1, lo=0.0, hi=1.0, doc="weekly adjustment of status")
    tie_gain: float = param(0.1, lo=0.0, hi=1.0, doc="weekly tie growth at full contact")
    tie_decay: float = param(0.03, lo=0.0, hi=1.0, doc="weekly tie decay with no contact")
    absent_status_pull: float = param(
        1.0, lo=0.0, hi=1.0, doc="share of the weekly status adjustment an absent person makes "
        "toward their external status (0 = status kept while absent: neutral)")
    meeting_tie_weight: float = param(
        0.5, lo=0.0, hi=1.0, doc="weight of a meeting both attended in weekly contact (the rest "
        "is shared working days; 0 = meetings build no ties: neutral)")
    status_form: str = param(
        "relax_external", choices=STATUS_FORMS,
        source="rival forms (ODD 7.3): inspired by Skvoretz & Fararo 1996; Berger et al. 1992",
        doc="status: relaxes to the profession's external status while absent "
        "(relax_external), is kept while absent (persistent), or is the expectation "
        "advantage built from status characteristics and behaviour interchange "
        "(expectation_states)")
    interchange_rate: float = param(
        0.2, lo=0.0, hi=1.0, doc="expectation states: share of the way a pair's behaviour-"
        "interchange record moves to this meeting's balance of acknowledged turns")


def _mean_tie_to(ties: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Each slot's mean tie to the others in ``among`` (teams, slots)."""
    others = among[:, None, :] & ~np.eye(among.shape[1], dtype=bool)
    count = others.sum(axis=-1)
    return np.where(count > 0, (ties * others).sum(axis=-1) / np.maximum(count, 1), 0.0)


def hold_meeting(workforce: Workforce, params: MeetingsParams,
                 rng: np.random.Generator | TeamDraws) -> None:
    """Speaking turns, acknowledgement and the status that follows, for every team at once."""
    wf = workforce
    attend = wf.attends_meeting
    weight = np.where(attend, np.exp(params.status_salience * wf.status), 0.0)
    total = weight.sum(axis=1, keepdims=True)
    has_meeting = total[:, 0] > 0
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    # Teams with nobody present draw from an all-zero row; give them a dummy distribution.
    pvals = np.where(has_meeting[:, None], share, 1.0 / share.shape[1])
    turns = rng.multinomial(params.speaking_turns, pvals) * has_meeting[:, None]
    n_attend = attend.sum(axis=1, keepdims=True)
    fair_turns = params.speaking_turns / np.maximum(n_attend, 1)
    acknowledged = params.acknowledgement_base + (1 - params.acknowledgement_base) * \
        _mean_tie_to(wf.ties, attend)
    earned = acknowledged * np.minimum(1.0, turns / fair_turns)
    if params.status_form == "expectation_states":
        target = _expectation_target(wf, earned, params.interchange_rate)
    else:
        lifted = wf.external_status + params.status_lift * (1 - wf.external_status) * earned
        absent_target = wf.status if params.status_form == "persistent" else \
            wf.status + params.absent_status_pull * (wf.external_status - wf.status)
        target = np.where(attend, lifted, absent_target)
    wf.status += np.where(wf.occupied, params.status_rate * (target - wf.status), 0.0)


def interchange_update(record: np.ndarray, earned: np.ndarray, attend: np.ndarray,
                       rate: float) -> np.ndarray:
    """(groups, n, n) behaviour-interchange record after a meeting, on plain arrays: for each
    pair who both attended, i's advantage over j moves a share ``rate`` of the way to the
    difference in the acknowledged share of turns they took (antisymmetric, -1..1); pairs
    with someone absent keep their record (Skvoretz & Fararo 1996: BI patterns persist)."""
    both = attend[:, :, None] & attend[:, None, :]
    balance = np.clip(earned[:, :, None] - earned[:, None, :], -1.0, 1.0)
    return np.where(both, record + as_team_axis(rate, 3) * (balance - record), record)


def expectation_advantage(external: np.ndarray, record: np.ndarray) -> np.ndarray:
    """(groups, n, n) i's expectation advantage over j, -1..1, by the combining principle of
    expectation-states theory (Berger et al. 1992; Skvoretz & Fararo 1996): the status
    characteristic (difference in external status) and the behaviour-interchange record are
    two elements; positive and negative elements each combine as 1 - prod(1 - strength)."""
    characteristic = external[:, :, None] - external[:, None, :]
    elements = (characteristic, record)
    positive = 1.0 - np.prod([1.0 - np.maximum(e, 0.0) for e in elements], axis=0)
    negative = 1.0 - np.prod([1.0 - np.maximum(-e, 0.0) for e in elements], axis=0)
    return positive - negative


def expectation_standing(advantage: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(groups, n) status from expectation advantages: 0.5 + half the mean advantage over the
    other members (0.5 = on a par with the team on average)."""
    others = members[:, None, :] & ~np.eye(members.shape[1], dtype=bool)
    count = np.maximum(others.sum(axis=-1), 1)
    return np.clip(0.5 + 0.5 * (advantage * others).sum(axis=-1) / count, 0.0, 1.0)


def _expectation_target(wf: Workforce, earned: np.ndarray, rate: float) -> np.ndarray:
    fresh = wf.occupied & (wf.interchange_owner != wf.agent_id)  # newcomers: no record yet
    wf.interchange[fresh] = 0.0
    wf.interchange.transpose(0, 2, 1)[fresh] = 0.0
    wf.interchange_owner[fresh] = wf.agent_id[fresh]
    wf.interchange = interchange_update(wf.interchange, earned, wf.attends_meeting, rate)
    advantage = expectation_advantage(wf.external_status, wf.interchange)
    return expectation_standing(advantage, wf.occupied)


def update_ties(workforce: Workforce, params: MeetingsParams,
                shared_days: np.ndarray | None = None) -> None:
    """Ties grow with shared days and meetings and fade without them (``shared_days``: the
    week's ``working_patterns.shared_days``, computed here if not given)."""
    wf = workforce
    if shared_days is None:
        shared_days = working_patterns.shared_days(wf)
    met = wf.attends_meeting[:, :, None] & wf.attends_meeting[:, None, :]
    weight, gain, decay = (as_team_axis(v, 3) for v in (
        params.meeting_tie_weight, params.tie_gain, params.tie_decay))
    contact = (1 - weight) * shared_days + weight * met
    pair = wf.occupied[:, :, None] & wf.occupied[:, None, :] & ~np.eye(
        wf.occupied.shape[1], dtype=bool)
    change = gain * contact * (1 - wf.ties) - decay * (1 - contact) * wf.ties
    wf.ties += np.where(pair, change, 0.0)


def mean_tie(workforce: Workforce) -> np.ndarray:
    """(teams, slots) each person's mean tie to the other people in their team."""
    return _mean_tie_to(workforce.ties, workforce.occupied)
