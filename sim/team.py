"""Make-up of the organisation and its teams (config groups ``organisation`` and ``team``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.agents import MANAGER, NONPEER, PEER, PROFESSIONS, ROLE_NAMES, WEEKDAYS
from sim.params import ConfigError, param


@dataclass
class OrganisationParams:
    n_teams: int = param(8, lo=1, hi=100_000, doc="teams in the organisation")
    horizon_weeks: int = param(156, lo=1, hi=5200, doc="weeks simulated (one step = one week)")


@dataclass
class StaffPost:
    """One person of a team as its planner describes them (a row of a team file's roster)."""

    role: str = "nonpeer"  # one of ROLE_NAMES: manager, nonpeer, peer_worker
    profession: str = "nurse"  # one of PROFESSIONS
    fte: float = 1.0  # contracted fraction of a 37.5-hour week, 0.05..1
    days: list[int] = field(default_factory=list)  # fixed working days 0=Mon..4=Fri; [] = flexible


@dataclass
class TeamParams:
    """Make-up of every team in the organisation."""

    n_nonpeer_staff: int = param(8, lo=1, hi=40, doc="non-peer staff per team")
    n_peer_workers: int = param(2, lo=0, hi=10, doc="PW posts per team")
    caseload: int = param(40, lo=1, hi=500, doc="service users per team")
    profession_mix: dict[str, float] = param(
        {"psychiatrist": 0.1, "psychologist": 0.1, "nurse": 0.35, "social_worker": 0.2,
         "occupational_therapist": 0.1, "support_worker": 0.15}, lo=0.0, hi=1.0,
        doc="share of non-peer staff by profession (normalised)")
    external_status: dict[str, float] = param(
        {"manager": 0.7, "psychiatrist": 0.9, "psychologist": 0.8, "nurse": 0.6,
         "social_worker": 0.6, "occupational_therapist": 0.55, "support_worker": 0.35,
         "peer_worker": 0.2}, lo=0.0, hi=1.0,
        source="assumption (Ridgeway: a category label carries status)",
        doc="status each profession carries into the team")
    manager_champion_effort: float = param(
        0.6, lo=0.0, hi=1.0, source="Gillard 2013: managers worked hard to introduce PWs",
        doc="how much the manager champions the PW role (support and validation)")
    staff_confidence: float = param(0.7, lo=0.0, hi=1.0, doc="certainty of established staff")
    established_tie: float = param(
        0.5, lo=0.0, hi=1.0, doc="tie between staff who already work together at the start")

    roster: list[StaffPost] = param(
        [], source="the planner's own team (sim/roster.py)",
        doc="one entry per post in slot order (manager, non-peer staff, PWs): profession, FTE "
        "and fixed days of each person; empty: professions drawn from profession_mix, FTE and "
        "days from working_patterns")

    def check(self, prefix: str) -> None:
        if self.roster:
            check_roster(self.roster, self, f"{prefix}roster")
        unknown = set(self.profession_mix) - set(PROFESSIONS[1:-1])
        if unknown or sum(self.profession_mix.values()) <= 0:
            raise ConfigError(f"{prefix}profession_mix", dict(self.profession_mix),
                              "positive shares for: " + ", ".join(PROFESSIONS[1:-1]))
        missing = set(PROFESSIONS) - set(self.external_status)
        if missing:
            raise ConfigError(f"{prefix}external_status", dict(self.external_status),
                              "a value for every profession: " + ", ".join(PROFESSIONS))


def check_roster(roster: list[StaffPost], team: TeamParams, key: str) -> None:
    """A roster fills the team's slots in order: one manager, the non-peer staff, the PWs."""
    roles = [ROLE_NAMES.index(p.role) if p.role in ROLE_NAMES else -1 for p in roster]
    expected = [MANAGER] + [NONPEER] * team.n_nonpeer_staff + [PEER] * team.n_peer_workers
    if roles != expected:
        raise ConfigError(key, [p.role for p in roster],
                          f"roles in slot order: 1 manager, {team.n_nonpeer_staff} nonpeer "
                          f"(team.n_nonpeer_staff), {team.n_peer_workers} peer_worker "
                          "(team.n_peer_workers)")
    for i, post in enumerate(roster):
        own = {"manager": "manager", "peer_worker": "peer_worker"}.get(post.role)
        if post.profession not in PROFESSIONS or (own or post.profession) != post.profession \
                or (not own and post.profession in ("manager", "peer_worker")):
            raise ConfigError(f"{key}[{i}].profession", post.profession,
                              own or "one of " + ", ".join(PROFESSIONS[1:-1]))
        if not 0.05 <= post.fte <= 1.0:
            raise ConfigError(f"{key}[{i}].fte", post.fte, "a number in [0.05, 1.0]")
        if any(d not in range(WEEKDAYS) for d in post.days) or len(set(post.days)) != len(
                post.days):
            raise ConfigError(f"{key}[{i}].days", list(post.days),
                              "distinct weekdays 0 (Monday) .. 4 (Friday), or [] for flexible")


@dataclass(frozen=True)
class RosterSlots:
    """A roster as per-slot arrays: profession index, FTE, fixed days, flexible days."""

    profession: np.ndarray  # (slots,) index into PROFESSIONS
    fte: np.ndarray  # (slots,)
    fixed_days: np.ndarray  # (slots, weekdays) bool
    flexible: np.ndarray  # (slots,) bool: no fixed days given


def roster_slots(roster: list[StaffPost]) -> RosterSlots:
    days = np.zeros((len(roster), WEEKDAYS), dtype=bool)
    for i, post in enumerate(roster):
        days[i, list(post.days)] = True
    return RosterSlots(np.array([PROFESSIONS.index(p.profession) for p in roster]),
                       np.array([p.fte for p in roster], dtype=float), days,
                       ~days.any(axis=1))
