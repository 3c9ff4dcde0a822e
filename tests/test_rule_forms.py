"""Rival rule forms (ODD 7.3-7.6): each variant's direction of effect, and config selection.

Status (``meetings.status_form``), everyday influence (``boundaries.influence_form``),
socialisation (``supervision.socialisation_form``) and the exit hazard
(``wellbeing.exit_form``). The default forms are tested in the per-module rule tests and by
the fixed-seed baseline.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, small_config, staff_slots

from sim.config import load_config
from sim.model import PeerWorkModel
from sim.params import ConfigError
from sim.rules import boundaries, meetings, supervision, wellbeing
from sim.rules.boundaries import BoundariesParams
from sim.rules.meetings import MeetingsParams
from sim.rules.supervision import SupervisionParams
from sim.rules.wellbeing import WellbeingParams

# --- status -----------------------------------------------------------------------------------

def test_persistent_status_is_kept_while_absent_where_relaxing_status_falls(rng):
    kept, relaxed = make_workforce(), make_workforce()
    for wf in (kept, relaxed):
        wf.status[0, peer_slots(wf)] = 0.5
        wf.attends_meeting[0, peer_slots(wf)] = False
    meetings.hold_meeting(kept, MeetingsParams(status_form="persistent"), rng)
    meetings.hold_meeting(relaxed, MeetingsParams(), np.random.default_rng(12345))
    assert kept.status[0, peer_slots(kept)].tolist() == [0.5, 0.5]
    assert (relaxed.status[0, peer_slots(relaxed)] < 0.5).all()


def test_persistent_status_still_rises_for_attendees(rng):
    wf = make_workforce()
    meetings.hold_meeting(wf, MeetingsParams(status_form="persistent"), rng)
    assert (wf.status[0, peer_slots(wf)] > 0.2).all()


def test_interchange_record_favours_whoever_took_more_acknowledged_turns():
    record = np.zeros((1, 3, 3))
    attend = np.array([[True, True, False]])
    after = meetings.interchange_update(record, np.array([[0.9, 0.3, 1.0]]), attend, 0.5)
    assert after[0, 0, 1] == pytest.approx(0.3) and after[0, 1, 0] == pytest.approx(-0.3)
    assert after[0, 0, 2] == 0.0 and after[0, 2, 1] == 0.0  # the absentee's record persists


def test_expectation_advantage_grows_with_external_status_and_with_the_record():
    external = np.array([[0.6, 0.2]])
    none = meetings.expectation_advantage(external, np.zeros((1, 2, 2)))
    assert none[0, 0, 1] == pytest.approx(0.4) and none[0, 1, 0] == pytest.approx(-0.4)
    record = np.array([[[0.0, -0.5], [0.5, 0.0]]])  # the low-status person won the exchanges
    offset = meetings.expectation_advantage(external, record)
    assert offset[0, 1, 0] > none[0, 1, 0]
    assert offset[0, 1, 0] == pytest.approx(0.5 - 0.4)  # combining: 1-(1-.5) minus 1-(1-.4)


def test_expectation_states_put_a_low_status_pw_below_staff_and_reward_taking_part(rng):
    params = MeetingsParams(status_form="expectation_states", status_rate=1.0)
    wf = make_workforce()
    for _ in range(20):
        meetings.hold_meeting(wf, params, rng)
    assert wf.status[0, peer_slots(wf)].max() < wf.status[0, staff_slots(wf)].min()
    speaker = make_workforce()
    speaker.status[0, peer_slots(speaker)[0]] = 0.9  # speaks far more than the others
    meetings.hold_meeting(speaker, params, np.random.default_rng(1))
    a, b = peer_slots(speaker)
    assert speaker.interchange[0, a, b] > 0 and speaker.status[0, a] > speaker.status[0, b]


def test_expectation_state_record_starts_fresh_for_a_new_occupant(rng):
    params = MeetingsParams(status_form="expectation_states")
    wf = make_workforce()
    meetings.hold_meeting(wf, params, rng)
    slot = peer_slots(wf)[0]
    assert np.abs(wf.interchange[0, slot]).sum() > 0
    wf.agent_id[0, slot] = 999  # a new hire in the slot
    wf.attends_meeting[0, slot] = False
    meetings.hold_meeting(wf, params, rng)
    assert np.abs(wf.interchange[0, slot]).sum() == 0 == np.abs(wf.interchange[0, :, slot]).sum()


# --- everyday influence ------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["deffuant", "relative_agreement"])
def test_pairwise_forms_bring_colleagues_practice_closer(form, rng):
    wf = make_workforce(practice=[[0.3, 0.35, 0.4, 0.45, 0.6, 0.7]], confidence=0.5)
    before = wf.practice.std()
    params = BoundariesParams(influence_form=form, influence_rate=0.3, influence_bound=1.0,
                              staff_influence_share=1.0, ra_uncertainty_unsure=0.8,
                              ra_uncertainty_confident=0.8)
    boundaries.everyday_influence(wf, params, rng)
    assert wf.practice.std() < before


@pytest.mark.parametrize("form", ["deffuant", "relative_agreement"])
def test_pairwise_forms_need_a_shared_day(form, rng):
    wf = make_workforce(practice=[[0.3, 0.35, 0.4, 0.45, 0.6, 0.7]])
    wf.present_days[0, :, :] = False
    wf.present_days[0, :3, :2] = True  # three colleagues Mon-Tue, three nobody
    before = wf.practice.copy()
    boundaries.everyday_influence(wf, BoundariesParams(influence_form=form), rng)
    assert (wf.practice[0, 3:] == before[0, 3:]).all()


def test_deffuant_form_moves_staff_less_than_pws(rng):
    wf = make_workforce(n_nonpeer=1, n_peer=1, practice=[[0.3, 0.3, 0.6]])
    wf.present_days[0, 0] = False  # only one nurse and one PW: they always meet
    params = BoundariesParams(influence_form="deffuant", influence_rate=0.1,
                              staff_influence_share=0.2)
    boundaries.everyday_influence(wf, params, rng)
    assert 0.6 - wf.practice[0, 2] > wf.practice[0, 1] - 0.3 > 0


def test_relative_agreement_uncertainty_follows_confidence_at_hire(rng):
    wf = make_workforce()
    boundaries.everyday_influence(wf, BoundariesParams(influence_form="relative_agreement"),
                                  rng)
    assert wf.practice_uncertainty[0, peer_slots(wf)].min() > \
        wf.practice_uncertainty[0, staff_slots(wf)].max()  # PWs less confident at hire
    assert (wf.uncertainty_owner == wf.agent_id).all()


def test_relative_agreement_confident_colleague_moves_an_unsure_one_more(rng):
    wf = make_workforce(n_nonpeer=1, n_peer=1, practice=[[0.3, 0.3, 0.6]],
                        confidence=[[0.7, 0.9, 0.1]])
    wf.present_days[0, 0] = False
    params = BoundariesParams(influence_form="relative_agreement", influence_rate=0.2,
                              staff_influence_share=1.0)
    boundaries.everyday_influence(wf, params, rng)
    assert 0.6 - wf.practice[0, 2] > wf.practice[0, 1] - 0.3


def test_weighted_form_draws_no_random_numbers():
    rng = np.random.default_rng(7)
    boundaries.everyday_influence(make_workforce(), BoundariesParams(), rng)
    assert rng.random() == np.random.default_rng(7).random()


# --- socialisation -----------------------------------------------------------------------------

def test_march_code_moves_toward_members_closer_to_reality():
    code = np.array([[0.15]])
    practice = np.array([[[0.8], [0.7], [0.1]]])  # two outperform the code, one does not
    learnt = supervision.code_update(code, practice, np.array([[0.75]]),
                                     np.ones((1, 3), bool), 0.5)
    assert learnt[0, 0] == pytest.approx(0.15 + 0.5 * (0.75 - 0.15))


def test_march_form_code_learns_from_pws_and_co_opts_them_less_than_a_fixed_norm():
    march, fixed = make_workforce(), make_workforce()
    march.role_practice[:] = fixed.role_practice[:] = 0.75
    params = SupervisionParams(socialisation_form="march", code_learning_rate=0.3)
    for week in range(0, 40, 4):
        supervision.supervise(march, week, params)
        supervision.supervise(fixed, week, SupervisionParams())
    assert march.supervision_code[0] > params.norm
    assert march.practice[0, peer_slots(march)].mean() > fixed.practice[0, peer_slots(fixed)].mean()


def test_march_code_stays_at_the_norm_without_a_session():
    wf = make_workforce()
    supervision.supervise(wf, 1, SupervisionParams(socialisation_form="march"))
    assert wf.supervision_code[0] == pytest.approx(SupervisionParams().norm)


# --- exit hazard -------------------------------------------------------------------------------

def drifted_by(drift: float, strain: float = 0.0):
    wf = make_workforce()
    wf.role_practice[:] = 0.8
    wf.practice[:] = 0.8 - drift
    wf.strain[:] = strain
    return wf


def test_threshold_exit_hazard_ignores_drift_and_strain_below_their_references():
    params = WellbeingParams(exit_form="threshold")
    base = wellbeing.exit_hazard(drifted_by(0.0), params)
    below = wellbeing.exit_hazard(drifted_by(0.29, strain=0.49), params)
    np.testing.assert_allclose(below, base)
    assert (wellbeing.exit_hazard(drifted_by(0.29), WellbeingParams()) > base).all()


def test_threshold_exit_hazard_applies_each_ratio_in_full_at_the_reference():
    params = WellbeingParams(exit_form="threshold")
    base = wellbeing.exit_hazard(drifted_by(0.0), params)
    np.testing.assert_allclose(wellbeing.exit_hazard(drifted_by(0.3), params),
                               base * params.exit_drift_ratio)
    np.testing.assert_allclose(wellbeing.exit_hazard(drifted_by(0.6), params),
                               base * params.exit_drift_ratio)  # a step, not a slope
    np.testing.assert_allclose(wellbeing.exit_hazard(drifted_by(0.3, strain=0.5), params),
                               base * params.exit_drift_ratio * params.exit_strain_ratio)


# --- config selection --------------------------------------------------------------------------

FORMS = {"meetings.status_form": "expectation_states",
         "boundaries.influence_form": "relative_agreement",
         "supervision.socialisation_form": "march", "wellbeing.exit_form": "threshold"}


def test_every_form_is_a_config_option():
    cfg = load_config([f"{key}={value}" for key, value in FORMS.items()])
    assert [cfg.meetings.status_form, cfg.boundaries.influence_form,
            cfg.supervision.socialisation_form, cfg.wellbeing.exit_form] == list(FORMS.values())
    defaults = load_config([])
    assert (defaults.meetings.status_form, defaults.boundaries.influence_form,
            defaults.supervision.socialisation_form, defaults.wellbeing.exit_form) == \
        ("relax_external", "weighted", "fixed_norm", "proportional")


def test_an_unknown_form_is_refused_by_name():
    with pytest.raises(ConfigError, match="meetings.status_form.*relax_external"):
        load_config(["meetings.status_form=hierarchy"])


def test_model_runs_deterministically_under_the_rival_forms():
    groups = {"meetings": {"status_form": "expectation_states"},
              "boundaries": {"influence_form": "relative_agreement"},
              "supervision": {"socialisation_form": "march"},
              "wellbeing": {"exit_form": "threshold"}}
    runs = [PeerWorkModel(small_config(horizon=30, **groups)).run().recorder.summary()
            for _ in range(2)]
    assert runs[0] == pytest.approx(runs[1], nan_ok=True)
    default = PeerWorkModel(small_config(horizon=30)).run().recorder.summary()
    assert runs[0]["status_gap_final"] != default["status_gap_final"]
