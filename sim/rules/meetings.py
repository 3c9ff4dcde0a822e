"""Team meetings: status built act by act; ties grow with contact, fade without (ODD 7.3).

Status (Skvoretz & Fararo 1996; Ridgeway; Grow, Flache & Wittek 2015): a meeting is a number
of speaking turns; the chance of taking a turn grows with status (softmax over attendees); a
turn is acknowledged more often by those the speaker has ties to. A person's status moves toward
their external (professional) status lifted by the acknowledged share of turns they took; a
person absent from the meeting drifts back toward the external ordering, where a PW's category
label puts them low. This is how flexible working can perpetuate hierarchy (Gillard 2013,
finding 2).

Ties (Guimera et al. 2005): pairs who share working days and meetings strengthen their tie;
ties fade when people are not together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Workforce
from sim.params import param


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


def _mean_tie_to(ties: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Each slot's mean tie to the others in ``among`` (teams, slots)."""
    others = among[:, None, :] & ~np.eye(among.shape[1], dtype=bool)
    count = others.sum(axis=-1)
    return np.where(count > 0, (ties * others).sum(axis=-1) / np.maximum(count, 1), 0.0)


def hold_meeting(workforce: Workforce, params: MeetingsParams, rng: np.random.Generator) -> None:
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
    lifted = wf.external_status + params.status_lift * (1 - wf.external_status) * earned
    absent = wf.status + params.absent_status_pull * (wf.external_status - wf.status)
    target = np.where(attend, lifted, absent)
    wf.status += np.where(wf.occupied, params.status_rate * (target - wf.status), 0.0)


def update_ties(workforce: Workforce, params: MeetingsParams) -> None:
    """Ties grow with shared days and meetings and fade without them."""
    wf = workforce
    days = wf.present_days.astype(float)
    shared_days = np.einsum("tid,tjd->tij", days, days) / days.shape[-1]
    met = wf.attends_meeting[:, :, None] & wf.attends_meeting[:, None, :]
    contact = (1 - params.meeting_tie_weight) * shared_days + params.meeting_tie_weight * met
    pair = wf.occupied[:, :, None] & wf.occupied[:, None, :] & ~np.eye(
        wf.occupied.shape[1], dtype=bool)
    change = params.tie_gain * contact * (1 - wf.ties) - params.tie_decay * (1 - contact) * wf.ties
    wf.ties += np.where(pair, change, 0.0)


def mean_tie(workforce: Workforce) -> np.ndarray:
    """(teams, slots) each person's mean tie to the other people in their team."""
    return _mean_tie_to(workforce.ties, workforce.occupied)
