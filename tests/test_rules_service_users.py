"""Service users (ODD 7.8): contacts, recovery, admissions, relationships and valuation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import make_caseload, make_workforce, peer_slots

from sim.rules import service_users
from sim.rules.service_users import ServiceUsersParams

PARAMS = ServiceUsersParams(staff_gain=0.004, peer_gain=0.001, peer_practice_gain=0.006,
                            peer_contacts_per_day=0.25, admission_hazard=0.008,
                            admission_recovery_slope=1.5, relationship_gain=0.15,
                            relationship_decay=0.02, valuation_rate=0.05)


def week_of_contacts(practice: float = 0.8, relationship: float = 0.5, size: int = 400,
                     recovery: float = 0.45, params: ServiceUsersParams = PARAMS,
                     with_pw: bool = True, seed: int = 5):
    wf = make_workforce(practice=practice)
    cl = make_caseload(size=size, peer_slots=list(peer_slots(wf)) if with_pw else None,
                       relationship=relationship, recovery=recovery, baseline_recovery=recovery)
    service_users.weekly_contacts(cl, wf, params, np.random.default_rng(seed))
    return cl, wf


def test_more_distinctive_pw_practice_gives_larger_recovery_gain():
    distinctive, _ = week_of_contacts(practice=0.9)
    conventional, _ = week_of_contacts(practice=0.1)
    contact = distinctive.peer_contact
    np.testing.assert_array_equal(contact, conventional.peer_contact)  # same draws
    assert contact.any()
    gain = distinctive.recovery - conventional.recovery
    np.testing.assert_allclose(gain[contact], PARAMS.peer_practice_gain * 0.8 * 0.5)
    np.testing.assert_array_equal(gain[~contact], 0.0)


def test_stronger_relationship_gives_larger_recovery_gain():
    close, _ = week_of_contacts(relationship=0.9)
    distant, _ = week_of_contacts(relationship=0.1)
    contact = close.peer_contact
    assert (close.recovery[contact] > distant.recovery[contact]).all()


def test_no_pw_means_no_peer_contact():
    for week in range(5):
        cl, _ = week_of_contacts(with_pw=False, seed=week)
        assert not cl.peer_contact.any()
        assert cl.staff_contact.any()


def test_pw_not_at_work_gives_no_peer_contact():
    wf = make_workforce()
    pw = peer_slots(wf)
    cl = make_caseload(size=200, peer_slots=list(pw))
    wf.present_days[0, pw[0]] = False  # off this week
    wf.occupied[0, pw[1]] = False  # post vacant
    service_users.weekly_contacts(cl, wf, PARAMS, np.random.default_rng(0))
    assert not cl.peer_contact.any()


def test_more_pw_days_give_more_peer_contacts():
    def contact_rate(days: int) -> float:
        wf = make_workforce()
        wf.present_days[0, peer_slots(wf)] = np.arange(5) < days
        cl = make_caseload(size=2000, peer_slots=list(peer_slots(wf)))
        service_users.weekly_contacts(cl, wf, PARAMS, np.random.default_rng(1))
        return float(cl.peer_contact.mean())

    assert contact_rate(1) < contact_rate(2) < contact_rate(5)
    assert contact_rate(1) == pytest.approx(0.25, abs=0.03)


def test_admission_hazard_falls_with_recovery():
    params = ServiceUsersParams(admission_hazard=0.05, admission_recovery_slope=3.0,
                                noise_sd=0.0)
    well, _ = week_of_contacts(recovery=0.8, size=4000, params=params)
    unwell, _ = week_of_contacts(recovery=0.2, size=4000, params=params)
    assert well.admitted_now.sum() < unwell.admitted_now.sum() / 2
    assert (unwell.admitted_now | ~well.admitted_now).all()  # same draws
    np.testing.assert_array_equal(well.admissions, well.admitted_now)


def test_admitted_users_have_no_contacts_until_discharged():
    wf = make_workforce()
    cl = make_caseload(size=50, peer_slots=list(peer_slots(wf)), admitted_weeks=2)
    params = ServiceUsersParams(admission_hazard=1.0)
    rng = np.random.default_rng(0)
    for weeks_left in (1, 0):
        service_users.weekly_contacts(cl, wf, params, rng)
        assert not cl.peer_contact.any() and not cl.staff_contact.any()
        assert not cl.admitted_now.any()
        np.testing.assert_array_equal(cl.admitted_weeks, weeks_left)
    service_users.weekly_contacts(cl, wf, params, rng)  # home again
    assert cl.staff_contact.any() and cl.admitted_now.any()


def test_contact_builds_relationship_and_absence_lets_it_fade():
    cl, _ = week_of_contacts(relationship=0.5)
    contact = cl.peer_contact
    np.testing.assert_allclose(cl.relationship[contact], 0.5 + 0.15 * 0.5)
    np.testing.assert_allclose(cl.relationship[~contact], 0.5 * 0.98)


def test_leavers_reset_their_users_relationships():
    wf = make_workforce()
    leaver, stayer = peer_slots(wf)
    cl = make_caseload(size=10, peer_slots=[leaver, stayer], relationship=0.7)
    leaving = np.zeros(wf.occupied.shape, dtype=bool)
    leaving[0, leaver] = True
    service_users.forget_peer_worker(cl, leaving)
    np.testing.assert_array_equal(cl.relationship[cl.peer_slot == leaver], 0.0)
    np.testing.assert_array_equal(cl.relationship[cl.peer_slot == stayer], 0.7)


def test_staff_leaving_does_not_touch_relationships():
    wf = make_workforce()
    cl = make_caseload(size=10, peer_slots=list(peer_slots(wf)), relationship=0.7)
    leaving = np.zeros(wf.occupied.shape, dtype=bool)
    leaving[0, 1] = True
    service_users.forget_peer_worker(cl, leaving)
    np.testing.assert_array_equal(cl.relationship, 0.7)


def valued(relationship: float, contact: bool = True, **changes):
    """User and staff valuations after one update from neutral 0.5."""
    params = dataclasses.replace(PARAMS, **changes)
    wf = make_workforce()
    cl = make_caseload(size=20, peer_slots=list(peer_slots(wf)), relationship=relationship,
                       peer_contact=contact)
    wf.staff_valuation[0, peer_slots(wf)] = 0.5
    service_users.update_valuation(cl, wf, params)
    return cl.valuation, wf.staff_valuation[0, peer_slots(wf)]


def test_valuation_rises_with_relationship():
    (user_close, staff_close), (user_distant, staff_distant) = valued(0.9), valued(0.1)
    assert (user_close > user_distant).all()
    assert (user_close > 0.5).all()  # from the neutral 0.5
    assert (staff_close > staff_distant).all()


def test_valuation_falls_below_neutral_with_weak_relationships():
    users, staff = valued(0.1)
    assert (users < 0.5).all() and (staff < 0.5).all()  # no floor holds it up


def test_users_revise_their_valuation_only_in_weeks_they_meet_their_pw():
    users, _ = valued(0.9, contact=False)
    np.testing.assert_array_equal(users, 0.5)


def test_staff_credit_a_pw_only_with_recovery_the_pws_contacts_added():
    def staff_valuation(credit: float, recovery: float) -> np.ndarray:
        wf = make_workforce()
        cl = make_caseload(size=20, peer_slots=list(peer_slots(wf)), relationship=0.5,
                           peer_credit=credit, recovery=recovery)
        wf.staff_valuation[0, peer_slots(wf)] = 0.5
        service_users.update_valuation(cl, wf, PARAMS)
        return wf.staff_valuation[0, peer_slots(wf)]

    # Recovery that staff contacts produced (no credit) is not the PW's.
    np.testing.assert_array_equal(staff_valuation(0.0, 0.9), staff_valuation(0.0, 0.45))
    assert (staff_valuation(0.05, 0.45) > staff_valuation(0.0, 0.45)).all()


def test_peer_credit_grows_only_with_pw_contacts_and_goes_with_the_pw():
    cl, wf = week_of_contacts(practice=0.8, relationship=0.5)
    contact = cl.peer_contact
    assert contact.any() and not contact.all()
    np.testing.assert_allclose(cl.peer_credit[contact],
                               PARAMS.peer_gain + PARAMS.peer_practice_gain * 0.8 * 0.5)
    np.testing.assert_array_equal(cl.peer_credit[~contact], 0.0)
    leaving = np.zeros(wf.occupied.shape, dtype=bool)
    leaving[0, peer_slots(wf)] = True
    service_users.forget_peer_worker(cl, leaving)
    np.testing.assert_array_equal(cl.peer_credit, 0.0)


def test_boundary_tension_costs_a_pw_staff_valuation():
    def after(event: bool) -> np.ndarray:
        wf = make_workforce()
        cl = make_caseload(size=20, peer_slots=list(peer_slots(wf)), relationship=0.5)
        wf.staff_valuation[0, peer_slots(wf)] = 0.6
        wf.boundary_event[0, peer_slots(wf)] = event
        service_users.update_valuation(cl, wf, PARAMS)
        return wf.staff_valuation[0, peer_slots(wf)]

    np.testing.assert_allclose(after(True), after(False) * (1 - PARAMS.tension_valuation_loss))


def test_users_without_a_pw_keep_a_neutral_valuation():
    wf = make_workforce()
    cl = make_caseload(size=10, relationship=0.9)
    service_users.update_valuation(cl, wf, PARAMS)
    np.testing.assert_array_equal(cl.valuation, 0.5)


def test_caseload_is_shared_round_robin_among_pw_posts():
    cl = make_caseload(n_teams=2, size=7)
    service_users.assign_peer_workers(cl, np.array([4, 5]))
    np.testing.assert_array_equal(cl.peer_slot, [[4, 5, 4, 5, 4, 5, 4]] * 2)
    service_users.assign_peer_workers(cl, np.array([], dtype=int))
    assert (cl.peer_slot == -1).all()


def test_mean_by_peer_slot_averages_over_each_pws_users():
    wf = make_workforce(n_teams=2)
    a, b = peer_slots(wf)
    cl = make_caseload(n_teams=2, size=4, peer_slots=[a, b])
    values = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 1.0, 0.0]])
    means = service_users.mean_by_peer_slot(cl, wf, values)
    np.testing.assert_allclose(means[:, [a, b]], [[0.2, 0.3], [1.0, 0.0]])
    assert (means[:, :a] == 0).all()
