"""Service-user outcomes and valuation of PWs (ODD 7.8).

Each week a service user at home may have contact with staff and, if their PW is at work, with
their PW. Contacts with staff give a base gain in personal recovery/empowerment; contacts with a
PW build the relationship and give a gain that grows with how distinctive the PW's practice is
and with the relationship (Gillard et al. 2017 principles: trust from shared experience,
reciprocity, choice and control). Recovery otherwise reverts to the person's unsupported level
with noise. The admission hazard falls weakly with recovery; effects on admissions are mixed in
trials (Sledge 2011; CORE 2018; ENRICH 2022), so the slope is small. Calibrated so a well-run
PW team yields a standardised recovery difference of about 0.1-0.3 over a year (49 RCTs:
SMD 0.20, 95% CI 0.11-0.29).

Valuation is learnt from experience and can fall as well as rise. A service user revises their
view of their PW only in weeks they meet, toward the relationship built so far (trust from shared
experience; a new PW starts from none). Staff value a PW by a weighted mean of the PW's
relationships with users, the recovery the PW's own contacts produced (``Caseload.peer_credit``:
staff contacts' gains are not credited to the PW) and staff ties to the PW; a boundary-tension
event costs the PW a share of staff's valuation. There is no floor: a PW with weak
relationships, little visible work and frequent tension is valued below neutral. Valuation is
kept separate from status and integration: a PW can be valued and still marginal (Gillard 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Caseload, Workforce
from sim.params import param
from sim.streams import TeamDraws, as_team_draws


@dataclass
class ServiceUsersParams:
    recovery_mean: float = param(0.45, lo=0.0, hi=1.0, doc="mean unsupported recovery level")
    recovery_sd: float = param(0.15, lo=0.0, hi=0.5, doc="spread of unsupported recovery")
    staff_contact_chance: float = param(0.6, lo=0.0, hi=1.0,
                                        doc="weekly chance of a contact with staff")
    peer_contacts_per_day: float = param(
        0.25, lo=0.0, hi=1.0, doc="chance of a PW contact per day the PW is at work")
    staff_gain: float = param(0.004, lo=0.0, hi=0.1, doc="recovery gain per staff contact")
    peer_gain: float = param(0.001, lo=0.0, hi=0.1, doc="recovery gain per PW contact "
                             "regardless of practice")
    peer_practice_gain: float = param(
        0.0064, lo=0.0, hi=0.1, source="calibrated: posterior median 0.0064, 90% interval "
        "0.0016-0.0117 (experiments/calibration/published; recovery SMD ~0.2, 49 RCTs)",
        doc="extra gain per PW contact times practice times relationship")
    reversion: float = param(0.05, lo=0.0, hi=1.0, doc="weekly reversion to unsupported level")
    noise_sd: float = param(0.01, lo=0.0, hi=0.5, doc="weekly noise in recovery")
    relationship_gain: float = param(0.15, lo=0.0, hi=1.0, doc="relationship growth per contact")
    relationship_decay: float = param(0.02, lo=0.0, hi=1.0,
                                      doc="weekly relationship decay without contact")
    admission_hazard: float = param(
        0.008, lo=0.0, hi=1.0, source="assumption (~35% admitted a year on a community caseload)",
        doc="weekly admission hazard at mean recovery")
    admission_recovery_slope: float = param(
        1.5, lo=0.0, hi=20.0, source="Sledge 2011; CORE 2018; ENRICH 2022: small or null "
        "effect (assumption: the calibration does not identify it, posterior = prior 0-4)",
        doc="log hazard ratio per unit recovery below the mean")
    admission_weeks: int = param(4, lo=1, hi=52, doc="weeks of an inpatient stay")
    valuation_rate: float = param(0.05, lo=0.0, hi=1.0, doc="weekly update of valuations")
    staff_valuation_relationship: float = param(
        1 / 3, lo=0.0, hi=1.0, doc="weight of the PW's mean relationship with their users in "
        "staff valuation (the weights form a weighted mean; equal by default: assumption)")
    staff_valuation_progress: float = param(
        1 / 3, lo=0.0, hi=1.0, doc="weight of the visible progress the PW's own contacts "
        "produced in staff valuation")
    progress_scale: float = param(
        10.0, lo=0.0, hi=100.0, doc="visible progress per unit of recovery credited to the PW")
    staff_valuation_ties: float = param(
        1 / 3, lo=0.0, hi=1.0, doc="weight of staff's ties to the PW in staff valuation")
    tension_valuation_loss: float = param(
        0.1, lo=0.0, hi=1.0, doc="share of staff's valuation of a PW lost in a week the PW "
        "has a boundary-tension event (assumption)")

def assign_peer_workers(caseload: Caseload, peer_slots: np.ndarray) -> None:
    """Share each team's caseload round-robin among its PW posts (-1 if it has none)."""
    if len(peer_slots) == 0:
        caseload.peer_slot[:] = -1
        return
    caseload.peer_slot[:] = peer_slots[np.arange(caseload.size) % len(peer_slots)]


def initialise(caseload: Caseload, params: ServiceUsersParams,
               rng: np.random.Generator | TeamDraws) -> None:
    level = np.clip(rng.normal(params.recovery_mean, params.recovery_sd, caseload.recovery.shape),
                    0.0, 1.0)
    caseload.baseline_recovery[:] = level
    caseload.recovery[:] = level
    caseload.valuation[:] = 0.5


