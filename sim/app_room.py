"""The participatory room (like NetLogo's HubNet, offline, in the browser): the logic, no UI.

A facilitator opens a room with a short code. Participants join with the code and each takes
one person of ONE shared team (team 1 of the run): a PW, the manager or a clinician. Every
:data:`PERIOD_WEEKS` weeks of model time is a decision point: each participant chooses what
their person does over the next period; everyone else in the organisation follows the model's
rules, and so does a participant's person for any decision they leave open (or if they drop
out). The facilitator advances time. The debrief compares the room's team with the same team
run by the model's own rules, same settings and seed.

How a choice replaces a rule: the rules write a week's decisions into the workforce's arrays
(``attends_meeting``, ``supervised``, ``boundary_event``, ``exited``) and read them back.
:class:`ChoosingWorkforce` applies the room's choices as each array is written, so the rest of
the week (status at the meeting, support, practice pulled back, the leaver's empty post) follows
from the choice exactly as it would from the rule's own decision. The rules are not changed.

Security: a participant acts only through the secret token they got when joining, only for
their own seat, only with the choices :data:`DECISIONS` lists for their role; nothing a
participant sends can change the run's settings (preset, seed, horizon), which only
:meth:`Room.__init__` takes. Every input is checked; a bad one raises :class:`RoomError` with
one plain sentence, which the page shows.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.agents import MANAGER, PEER, Workforce
from sim.app_model import PRESETS, WorkshopModel

#: Weeks between decision points (one month of model time).
PERIOD_WEEKS = 4
#: A room's run: one year, so 13 decision points fit a workshop.
ROOM_HORIZON_WEEKS = 52
#: Teams in a room's organisation: the room's team (team 1) and three run by the rules.
ROOM_TEAMS = 4
#: Room codes: letters nobody confuses when read off a projector (no I, O, L, 0, 1).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 4
MAX_NAME_LENGTH = 30


@dataclass(frozen=True)
class Decision:
    """One choice a person makes for a period: a question and its options (option -> words)."""

    question: str
    options: dict[str, str]
    roles: tuple[str, ...]  # which roles make it: "PW", "manager", "clinician"


#: What a participant can decide for their person, each period. An open decision follows the
#: model's rule. "go along" / "go if due" options are what the rule itself does, so choosing
#: them makes the person's behaviour certain rather than drawn.
DECISIONS = {
    "meeting": Decision(
        "Go to the team meetings this month?",
        {"attend": "attend (on any week I am at work)", "skip": "skip them"},
        ("PW", "manager", "clinician")),
    "boundaries": Decision(
        "When the manager challenges PW practice as beyond the boundary?",
        {"hold": "hold my ground: keep my peer practice", "accept": "accept: pull back"},
        ("PW",)),
    "challenge": Decision(
        "Challenge PW practice that goes beyond what you allow?",
        {"challenge": "challenge it (the model's rule)", "let_stand": "let it stand"},
        ("manager",)),
    "supervision": Decision(
        "Go to supervision when it is due this month?",
        {"attend": "go when due", "skip": "skip it"},
        ("PW",)),
    "post": Decision(
        "Stay in post or leave?",
        {"stay": "stay this month", "leave": "leave now"},
        ("PW", "manager", "clinician")),
}


class RoomError(ValueError):
    """A refused input: the message is one plain sentence for the person who sent it."""


class ChoosingWorkforce(Workforce):
    """The workforce of a room's model: the room's choices replace the rules' decisions.

    ``choices`` maps (team, slot) to {decision: option} for this period; a decision left out
    follows the rule. Each overridden array is a property whose setter applies the choices, so
    a rule that writes the array and reads it back sees the chosen value.
    """

    def __post_init__(self) -> None:
        self.choices: dict[tuple[int, int], dict[str, str]] = {}
        self.first_week_of_period = False
        super().__post_init__()

    def _apply(self, name: str, value: np.ndarray) -> np.ndarray:
        value = np.array(value, dtype=bool)
        if not getattr(self, "choices", None):
            return value
        for (team, slot), chosen in self.choices.items():
            if name == "attends_meeting" and "meeting" in chosen:
                at_work = bool(self.present_days[team, slot].any())
                value[team, slot] = chosen["meeting"] == "attend" and at_work
            elif name == "supervised" and chosen.get("supervision") == "skip":
                value[team, slot] = False
            elif name == "boundary_event":
                if chosen.get("boundaries") == "hold":
                    value[team, slot] = False
                if chosen.get("challenge") == "let_stand":
                    value[team, self.role == PEER] = False  # the manager lets every PW be
            elif name == "exited" and "post" in chosen:
                leave = chosen["post"] == "leave" and self.first_week_of_period
                value[team, slot] = leave and bool(self.occupied[team, slot])
        return value


def _overridden(name: str) -> property:
    def get(self: ChoosingWorkforce) -> np.ndarray:
        return self.__dict__[name]

    def set_(self: ChoosingWorkforce, value: np.ndarray) -> None:
        self.__dict__[name] = self._apply(name, value)

    return property(get, set_)


for _name in ("attends_meeting", "supervised", "boundary_event", "exited"):
    setattr(ChoosingWorkforce, _name, _overridden(_name))


class RoomModel(WorkshopModel):
    """A workshop model whose people can be played by the room (see :class:`ChoosingWorkforce`)."""

    workforce_type = ChoosingWorkforce


@dataclass(frozen=True)
class Seat:
    """One person of the room's team a participant can play."""

    seat: str  # "pw1", "manager", "clinician1", ...
    role: str  # "PW", "manager" or "clinician"
    slot: int  # the post's index in the team
    label: str  # "PW 1", "Manager", "Clinician 1"


