"""Wellbeing and retention: strain, sickness absence and leaving (ODD 7.6).

Strain accumulates with demand and is relieved by support, with recovery slowing as strain
rises (Homer 1985's burnout loop). Sources of strain here: workload (the team's caseload per
team FTE, the same for everyone in the team), role
ambiguity (role clarity predicts less emotional exhaustion; 2021 survey), mismatch between
practice and the person's own anchor, and exclusion (weak ties). The weekly chance of leaving
grows with strain and with drift below the practice the post asks for (tasks outside the role: OR
2.91 for intent to leave, Lombardi et al. 2025; people far from the culture leave more often,
Harrison & Carroll 1991), and is
higher without pay (meeting financial needs OR 0.58). The rule is the same for every staff
type: three studies found no systematic difference in burnout or intent to leave between peer
and non-peer staff, so any difference must come from the inputs. Rival form (``exit_form =
"threshold"``): each ratio applies in full beyond its reference and not below (ODD 7.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Workforce
from sim.params import param
from sim.streams import TeamDraws

EXIT_FORMS = ("proportional", "threshold")
MAX_LOG_RATIO = 20.0  # caps the hazard ratio (e^20) so extreme strain cannot overflow


@dataclass
class WellbeingParams:
    demand_weight: float = param(0.06, lo=0.0, hi=1.0, doc="weekly strain per unit workload")
    ambiguity_weight: float = param(0.1, lo=0.0, hi=1.0, doc="weekly strain per unit ambiguity")
    mismatch_weight: float = param(0.1, lo=0.0, hi=1.0,
                                   doc="weekly strain per unit distance from one's anchor")
    exclusion_weight: float = param(0.05, lo=0.0, hi=1.0,
                                    doc="weekly strain per unit exclusion (1 - mean tie)")
    recovery_rate: float = param(0.77, lo=0.0, hi=5.0, doc="weekly share of strain relieved per "
                                 "unit support at low strain", source="Homer 1985 (form); "
                                 "calibrated: posterior median 0.77, 90% interval 0.49-0.96 "
                                 "(experiments/calibration/published)")
    recovery_slowing: float = param(1.0, lo=0.0, hi=10.0, source="Homer 1985",
                                    doc="how fast recovery slows as strain rises")
    baseline_support: float = param(0.3, lo=0.0, hi=1.0,
                                    doc="support everyone has from ordinary working life")
    tie_support_weight: float = param(
        0.3, lo=0.0, hi=1.0, source="calibrated (ODD section 8)",
        doc="support felt per unit of agreeing ties to colleagues")
    champion_support_weight: float = param(
        0.2, lo=0.0, hi=1.0, doc="support a PW feels per unit of the manager's championing")
    support_memory: float = param(0.1, lo=0.0, hi=1.0,
                                  doc="weight of this week in feeling supported")
    caseload_per_fte: float = param(
        4.0, lo=0.1, hi=500.0, doc="modelled service users per team FTE at workload 1 (the "
        "default team: 40 users, 9.8 FTE)")
    sickness_base: float = param(
        0.04, lo=0.0, hi=1.0, doc="weekly chance of a sick week at no strain",
        source="calibrated: posterior median 0.040, 90% interval 0.029-0.051 "
        "(experiments/calibration/published; NHS sickness absence ~4-5%)")
    sickness_per_strain: float = param(0.03, lo=0.0, hi=1.0,
                                       doc="extra weekly chance of a sick week per unit strain")
    exit_base: float = param(
        0.0013, lo=0.0, hi=1.0, source="calibrated: posterior median 0.0013, 90% interval "
        "0.0005-0.0023 (experiments/calibration/published; PW leaving ~18%/year, Lombardi 2025)",
        doc="weekly hazard of leaving at no strain or drift (~7%/year)")
    exit_strain_ratio: float = param(
        1.54, lo=1.0, hi=20.0, source="Lombardi 2025: burnout OR 1.54 for intent to leave",
        doc="hazard ratio of leaving per strain_reference of strain")
    strain_reference: float = param(
        0.5, lo=0.01, hi=5.0, doc="strain difference that counts as burnout vs none")
    exit_drift_ratio: float = param(
        2.91, lo=1.0, hi=20.0,
        source="Lombardi 2025: tasks outside the peer role OR 2.91 (1.90-4.44)",
        doc="hazard ratio of leaving per drift_reference of practice below the role's")
    drift_reference: float = param(
        0.3, lo=0.01, hi=1.0,
        doc="drift below the role's practice that counts as working outside the role")
    consensus_ambiguity_weight: float = param(
        0.5, lo=0.0, hi=1.0, source="Rizzo et al. 1970 (weights assumption)",
        doc="weight of low team consensus in role ambiguity (0 = neutral)")
    expectation_ambiguity_weight: float = param(
        0.5, lo=0.0, hi=1.0, source="Rizzo et al. 1970 (weights assumption)",
        doc="weight of the gap between one's expectation and the team's view in role ambiguity "
        "(0 = neutral)")
    unpaid_exit_multiplier: float = param(
        1.7, lo=1.0, hi=10.0, source="Lombardi 2025 financial needs OR 0.58 (1/0.58)",
        doc="hazard multiplier for unpaid posts")
    exit_form: str = param(
        "proportional", choices=EXIT_FORMS,
        source="rival forms (ODD 7.6): inspired by Lee & Mitchell 1994 (threshold)",
        doc="the hazard grows log-linearly with drift and strain (proportional), or each "
        "ratio applies in full once drift or strain reaches its reference and not below "
        "(threshold)")


def ambiguity(workforce: Workforce, params: WellbeingParams, team_belief: np.ndarray,
              team_consensus: np.ndarray) -> np.ndarray:
    """(teams, slots) role ambiguity: low consensus plus own expectation vs the team's view."""
    gap = np.abs(workforce.expectation - np.where(np.isnan(team_belief), workforce.expectation,
                                                  team_belief))
    return np.clip(params.consensus_ambiguity_weight * (1.0 - team_consensus[:, None])
                   + params.expectation_ambiguity_weight * gap, 0.0, 1.0)


