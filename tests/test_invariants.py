"""Property-based invariants: any valid parameters keep the state well formed.

Parameter values are drawn from the ranges and choices each params dataclass declares
(``dataclasses.fields(...).metadata``: ``lo``/``hi``/``choices``), so the test follows the
declarations as they change. Integer ranges with a very large upper bound are capped to keep
runs small; every drawn value is still inside its declared range.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.agents import PEER, PeerWorker, ServiceUser, StaffMember
from sim.config import SimConfig
from sim.model import PeerWorkModel
from sim.params import validate
from sim.rules.boundaries import BoundariesParams
from sim.rules.context import ContextParams
from sim.rules.meetings import MeetingsParams
from sim.rules.recruitment import RecruitmentParams
from sim.rules.service_users import ServiceUsersParams
from sim.rules.supervision import SupervisionParams
from sim.rules.wellbeing import WellbeingParams
from sim.rules.working_patterns import WorkingPatternsParams
from sim.team import OrganisationParams, TeamParams

N_TEAMS, WEEKS = 2, 20
FAMILIES = {
    "recruitment": RecruitmentParams, "working_patterns": WorkingPatternsParams,
    "meetings": MeetingsParams, "supervision": SupervisionParams,
    "boundaries": BoundariesParams, "wellbeing": WellbeingParams,
    "service_users": ServiceUsersParams, "context": ContextParams,
}
#: Upper bounds used instead of the declared ones, to keep each example small and fast.
SMALL = {"n_nonpeer_staff": 6, "n_peer_workers": 3, "caseload": 30, "speaking_turns": 60}
UNIT_STATE = ("practice", "anchor", "role_belief", "expectation", "confidence", "status",
              "external_status", "supported", "disempowerment", "staff_valuation", "ties")
UNIT_USERS = ("recovery", "baseline_recovery", "relationship", "valuation")


def field_strategy(f: dataclasses.Field) -> st.SearchStrategy | None:
    """Values allowed by a field's declaration; None for fields left at their default."""
    meta, default = f.metadata, f.default
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    if isinstance(default, bool):
        return st.booleans()
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None or hi is None or default is dataclasses.MISSING:
        return None  # dict and list tables keep their defaults
    if isinstance(default, int):
        return st.integers(int(lo), int(min(hi, SMALL.get(f.name, hi))))
    return st.floats(lo, hi, allow_nan=False, allow_subnormal=False)


def params_strategy(cls: type) -> st.SearchStrategy:
    drawn = {f.name: s for f in dataclasses.fields(cls) if (s := field_strategy(f)) is not None}
    return st.fixed_dictionaries(drawn).map(lambda values: cls(**values))


@st.composite
def configs(draw) -> SimConfig:
    team = draw(params_strategy(TeamParams))
    families = {name: draw(params_strategy(cls)) for name, cls in FAMILIES.items()}
    cfg = SimConfig(seed=draw(st.integers(0, 2**32)),
                    organisation=OrganisationParams(n_teams=N_TEAMS, horizon_weeks=WEEKS),
                    team=team, **families)
    # Known bug (see test_rules_recruitment.py::test_pw_confidence_at_hire_stays_in_0_1): hire
    # adds the formal bonus without clipping. Keep the sum in range so this test guards the rest.
    rec = cfg.recruitment
    rec.formal_confidence_bonus = min(rec.formal_confidence_bonus, 1.0 - rec.confidence_at_hire)
    cfg.output.record_interval_weeks = draw(st.integers(1, 6))
    cfg.output.agent_interval_weeks = draw(st.integers(1, 30))
    validate(cfg)
    return cfg


def check_state(model: PeerWorkModel) -> None:
    wf, cl = model.workforce, model.caseload
    n_slots = wf.occupied.shape[1]
    for name in UNIT_STATE:
        values = getattr(wf, name)
        assert not np.isnan(values).any(), name
        assert (values >= 0).all() and (values <= 1).all(), name
    assert not np.isnan(wf.strain).any() and (wf.strain >= 0).all()
    for name in UNIT_USERS:
        values = getattr(cl, name)
        assert not np.isnan(values).any(), name
        assert (values >= 0).all() and (values <= 1).all(), name
    # Head counts: every slot is filled or vacant; the caseload never changes size.
    assert wf.occupied.shape == (N_TEAMS, n_slots)
    assert ((wf.agent_id >= 0) == wf.occupied).all()
    assert cl.recovery.shape == (N_TEAMS, model.params.team.caseload)
    # One live Mesa agent per filled slot and per service user, ids unique.
    staff_agents = model.agents_by_type.get(StaffMember, [])
    pw_agents = model.agents_by_type.get(PeerWorker, [])
    assert len(staff_agents) + len(pw_agents) == wf.occupied.sum()
    assert len(pw_agents) == wf.is_peer.sum()
    assert len(model.agents_by_type[ServiceUser]) == cl.recovery.size
    ids = wf.agent_id[wf.occupied]
    assert len(np.unique(ids)) == len(ids)
    # Ties are symmetric, zero on the diagonal and to vacant slots.
    np.testing.assert_array_equal(wf.ties, np.swapaxes(wf.ties, 1, 2))
    assert (np.diagonal(wf.ties, axis1=1, axis2=2) == 0).all()
    assert (wf.ties[~wf.occupied] == 0).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_any_valid_parameters_keep_state_well_formed(cfg: SimConfig) -> None:
    model = PeerWorkModel(cfg)
    check_state(model)
    in_post_when_recorded = []  # leavers are still in post when their last week is recorded
    while model.running:
        model.step()
        check_state(model)
        in_post_when_recorded.append(int(model.workforce.occupied.sum()
                                         + model.workforce.exited.sum()))
    assert model.week == WEEKS

    ts = model.recorder.timeseries()
    interval = cfg.output.record_interval_weeks
    expected_weeks = [w for w in range(WEEKS) if w % interval == 0 or w == WEEKS - 1]
    assert sorted(ts["week"].unique()) == expected_weeks
    assert (ts.groupby("week").size() == N_TEAMS).all()
    assert sorted(ts["team"].unique()) == list(range(N_TEAMS))
    n_pw_posts = int((model.workforce.role == PEER).sum())
    np.testing.assert_array_equal(ts["pw_in_post"] + ts["pw_vacancies"], n_pw_posts)
    for column in ("consensus", "pw_meeting_attendance", "staff_meeting_attendance",
                   "user_recovery"):
        values = ts[column].dropna()
        assert ((values >= 0) & (values <= 1)).all(), column
    counts = ts[["pw_exits", "staff_exits", "boundary_events", "user_admissions"]]
    assert (counts >= 0).all().all()

    rows = model.recorder.agents().groupby("week").size()
    snapshot_weeks = [w for w in range(WEEKS)
                      if w % cfg.output.agent_interval_weeks == 0 or w == WEEKS - 1]
    for week in snapshot_weeks:
        assert rows.get(week, 0) == in_post_when_recorded[week], week