@dataclass
class Player:
    name: str
    seat: str
    token: str = field(repr=False)


def seats_of(model: WorkshopModel) -> dict[str, Seat]:
    """Every post of team 1, PWs first, then the manager, then the clinicians."""
    roles = model.workforce.role
    pws = [s for s in range(len(roles)) if roles[s] == PEER]
    staff = [s for s in range(len(roles)) if roles[s] not in (PEER, MANAGER)]
    seats = [Seat(f"pw{i + 1}", "PW", s, f"PW {i + 1}") for i, s in enumerate(pws)]
    seats.append(Seat("manager", "manager", int(np.nonzero(roles == MANAGER)[0][0]), "Manager"))
    seats += [Seat(f"clinician{i + 1}", "clinician", s, f"Clinician {i + 1}")
              for i, s in enumerate(staff)]
    return {seat.seat: seat for seat in seats}


#: The outcomes the debrief compares (column of the model's weekly table, plain label).
DEBRIEF_OUTCOMES = (
    ("distinctiveness", "Distinctiveness of PW practice (PW - staff)"),
    ("expectation_gap", "Expectation gap"),
    ("status_gap", "Status gap (staff - PW)"),
    ("pw_strain", "PW strain"),
    ("pw_in_post", "PWs in post"),
    ("user_recovery", "Service-user recovery"),
)


