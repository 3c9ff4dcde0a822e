"""The participatory room (``sim/app_room.py``): seats, validation, choices applied, debrief.

The room's logic is tested here without a browser; the last test plays a facilitator and five
participants through the pages (``/room``) in headless Chromium.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.agents import PEER
from sim.app_room import (
    DECISIONS,
    PERIOD_WEEKS,
    ChoosingWorkforce,
    Room,
    RoomError,
    Rooms,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*found despite early return:UserWarning")


def room(**kwargs) -> Room:
    return Room(**({"preset": "london", "seed": 2, "horizon_weeks": 12} | kwargs))


def weekly_team_rows(model) -> pd.DataFrame:
    ts = model.recorder.timeseries()
    return ts[ts["team"] == 0].reset_index(drop=True)


def test_seats_are_one_team_pws_manager_clinicians():
    r = room()
    roles = r.model.workforce.role
    assert [s.role for s in r.seats.values()].count("PW") == int((roles == PEER).sum())
    assert [s.role for s in r.seats.values()].count("manager") == 1
    assert len(r.seats) == len(roles)
    assert len({s.slot for s in r.seats.values()}) == len(roles)
    assert set(r.decisions_for("pw1")) == {"meeting", "boundaries", "supervision", "post"}
    assert set(r.decisions_for("manager")) == {"meeting", "challenge", "post"}
    assert set(r.decisions_for("clinician1")) == {"meeting", "post"}


def test_joining_is_checked():
    r = room()
    token = r.join(r.code.lower(), "pw1", "Ana")  # codes are read off a screen: any case
    assert r.seat_of(token).label == "PW 1"
    with pytest.raises(RoomError, match="room code"):
        r.join("ZZZZ" if r.code != "ZZZZ" else "YYYY", "pw2", "Ben")
    with pytest.raises(RoomError, match="already taken"):
        r.join(r.code, "pw1", "Ben")
    with pytest.raises(RoomError, match="no seat"):
        r.join(r.code, "director", "Ben")
    for bad in ("", " ", "x" * 31, "a\nb"):
        with pytest.raises(RoomError, match="name"):
            r.join(r.code, "pw2", bad)
    with pytest.raises(RoomError, match="not one of"):
        Room(preset="atlantis")
    with pytest.raises(RoomError, match="seed"):
        Room(seed=0)
    with pytest.raises(RoomError, match="horizon"):
        Room(horizon_weeks=500)
    with pytest.raises(RoomError, match="no room"):
        Rooms().find("ABCD")


def test_a_participant_acts_only_for_their_own_person_and_never_on_settings():
    r = room()
    ana, ben = r.join(r.code, "pw1", "Ana"), r.join(r.code, "manager", "Ben")
    r.choose(ana, "meeting", "skip")
    r.choose(ben, "challenge", "let_stand")
    assert r.my_choices(ana) == {"meeting": "skip"}
    assert r.my_choices(ben) == {"challenge": "let_stand"}
    with pytest.raises(RoomError, match="no decision"):
        r.choose(ben, "boundaries", "hold")  # a PW's decision
    with pytest.raises(RoomError, match="not an option"):
        r.choose(ana, "meeting", "maybe")
    with pytest.raises(RoomError, match="not in this room"):
        r.choose("forged-token", "meeting", "attend")
    with pytest.raises(RoomError, match="facilitator"):
        r.advance(ana)  # a participant's token is not the facilitator's key
    r.choose(ana, "meeting", None)  # back to the rule
    assert r.my_choices(ana) == {}
    settings = (r.preset, r.seed, r.horizon, r.model.params)
    r.advance(r.facilitator_key)
    assert (r.preset, r.seed, r.horizon, r.model.params) == settings
    assert r.status()[0] == {"seat": "PW 1", "player": "Ana", "chosen": 0, "decisions": 4}


def test_with_no_choices_the_room_is_the_models_own_run():
    r = room()
    r.join(r.code, "pw1", "Ana")  # joined but chooses nothing: the rules decide
    r.advance(r.facilitator_key)
    r.advance(r.facilitator_key)
    assert r.week == 2 * PERIOD_WEEKS
    debrief = r.debrief()
    assert list(debrief["difference"]) == [0.0] * len(debrief)
    assert {row["choice"] for row in r.log} == {"model's rule"}


def test_skipping_meetings_keeps_the_pw_away_and_attending_brings_them():
    skip, attend = room(), room()
    for r, option in ((skip, "skip"), (attend, "attend")):
        r.choose(r.join(r.code, "pw1", "Ana"), "meeting", option)
    slot = skip.seats["pw1"].slot
    seen_skip, seen_attend = [], []
    for r, seen in ((skip, seen_skip), (attend, seen_attend)):
        wf = r.model.workforce
        original = ChoosingWorkforce._apply

        def spy(self, name, value, seen=seen, wf=wf, original=original):
            out = original(self, name, value)
            if name == "attends_meeting" and self is wf:
                seen.append((bool(out[0, slot]), bool(self.present_days[0, slot].any())))
            return out

        ChoosingWorkforce._apply = spy
        try:
            r.advance(r.facilitator_key)
        finally:
            ChoosingWorkforce._apply = original
    assert seen_skip and not any(at for at, _ in seen_skip)
    assert all(at == at_work for at, at_work in seen_attend)
    assert any(at for at, _ in seen_attend)


def test_holding_ground_keeps_practice_the_manager_would_pull_back():
    """London, seed 2: the rules' manager challenges team 1's PWs about nine times a year."""
    hold, rules = room(horizon_weeks=52), room(horizon_weeks=52)
    tokens = [hold.join(hold.code, seat, name) for seat, name in (("pw1", "Ana"), ("pw2", "Bo"))]
    pws = hold.model.workforce.role == PEER
    for _ in range(13):
        for token in tokens:
            hold.choose(token, "boundaries", "hold")
        hold.advance(hold.facilitator_key)
        rules.advance(rules.facilitator_key)
        assert not hold.model.workforce.boundary_event[0, pws].any()

    def events(r: Room) -> float:
        return weekly_team_rows(r.model)["boundary_events"].sum()

    assert events(hold) == 0 < events(rules)


def test_leaving_empties_the_post_and_staying_keeps_it():
    leave = room()
    token = leave.join(leave.code, "pw1", "Ana")
    slot = leave.seats["pw1"].slot
    leave.choose(token, "post", "leave")
    leave.advance(leave.facilitator_key)
    assert not leave.model.workforce.occupied[0, slot]
    rows = weekly_team_rows(leave.model)
    assert rows["pw_exits"].iloc[0] == 1 and rows["pw_exits"].iloc[1:].sum() == 0
    assert leave.my_choices(token) == {}  # leaving is done once
    # Staying: the post is never left, whatever the hazard.
    stay = room(horizon_weeks=4)
    token = stay.join(stay.code, "clinician1", "Cy")
    stay.choose(token, "post", "stay")
    wf = stay.model.workforce
    wf.choices = {(0, stay.seats["clinician1"].slot): {"post": "stay"}}
    wf.exited = np.ones_like(wf.occupied)  # as if the rule drew everyone
    assert not wf.exited[0, stay.seats["clinician1"].slot] and wf.exited[0, 0]


def test_letting_practice_stand_stops_every_challenge_in_the_team():
    r = room()
    wf = r.model.workforce
    wf.choices = {(0, r.seats["manager"].slot): {"challenge": "let_stand"}}
    wf.boundary_event = np.ones_like(wf.occupied)
    pws = wf.role == PEER
    assert not wf.boundary_event[0, pws].any() and wf.boundary_event[1, pws].all()


def test_skipping_supervision_means_no_session():
    r = room()
    wf = r.model.workforce
    slot = r.seats["pw1"].slot
    wf.choices = {(0, slot): {"supervision": "skip"}}
    wf.supervised = np.ones_like(wf.occupied)
    assert not wf.supervised[0, slot] and wf.supervised[0, r.seats["pw2"].slot]


def test_a_participant_who_drops_out_is_replaced_by_the_rule():
    r = room()
    token = r.join(r.code, "pw1", "Ana")
    r.choose(token, "meeting", "skip")
    r.drop(token)
    r.advance(r.facilitator_key)
    assert r.debrief()["difference"].abs().max() == 0.0  # as the rules' own run
    r.join(r.code, "pw1", "Bo")  # the seat is free again


def test_debrief_compares_the_rooms_team_with_the_rules_same_seed():
    r = room(horizon_weeks=8)
    token = r.join(r.code, "pw1", "Ana")
    for _ in range(2):
        r.choose(token, "meeting", "skip")
        r.choose(token, "supervision", "skip")
        r.advance(r.facilitator_key)
    assert r.finished
    with pytest.raises(RoomError, match="ended"):
        r.advance(r.facilitator_key)
    with pytest.raises(RoomError, match="ended"):
        r.choose(token, "meeting", "attend")
    debrief = r.debrief()
    assert list(debrief.columns) == ["outcome", "room", "model's rules", "difference"]
    assert (debrief["difference"] != 0).any()
    np.testing.assert_allclose(debrief["difference"], debrief["room"] - debrief["model's rules"])
    assert {row["decision"] for row in r.log if row["seat"] == "PW 1"} == set(
        r.decisions_for("pw1"))
    assert all(d.options for d in DECISIONS.values())


def test_every_change_moves_the_version_the_pages_redraw_on_and_reading_does_not():
    r = room()
    seen = [r.version]

    def changed() -> bool:
        seen.append(r.version)
        return seen[-1] > seen[-2]

    token = r.join(r.code, "pw1", "Ana")
    assert changed()
    r.choose(token, "meeting", "skip")
    assert changed()
    r.choose(token, "meeting", None)
    assert changed()
    with pytest.raises(RoomError):
        r.choose(token, "meeting", "maybe")
    assert not changed()  # a refused input changes nothing
    r.status(), r.my_choices(token), r.debrief()
    assert not changed()
    r.advance(r.facilitator_key)
    assert changed()
    r.drop(token)
    assert changed()


def test_a_participant_sees_what_their_person_did_and_the_debrief_in_words():
    from sim.app_room_page import _my_person, debrief_cells

    r = room()
    ana, bo = r.join(r.code, "pw1", "Ana"), r.join(r.code, "pw2", "Bo")
    assert _my_person(r, r.seat_of(ana)).startswith("Nothing has happened yet")
    r.choose(ana, "meeting", "skip")
    r.choose(bo, "post", "leave")
    r.advance(r.facilitator_key)
    assert "at the team meeting: no." in _my_person(r, r.seat_of(ana))
    assert _my_person(r, r.seat_of(bo)).startswith("Your post is empty (you left)")
    rows = {row[0]: row for row in debrief_cells(r.debrief())}
    assert rows["PWs in post"][1:3] == ["1", "2"]  # whole people: the room's PW 2 left
    assert rows["PWs in post"][3] == "-1"
    assert all(cell[0] in "+-" for cell in (row[3] for row in rows.values()))
    assert rows["PW strain"][1].count(".") == 1 and len(rows["PW strain"][1].split(".")[1]) == 2


def test_the_team_picture_names_each_person_and_who_plays_them():
    from sim.app import TeamPicture
    from sim.app_room_page import seat_labels

    r = room()
    r.join(r.code, "pw1", "Ana")
    r.join(r.code, "clinician3", "Bartholomew")
    labels = seat_labels(r)
    assert labels[r.seats["pw1"].slot] == "PW 1\nAna"
    assert labels[r.seats["clinician3"].slot] == "C3\nBartholo"  # long names cut to 8
    assert labels[r.seats["manager"].slot] == "Mgr" and labels[r.seats["pw2"].slot] == "PW 2"
    picture = TeamPicture()
    assert picture.render(r.model.frame(), 0, labels)[:4] == b"\x89PNG"
    assert sorted(t.get_text() for t in picture.ax.texts) == sorted(labels)


def test_the_app_listens_only_here_unless_opened_with_a_warning(monkeypatch, capsys):
    from sim import launch

    commands = []
    monkeypatch.setattr(launch.os, "execve", lambda exe, command, env: commands.append(command))
    launch.app([])
    assert commands[-1][commands[-1].index("--host") + 1] == "127.0.0.1"
    assert "WARNING" not in capsys.readouterr().err
    launch.app(["--host", "0.0.0.0"])
    assert commands[-1][commands[-1].index("--host") + 1] == "0.0.0.0"
    assert "no login" in capsys.readouterr().err


# --- the pages in a real browser ---------------------------------------------------------------

PLAYERS = (("pw1", "PW 1", "Ana"), ("pw2", "PW 2", "Bo"), ("manager", "Manager", "Cy"),
           ("clinician1", "Clinician 1", "Di"), ("clinician2", "Clinician 2", "Ed"))


def test_a_facilitator_and_five_participants_play_to_the_debrief():
    """Five participants join one room from their own browser sessions, choose for their
    person at two decision points (one leaves a decision open, one drops out), the facilitator
    advances and shows the debrief. Every wait is for a condition on the page."""
    from sim.app_driver import CHROMIUM, PATIENCE_MS, REPO, app_server, chromium

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    artifacts = REPO / "tests" / "artifacts"
    with app_server(artifacts / "room_server.log") as url, chromium() as browser:
        def page(path: str):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(PATIENCE_MS)
            p = context.new_page()
            p.goto(url + path, timeout=PATIENCE_MS)
            return p

        host = page("facilitator")
        host.get_by_role("button", name="Open the room").click()
        code = host.locator(".room-code").inner_text()
        assert len(code) == 4
        players = {}
        for seat, label, name in PLAYERS:
            p = page("room")
            p.get_by_label("Room code").fill(code)
            p.get_by_label("Your name").fill(name)
            p.locator(".seats").get_by_role("button", name=label, exact=True).click()
            p.get_by_role("button", name="Join", exact=True).click()
            p.get_by_text(f"You are {label} (room {code})").wait_for()
            assert p.get_by_label("Seed").count() == 0  # no settings on a participant's page
            players[seat] = p
        host.get_by_text("PW 1: Ana, chosen 0 of 4").wait_for()

        # Decision point 1: every PW skips the meetings; the manager lets practice stand.
        for seat in ("pw1", "pw2"):
            players[seat].locator(".decision-meeting").get_by_role(
                "button", name="skip them").click()
        players["manager"].locator(".decision-challenge").get_by_role(
            "button", name="let it stand").click()
        players["clinician1"].locator(".decision-post").get_by_role(
            "button", name="stay this month").click()
        host.get_by_text("PW 2: Bo, chosen 1 of 4").wait_for()
        host.get_by_text("Manager: Cy, chosen 1 of 3").wait_for()
        host.screenshot(path=str(artifacts / "room_facilitator.png"), full_page=True)
        players["pw1"].screenshot(path=str(artifacts / "room_participant.png"), full_page=True)
        # Ed (clinician 2) drops out: their person follows the rules.
        players["clinician2"].get_by_role("button", name="Leave the room").click()
        players["clinician2"].get_by_label("Room code").wait_for()
        host.get_by_text("Clinician 2: nobody (the model decides)").wait_for()
        host.get_by_role("button", name=f"Advance {PERIOD_WEEKS} weeks").click()
        for seat, p in players.items():
            if seat != "clinician2":
                p.get_by_text(f"Week {PERIOD_WEEKS} of").wait_for()
        # Decision point 2, then the debrief.
        players["pw1"].locator(".decision-supervision").get_by_role(
            "button", name="skip it").click()
        host.get_by_text("PW 1: Ana, chosen 2 of 4").wait_for()
        host.get_by_role("button", name=f"Advance {PERIOD_WEEKS} weeks").click()
        host.get_by_text(f"week {2 * PERIOD_WEEKS} of").wait_for()
        host.get_by_role("button", name="Show the debrief").click()
        host.get_by_text("Debrief: your team against").wait_for()
        host.get_by_text("PW strain").wait_for()
        host.screenshot(path=str(artifacts / "room_debrief.png"), full_page=True)
        assert "Traceback" not in host.locator("body").inner_text()
        for p in players.values():
            assert "Traceback" not in p.locator("body").inner_text()
