"""Switches for the steps of the weekly schedule (config group ``schedule``; ODD section 3).

Every step of ``PeerWorkModel.step`` that carries a mechanism can be switched off, so the
pattern experiment can knock out one mechanism at a time and say which ones produce each
pattern (``experiments/patterns``, attribution stage). All switches are on by default; a step
switched off leaves its state as it was (e.g. no meeting: status, beliefs and ties keep last
week's values). Terms inside a rule that carry a finding are knocked out through their rule's
parameters instead (each has a documented neutral value, ODD section 7).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.params import param


@dataclass
class ScheduleParams:
    refill_vacancies: bool = param(True, doc="step 1: vacancies are refilled after the delay")
    sickness: bool = param(True, doc="step 2: sick weeks are drawn")
    meeting_status: bool = param(True, doc="step 3: status is earned and lost in meetings")
    belief_convergence: bool = param(True, doc="step 3: role beliefs converge in meetings")
    ties: bool = param(True, doc="step 3: ties grow with contact and fade without")
    supervision: bool = param(True, doc="step 4: PW supervision sessions socialise, "
                              "renegotiate and validate (support is still felt)")
    training: bool = param(True, doc="step 4: PW training sessions socialise practice")
    peer_network: bool = param(True, doc="step 4: the peer network meets, if there is one")
    everyday_influence: bool = param(True, doc="step 5: colleagues influence each other's "
                                     "practice")
    anchoring: bool = param(True, doc="step 6: practice is pulled back to one's anchor")
    enforcement: bool = param(True, doc="step 7: practice beyond the limit is challenged")
    identity: bool = param(True, doc="step 8: PW confidence moves with validation and doubt")
    strain: bool = param(True, doc="step 9: strain accumulates and is relieved")
    recovery: bool = param(True, doc="step 10: service users' contacts, recovery and "
                           "admissions")
    valuation: bool = param(True, doc="step 10: users' and staff's valuation of PWs")
    leaving: bool = param(True, doc="step 11: people leave by the exit hazard")
