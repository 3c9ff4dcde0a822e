"""Shared helpers: small configs and models, and hand-built state for single-rule tests.

Rule tests build a small ``Workforce`` or ``Caseload`` with :func:`make_workforce` /
:func:`make_caseload`, set the arrays they care about by hand, call one rule function and
compare two settings. Whole-model tests use :func:`small_config` / :func:`small_model` so
every run stays at a few teams and a few dozen weeks.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.agents import MANAGER, NONPEER, PEER, PROFESSIONS, Caseload, Workforce
from sim.config import SimConfig
from sim.model import PeerWorkModel
from sim.params import validate
from sim.team import OrganisationParams, TeamParams

REPO = Path(__file__).resolve().parent.parent
NURSE = PROFESSIONS.index("nurse")
PW_PROFESSION = PROFESSIONS.index("peer_worker")

logging.getLogger("MESA").setLevel(logging.WARNING)


def small_config(
    n_teams: int = 2,
    horizon: int = 20,
    n_nonpeer: int = 4,
    n_peer: int = 2,
    caseload: int = 12,
    seed: int = 1,
    **groups: dict[str, Any],
) -> SimConfig:
    """A validated ``SimConfig`` for a small organisation.

    ``groups`` override fields of one config group each, e.g.
    ``small_config(recruitment={"process": "informal"}, output={"dashboard": False})``.
    """
    cfg = SimConfig(
        seed=seed,
        organisation=OrganisationParams(n_teams=n_teams, horizon_weeks=horizon),
        team=TeamParams(n_nonpeer_staff=n_nonpeer, n_peer_workers=n_peer, caseload=caseload),
    )
    for group, fields in groups.items():
        cfg = dataclasses.replace(cfg, **{group: dataclasses.replace(getattr(cfg, group),
                                                                     **fields)})
    validate(cfg)
    return cfg


def small_model(**kwargs: Any) -> PeerWorkModel:
    """A freshly built (not yet stepped) model of :func:`small_config`."""
    return PeerWorkModel(small_config(**kwargs))


def roles(n_nonpeer: int = 3, n_peer: int = 2) -> np.ndarray:
    return np.array([MANAGER] + [NONPEER] * n_nonpeer + [PEER] * n_peer)


def make_workforce(n_teams: int = 1, n_nonpeer: int = 3, n_peer: int = 2,
                   **values: Any) -> Workforce:
    """A fully staffed workforce with plain, hand-set state.

    Everyone is present every day and at the meeting, full-time, paid, on fixed days.
    Manager status 0.7, nurses 0.6, PWs 0.2 (status = external status); staff practice 0.3,
    PW practice 0.8 (practice = anchor = role practice); every role belief and expectation 0.5;
    staff confidence 0.7, PW confidence 0.5; every tie 0.1. ``values`` overwrite whole arrays
    (a scalar or anything that broadcasts to the array).
    """
    role = roles(n_nonpeer, n_peer)
    wf = Workforce(role=role, n_teams=n_teams)
    peer = np.broadcast_to(role == PEER, wf.occupied.shape)
    wf.occupied[:] = True
    wf.agent_id[:] = np.arange(wf.agent_id.size).reshape(wf.agent_id.shape)
    wf.profession[:] = np.where(role == PEER, PW_PROFESSION, np.where(role == MANAGER, 0, NURSE))
    wf.external_status[:] = np.where(role == PEER, 0.2, np.where(role == MANAGER, 0.7, 0.6))
    wf.status[:] = wf.external_status
    wf.practice[:] = np.where(peer, 0.8, 0.3)
    wf.anchor[:] = wf.practice
    wf.role_practice[:] = wf.practice
    wf.role_belief[:] = 0.5
    wf.expectation[:] = 0.5
    wf.confidence[:] = np.where(peer, 0.5, 0.7)
    wf.fte[:] = 1.0
    wf.paid[:] = True
    wf.fixed_days[:] = True
    wf.present_days[:] = True
    wf.attends_meeting[:] = True
    wf.ties[:] = 0.1 * (1 - np.eye(len(role)))
    for name, value in values.items():
        getattr(wf, name)[...] = value
    return wf


def make_caseload(n_teams: int = 1, size: int = 10, peer_slots: list[int] | None = None,
                  **values: Any) -> Caseload:
    """A caseload at home with recovery 0.45 (= baseline), valuation 0.5, no relationships.

    ``peer_slots`` are shared round-robin among users (none: users have no PW).
    """
    cl = Caseload(n_teams=n_teams, size=size)
    cl.recovery[:] = 0.45
    cl.baseline_recovery[:] = 0.45
    cl.valuation[:] = 0.5
    if peer_slots:
        cl.peer_slot[:] = np.array(peer_slots)[np.arange(size) % len(peer_slots)]
    for name, value in values.items():
        getattr(cl, name)[...] = value
    return cl


def peer_slots(wf: Workforce) -> np.ndarray:
    return np.nonzero(wf.role == PEER)[0]


def staff_slots(wf: Workforce) -> np.ndarray:
    return np.nonzero(wf.role != PEER)[0]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
