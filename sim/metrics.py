"""Team outcomes per week, per-agent snapshots and the run summary.

Names say what is measured and on what scale; the same names appear in tables, plots and the
ODD (section 7.9). PW outcomes are NaN for a week in which a team has no PW in post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.agents import PEER, PROFESSIONS, ROLE_NAMES
from sim.rules.boundaries import team_belief, team_mean
from sim.rules.meetings import mean_tie

if TYPE_CHECKING:
    from sim.model import PeerWorkModel

#: Outcomes recorded per team and week, with their scale.
TEAM_OUTCOMES = {
    "pw_practice": "mean PW practice, 0 conventional .. 1 distinctive peer practice",
    "staff_practice": "mean practice of non-peer staff and managers, same scale",
    "distinctiveness": "pw_practice - staff_practice, -1..1",
    "pw_dilution": "mean drop of PW practice below their anchor, 0..1",
    "expectation_gap": "mean |PW expectation - staff mean belief about the role|, 0..1",
    "pw_role_ambiguity": "mean PW role ambiguity, 0..1",
    "consensus": "1 - spread of role beliefs in the team, 0..1",
    "status_gap": "mean status of staff (managers and non-peer staff) - mean PW status, -1..1",
    "pw_integration": "mean tie of PWs to colleagues, 0..1",
    "pw_meeting_attendance": "share of PWs at this week's meeting, 0..1",
    "staff_meeting_attendance": "share of staff (managers and non-peer) at the meeting, 0..1",
    "pw_confidence": "mean PW identity certainty, 0..1",
    "pw_supported": "mean PW feeling supported, 0..1",
    "pw_disempowerment": "mean PW moving average of being overruled, 0..1",
    "pw_strain": "mean PW strain, >= 0",
    "staff_strain": "mean strain of staff (managers and non-peer), >= 0",
    "pw_exits": "PWs who left this week, count",
    "staff_exits": "non-peer staff and managers who left this week, count",
    "pw_in_post": "PWs in post, count",
    "pw_vacancies": "open PW posts, count",
    "pw_valued_by_staff": "mean staff valuation of PWs, 0..1",
    "pw_valued_by_users": "mean service-user valuation of their PW, 0..1",
    "user_recovery": "mean service-user recovery/empowerment, 0..1",
    "user_admissions": "admissions this week, count",
    "boundary_events": "boundary-tension events this week, count",
}


def _mean(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    return team_mean(values, members)[:, 0]


def team_outcomes(model: PeerWorkModel, consensus: np.ndarray,
                  ambiguity: np.ndarray) -> dict[str, np.ndarray]:
    """This week's outcomes, each an array over teams."""
    wf, cl = model.workforce, model.caseload
    peer, staff = wf.is_peer, wf.is_staff  # staff: managers and non-peer staff
    pw_practice, staff_practice = _mean(wf.practice, peer), _mean(wf.practice, staff)
    belief = team_belief(wf)
    pw_posts = wf.role == PEER
    users_with_pw = (cl.peer_slot >= 0) & np.take_along_axis(
        peer, np.maximum(cl.peer_slot, 0), axis=1)
    return {
        "pw_practice": pw_practice,
        "staff_practice": staff_practice,
        "distinctiveness": pw_practice - staff_practice,
        "pw_dilution": _mean(np.maximum(wf.anchor - wf.practice, 0.0), peer),
        "expectation_gap": _mean(np.abs(wf.expectation - belief), peer),
        "pw_role_ambiguity": _mean(ambiguity, peer),
        "consensus": consensus,
        "status_gap": _mean(wf.status, staff) - _mean(wf.status, peer),
        "pw_integration": _mean(mean_tie(wf), peer),
        "pw_meeting_attendance": _mean(wf.attends_meeting.astype(float), peer),
        "staff_meeting_attendance": _mean(wf.attends_meeting.astype(float), staff),
        "pw_confidence": _mean(wf.confidence, peer),
        "pw_supported": _mean(wf.supported, peer),
        "pw_disempowerment": _mean(wf.disempowerment, peer),
        "pw_strain": _mean(wf.strain, peer),
        "staff_strain": _mean(wf.strain, staff),
        "pw_exits": (wf.exited & peer).sum(axis=1).astype(float),
        "staff_exits": (wf.exited & staff).sum(axis=1).astype(float),
        "pw_in_post": peer.sum(axis=1).astype(float),
        "pw_vacancies": (pw_posts & ~wf.occupied).sum(axis=1).astype(float),
        "pw_valued_by_staff": _mean(wf.staff_valuation, peer),
        "pw_valued_by_users": _mean(cl.valuation, users_with_pw),
        "user_recovery": cl.recovery.mean(axis=1),
        "user_admissions": cl.admitted_now.sum(axis=1).astype(float),
        "boundary_events": wf.boundary_event.sum(axis=1).astype(float),
    }


