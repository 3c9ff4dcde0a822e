"""Team outcomes per week, per-agent snapshots and the run summary.

Names say what is measured and on what scale; the same names appear in tables, plots and the
ODD (section 7.9). PW outcomes are NaN for a week in which a team has no PW in post.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.agents import PEER, PROFESSIONS, ROLE_NAMES
from sim.rules.boundaries import masked_mean, team_mean
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


@dataclass(frozen=True)
class Week:
    """What the week's rules already computed that the record reuses, all unchanged between
    the strain step and recording: (teams,) consensus, (teams, slots) role ambiguity and mean
    tie, (teams, 1) staff's mean belief about the PW role."""

    consensus: np.ndarray
    ambiguity: np.ndarray
    mean_tie: np.ndarray
    staff_belief: np.ndarray


#: Outcomes that are means over the team's PWs (first) or staff, of a (teams, slots) value.
PW_MEANS = ("pw_practice", "pw_dilution", "expectation_gap", "pw_role_ambiguity", "pw_status",
            "pw_integration", "pw_meeting_attendance", "pw_confidence", "pw_supported",
            "pw_disempowerment", "pw_strain", "pw_valued_by_staff")
STAFF_MEANS = ("staff_practice", "staff_status", "staff_meeting_attendance", "staff_strain")
#: Outcomes that count people or events per team.
COUNTS = ("pw_exits", "staff_exits", "pw_in_post", "pw_vacancies", "boundary_events")


def team_outcomes(model: PeerWorkModel, week: Week) -> dict[str, np.ndarray]:
    """This week's outcomes, each an array over teams."""
    wf, cl = model.workforce, model.caseload
    peer, staff = wf.is_peer, wf.is_staff  # staff: managers and non-peer staff
    attends = wf.attends_meeting.astype(float)
    shape = peer.shape
    pw_values = (wf.practice, np.maximum(wf.anchor - wf.practice, 0.0),
                 np.abs(wf.expectation - week.staff_belief),
                 np.broadcast_to(week.ambiguity, shape), wf.status, week.mean_tie, attends,
                 wf.confidence, wf.supported, wf.disempowerment, wf.strain, wf.staff_valuation)
    staff_values = (wf.practice, wf.status, attends, wf.strain)
    members = np.empty((len(pw_values) + len(staff_values),) + shape, dtype=bool)
    members[:len(pw_values)], members[len(pw_values):] = peer, staff
    # one masked reduction for all (k, teams, slots) values
    means = dict(zip(PW_MEANS + STAFF_MEANS,
                     masked_mean(np.stack(pw_values + staff_values), members), strict=True))
    counted = np.stack([wf.exited & peer, wf.exited & staff, peer,
                        np.broadcast_to((wf.role == PEER) & ~wf.occupied, shape),
                        wf.boundary_event]).sum(axis=-1).astype(float)
    users_with_pw = (cl.peer_slot >= 0) & np.take_along_axis(
        peer, np.maximum(cl.peer_slot, 0), axis=1)
    outcomes = {  # pw_status and staff_status only make status_gap
        **means,
        **dict(zip(COUNTS, counted, strict=True)),
        "distinctiveness": means["pw_practice"] - means["staff_practice"],
        "consensus": week.consensus,
        "status_gap": means["staff_status"] - means["pw_status"],
        "pw_valued_by_users": team_mean(cl.valuation, users_with_pw)[:, 0],
        "user_recovery": cl.recovery.mean(axis=1),
        "user_admissions": cl.admitted_now.sum(axis=1).astype(float),
    }
    return {name: outcomes[name] for name in TEAM_OUTCOMES}


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