def workload(workforce: Workforce, caseload_size: int, params: WellbeingParams) -> np.ndarray:
    """(teams, slots) demand: the team's caseload shared by the team's FTE, per reference load."""
    wf = workforce
    team_fte = np.where(wf.occupied, wf.fte, 0.0).sum(axis=1, keepdims=True)
    per_fte = caseload_size / np.maximum(team_fte, 1e-9)
    return np.broadcast_to(per_fte / params.caseload_per_fte, wf.fte.shape)


def weekly_support(workforce: Workforce, params: WellbeingParams,
                   received: tuple[np.ndarray, ...],
                   colleague_ties: np.ndarray, champion_effort: float) -> np.ndarray:
    """(teams, slots) support felt this week, 0..1, from ordinary working life, sessions
    (``received``: supervision or peer network, each 0..1), colleagues (ties weighted by
    agreement on the role, 0..1) and a manager championing the PW role.

    Sources combine as independent chances of feeling supported (1 - product of 1 - each), so
    every source adds something, none pushes the total past 1, and no source is lost to a cap.
    """
    sources = (np.full(colleague_ties.shape, params.baseline_support),
               params.tie_support_weight * colleague_ties,
               params.champion_support_weight * champion_effort * workforce.is_peer,
               *received)
    unsupported = np.ones(colleague_ties.shape)
    for source in sources:
        unsupported *= 1.0 - np.clip(source, 0.0, 1.0)
    return 1.0 - unsupported


def accumulate_strain(workforce: Workforce, params: WellbeingParams, demand: np.ndarray,
                      role_ambiguity: np.ndarray, exclusion: np.ndarray,
                      support: np.ndarray) -> None:
    """Homer's loop: strain += load - recovery; recovery is a support-driven share of strain
    that shrinks as strain rises, so high load with little support runs away (burnout) and
    otherwise strain settles where load equals recovery."""
    wf = workforce
    m = params.support_memory
    wf.supported += np.where(wf.occupied, m * (support - wf.supported), 0.0)
    load = (params.demand_weight * demand + params.ambiguity_weight * role_ambiguity
            + params.mismatch_weight * np.abs(wf.practice - wf.anchor)
            + params.exclusion_weight * exclusion)
    relief = params.recovery_rate * wf.supported * wf.strain / (
        1.0 + params.recovery_slowing * wf.strain)
    wf.strain = np.where(wf.occupied, np.maximum(wf.strain + load - relief, 0.0), 0.0)


def draw_sickness(workforce: Workforce, params: WellbeingParams,
                  rng: np.random.Generator | TeamDraws) -> None:
    """Who is off sick this whole week."""
    wf = workforce
    chance = params.sickness_base + params.sickness_per_strain * wf.strain
    wf.sick = wf.occupied & (rng.random(wf.strain.shape) < chance)


def exit_hazard(workforce: Workforce, params: WellbeingParams) -> np.ndarray:
    """(teams, slots) weekly hazard of leaving; the same rule for every staff type.

    Drift is practice below what the post asks for (``role_practice``): Lombardi et al.'s
    exposure is being given tasks outside the role, not distance from one's own views.

    Proportional hazards, so each published odds ratio maps onto one factor: the hazard is
    multiplied by ``exit_drift_ratio`` for every ``drift_reference`` of practice below one's
    anchor and by ``exit_strain_ratio`` for every ``strain_reference`` of strain.
    """
    wf = workforce
    drift = np.maximum(wf.role_practice - wf.practice, 0.0)
    if params.exit_form == "threshold":
        log_ratio = (np.log(params.exit_drift_ratio) * (drift >= params.drift_reference)
                     + np.log(params.exit_strain_ratio) * (wf.strain >= params.strain_reference))
    else:
        log_ratio = (np.log(params.exit_drift_ratio) * drift / params.drift_reference
                     + np.log(params.exit_strain_ratio) * wf.strain / params.strain_reference)
    hazard = params.exit_base * np.exp(np.minimum(log_ratio, MAX_LOG_RATIO))
    return np.where(wf.paid, hazard, hazard * params.unpaid_exit_multiplier)


def draw_leavers(workforce: Workforce, params: WellbeingParams,
                 rng: np.random.Generator | TeamDraws) -> np.ndarray:
    """(teams, slots) mask of people who leave this week."""
    wf = workforce
    chance = 1.0 - np.exp(-exit_hazard(wf, params))
    wf.exited = wf.occupied & (rng.random(chance.shape) < chance)
    return wf.exited
