"""The Peer Worker adoption model: builds the organisation and runs the weekly schedule."""

from __future__ import annotations

import mesa
import numpy as np

from sim import metrics
from sim.agents import (
    MANAGER,
    NONPEER,
    PEER,
    Caseload,
    PeerWorker,
    ServiceUser,
    StaffMember,
    Workforce,
)
from sim.config import SimConfig
from sim.rules import (
    boundaries,
    context,
    meetings,
    recruitment,
    service_users,
    supervision,
    wellbeing,
    working_patterns,
)
from sim.streams import TeamDraws

#: One random stream per rule family, spawned from the run's seed, so a new draw in one family
#: does not shift the draws of another and scenarios share common random numbers.
STREAMS = ("recruitment", "working_patterns", "meetings", "boundaries", "wellbeing",
           "service_users")


class PeerWorkModel(mesa.Model):
    """An organisation of mental health teams into which Peer Workers are introduced.

    One step is one week. The order of a week (mirrored in ODD section 3):

    1. Recruitment: vacancies whose delay has run out are filled.
    2. Presence: sickness is drawn, then each person's working days and meeting attendance.
    3. Meeting: status from speaking turns, role beliefs converge, ties grow or fade.
    4. Supervision and training, and the peer network if there is one.
    5. Everyday influence on practice between colleagues who share days.
    6. Anchoring: everyone is pulled back toward the practice they brought.
    7. Boundary enforcement: practice beyond the allowed limit may be pulled back.
    8. Identity: PW confidence moves with validation, mismatch and consensus.
    9. Strain accumulates with load and is relieved by support.
    10. Service users: contacts, recovery, admissions, relationships and valuation.
    11. Leaving: people leave by the exit hazard; their posts become vacancies.
    12. Recording: team outcomes for the week.
    """

    #: The state arrays' class; the app's participatory room (``sim/app_room.py``) uses a
    #: subclass in which a participant's choice replaces a rule's decision for their person.
    workforce_type: type[Workforce] = Workforce
    #: The class that runs many runs of this class at once, each bit for bit as alone
    #: (``sim.ensemble``; the experiment engine uses it). Read from the class itself only: a
    #: subclass that changes a run (the tests' faulty models) runs alone unless it names its own.
    ensemble_model: str = "sim.ensemble.EnsembleModel"

    def __init__(self, params: SimConfig | None = None, seed: int | None = None) -> None:
        params = params or SimConfig()
        seed = params.seed if seed is None else seed
        seeds = np.random.SeedSequence(seed)
        super().__init__(rng=np.random.default_rng(seeds))
        self.seed_value = seed
        self._build(params, [params], [seeds])

    def _build(self, params: SimConfig, run_params: list[SimConfig],
               seeds: list[np.random.SeedSequence]) -> None:
        """Set up the organisation of one run, or of several runs' teams stacked run after run
        (``sim.ensemble``: ``params`` then holds per-team values where the runs differ). Each
        run's rule families draw from streams spawned from its own seed."""
        self.params = params
        self.run_params = run_params
        self.teams_per_run = [p.organisation.n_teams for p in run_params]
        #: first team of each run, and one past the last team
        self.run_starts = np.concatenate([[0], np.cumsum(self.teams_per_run)]).astype(int)
        children = [seed.spawn(len(STREAMS)) for seed in seeds]
        self.streams = {name: TeamDraws([np.random.default_rng(c[i]) for c in children],
                                        self.teams_per_run) for i, name in enumerate(STREAMS)}
        team = params.team
        n_teams = int(self.run_starts[-1])
        roles = np.array([MANAGER] + [NONPEER] * team.n_nonpeer_staff
                         + [PEER] * team.n_peer_workers)
        self.workforce = self.workforce_type(role=roles, n_teams=n_teams)
        self.caseload = Caseload(n_teams=n_teams, size=team.caseload)
        # A dict, not a numpy object array: the garbage collector cannot see reference cycles
        # through object arrays, so a finished model would never be freed.
        self._agent_at: dict[tuple[int, int], StaffMember] = {}
        self.strictness = params.context.sector_value(params.context.boundary_strictness)
        self.week = 0

        self._hire(np.ones(self.workforce.occupied.shape, dtype=bool))
        recruitment.establish_team(self.workforce, team)
        boundaries.coproduce_definition(self.workforce, params.boundaries,
                                        params.recruitment.role_description)
        supervision.train_whole_team(self.workforce, params.supervision)
        service_users.initialise(self.caseload, params.service_users, self.streams["service_users"])
        service_users.assign_peer_workers(self.caseload, np.nonzero(roles == PEER)[0])
        self._give_users_identity()
        self.recorder = metrics.Recorder(self)

    def _give_users_identity(self) -> None:
        """Each service user is a Mesa agent (created after the first staff, as ids show)."""
        n_teams, caseload = self.caseload.recovery.shape
        self.users = [ServiceUser(self, t, u) for t in range(n_teams) for u in range(caseload)]

    def _hire(self, mask: np.ndarray) -> None:
        """Fill the slots in ``mask`` and give each new person a Mesa agent."""
        p = self.params
        recruitment.hire(self.workforce, mask, p.team, p.recruitment, p.working_patterns,
                         p.context, p.meetings.meeting_days, self.streams["recruitment"])
        wf = self.workforce
        recruitment.negotiate_role(wf, mask & (wf.role == PEER), p.recruitment,
                                   p.boundaries.belief_bound, p.boundaries.belief_rate)
        wf.training_sessions_left[mask & (wf.role == PEER)] = p.supervision.training_sessions
        self._give_identity(mask)

    def _give_identity(self, mask: np.ndarray) -> None:
        """Each new person is a Mesa agent; the arrays hold its ``unique_id``."""
        wf = self.workforce
        for t, s in np.argwhere(mask):
            agent_type = PeerWorker if wf.role[s] == PEER else StaffMember
            agent = agent_type(self, int(t), int(s))
            self._agent_at[int(t), int(s)] = agent
            wf.agent_id[t, s] = agent.unique_id

    def _remove_identity(self, leavers: np.ndarray) -> None:
        for t, s in np.argwhere(leavers):
            self._agent_at.pop((int(t), int(s))).remove()

    def _leave(self, leavers: np.ndarray) -> None:
        """Leavers' agents are removed and their posts become vacancies."""
        self._remove_identity(leavers)
        service_users.forget_peer_worker(self.caseload, leavers & (self.workforce.role == PEER))
        recruitment.open_vacancies(self.workforce, leavers, self.params.recruitment)

    def step(self) -> None:
        """One week, in the order listed in the class docstring; ``params.schedule`` switches
        steps off for knock-out experiments (a step switched off leaves its state as it was)."""
        p, wf, rng, on = self.params, self.workforce, self.streams, self.params.schedule
        meeting_days = p.meetings.meeting_days
        # 1. Recruitment
        due = recruitment.due_vacancies(wf)
        if due.any() and on.refill_vacancies:
            self._hire(due)
        # 2. Presence
        if on.sickness:
            wellbeing.draw_sickness(wf, p.wellbeing, rng["wellbeing"])
        working_patterns.weekly_presence(wf, p.working_patterns, meeting_days,
                                         rng["working_patterns"])
        shared_days = working_patterns.shared_days(wf)  # for ties and everyday influence
        # 3. Meeting
        if on.meeting_status:
            meetings.hold_meeting(wf, p.meetings, rng["meetings"])
        if on.belief_convergence:
            boundaries.converge_beliefs(wf, p.boundaries, p.recruitment.role_description)
        if on.ties:
            meetings.update_ties(wf, p.meetings, shared_days)
        # 4. Supervision, training, peer network
        session_support = supervision.supervise(wf, self.week, p.supervision, on.supervision)
        if on.training:
            supervision.train(wf, p.supervision)
        network_support = context.peer_network_meeting(wf, self.week, p.context) \
            if on.peer_network else np.zeros(wf.occupied.shape)
        # 5.-7. Practice: everyday influence, anchoring, boundary enforcement
        if on.everyday_influence:
            boundaries.everyday_influence(wf, p.boundaries, rng["boundaries"], shared_days)
        if on.anchoring:
            boundaries.anchor(wf, p.boundaries)
        if on.enforcement:
            boundaries.enforce_boundaries(wf, p.boundaries, self.strictness, rng["boundaries"])
        self._clip_state()
        # 8. Identity
        team_consensus = boundaries.consensus(wf)
        if on.identity:
            user_relationship = service_users.mean_by_peer_slot(self.caseload, wf,
                                                                self.caseload.relationship)
            validation = boundaries.validation(wf, p.boundaries, p.team.manager_champion_effort,
                                               user_relationship)
            boundaries.update_identity(wf, p.boundaries, validation, team_consensus)
        # 9. Strain
        ties, staff_belief = meetings.mean_tie(wf), boundaries.team_belief(wf)
        ambiguity = wellbeing.ambiguity(wf, p.wellbeing, staff_belief, team_consensus)
        if on.strain:
            support = wellbeing.weekly_support(wf, p.wellbeing,
                                               (session_support, network_support),
                                               boundaries.agreeing_ties(wf, p.boundaries),
                                               p.team.manager_champion_effort)
            demand = wellbeing.workload(wf, self.caseload.size, p.wellbeing)
            wellbeing.accumulate_strain(wf, p.wellbeing, demand, ambiguity, 1.0 - ties, support)
        # 10. Service users
        if on.recovery:
            service_users.weekly_contacts(self.caseload, wf, p.service_users,
                                          rng["service_users"])
        if on.valuation:
            service_users.update_valuation(self.caseload, wf, p.service_users)
        # 11. Leaving
        leavers = wellbeing.draw_leavers(wf, p.wellbeing, rng["wellbeing"]) if on.leaving \
            else np.zeros(wf.occupied.shape, dtype=bool)
        wf.exited = leavers
        wf.tenure_weeks[wf.occupied] += 1
        # 12. Recording (before leavers' posts are emptied, so their exit is counted)
        self.recorder.record(self.week, metrics.Week(team_consensus, ambiguity, ties,
                                                     staff_belief))
        if leavers.any():
            self._leave(leavers)
        self.week += 1
        if self.week >= p.organisation.horizon_weeks:
            self.running = False

    def _clip_state(self) -> None:
        wf = self.workforce
        for name in ("practice", "role_belief", "expectation", "confidence", "status"):
            np.clip(getattr(wf, name), 0.0, 1.0, out=getattr(wf, name))

    def run(self) -> PeerWorkModel:
        """Run to the horizon and return the model (its tables are on ``self.recorder``)."""
        while self.running:
            self.step()
        return self
