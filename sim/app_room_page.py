"""The participatory room's pages: ``/facilitator`` (open a room, see who has chosen, advance
time, debrief) and ``/room`` (join with the code, choose for your person).

Thin: every action is a call on :class:`sim.app_room.Room`, which checks it; a refused input
shows the room's one-sentence message. A participant's page has no settings at all: it can
only join, choose for its own seat and leave. Both pages look at the shared room four times a
second and redraw when what they show of it has changed (the room changes in other people's
browser sessions).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

import pandas as pd
import solara

from sim.app_model import PRESETS
from sim.app_room import PERIOD_WEEKS, ROOMS, Room, RoomError, Seat

RULE = "let the model decide"
REFRESH_S = 0.25
#: Large type for the projector: the code, the table of who plays whom, the debrief.
ROOM_CSS = """
.room-code { font-size: 3em; font-weight: bold; letter-spacing: 0.15em; }
.room-status, .room-week, .room-join, .debrief, .my-week, .my-person { font-size: 1.15em; }
.room-status div { padding: 2px 0; }
.room-team { max-width: 100%; height: auto; }
.question { display: block; font-weight: bold; margin: 14px 0 4px 0; }
.my-person { font-weight: normal; }
/* Choices wrap on a phone instead of running off the screen; plain case reads better. */
.room-page .v-btn-toggle { flex-wrap: wrap; max-width: 100%; }
.room-page .v-btn-toggle .v-btn { height: auto !important; min-height: 40px !important;
  padding: 8px 14px !important; white-space: normal; text-transform: none; font-size: 1em;
  letter-spacing: normal; border: 1px solid #bbb !important; margin: 0 -1px -1px 0; }
.room-page .v-btn-toggle .v-btn .v-btn__content { white-space: normal; }
.room-page .v-btn-toggle .v-btn.v-btn--active { background-color: #1565c0 !important;
  color: white !important; font-weight: bold; }
.room-page .v-btn-toggle .v-btn.v-btn--active::before { opacity: 0 !important; }
.room-join, .room-week { display: block; margin-top: 6px; }
.debrief table { border-collapse: collapse; }
.debrief td, .debrief th { padding: 4px 14px; border-bottom: 1px solid #ddd; text-align: right; }
.debrief td:first-child, .debrief th:first-child { text-align: left; }
"""


def _use_room_updates(what_is_shown: Callable[[], object]) -> None:
    """Redraw the page when what it shows of the shared room has changed, in whichever browser
    session: every :data:`REFRESH_S` seconds ``what_is_shown()`` is read (a small value, such
    as the room's version), and only a new value redraws the page (setting a reactive value to
    the value it has changes nothing)."""
    shown = solara.use_reactive(None)

    def loop() -> None:
        while True:
            time.sleep(REFRESH_S)
            shown.value = what_is_shown()

    solara.use_thread(loop, dependencies=[])
    shown.get()  # read while rendering: that is what makes a new value redraw the page


def _facilitator_view(opened: solara.Reactive) -> object:
    """The facilitator sees everything: the room's version."""
    return None if opened.value is None else (opened.value[0].code, opened.value[0].version)


def _participant_view(joined: solara.Reactive, code: solara.Reactive) -> object:
    """Before joining: the room's free seats (its version); after: only the week and the
    participant's own choices, so other people's choices do not redraw every page."""
    if joined.value is None:
        room = _find(code.value)
        return None if room is None else (room.code, room.version)
    room, token = joined.value
    try:
        return room.week, tuple(room.my_choices(token).items())
    except RoomError:  # no longer in the room
        return None


def _find(code: str) -> Room | None:
    """The room with this code, or None while the code is incomplete or wrong."""
    try:
        return ROOMS.find(code) if len(code.strip()) >= 4 else None
    except RoomError:
        return None


def _attempt(error: solara.Reactive[str], action) -> None:
    try:
        action()
        error.value = ""
    except RoomError as refused:
        error.value = str(refused)


def debrief_cells(table: pd.DataFrame) -> list[list[str]]:
    """The debrief's rows as the page shows them: the count of PWs whole, the other outcomes
    to two decimals, the difference signed."""
    def number(outcome: str, value: float, sign: str = "") -> str:
        return f"{value:{sign}.{0 if outcome == 'PWs in post' else 2}f}"

    return [[outcome, number(outcome, room), number(outcome, rules),
             number(outcome, difference, "+")]
            for outcome, room, rules, difference in zip(
                table["outcome"], table["room"], table["model's rules"], table["difference"],
                strict=True)]


def debrief_html(table: pd.DataFrame, week: int) -> str:
    """The debrief as a plain HTML table (fixed labels and numbers only, no user input)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in
                   ("Outcome (team 1)", "Your room", "The model's people", "Difference"))
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in debrief_cells(table))
    return (f"<p>At week {week}. Distinctiveness, the two gaps and recovery run from 0 to 1; "
            "strain starts at 0 (none); PWs in post is a count. The difference is your room "
            "minus the model's people.</p>"
            f"<table><tr>{head}</tr>{rows}</table>")


def seat_labels(room: Room) -> tuple[str, ...]:
    """One label per post of the room's team: its short name, and who plays it."""
    players = {row["seat"]: row["player"] for row in room.status()}
    labels = [""] * len(room.seats)
    for seat in room.seats.values():
        short = seat.label.replace("Clinician ", "C").replace("Manager", "Mgr")
        player = players.get(seat.label, "")
        labels[seat.slot] = f"{short}\n{player[:8]}" if player else short
    return tuple(labels)


@solara.component
def TeamNow(room: Room, week: int):
    """The room's team this week (``week`` makes the page redraw it when time advances)."""
    # Imported here: ``solara run sim/app.py`` loads the app as a script whose routes import
    # this module, so a module-level ``from sim.app import`` would be circular.
    from sim.app import TeamPicture

    picture = solara.use_memo(lambda: TeamPicture(scale=1.5), [])
    frame = room.model.frame()
    labels = seat_labels(room)
    png = solara.use_memo(lambda: picture.render(frame, 0, labels), [frame, week, labels])
    solara.Image(png, width=f"{picture.fig.bbox.width:.0f}px", classes=["room-team"])


@solara.component
def FacilitatorPage():
    """Open a room; show its code, who has chosen, the shared team; advance; debrief."""
    opened = solara.use_reactive(None)  # (room, facilitator key): this browser session's room
    _use_room_updates(lambda: _facilitator_view(opened))
    solara.Style(ROOM_CSS)
    preset = solara.use_reactive("london")
    seed = solara.use_reactive(1)
    error = solara.use_reactive("")
    debrief = solara.use_reactive(None)  # (week, table)
    if opened.value is None:
        with solara.Card("Open a room"):
            solara.Select("Preset", value=preset, values=list(PRESETS))
            solara.Text(PRESETS[preset.value])
            solara.InputInt("Seed (same seed, same run)", value=seed)
            solara.Button("Open the room", color="primary", on_click=lambda: _attempt(
                error, lambda: opened.set((room := ROOMS.open(preset.value, seed.value),
                                           room.facilitator_key))))
        if error.value:
            solara.Error(error.value)
        return
    room, key = opened.value
    with solara.Card():
        solara.HTML(tag="div", unsafe_innerHTML="<span style='font-size: 2em'>Room code:</span> "
                    "<span class='room-code'>"
                    f"{room.code}</span>")  # letters of CODE_ALPHABET only
        solara.Text("Join on a laptop or phone on this network: open this app's address "
                    "with /room at the end (for example http://192.168.1.20:8765/room), type "
                    "the code and pick a person.", classes=["room-join"])
        solara.Text(f"Run: {room.preset}, seed {room.seed}, week {room.week} of {room.horizon}; "
                    f"a decision every {PERIOD_WEEKS} weeks.", classes=["room-week"])
    with solara.Columns([1, 1]):
        with solara.Card("Who plays whom, and how many decisions they have made"):
            with solara.Column(classes=["room-status"], gap="0px"):
                for row in room.status():
                    who = row["player"] or "nobody (the model decides)"
                    solara.Text(f"{row['seat']}: {who}, chosen {row['chosen']} of "
                                f"{row['decisions']}")
            with solara.Row():
                solara.Button(f"Advance {PERIOD_WEEKS} weeks", color="primary",
                              disabled=room.finished,
                              on_click=lambda: _attempt(error, lambda: room.advance(key)))
                solara.Button("Show the debrief",
                              on_click=lambda: debrief.set((room.week, room.debrief())))
            if error.value:
                solara.Error(error.value)
        TeamNow(room, room.week)
    if debrief.value is not None:
        week, table = debrief.value
        with solara.Card("Debrief: your team against the model's own people, same seed"):
            solara.HTML(tag="div", unsafe_innerHTML=debrief_html(table, week),
                        classes=["debrief"])


def _my_person(room: Room, seat: Seat) -> str:
    """What the participant's person did and is, in the last week played."""
    frame = room.model.frame()
    if frame.week == 0:
        return "Nothing has happened yet: the first month starts when the facilitator advances."
    view, slot = frame.teams[0], seat.slot
    if not view.occupied[slot]:
        weeks = room.model.params.recruitment.refill_delay_weeks
        return (f"Your post is empty (you left). A newcomer takes it on about {weeks} weeks "
                "after you left, and you play them.")
    yes = {True: "yes", False: "no"}
    return (f"Last week your person was at work: {yes[bool(view.present[slot])]}; at the team "
            f"meeting: {yes[bool(view.at_meeting[slot])]}. Their practice is "
            f"{view.practice[slot]:.2f} (0 conventional, 1 distinctive peer practice); their "
            f"standing in the team {view.status[slot]:.2f} (0 to 1).")


@solara.component
def ParticipantPage():
    """Join a room with its code and play one person of its team."""
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    seat = solara.use_reactive(None)
    joined = solara.use_reactive(None)  # (room, token)
    _use_room_updates(lambda: _participant_view(joined, code))
    solara.Style(ROOM_CSS)
    error = solara.use_reactive("")
    if joined.value is None:
        with solara.Card("Join a room", classes=["room-page"]):
            solara.InputText("Room code", value=code, continuous_update=True)
            solara.InputText("Your name", value=name, continuous_update=True)
            room = None
            try:
                room = ROOMS.find(code.value) if len(code.value.strip()) >= 4 else None
            except RoomError as refused:
                solara.Text(str(refused))
            if room is not None:
                taken = {row["seat"] for row in room.status() if row["player"]}
                free = {s.label: s.seat for s in room.seats.values() if s.label not in taken}
                solara.Text("Who will you be?", classes=["question"])
                solara.ToggleButtonsSingle(value=seat, values=list(free), classes=["seats"])

                def join() -> None:
                    token = room.join(code.value, free.get(seat.value, ""), name.value)
                    joined.set((room, token))

                solara.Button("Join", color="primary", disabled=seat.value not in free,
                              on_click=lambda: _attempt(error, join))
        if error.value:
            solara.Error(error.value)
        return
    room, token = joined.value
    try:
        mine, chosen = room.seat_of(token), room.my_choices(token)
    except RoomError:  # dropped by the room
        joined.set(None)
        return
    with solara.Card(f"You are {mine.label} (room {room.code})", classes=["room-page"]):
        solara.Text(f"Week {room.week} of {room.horizon}." + (
            " The run has ended: look at the facilitator's screen for the debrief."
            if room.finished else f" Choose for the next {PERIOD_WEEKS} weeks; whatever you "
            "leave open, the model decides as it does for everyone else."),
            classes=["my-week"])
        solara.Text(_my_person(room, mine), classes=["my-person", "question"])
        for key, decision in room.decisions_for(mine.seat).items():
            words = {text: option for option, text in decision.options.items()}
            with solara.Div(classes=[f"decision-{key}"]):
                solara.Text(decision.question, classes=["question"])
                current = decision.options.get(chosen.get(key, ""), RULE)

                def pick(text: str, key: str = key, words: dict = words) -> None:
                    _attempt(error, lambda: room.choose(token, key, words.get(text)))

                if not room.finished:
                    solara.ToggleButtonsSingle(value=current,
                                               values=[RULE, *decision.options.values()],
                                               on_value=pick)
        with solara.Div(style={"margin-top": "18px"}):
            solara.Button("Leave the room", on_click=lambda: _attempt(
                error, lambda: (room.drop(token), joined.set(None))))
        if error.value:
            solara.Error(error.value)
