"""Supervision and training (ODD 7.4): socialisation toward a supervisor's and a course's norm."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_workforce, peer_slots, staff_slots

from sim.rules import supervision
from sim.rules.supervision import SupervisionParams

CLINICAL = SupervisionParams(supervisor="clinical", boundary_focus="protective")
PEER_LED = SupervisionParams(supervisor="peer", boundary_focus="personal")


def supervised_practice(params: SupervisionParams, confidence: float = 0.5,
                        week: int = 0) -> np.ndarray:
    wf = make_workforce(confidence=confidence)
    supervision.supervise(wf, week, params)
    return wf.practice[0, peer_slots(wf)]


def test_supervision_norms_order_clinical_protective_lowest():
    norms = {(s, b): SupervisionParams(supervisor=s, boundary_focus=b).norm
             for s in ("clinical", "mixed", "peer") for b in ("protective", "personal")}
    assert norms["clinical", "protective"] < norms["mixed", "personal"] < \
        norms["peer", "personal"]
    for s in ("clinical", "mixed", "peer"):
        assert norms[s, "protective"] < norms[s, "personal"]


def test_clinical_protective_supervision_lowers_pw_practice_more_than_peer_personal():
    start = 0.8
    clinical, peer = supervised_practice(CLINICAL), supervised_practice(PEER_LED)
    assert (clinical < start).all()
    assert (clinical < peer - 0.05).all()
    expected = start + CLINICAL.socialisation_rate * (
        1 - CLINICAL.confidence_shield * 0.5) * (CLINICAL.norm - start)
    np.testing.assert_allclose(clinical, expected)


def test_higher_confidence_shields_practice_from_supervision():
    shaky, sure = supervised_practice(CLINICAL, 0.1), supervised_practice(CLINICAL, 0.9)
    assert (0.8 - shaky > 0.8 - sure).all()
    assert (sure < 0.8).all()


def test_supervision_only_when_due_and_present():
    params = SupervisionParams(interval_weeks=4)
    np.testing.assert_array_equal(supervised_practice(params, week=5), 0.8)
    wf = make_workforce()
    pw = peer_slots(wf)
    wf.present_days[0, pw[0]] = False
    support = supervision.supervise(wf, 8, params)
    assert wf.practice[0, pw[0]] == 0.8 and wf.practice[0, pw[1]] < 0.8
    assert not wf.supervised[0, pw[0]] and wf.supervised[0, pw[1]]
    assert support[0, pw[0]] == 0.0 and support[0, pw[1]] > 0.0
    assert not wf.supervised[0, staff_slots(wf)].any()  # only PWs are socialised


def test_supervision_leaves_staff_practice_alone_but_gives_them_support():
    wf = make_workforce()
    staff = staff_slots(wf)
    support = supervision.supervise(wf, 0, CLINICAL)
    np.testing.assert_array_equal(wf.practice[0, staff], 0.3)
    np.testing.assert_array_equal(support[0, staff], CLINICAL.staff_support)


def test_peer_supervision_gives_more_support_and_validation_than_clinical():
    def after(params):
        wf = make_workforce()
        support = supervision.supervise(wf, 0, params)
        pw = peer_slots(wf)
        return support[0, pw], wf.confidence[0, pw]

    (clin_support, clin_conf), (peer_support, peer_conf) = after(CLINICAL), after(PEER_LED)
    assert (peer_support > clin_support).all()
    assert (peer_conf > clin_conf).all()


def test_renegotiation_moves_expectation_toward_team_belief():
    wf = make_workforce(role_belief=0.4)
    pw = peer_slots(wf)
    wf.expectation[0, pw] = [0.9, 0.1]
    supervision.supervise(wf, 0, SupervisionParams(renegotiation_rate=0.1))
    np.testing.assert_allclose(wf.expectation[0, pw], [0.9 - 0.05, 0.1 + 0.03])


@pytest.mark.parametrize("content, direction", [("conventional", -1), ("peer", 1)])
def test_training_moves_practice_toward_its_content(content, direction):
    wf = make_workforce(practice=0.6, training_sessions_left=3)
    pw = peer_slots(wf)
    params = SupervisionParams(training_content=content)
    supervision.train(wf, params)
    assert (np.sign(wf.practice[0, pw] - 0.6) == direction).all()
    np.testing.assert_array_equal(wf.training_sessions_left[0, pw], 2)
    np.testing.assert_array_equal(wf.practice[0, staff_slots(wf)], 0.6)  # staff not trained


def test_conventional_training_leaves_practice_lower_than_peer_training():
    def trained(content: str) -> np.ndarray:
        wf = make_workforce(training_sessions_left=8)
        for _ in range(10):
            supervision.train(wf, SupervisionParams(training_content=content))
        return wf.practice[0, peer_slots(wf)]

    assert (trained("conventional") < trained("peer") - 0.1).all()


def test_training_stops_when_sessions_run_out():
    wf = make_workforce(training_sessions_left=0)
    supervision.train(wf, SupervisionParams())
    np.testing.assert_array_equal(wf.practice[0, peer_slots(wf)], 0.8)
    np.testing.assert_array_equal(wf.training_sessions_left, 0)


def test_whole_team_training_raises_staff_beliefs_about_the_role():
    params = SupervisionParams(whole_team_training=True)
    wf = make_workforce(role_belief=0.4)
    staff, pw = staff_slots(wf), peer_slots(wf)
    supervision.train_whole_team(wf, params)
    expected = 0.4 + params.team_training_effect * (params.training_norm["peer"] - 0.4)
    np.testing.assert_allclose(wf.role_belief[0, staff], expected)
    np.testing.assert_array_equal(wf.role_belief[0, pw], 0.4)
    assert (wf.expectation[0, staff] > 0.5).all()  # the change is durable: expectations move

    untrained = make_workforce(role_belief=0.4)
    supervision.train_whole_team(untrained, SupervisionParams(whole_team_training=False))
    np.testing.assert_array_equal(untrained.role_belief, 0.4)


def test_staff_supervision_follows_its_own_interval():
    params = SupervisionParams(interval_weeks=4, staff_interval_weeks=6)
    due = {}
    for week in range(13):
        wf = make_workforce()
        support = supervision.supervise(wf, week, params)
        due[week] = (bool(support[0, peer_slots(wf)].any()),
                     bool(support[0, staff_slots(wf)].any()))
    assert [w for w, (pw, _) in due.items() if pw] == [0, 4, 8, 12]
    assert [w for w, (_, staff) in due.items() if staff] == [0, 6, 12]
