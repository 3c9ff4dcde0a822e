"""The participatory room's pages: ``/facilitator`` (open a room, see who has chosen, advance
time, debrief) and ``/room`` (join with the code, choose for your person).

Thin: every action is a call on :class:`sim.app_room.Room`, which checks it; a refused input
shows the room's one-sentence message. A participant's page has no settings at all: it can
only join, choose for its own seat and leave. Both pages look at the shared room every second
(the room changes in other people's browser sessions).
"""

from __future__ import annotations

import time

import solara

from sim.app_model import PRESETS
from sim.app_room import PERIOD_WEEKS, ROOMS, Room, RoomError

RULE = "model's rule"
REFRESH_S = 1.0


def _use_refresh() -> int:
    """Re-render every :data:`REFRESH_S` seconds while the page is open."""
    tick = solara.use_reactive(0)

    def loop() -> None:
        while True:
            time.sleep(REFRESH_S)
            tick.value += 1

    solara.use_thread(loop, dependencies=[])
    return tick.value


def _attempt(error: solara.Reactive[str], action) -> None:
    try:
        action()
        error.value = ""
    except RoomError as refused:
        error.value = str(refused)


@solara.component
def TeamNow(room: Room, week: int):
    """The room's team this week (``week`` makes the page redraw it when time advances)."""
    # Imported here: ``solara run sim/app.py`` loads the app as a script whose routes import
    # this module, so a module-level ``from sim.app import`` would be circular.
    from sim.app import TeamPicture

    picture = solara.use_memo(TeamPicture, [])
    frame = room.model.frame()
    png = solara.use_memo(lambda: picture.render(frame, 0), [frame, week])
    solara.Image(png, width="100%", classes=["room-team"])


@solara.component
def FacilitatorPage():
    """Open a room; show its code, who has chosen, the shared team; advance; debrief."""
    _use_refresh()
    opened = solara.use_reactive(None)  # (room, facilitator key): this browser session's room
    preset = solara.use_reactive("london")
    seed = solara.use_reactive(1)
    error = solara.use_reactive("")
    debrief = solara.use_reactive(None)
    if opened.value is None:
        with solara.Card("Open a room"):
            solara.Select("Preset", value=preset, values=list(PRESETS))
            solara.InputInt("Seed", value=seed)
            solara.Button("Open the room", color="primary", on_click=lambda: _attempt(
                error, lambda: opened.set((room := ROOMS.open(preset.value, seed.value),
                                           room.facilitator_key))))
        if error.value:
            solara.Error(error.value)
        return
    room, key = opened.value
    with solara.Card(f"Room {room.code}"):
        solara.HTML(tag="div", unsafe_innerHTML=f"Room code: <b class='room-code'>{room.code}"
                    "</b>", style={"font-size": "2em"})
        solara.Text(f"Participants open /room on this app's address and enter the code. "
                    f"Run: {room.preset}, seed {room.seed}, week {room.week} of {room.horizon}; "
                    f"a decision every {PERIOD_WEEKS} weeks.", classes=["room-week"])
        rows = room.status()
        with solara.Column(classes=["room-status"]):
            for row in rows:
                who = row["player"] or "(the model's rule)"
                solara.Text(f"{row['seat']}: {who}, chosen {row['chosen']} of "
                            f"{row['decisions']}")
        with solara.Row():
            solara.Button(f"Advance {PERIOD_WEEKS} weeks", color="primary",
                          disabled=room.finished,
                          on_click=lambda: _attempt(error, lambda: room.advance(key)))
            solara.Button("Show the debrief", on_click=lambda: debrief.set(room.debrief()))
        if error.value:
            solara.Error(error.value)
    with solara.Columns([1, 1]):
        TeamNow(room, room.week)
        if debrief.value is not None:
            with solara.Card("Debrief: your team against the model's own people, same seed"):
                table = debrief.value.round(3)
                solara.DataFrame(table, items_per_page=len(table))


@solara.component
def ParticipantPage():
    """Join a room with its code and play one person of its team."""
    _use_refresh()
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    seat = solara.use_reactive(None)
    joined = solara.use_reactive(None)  # (room, token)
    error = solara.use_reactive("")
    if joined.value is None:
        with solara.Card("Join a room"):
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
                solara.Text("Who will you be?")
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
    with solara.Card(f"You are {mine.label} (room {room.code})"):
        solara.Text(f"Week {room.week} of {room.horizon}." + (
            " The run has ended: look at the facilitator's screen for the debrief."
            if room.finished else f" Choose for the next {PERIOD_WEEKS} weeks; whatever you "
            "leave open follows the model's rule."), classes=["my-week"])
        for key, decision in room.decisions_for(mine.seat).items():
            words = {text: option for option, text in decision.options.items()}
            with solara.Div(classes=[f"decision-{key}"]):
                solara.Text(decision.question)
                current = decision.options.get(chosen.get(key, ""), RULE)

                def pick(text: str, key: str = key, words: dict = words) -> None:
                    _attempt(error, lambda: room.choose(token, key, words.get(text)))

                if not room.finished:
                    solara.ToggleButtonsSingle(value=current,
                                               values=[RULE, *decision.options.values()],
                                               on_value=pick)
        solara.Button("Leave the room", on_click=lambda: _attempt(
            error, lambda: (room.drop(token), joined.set(None))))
        if error.value:
            solara.Error(error.value)