def _peer_of_user(caseload: Caseload, values: np.ndarray) -> np.ndarray:
    """(teams, users) value of each user's PW slot; 0 for users without a PW."""
    slot = np.maximum(caseload.peer_slot, 0)
    picked = np.take_along_axis(values, slot, axis=1)
    return np.where(caseload.peer_slot >= 0, picked, 0)


def weekly_contacts(caseload: Caseload, workforce: Workforce, params: ServiceUsersParams,
                    rng: np.random.Generator | TeamDraws) -> None:
    """Contacts, recovery, relationship and admissions for every service user at once."""
    cl, wf = caseload, workforce
    draws = as_team_draws(rng).random((3,) + cl.recovery.shape, team_axis=1)
    at_home = cl.admitted_weeks == 0
    pw_days = _peer_of_user(cl, (wf.present_days.sum(axis=-1) * wf.is_peer).astype(float))
    peer_chance = 1.0 - (1.0 - params.peer_contacts_per_day) ** pw_days
    cl.peer_contact = at_home & (draws[0] < peer_chance)
    cl.staff_contact = at_home & (draws[1] < params.staff_contact_chance)
    practice = _peer_of_user(cl, wf.practice)
    peer_gain = cl.peer_contact * (
        params.peer_gain + params.peer_practice_gain * practice * cl.relationship)
    gain = cl.staff_contact * params.staff_gain + peer_gain
    noise = rng.normal(0.0, params.noise_sd, cl.recovery.shape)
    drift = params.reversion * (cl.baseline_recovery - cl.recovery)
    cl.recovery = np.clip(cl.recovery + gain + drift + noise, 0.0, 1.0)
    # What the PW's contacts added, fading as recovery reverts: the only progress staff credit.
    cl.peer_credit = cl.peer_credit * (1.0 - params.reversion) + peer_gain
    cl.relationship = np.where(
        cl.peer_contact, cl.relationship + params.relationship_gain * (1 - cl.relationship),
        cl.relationship * (1 - params.relationship_decay))
    hazard = params.admission_hazard * np.exp(
        params.admission_recovery_slope * (params.recovery_mean - cl.recovery))
    cl.admitted_now = at_home & (draws[2] < 1.0 - np.exp(-hazard))
    cl.admissions += cl.admitted_now
    cl.admitted_weeks = np.where(cl.admitted_now, params.admission_weeks,
                                 np.maximum(cl.admitted_weeks - 1, 0))


def forget_peer_worker(caseload: Caseload, leavers: np.ndarray) -> None:
    """Users whose PW left lose the relationship and its credit; the next PW starts from
    nothing."""
    lost = _peer_of_user(caseload, leavers.astype(float)) > 0
    caseload.relationship[lost] = 0.0
    caseload.peer_credit[lost] = 0.0


def mean_by_peer_slot(caseload: Caseload, workforce: Workforce,
                      values: np.ndarray) -> np.ndarray:
    """(teams, slots) mean of a per-user value over each PW's service users (0 if none)."""
    n_teams, n_slots = workforce.occupied.shape
    has_pw = caseload.peer_slot >= 0
    index = (np.arange(n_teams)[:, None] * n_slots + caseload.peer_slot)[has_pw]
    total = np.bincount(index, weights=values[has_pw], minlength=n_teams * n_slots)
    count = np.bincount(index, minlength=n_teams * n_slots)
    return (total / np.maximum(count, 1)).reshape(n_teams, n_slots)


def update_valuation(caseload: Caseload, workforce: Workforce,
                     params: ServiceUsersParams) -> None:
    """Users revise their valuation of their PW in weeks they meet; staff value a PW by
    what the PW's own work shows, less the cost of boundary tension."""
    cl, wf = caseload, workforce
    # a PW contact needs a PW at work, so it marks the weeks a user met their PW
    cl.valuation += np.where(cl.peer_contact,
                             params.valuation_rate * (cl.relationship - cl.valuation), 0.0)
    progress = mean_by_peer_slot(cl, wf, np.clip(params.progress_scale * cl.peer_credit, 0, 1))
    relationship = mean_by_peer_slot(cl, wf, cl.relationship)
    staff = wf.is_staff
    tie_from_staff = (wf.ties * staff[:, :, None]).sum(axis=1) / np.maximum(
        staff.sum(axis=1, keepdims=True), 1)
    w_relationship, w_progress, w_ties = (params.staff_valuation_relationship,
                                          params.staff_valuation_progress,
                                          params.staff_valuation_ties)
    # Written out, not sum(): Python 3.12's sum() of floats is compensated, numpy's + is not,
    # so a run alone (float weights) and in an ensemble (weight arrays) would differ in bits.
    total_weight = w_relationship + w_progress + w_ties
    weighted = w_relationship * relationship + w_progress * progress + w_ties * tie_from_staff
    staff_target = np.where(total_weight > 0,
                            weighted / np.where(total_weight > 0, total_weight, 1.0), 0.5)
    valuation = wf.staff_valuation + params.valuation_rate * (staff_target - wf.staff_valuation)
    valuation *= 1.0 - params.tension_valuation_loss * wf.boundary_event
    wf.staff_valuation = np.where(wf.is_peer, valuation, wf.staff_valuation)
