"""Organisational context: sector culture and an optional cross-team peer network (ODD 7.7).

Sector shifts what staff practise and expect of the PW role and how strictly boundaries are
held: the multi-site follow-up (Gillard et al. 2014/2015) found NHS, voluntary-sector and
partnership cultures shaped expectations even where recruitment and training were good.
A peer network is a protected space where PWs meet away from high-status defenders of
existing practice (Kellogg 2009): it pulls each attending PW's practice back toward their
lived-experience anchor and adds confidence and support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import Workforce
from sim.params import ConfigError, for_entries, param

SECTORS = ("nhs", "voluntary", "partnership")


@dataclass
class ContextParams:
    sector: str = param("nhs", choices=SECTORS, source="Gillard 2013 site table; 2014 follow-up")
    staff_practice: dict[str, float] = param(
        {"nhs": 0.3, "voluntary": 0.45, "partnership": 0.38}, lo=0.0, hi=1.0,
        doc="mean practice of non-peer staff per sector (0 conventional .. 1 peer)")
    staff_practice_sd: float = param(0.08, lo=0.0, hi=0.5, doc="spread of staff practice")
    staff_role_belief: dict[str, float] = param(
        {"nhs": 0.45, "voluntary": 0.65, "partnership": 0.55}, lo=0.0, hi=1.0,
        doc="mean staff belief about the PW role per sector (0 assistant .. 1 peer)")
    staff_role_belief_sd: float = param(0.12, lo=0.0, hi=0.5, doc="spread of staff beliefs")
    boundary_strictness: dict[str, float] = param(
        {"nhs": 1.0, "voluntary": 0.6, "partnership": 0.8}, lo=0.0, hi=2.0,
        doc="multiplier on the weekly chance that boundaries are enforced")
    peer_network: bool = param(False, source="Kellogg 2009 protected spaces (option)")
    peer_network_interval_weeks: int = param(4, lo=1, hi=52, doc="weeks between meetings")
    peer_network_anchor_pull: float = param(
        0.1, lo=0.0, hi=1.0, doc="share of the way practice returns to the anchor per meeting")
    peer_network_confidence: float = param(
        0.05, lo=0.0, hi=1.0, doc="confidence gain per meeting, times (1 - confidence)")
    peer_network_support: float = param(0.3, lo=0.0, hi=1.0, doc="support felt from a meeting")

    def sector_value(self, table: dict[str, float]) -> float:
        """The entry of a per-sector table for this organisation's sector."""
        return table[self.sector]

    def check(self, prefix: str) -> None:
        for name in ("staff_practice", "staff_role_belief", "boundary_strictness"):
            missing = set(SECTORS) - set(getattr(self, name))
            if missing:
                raise ConfigError(f"{prefix}{name}", getattr(self, name),
                                  "a value for every sector: " + ", ".join(SECTORS))


def peer_network_meeting(
    workforce: Workforce, week: int, params: ContextParams
) -> np.ndarray:
    """Hold the cross-team peer network if one exists and is due; return support felt by each slot.

    Every PW who is at work this week attends: practice moves back toward their anchor and
    confidence rises (Kellogg 2009; Friedkin-Johnsen anchoring strengthened away from the team).
    """
    support = np.zeros(workforce.occupied.shape)
    if not params.peer_network or week % params.peer_network_interval_weeks:
        return support
    attend = workforce.is_peer & workforce.present_days.any(axis=-1)
    wf = workforce
    wf.practice += np.where(attend, params.peer_network_anchor_pull * (wf.anchor - wf.practice), 0)
    wf.confidence += np.where(attend, params.peer_network_confidence * (1 - wf.confidence), 0)
    support[attend] = for_entries(params.peer_network_support, attend)
    return support
