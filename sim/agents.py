"""State of the people in the organisation, and the Mesa agents that give them identity.

The arithmetic of every rule runs on arrays laid out per team and slot, ``(n_teams, n_slots)``
for staff and ``(n_teams, caseload)`` for service users, so a week of the whole organisation
is a handful of numpy operations. Each person is also a Mesa agent (``StaffMember``,
``PeerWorker``, ``ServiceUser``) whose attributes read the arrays: users get the familiar Mesa
API (``model.agents``, ``AgentSet.select``, ``agents_by_type``) and the rules stay vectorised.

Slot layout inside every team: slot 0 is the manager, then the non-peer staff, then the PWs.
A person who leaves frees their slot; the next hire into it is a new agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

MANAGER, NONPEER, PEER = 0, 1, 2
ROLE_NAMES = ("manager", "nonpeer", "peer_worker")
PROFESSIONS = ("manager", "psychiatrist", "psychologist", "nurse", "social_worker",
               "occupational_therapist", "support_worker", "peer_worker")
WEEKDAYS = 5


def _zeros(shape: tuple[int, ...], dtype: type = float) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


@dataclass
class Workforce:
    """Per-slot state of managers, non-peer staff and PWs, each array shaped (teams, slots).

    Scales are 0..1 unless stated. ``practice``: 0 conventional/protective .. 1 distinctive peer
    practice. ``role_belief``: what this person thinks the PW role is, 0 assistant to
    clinicians .. 1 independent peer practice. ``strain`` >= 0 mirrors emotional exhaustion.
    """

    role: np.ndarray  # (slots,) MANAGER / NONPEER / PEER, identical in every team
    n_teams: int
    occupied: np.ndarray = field(init=False)
    agent_id: np.ndarray = field(init=False)  # Mesa unique_id of the occupant, -1 if vacant
    vacancy_weeks: np.ndarray = field(init=False)  # weeks until a vacant slot is refilled
    profession: np.ndarray = field(init=False)  # index into PROFESSIONS
    external_status: np.ndarray = field(init=False)  # status the profession carries outside
    practice: np.ndarray = field(init=False)
    anchor: np.ndarray = field(init=False)  # the view of practice a person brings and keeps
    role_practice: np.ndarray = field(init=False)  # the practice the post asks for: the PW
    # role description for PWs, their own professional practice for staff (drift reference)
    role_belief: np.ndarray = field(init=False)
    expectation: np.ndarray = field(init=False)  # what the person was led to expect at hire
    confidence: np.ndarray = field(init=False)  # identity certainty
    status: np.ndarray = field(init=False)  # standing in the team
    strain: np.ndarray = field(init=False)
    supported: np.ndarray = field(init=False)  # feeling supported (moving average of support)
    disempowerment: np.ndarray = field(init=False)  # moving average of being overruled
    staff_valuation: np.ndarray = field(init=False)  # how staff value this PW
    tenure_weeks: np.ndarray = field(init=False)
    fte: np.ndarray = field(init=False)  # contracted fraction of full-time hours
    flexible_days: np.ndarray = field(init=False)  # days re-drawn every week to suit the person
    paid: np.ndarray = field(init=False)
    fixed_days: np.ndarray = field(init=False)  # (teams, slots, weekdays) contracted days
    training_sessions_left: np.ndarray = field(init=False)
    ties: np.ndarray = field(init=False)  # (teams, slots, slots) symmetric tie strength
    # State of rival rule forms (ODD 7.3-7.5), each keyed to the occupant it belongs to
    # (``*_owner`` holds the agent_id it was set for) so a new hire starts fresh.
    interchange: np.ndarray = field(init=False)  # (teams, slots, slots) i's net behaviour-
    # interchange advantage over j, -1..1 (status form ``expectation_states``)
    interchange_owner: np.ndarray = field(init=False)
    practice_uncertainty: np.ndarray = field(init=False)  # relative-agreement uncertainty u
    uncertainty_owner: np.ndarray = field(init=False)
    supervision_code: np.ndarray = field(init=False)  # (teams,) the team's organisational code
    # of practice (socialisation form ``march``); NaN until the first session
    # This week's transient state, rewritten every step.
    sick: np.ndarray = field(init=False)
    present_days: np.ndarray = field(init=False)  # (teams, slots, weekdays)
    attends_meeting: np.ndarray = field(init=False)
    supervised: np.ndarray = field(init=False)
    boundary_event: np.ndarray = field(init=False)
    exited: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        shape = (self.n_teams, len(self.role))
        for name in ("practice", "anchor", "role_practice", "role_belief", "expectation",
                     "confidence", "status", "strain", "supported", "disempowerment",
                     "staff_valuation", "external_status", "fte"):
            setattr(self, name, _zeros(shape))
        for name in ("occupied", "flexible_days", "paid", "sick", "attends_meeting",
                     "supervised", "boundary_event", "exited"):
            setattr(self, name, _zeros(shape, bool))
        for name in ("vacancy_weeks", "profession", "tenure_weeks", "training_sessions_left"):
            setattr(self, name, _zeros(shape, np.int64))
        self.agent_id = np.full(shape, -1, dtype=np.int64)
        self.fixed_days = _zeros(shape + (WEEKDAYS,), bool)
        self.present_days = _zeros(shape + (WEEKDAYS,), bool)
        self.ties = _zeros(shape + (shape[1],))
        self.interchange = _zeros(shape + (shape[1],))
        self.practice_uncertainty = _zeros(shape)
        self.interchange_owner = np.full(shape, -1, dtype=np.int64)
        self.uncertainty_owner = np.full(shape, -1, dtype=np.int64)
        self.supervision_code = np.full(self.n_teams, np.nan)

    @property
    def is_peer(self) -> np.ndarray:
        """(teams, slots) mask of occupied PW slots."""
        return self.occupied & (self.role == PEER)

    @property
    def is_staff(self) -> np.ndarray:
        """(teams, slots) mask of occupied non-PW slots (manager and non-peer staff)."""
        return self.occupied & (self.role != PEER)


@dataclass
class Caseload:
    """Per-service-user state, each array shaped (teams, caseload)."""

    n_teams: int
    size: int
    recovery: np.ndarray = field(init=False)  # personal recovery / empowerment, 0..1
    baseline_recovery: np.ndarray = field(init=False)  # level recovery reverts to unsupported
    relationship: np.ndarray = field(init=False)  # relationship with their PW, 0..1
    peer_slot: np.ndarray = field(init=False)  # slot of their PW in the team, -1 if none
    valuation: np.ndarray = field(init=False)  # how the user values their PW, 0..1
    peer_credit: np.ndarray = field(init=False)  # recovery their PW's contacts added, fading
    admitted_weeks: np.ndarray = field(init=False)  # weeks of inpatient stay left, 0 if home
    admissions: np.ndarray = field(init=False)  # admissions so far
    # This week's transient state.
    admitted_now: np.ndarray = field(init=False)
    peer_contact: np.ndarray = field(init=False)
    staff_contact: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        shape = (self.n_teams, self.size)
        for name in ("recovery", "baseline_recovery", "relationship", "valuation",
                     "peer_credit"):
            setattr(self, name, _zeros(shape))
        for name in ("admitted_weeks", "admissions"):
            setattr(self, name, _zeros(shape, np.int64))
        for name in ("admitted_now", "peer_contact", "staff_contact"):
            setattr(self, name, _zeros(shape, bool))
        self.peer_slot = np.full(shape, -1, dtype=np.int64)


class _SlotView(mesa.Agent):
    """A Mesa agent whose state lives in a row of the model's arrays at (team, index)."""

    _arrays = "workforce"

    def __init__(self, model: mesa.Model, team: int, index: int) -> None:
        super().__init__(model)
        self.team = team
        self.index = index

    def _get(self, name: str) -> float:
        return getattr(getattr(self.model, self._arrays), name)[self.team, self.index].item()


def _view(name: str, doc: str) -> property:
    return property(lambda self: self._get(name), doc=doc)


class StaffMember(_SlotView):
    """A manager or non-peer member of staff."""

    profession = property(lambda self: PROFESSIONS[self._get("profession")])
    practice = _view("practice", "0 conventional .. 1 distinctive peer practice")
    role_belief = _view("role_belief", "what they think the PW role is, 0 assistant .. 1 peer")
    status = _view("status", "standing in the team, 0..1")
    strain = _view("strain", "accumulated strain, >= 0")
    present_days = property(lambda self: int(self.model.workforce.present_days[
        self.team, self.index].sum()))


class PeerWorker(StaffMember):
    """A PW: same state as staff plus a lived-experience anchor, expectations and confidence."""

    anchor = _view("anchor", "lived-experience view of practice they bring")
    expectation = _view("expectation", "what they were led to expect of the role")
    confidence = _view("confidence", "identity certainty, 0..1")


class ServiceUser(_SlotView):
    """A person on a team's caseload."""

    _arrays = "caseload"
    recovery = _view("recovery", "personal recovery / empowerment, 0..1")
    relationship = _view("relationship", "relationship with their PW, 0..1")
    admissions = _view("admissions", "admissions so far")