class Room:
    """One shared run played by a room: seats, players, this period's choices, the log.

    Every method takes the room's lock: participants' browser sessions call it from their own
    threads.
    """

    def __init__(self, preset: str = "london", seed: int = 1,
                 horizon_weeks: int = ROOM_HORIZON_WEEKS, code: str | None = None) -> None:
        if preset not in PRESETS:
            raise RoomError(f"preset {preset!r} is not one of {', '.join(PRESETS)}")
        if not (isinstance(seed, int) and 1 <= seed <= 1000):
            raise RoomError(f"seed {seed!r} must be a whole number from 1 to 1000")
        if not (isinstance(horizon_weeks, int) and PERIOD_WEEKS <= horizon_weeks <= 156):
            raise RoomError(f"horizon {horizon_weeks!r} must be {PERIOD_WEEKS} to 156 weeks")
        self.code = code or "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        self.facilitator_key = secrets.token_urlsafe(16)
        self.preset, self.seed, self.horizon = preset, seed, horizon_weeks
        self.model = RoomModel(preset=preset, seed=seed, n_teams=ROOM_TEAMS,
                               horizon_weeks=horizon_weeks)
        self.seats = seats_of(self.model)
        self.players: dict[str, Player] = {}  # token -> player
        self.choices: dict[str, dict[str, str]] = {}  # seat -> {decision: option}
        self.log: list[dict] = []  # one row per seat and period: what was decided, by whom
        #: Counts every change (join, choice, leaving, advance): a page redraws when it moves.
        self.version = 0
        self.lock = threading.RLock()

    # --- participants -----------------------------------------------------------------
    def join(self, code: str, seat: str, name: str) -> str:
        """Take ``seat``; return the token that lets this participant act for it."""
        name = str(name).strip()
        with self.lock:
            self._check_code(code)
            if seat not in self.seats:
                raise RoomError(f"there is no seat {seat!r} in this room")
            if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
                raise RoomError(f"a name must be 1 to {MAX_NAME_LENGTH} printable characters")
            if any(p.seat == seat for p in self.players.values()):
                raise RoomError(f"{self.seats[seat].label} is already taken")
            token = secrets.token_urlsafe(16)
            self.players[token] = Player(name, seat, token)
            self.version += 1
            return token

    def drop(self, token: str) -> None:
        """A participant leaves: their seat is free again and their person follows the rules."""
        with self.lock:
            player = self._player(token)
            del self.players[token]
            self.choices.pop(player.seat, None)
            self.version += 1

    def seat_of(self, token: str) -> Seat:
        with self.lock:
            return self.seats[self._player(token).seat]

    def decisions_for(self, seat: str) -> dict[str, Decision]:
        role = self.seats[seat].role
        return {key: d for key, d in DECISIONS.items() if role in d.roles}

    def choose(self, token: str, decision: str, option: str | None) -> None:
        """Choose ``option`` for ``decision`` this period (``None``: back to the rule)."""
        with self.lock:
            player = self._player(token)
            if self.finished:
                raise RoomError("the run has ended: no more choices")
            allowed = self.decisions_for(player.seat)
            if decision not in allowed:
                raise RoomError(f"{self.seats[player.seat].label} has no decision {decision!r}")
            if option is not None and option not in allowed[decision].options:
                raise RoomError(f"{option!r} is not an option of {decision!r}: choose "
                                + " or ".join(allowed[decision].options))
            mine = self.choices.setdefault(player.seat, {})
            if option is None:
                mine.pop(decision, None)
            else:
                mine[decision] = option
            self.version += 1

    def my_choices(self, token: str) -> dict[str, str]:
        with self.lock:
            return dict(self.choices.get(self._player(token).seat, {}))

    # --- facilitator ------------------------------------------------------------------
    @property
    def week(self) -> int:
        return self.model.week

    @property
    def finished(self) -> bool:
        return not self.model.running

    def status(self) -> list[dict]:
        """One row per seat: who plays it and how many of its decisions they have made."""
        with self.lock:
            by_seat = {p.seat: p.name for p in self.players.values()}
            return [{"seat": s.label, "player": by_seat.get(key, ""),
                     "chosen": len(self.choices.get(key, {})),
                     "decisions": len(self.decisions_for(key))}
                    for key, s in self.seats.items()]

    def advance(self, key: str) -> int:
        """Play the next period with this period's choices; return the week reached."""
        with self.lock:
            if not secrets.compare_digest(str(key), self.facilitator_key):
                raise RoomError("only the facilitator can advance time")
            if self.finished:
                raise RoomError("the run has ended")
            wf = self.model.workforce
            assert isinstance(wf, ChoosingWorkforce)
            for seat_key, seat in self.seats.items():
                chosen = self.choices.get(seat_key, {})
                player = next((p.name for p in self.players.values() if p.seat == seat_key), "")
                for decision in self.decisions_for(seat_key):
                    self.log.append({"week": self.week, "seat": seat.label, "player": player,
                                     "decision": decision,
                                     "choice": chosen.get(decision, "model's rule")})
            wf.choices = {(0, self.seats[k].slot): dict(v) for k, v in self.choices.items() if v}
            for i in range(PERIOD_WEEKS):
                if self.finished:
                    break
                wf.first_week_of_period = i == 0
                self.model.step()
            wf.choices = {}
            # "leave" is done once; a newcomer in that post starts with open decisions.
            self.choices = {k: {d: o for d, o in v.items() if d != "post"}
                            for k, v in self.choices.items()}
            self.version += 1
            return self.week

    def debrief(self) -> pd.DataFrame:
        """The room's team against the same team under the model's rules, same seed, this week.

        One row per outcome: its value in the room's run and in the rules' run, at the last
        week played, and the difference (room - rules).
        """
        with self.lock:
            rules = WorkshopModel(preset=self.preset, seed=self.seed, n_teams=ROOM_TEAMS,
                                  horizon_weeks=self.horizon)
            for _ in range(self.week):
                rules.step()
            rows = []
            room_team, rules_team = _team_table(self.model), _team_table(rules)
            for column, label in DEBRIEF_OUTCOMES:
                room = float(room_team[column].iloc[-1]) if len(room_team) else np.nan
                model = float(rules_team[column].iloc[-1]) if len(rules_team) else np.nan
                rows.append({"outcome": label, "room": room, "model's rules": model,
                             "difference": room - model})
            return pd.DataFrame(rows)

    # --- checks -----------------------------------------------------------------------
    def _check_code(self, code: str) -> None:
        if not secrets.compare_digest(str(code).strip().upper(), self.code):
            raise RoomError("that room code is not right: check the code on the screen")

    def _player(self, token: str) -> Player:
        player = self.players.get(str(token))
        if player is None:
            raise RoomError("you are not in this room (join again with the room code)")
        return player


def _team_table(model: WorkshopModel) -> pd.DataFrame:
    """Team 1's weekly outcomes."""
    ts = model.recorder.timeseries()
    return ts[ts["team"] == 0].sort_values("week").reset_index(drop=True)


class Rooms:
    """The open rooms of one server, by code (rooms are shared between browser sessions on
    purpose: that is what a room is)."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}
        self._lock = threading.Lock()

    def open(self, preset: str = "london", seed: int = 1,
             horizon_weeks: int = ROOM_HORIZON_WEEKS) -> Room:
        with self._lock:
            while True:
                room = Room(preset, seed, horizon_weeks)
                if room.code not in self._rooms:
                    self._rooms[room.code] = room
                    return room

    def find(self, code: str) -> Room:
        with self._lock:
            room = self._rooms.get(str(code).strip().upper())
        if room is None:
            raise RoomError("no room has that code: check the code on the screen")
        return room


#: The server's rooms (one Solara server process serves every laptop in the room).
ROOMS = Rooms()
