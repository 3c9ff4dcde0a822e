"""The workshop app's model: a preset plus the levers on the app's sliders and switches.

``sim/app.py`` only draws. This module turns the app's inputs into Hydra overrides
(``load_config(["scenario=london", "supervision.supervisor=peer", ...])``), builds the model
from them, and reads what the plots and the team view show. It holds no browser state: the app
creates one :class:`WorkshopModel` per browser session, and Reset creates the next one.

A lever left at its preset's value adds no override, so ``WorkshopModel(preset="north")`` is
exactly the ``scenario=north`` run of ``python -m sim.run`` (at the app's size and seed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from sim.agents import PEER
from sim.config import SimConfig, load_config
from sim.model import PeerWorkModel
from sim.params import ConfigError

#: Presets offered in the app: conf/scenario/<name>.yaml, with a label for the menu.
PRESETS = {
    "london": "London (NHS): informal, flexible hours, clinical supervision",
    "south": "South (NHS): informal, fixed part-time, clinical supervision, peer course",
    "north": "North (voluntary): informal, unpaid volunteers, occasional mixed support",
    "good_practice": "Good practice: formal, aligned days, peer supervision, co-produced",
    "no_pw": "No Peer Workers (comparison for service-user benefit)",
}


@dataclass(frozen=True)
class Lever:
    """One input of the app: the config key it sets, how it is shown, and what it allows."""

    key: str
    label: str
    kind: str  # "select", "int", "float" or "bool"
    values: tuple[Any, ...] = ()  # choices of a select; (min, max, step) of a slider


#: The levers, in the order the app shows them. Names are the model's keyword arguments.
LEVERS = {
    "recruitment": Lever("recruitment.process", "Recruitment", "select",
                         ("formal", "informal")),
    "pw_hours": Lever("working_patterns.fte", "PW hours (share of full time)", "float",
                      (0.1, 1.0, 0.1)),
    "working_days": Lever("working_patterns.days", "PW working days", "select",
                          ("fixed", "flexible")),
    "meeting_aligned": Lever("working_patterns.aligned_with_meeting",
                             "Fixed days include the team meeting", "bool"),
    "paid": Lever("working_patterns.paid", "PWs are paid", "bool"),
    "supervisor": Lever("supervision.supervisor", "Supervisor", "select",
                        ("clinical", "mixed", "peer")),
    "boundary_focus": Lever("supervision.boundary_focus", "Boundaries in supervision", "select",
                            ("protective", "personal")),
    "supervision_interval": Lever("supervision.interval_weeks",
                                  "Weeks between supervision sessions", "int", (1, 26, 1)),
    "training_content": Lever("supervision.training_content", "PW training", "select",
                              ("conventional", "peer")),
    "training_sessions": Lever("supervision.training_sessions", "Training sessions", "int",
                               (0, 20, 1)),
    "whole_team_training": Lever("supervision.whole_team_training",
                                 "Whole team trained about the PW role", "bool"),
    "coproduced_definition": Lever("boundaries.coproduced_role_definition",
                                   "Co-produced definition of peer practice", "bool"),
    "peer_network": Lever("context.peer_network", "Cross-team peer network", "bool"),
    "sector": Lever("context.sector", "Organisation", "select",
                    ("nhs", "voluntary", "partnership")),
    "team_size": Lever("team.n_nonpeer_staff", "Non-peer staff per team", "int", (2, 20, 1)),
    "pw_count": Lever("team.n_peer_workers", "PW posts per team", "int", (0, 6, 1)),
}

#: Size of the app's organisation: small enough to redraw every week, big enough for a band.
APP_TEAMS = 4
APP_HORIZON_WEEKS = 156

# Hydra's compose API keeps global state: one composition at a time across browser sessions.
_COMPOSE_LOCK = threading.Lock()


def _compose(overrides: list[str]) -> SimConfig:
    with _COMPOSE_LOCK:
        return load_config(overrides)


def _get(cfg: SimConfig, key: str) -> Any:
    value: Any = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


@lru_cache(maxsize=len(PRESETS))
def _preset_config(preset: str) -> SimConfig:
    if preset not in PRESETS:
        raise ConfigError("preset", preset, "one of " + ", ".join(PRESETS))
    return _compose([f"scenario={preset}"])


def preset_levers(preset: str) -> dict[str, Any]:
    """The value every lever has in a preset (what the app's inputs show after choosing it)."""
    cfg = _preset_config(preset)
    return {name: _get(cfg, lever.key) for name, lever in LEVERS.items()}


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def overrides_for(preset: str, seed: int = 1, n_teams: int = APP_TEAMS,
                  horizon_weeks: int = APP_HORIZON_WEEKS, **levers: Any) -> list[str]:
    """Hydra overrides for a preset plus the levers that differ from it."""
    unknown = set(levers) - set(LEVERS)
    if unknown:
        raise ConfigError(sorted(unknown)[0], levers[sorted(unknown)[0]],
                          "one of the levers " + ", ".join(LEVERS))
    base = preset_levers(preset)
    overrides = [f"scenario={preset}", f"seed={int(seed)}", f"organisation.n_teams={n_teams}",
                 f"organisation.horizon_weeks={horizon_weeks}"]
    for name, value in levers.items():
        if value is None:
            continue
        if LEVERS[name].kind == "int":
            value = int(value)
        elif LEVERS[name].kind == "float":
            value = round(float(value), 6)
        if value != base[name]:
            overrides.append(f"{LEVERS[name].key}={_format(value)}")
    return overrides


class WorkshopModel(PeerWorkModel):
    """``PeerWorkModel`` built from a preset and lever values.

    ``kwargs`` are levers (names in :data:`LEVERS`); levers left out, or ``None``, keep the
    preset's value. ``inputs`` (optional) returns the app's current preset, seed and levers;
    when given, it replaces the other arguments (the app's Reset passes its session's inputs).
    ``memory`` (optional) is a :class:`RunMemory` shared by the models of one browser session,
    so the plots can show the previous run next to this one.
    """

    def __init__(self, preset: str = "london", seed: int = 1, n_teams: int = APP_TEAMS,
                 horizon_weeks: int = APP_HORIZON_WEEKS, memory: RunMemory | None = None,
                 inputs: Callable[[], dict[str, Any]] | None = None, **kwargs: Any) -> None:
        if inputs is not None:  # the app's current inputs take precedence over the arguments
            kwargs = dict(inputs())
            preset, seed = kwargs.pop("preset"), kwargs.pop("seed")
        self.overrides = overrides_for(preset, seed, n_teams, horizon_weeks, **kwargs)
        super().__init__(_compose(self.overrides))
        self.preset = preset
        self.label = describe_run(preset, self.overrides, int(seed))
        self.lock = threading.RLock()  # one week at a time, and no reading half a week
        self._frame: Frame | None = None
        if memory is not None:
            memory.remember(self)

    def step(self) -> None:
        """One week, under the model's lock; past the horizon a step does nothing.

        Playing steps *weeks per redraw* weeks between redraws, which need not divide the
        horizon: without the guard a run would go on past its last week.
        """
        with self.lock:
            if self.running:
                super().step()

    def frame(self) -> Frame:
        """What the page shows of this week, copied under the lock (cached until the next step)."""
        with self.lock:
            if self._frame is None or self._frame.week != self.week:
                self._frame = Frame(
                    week=self.week, label=self.label,
                    horizon=self.params.organisation.horizon_weeks,
                    n_teams=self.params.organisation.n_teams, table=weekly(self),
                    teams=tuple(team_view(self, t)
                                for t in range(self.params.organisation.n_teams)))
            return self._frame


def frame_csv(frame: Frame) -> bytes:
    """A run's weekly table as CSV: one row per week, every outcome's mean over teams and CI.

    The first columns say which run it is (its label) and the week, so files from several runs
    can be stacked. Numbers are written in full (shortest round-trip form), so two exports of
    the same settings and seed are identical byte for byte.
    """
    table = frame.table.reset_index()
    table.insert(0, "run", frame.label)
    return table.to_csv(index=False).encode()


@dataclass(frozen=True, eq=False)  # compared by identity: one frame per model and week
class Frame:
    """A consistent copy of one week of a run: everything the plots, monitors and export read."""

    week: int  # weeks simulated so far
    label: str  # the run's preset, changed levers and seed
    horizon: int  # weeks in the run
    n_teams: int
    table: pd.DataFrame  # :func:`weekly`: mean over teams and 95% CI half-width, per week
    teams: tuple[TeamView, ...]  # one per team, this week


def describe_run(preset: str, overrides: list[str], seed: int) -> str:
    """A short label: the preset, the levers changed from it (by their app labels), the seed."""
    labels = {lever.key: lever.label for lever in LEVERS.values()}
    changed = [f"{labels.get(key, key)}: {value}"
               for key, value in (o.split("=", 1) for o in overrides[4:])]
    return preset + (f" + {'; '.join(changed)}" if changed else "") + f" (seed {seed})"


class RunMemory:
    """The current model of one browser session and its last few runs (newest first).

    A run is remembered when the next one starts, if it was stepped at all.
    """

    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self.current: WorkshopModel | None = None
        self.history: list[WorkshopModel] = []

    @property
    def previous(self) -> WorkshopModel | None:
        """The run before this one (``None`` if there is none)."""
        return self.history[0] if self.history else None

    def remember(self, model: WorkshopModel) -> None:
        if self.current is not None and self.current.week > 0:
            self.history = [self.current, *self.history][:self.keep]
        self.current = model


def weekly(model: PeerWorkModel) -> pd.DataFrame:
    """Team outcomes so far: per week, the mean over teams and the 95% CI half-width.

    Columns ``<outcome>`` and ``<outcome>_ci``; ``pw_leavers_so_far`` counts PW exits per team
    since week 0. Empty before the first step.
    """
    ts = model.recorder.timeseries()
    if ts.empty:
        return pd.DataFrame()
    ts = ts.sort_values(["team", "week"])
    ts["pw_leavers_so_far"] = ts.groupby("team")["pw_exits"].cumsum()
    grouped = ts.drop(columns="team").groupby("week")
    mean, sd, n = grouped.mean(), grouped.std().fillna(0.0), grouped.count()
    half = 1.96 * sd / np.sqrt(np.maximum(n, 1))
    return mean.join(half.add_suffix("_ci"))


@dataclass
class TeamView:
    """One team this week, for the team view: one entry per post (slot), in post or vacant."""

    role: np.ndarray  # "manager", "staff" or "PW"
    occupied: np.ndarray  # someone is in post
    practice: np.ndarray  # 0 conventional .. 1 distinctive peer practice
    status: np.ndarray  # standing in the team, 0..1
    present: np.ndarray  # at work on at least one day this week
    at_meeting: np.ndarray  # at this week's team meeting
    ties: np.ndarray  # (posts, posts) tie strength 0..1


def team_view(model: PeerWorkModel, team: int = 0) -> TeamView:
    """Read one team's people, state and ties from the model's arrays (no agent lookups)."""
    wf = model.workforce
    role = np.where(wf.role == PEER, "PW", np.where(wf.role == 0, "manager", "staff"))
    return TeamView(
        role=role,
        occupied=wf.occupied[team].copy(),
        practice=wf.practice[team].copy(),
        status=wf.status[team].copy(),
        present=wf.present_days[team].any(axis=1) & wf.occupied[team],
        at_meeting=wf.attends_meeting[team] & wf.occupied[team],
        ties=wf.ties[team].copy(),
    )