def snapshot_frame(snapshots: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One table of agent snapshots (``Recorder.agent_snapshot``), roles and professions named."""
    columns = {name: np.concatenate([snap[name] for snap in snapshots]) for name in snapshots[0]}
    columns["role"] = np.array(ROLE_NAMES)[columns["role"]]
    columns["profession"] = np.array(PROFESSIONS)[columns["profession"]]
    return pd.DataFrame(columns)


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
        # snapshots as columns of arrays; frames are built when a table is read (a frame per
        # week of leavers cost more than the week's rules)
        self._agents: list[dict[str, np.ndarray]] = []
        n_teams = int(model.run_starts[-1])
        self._counts = {name: np.zeros(n_teams) for name in (  # per team, summed per run
            "pw_exits", "staff_exits", "pw_weeks_drifted", "pw_exits_drifted",
            "pw_weeks_anchored", "pw_exits_anchored", "pw_weeks", "pw_sick_weeks",
            "staff_weeks", "staff_sick_weeks")}
        self._leavers: list[dict[str, np.ndarray]] = []
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

    def record(self, week: int, state: Week) -> None:
        out = self.model.params.output
        last = week == self.model.params.organisation.horizon_weeks - 1
        wf = self.model.workforce
        peer, staff, exited, sick = wf.is_peer, wf.is_staff, wf.exited, wf.sick
        drift = np.maximum(wf.role_practice - wf.practice, 0.0)
        drifted, anchored = peer & (drift >= DRIFTED), peer & (drift < ANCHORED)
        weekly = np.stack([exited & peer, exited & staff, drifted, exited & drifted,
                           anchored, exited & anchored, peer, sick & peer, staff,
                           sick & staff]).sum(axis=-1)
        for total, this_week in zip(self._counts.values(), weekly, strict=True):
            total += this_week
        if exited.any():
            self._leavers.append(self.agent_snapshot(week, exited, state.mean_tie))
        if week % out.record_interval_weeks == 0 or last:
            self._rows.append((week, team_outcomes(self.model, state)))
        if week % out.agent_interval_weeks == 0 or last:
            self._agents.append(self.agent_snapshot(week, mean_ties=state.mean_tie))

    def agent_snapshot(self, week: int, who: np.ndarray | None = None,
                       mean_ties: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """One row per person in post (or in ``who``): identity, role and state, as columns
        (role and profession as codes; :func:`snapshot_frame` names them)."""
        wf = self.model.workforce
        mean_ties = mean_tie(wf) if mean_ties is None else mean_ties
        team, slot = np.nonzero(wf.occupied if who is None else who)
        columns = {"week": np.full(len(team), week, dtype=np.int64), "team": team, "slot": slot,
                   "agent_id": wf.agent_id[team, slot], "role": wf.role[slot],
                   "profession": wf.profession[team, slot]}
        for name in AGENT_COLUMNS:
            columns[name] = getattr(wf, name)[team, slot]
        columns["mean_tie"] = mean_ties[team, slot]
        return columns

    def leavers(self, run: int = 0) -> pd.DataFrame:
        """One row per person who left: their state in the week they left."""
        return self._of_run(snapshot_frame(self._leavers or [
            self.agent_snapshot(0, np.zeros_like(self.model.workforce.occupied))]), run)

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
        return self._of_run(snapshot_frame(self._agents), run)

    def results(self, run: int = 0) -> tuple[dict[str, float], pd.DataFrame]:
        """Run ``run``'s summary and time series, the table built once for both."""
        timeseries = self.timeseries(run)
        return self.summary(run, timeseries), timeseries

    def summary(self, run: int = 0, timeseries: pd.DataFrame | None = None) -> dict[str, float]:
        """One row per run: end-of-run and whole-run means of every outcome, and turnover
        (``timeseries``: the run's ``timeseries(run)``, if already built)."""
        ts = self.timeseries(run) if timeseries is None else timeseries
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
        for who in ("pw", "staff"):  # share of the weeks people were in post spent off sick
            weeks_in_post = counts[f"{who}_weeks"]
            row[f"{who}_sickness_absence"] = (counts[f"{who}_sick_weeks"] / weeks_in_post
                                              if weeks_in_post else np.nan)
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
