"""Supervision and training: socialisation toward a supervisor's and a course's norm (ODD 7.4).

Gillard et al. 2013, finding 3: supervision and training that keep protective practice
boundaries can stop a distinctive body of peer practice from emerging; Holley et al. 2015: risk-
focused protection limited PWs' use of lived experience; Alberta & Ploski 2014: clinician
supervision and clinical training in treatment organisations (co-optation). Rule, inspired by
March 1991 (his p1 only): at each supervision session a PW's practice moves toward the
supervisor's norm by a fraction, a pull weakened by the PW's confidence; training sessions do the
same toward their content.
A clinical supervisor with protective, professionally defined boundaries holds a low norm, a
peer supervisor a high one, mixed in between. Supervision also renegotiates the PW's
expectations toward what the team believes, and gives support (mentoring supervision predicts
job satisfaction; 2021 survey). Managers and non-peer staff have routine supervision on their
own calendar that gives support (no socialisation of their practice is modelled). Optional
whole-team training moves staff expectations of the role. Rival form (``socialisation_form =
"march"``): the norm is the team's organisational code, which learns (March's p2) from the PWs
whose practice is closer than it to what the post asks for (ODD 7.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Workforce
from sim.params import as_team_axis, param
from sim.rules.boundaries import move_expectations, team_belief, team_mean

SUPERVISORS = ("clinical", "mixed", "peer")
TRAINING = ("conventional", "peer")
SOCIALISATION_FORMS = ("fixed_norm", "march")


@dataclass
class SupervisionParams:
    supervisor: str = param("clinical", choices=SUPERVISORS,
                            source="Gillard 2013 site table; Alberta & Ploski 2014")
    interval_weeks: int = param(4, lo=1, hi=52,
                                source="Gillard 2013: regular formal supervision (monthly "
                                "assumed)", doc="weeks between PW supervision sessions")
    boundary_focus: str = param("protective", choices=("protective", "personal"),
                                source="Gillard 2013 finding 3; Holley 2015",
                                doc="boundaries professionally defined or personally defined")
    supervisor_norm: dict[str, float] = param(
        {"clinical": 0.3, "mixed": 0.55, "peer": 0.85}, lo=0.0, hi=1.0,
        doc="practice each supervisor type holds as the norm")
    protective_shift: float = param(
        -0.15, lo=-1.0, hi=1.0, doc="norm shift when boundaries are protective")
    personal_shift: float = param(
        0.05, lo=-1.0, hi=1.0, doc="norm shift when boundaries are personally defined")
    socialisation_rate: float = param(
        0.15, lo=0.0, hi=1.0, source="March 1991 p1 (value assumption)",
        doc="share of the way to the norm per session at zero confidence")
    confidence_shield: float = param(
        0.6, lo=0.0, hi=1.0, doc="how much confidence protects practice from the pull")
    renegotiation_rate: float = param(
        0.1, lo=0.0, hi=1.0, doc="share of the way expectations move to the team's per session")
    support: dict[str, float] = param(
        {"clinical": 0.5, "mixed": 0.65, "peer": 0.75}, lo=0.0, hi=1.0,
        source="2021 survey: mentoring supervision predicts job satisfaction",
        doc="support felt from a session, by supervisor type")
    validation: dict[str, float] = param(
        {"clinical": 0.0, "mixed": 0.02, "peer": 0.04}, lo=0.0, hi=1.0,
        doc="confidence gain per session, times (1 - confidence)")
    staff_support: float = param(
        0.5, lo=0.0, hi=1.0,
        doc="support felt by managers and non-peer staff from routine supervision")
    staff_interval_weeks: int = param(4, lo=1, hi=52,
                                      doc="weeks between non-peer staff supervision sessions")
    training_content: str = param("conventional", choices=TRAINING,
                                  source="Gillard 2013 finding 3; Alberta & Ploski 2014")
    training_sessions: int = param(8, lo=0, hi=100,
                                   source="Gillard 2013 site table: 7-8 sessions")
    training_norm: dict[str, float] = param(
        {"conventional": 0.25, "peer": 0.85}, lo=0.0, hi=1.0,
        doc="practice each kind of training teaches")
    training_rate: float = param(
        0.05, lo=0.0, hi=1.0, doc="share of the way to the training norm per session")
    whole_team_training: bool = param(False, doc="staff are trained about the PW role at start")
    team_training_effect: float = param(
        0.3, lo=0.0, hi=1.0, doc="share of the way whole-team training moves staff beliefs to "
        "the peer training norm")
    socialisation_form: str = param(
        "fixed_norm", choices=SOCIALISATION_FORMS, source="rival forms (ODD 7.4): March 1991",
        doc="the supervision norm is fixed (fixed_norm), or is the team's organisational code, "
        "which starts at the norm and learns from PWs whose practice is closer to the role "
        "description than the code is (march)")
    code_learning_rate: float = param(
        0.1, lo=0.0, hi=1.0, source="March 1991 p2 (value assumption)",
        doc="march: share of the way the code moves to the mean practice of the PWs who "
        "outperform it, per supervision session")

    @property
    def norm(self) -> float:
        """The practice this supervision arrangement socialises toward."""
        shift = self.protective_shift if self.boundary_focus == "protective" \
            else self.personal_shift
        norm = np.clip(self.supervisor_norm[self.supervisor] + shift, 0.0, 1.0)
        return float(norm) if np.ndim(norm) == 0 else norm  # per team in an ensemble


def _socialise(workforce: Workforce, who: np.ndarray, norm: np.ndarray | float, rate: float,
               shield: float) -> None:
    wf = workforce
    wf.practice += np.where(who, socialisation_pull(wf.practice, norm, rate, shield,
                                                    wf.confidence), 0.0)


def code_update(code: np.ndarray, beliefs: np.ndarray, reality: np.ndarray,
                members: np.ndarray, rate: float) -> np.ndarray:
    """March (1991) code learning on plain arrays: code (groups, m), beliefs (groups, n, m),
    reality (groups, m), members (groups, n). The superior group is the members whose beliefs
    are closer to reality (L1 distance over the m dimensions) than the code's; the code moves
    a share ``rate`` of the way to their mean belief (unchanged if nobody is superior)."""
    own = np.abs(code - reality).sum(axis=-1)
    theirs = np.abs(beliefs - reality[:, None, :]).sum(axis=-1)
    superior = members & (theirs < own[:, None])
    count = superior.sum(axis=-1)
    mean = (beliefs * superior[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    return np.where(count[:, None] > 0, code + rate * (mean - code), code)


def socialisation_pull(practice: np.ndarray, norm: np.ndarray | float, rate: float,
                       shield: float, confidence: np.ndarray) -> np.ndarray:
    """March's p1 on plain arrays: the step toward the norm, weakened by confidence."""
    return rate * (1 - shield * confidence) * (norm - practice)


