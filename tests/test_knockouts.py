"""Every mechanism can be switched off: each schedule switch and neutral value does what it says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.config import load_config
from sim.model import PeerWorkModel
from sim.schedule import ScheduleParams

SMALL = ["organisation.n_teams=2", "organisation.horizon_weeks=30"]


def _run(*overrides: str) -> PeerWorkModel:
    return PeerWorkModel(load_config(SMALL + list(overrides)), seed=3).run()


@pytest.mark.parametrize("switch", [f.name for f in dataclasses.fields(ScheduleParams)])
def test_every_schedule_switch_changes_the_run(switch: str) -> None:
    overrides = ["context.peer_network=true"] if switch == "peer_network" else []
    on = _run(*overrides).recorder.summary()
    off = _run(*overrides, f"schedule.{switch}=false").recorder.summary()
    assert any(not np.isclose(on[k], off[k]) for k in on), f"schedule.{switch} does nothing"


def test_no_meeting_keeps_status_where_it_started() -> None:
    wf = _run("schedule.meeting_status=false", "schedule.refill_vacancies=false").workforce
    occupied = wf.occupied
    assert np.allclose(wf.status[occupied], wf.external_status[occupied])


def test_no_leaving_keeps_everyone_in_post() -> None:
    summary = _run("schedule.leaving=false").recorder.summary()
    assert summary["pw_exits_mean"] == 0 and summary["staff_exits_mean"] == 0


def test_status_kept_while_absent_when_the_pull_is_neutral() -> None:
    """With absent_status_pull = 0 an absent person's status does not relax to external."""
    from sim.rules import meetings
    from sim.rules.meetings import MeetingsParams

    wf = PeerWorkModel(load_config(SMALL)).workforce
    wf.status[:] = 0.95
    wf.attends_meeting[:] = False
    before = wf.status.copy()
    meetings.hold_meeting(wf, MeetingsParams(absent_status_pull=0.0), np.random.default_rng(0))
    assert np.allclose(wf.status, before)
    meetings.hold_meeting(wf, MeetingsParams(absent_status_pull=1.0), np.random.default_rng(0))
    assert (wf.status[wf.occupied] < before[wf.occupied]).all()
