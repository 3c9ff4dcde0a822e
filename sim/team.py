"""Make-up of the organisation and its teams (config groups ``organisation`` and ``team``)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.agents import PROFESSIONS
from sim.params import ConfigError, param


@dataclass
class OrganisationParams:
    n_teams: int = param(8, lo=1, hi=100_000, doc="teams in the organisation")
    horizon_weeks: int = param(156, lo=1, hi=5200, doc="weeks simulated (one step = one week)")


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

    def check(self, prefix: str) -> None:
        unknown = set(self.profession_mix) - set(PROFESSIONS[1:-1])
        if unknown or sum(self.profession_mix.values()) <= 0:
            raise ConfigError(f"{prefix}profession_mix", dict(self.profession_mix),
                              "positive shares for: " + ", ".join(PROFESSIONS[1:-1]))
        missing = set(PROFESSIONS) - set(self.external_status)
        if missing:
            raise ConfigError(f"{prefix}external_status", dict(self.external_status),
                              "a value for every profession: " + ", ".join(PROFESSIONS))