def _march_session(wf: Workforce, params: SupervisionParams) -> None:
    """Socialise supervised PWs toward the team's code while the code learns from the PWs in
    post who are closer than it to what the post asks for (their ``role_practice``)."""
    code = np.where(np.isnan(wf.supervision_code), as_team_axis(params.norm, 1),
                    wf.supervision_code)
    peers = wf.is_peer
    reality = np.nan_to_num(team_mean(wf.role_practice, peers))  # (teams, 1)
    due = wf.supervised.any(axis=1)
    learnt = code_update(code[:, None], wf.practice[..., None], reality, peers,
                         params.code_learning_rate)[:, 0]
    _socialise(wf, wf.supervised, code[:, None], params.socialisation_rate,
               params.confidence_shield)
    wf.supervision_code = np.where(due, learnt, code)


def supervise(workforce: Workforce, week: int, params: SupervisionParams,
              socialise: bool = True) -> np.ndarray:
    """Hold due supervision sessions; return the support each slot felt from supervision.

    ``socialise=False`` (the schedule's knock-out) keeps the support sessions give but drops
    their effect on practice, expectations and confidence.
    """
    wf = workforce
    present = wf.present_days.any(axis=-1)
    wf.supervised = wf.is_peer & present & (week % params.interval_weeks == 0)
    support = np.where(wf.supervised, params.support[params.supervisor], 0.0)
    staff_supervised = wf.is_staff & present & (week % params.staff_interval_weeks == 0)
    support = np.where(staff_supervised, params.staff_support, support)
    if not socialise:
        return support
    if params.socialisation_form == "march":
        _march_session(wf, params)
    else:
        _socialise(wf, wf.supervised, params.norm, params.socialisation_rate,
                   params.confidence_shield)
    belief = team_belief(wf)
    belief = np.where(np.isnan(belief), wf.expectation, belief)
    wf.expectation += np.where(wf.supervised, params.renegotiation_rate *
                               (belief - wf.expectation), 0.0)
    wf.confidence += np.where(wf.supervised, params.validation[params.supervisor] *
                              (1 - wf.confidence), 0.0)
    return support


def train(workforce: Workforce, params: SupervisionParams) -> None:
    """One training session a week for PWs who still have sessions left of their course."""
    wf = workforce
    learning = wf.is_peer & (wf.training_sessions_left > 0) & wf.present_days.any(axis=-1)
    _socialise(wf, learning, params.training_norm[params.training_content],
               params.training_rate, params.confidence_shield)
    wf.training_sessions_left[learning] -= 1


def train_whole_team(workforce: Workforce, params: SupervisionParams) -> None:
    """Whole-team training about the role moves staff expectations toward peer practice."""
    if params.whole_team_training:
        move_expectations(workforce, workforce.is_staff, params.training_norm["peer"],
                          params.team_training_effect)