AGENT_COLUMNS = ("practice", "anchor", "role_belief", "expectation", "confidence", "status",
                 "strain", "supported", "disempowerment", "tenure_weeks", "fte")


#: Practice below what the post asks for that counts as drifted (working outside the peer
#: role) and as anchored in the role, for exit rates by drift (pattern 5; Lombardi 2025).
#: Assumption: a drift of 0.2 is two thirds of ``wellbeing.drift_reference``.
DRIFTED, ANCHORED = 0.2, 0.1
#: A recovery gain that matters to a person: half the standard deviation of recovery at the
#: start (Norman, Sloan & Wyrwich 2003: minimal important differences of health-related
#: measures cluster around half a standard deviation).
MEANINGFUL_GAIN_SD = 0.5


class Recorder:
    """Collects team outcomes every ``record_interval_weeks`` and agent snapshots.

    A model can hold several runs' teams (``sim.ensemble``); every table and the summary are
    read per run (``run``, 0 for a single run), with teams numbered from 0 within the run.
    """

    def __init__(self, model: PeerWorkModel) -> None:
        self.model = model
        # (week, outcomes) pairs, appended in one operation so a reader never sees a week
        # without its row (``timeseries`` may be called while another thread records).
        self._rows: list[tuple[int, dict[str, np.ndarray]]] = []
        self._agents: list[pd.DataFrame] = []
        n_teams = int(model.run_starts[-1])
        self._counts = {name: np.zeros(n_teams) for name in (  # per team, summed per run
            "pw_exits", "staff_exits", "pw_weeks_drifted", "pw_exits_drifted",
            "pw_weeks_anchored", "pw_exits_anchored")}
        self._leavers: list[pd.DataFrame] = []
        self._stack: tuple[int, np.ndarray, dict[str, np.ndarray]] | None = None

    def _teams(self, run: int) -> slice:
        starts = self.model.run_starts
        return slice(int(starts[run]), int(starts[run + 1]))

    def _of_run(self, frame: pd.DataFrame, run: int) -> pd.DataFrame:
        """The rows of a per-team table that belong to ``run``, teams numbered within it."""
        if len(self.model.run_starts) == 2:
            return frame
        teams = self._teams(run)
        rows = frame[(frame["team"] >= teams.start) & (frame["team"] < teams.stop)]
        return rows.assign(team=rows["team"] - teams.start).reset_index(drop=True)

    def record(self, week: int, consensus: np.ndarray, ambiguity: np.ndarray) -> None:
        out = self.model.params.output
        last = week == self.model.params.organisation.horizon_weeks - 1
        wf = self.model.workforce
        drift = np.maximum(wf.role_practice - wf.practice, 0.0)
        drifted = wf.is_peer & (drift >= DRIFTED)
        anchored = wf.is_peer & (drift < ANCHORED)
        counts = self._counts
        counts["pw_exits"] += (wf.exited & wf.is_peer).sum(axis=1)
        counts["staff_exits"] += (wf.exited & wf.is_staff).sum(axis=1)
        counts["pw_weeks_drifted"] += drifted.sum(axis=1)
        counts["pw_exits_drifted"] += (wf.exited & drifted).sum(axis=1)
        counts["pw_weeks_anchored"] += anchored.sum(axis=1)
        counts["pw_exits_anchored"] += (wf.exited & anchored).sum(axis=1)
        if wf.exited.any():
            self._leavers.append(self.agent_snapshot(week, wf.exited))
        if week % out.record_interval_weeks == 0 or last:
            self._rows.append((week, team_outcomes(self.model, consensus, ambiguity)))
        if week % out.agent_interval_weeks == 0 or last:
            self._agents.append(self.agent_snapshot(week))

    def agent_snapshot(self, week: int, who: np.ndarray | None = None) -> pd.DataFrame:
        """One row per person in post (or in ``who``): identity, role and state."""
        wf = self.model.workforce
        team, slot = np.nonzero(wf.occupied if who is None else who)
        columns = {"week": week, "team": team, "slot": slot,
                   "agent_id": wf.agent_id[team, slot],
                   "role": np.array(ROLE_NAMES)[wf.role[slot]],
                   "profession": np.array(PROFESSIONS)[wf.profession[team, slot]]}
        for name in AGENT_COLUMNS:
            columns[name] = getattr(wf, name)[team, slot]
        columns["mean_tie"] = mean_tie(wf)[team, slot]
        return pd.DataFrame(columns)

    def leavers(self, run: int = 0) -> pd.DataFrame:
        """One row per person who left: their state in the week they left."""
        return self._of_run(pd.concat(self._leavers, ignore_index=True) if self._leavers else
                            self.agent_snapshot(0, np.zeros_like(self.model.workforce.occupied)),
                            run)

    def timeseries(self, run: int = 0) -> pd.DataFrame:
        """Tidy table: one row per recorded week and team."""
        teams = self._teams(run)
        n_teams = teams.stop - teams.start
        weeks, stacked = self._stacked()
        data: dict[str, np.ndarray] = {
            "week": np.repeat(weeks, n_teams),
            "team": np.tile(np.arange(n_teams), len(weeks)),
        }
        for name in TEAM_OUTCOMES:
            data[name] = stacked[name][:, teams].ravel()
        return pd.DataFrame(data)

    def _stacked(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Recorded weeks, and each outcome as a (weeks, teams) array (kept until the next
        record, so an ensemble's runs are read from one stack)."""
        records = list(self._rows)  # a consistent copy, whatever is appended meanwhile
        if self._stack is None or self._stack[0] != len(records):
            weeks = np.array([week for week, _ in records], dtype=np.int64)
            n_teams = int(self.model.run_starts[-1])
            self._stack = (len(records), weeks, {name: np.array(
                [row[name] for _, row in records]).reshape(len(records), n_teams)
                for name in TEAM_OUTCOMES})
        return self._stack[1], self._stack[2]

    def agents(self, run: int = 0) -> pd.DataFrame:
        """Per-person snapshots every ``agent_interval_weeks`` and in the last week."""
        return self._of_run(pd.concat(self._agents, ignore_index=True), run)

    def summary(self, run: int = 0) -> dict[str, float]:
        """One row per run: end-of-run and whole-run means of every outcome, and turnover."""
        ts = self.timeseries(run)
        teams = self._teams(run)
        params = self.model.run_params[run]
        counts = {name: float(per_team[teams].sum()) for name, per_team in self._counts.items()}
        weekly = ts.groupby("week")[list(TEAM_OUTCOMES)].mean()
        row: dict[str, float] = {}
        for name in TEAM_OUTCOMES:
            row[f"{name}_final"] = float(weekly[name].iloc[-1]) if len(weekly) else np.nan
            row[f"{name}_mean"] = float(weekly[name].mean()) if len(weekly) else np.nan
        years = self.model.week / 52.0
        n_teams = teams.stop - teams.start
        pw_posts = n_teams * int((self.model.workforce.role == PEER).sum())
        staff_posts = n_teams * int((self.model.workforce.role != PEER).sum())
        row["pw_turnover_per_year"] = (counts["pw_exits"] / (pw_posts * years)
                                       if pw_posts and years else np.nan)
        row["staff_turnover_per_year"] = counts["staff_exits"] / (staff_posts * years) \
            if years else np.nan
        for name in ("pw_weeks_drifted", "pw_exits_drifted", "pw_weeks_anchored",
                     "pw_exits_anchored"):
            row[name] = counts[name]
        cl = self.model.caseload
        recovery = cl.recovery[teams]
        row["user_recovery_sd"] = float(recovery.std())
        gain = recovery - cl.baseline_recovery[teams]
        meaningful = MEANINGFUL_GAIN_SD * params.service_users.recovery_sd
        row["users_meaningful_gain"] = float((gain >= meaningful).sum() / n_teams)
        row["user_admissions_per_year"] = float(cl.admissions[teams].mean() / years) if years \
            else np.nan
        row["weeks"] = float(self.model.week)
        return row
