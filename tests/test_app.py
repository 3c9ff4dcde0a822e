"""The workshop app: its model module, its drawing, and the page in a real headless Chromium.

The browser tests start ``solara run sim/app.py`` on a free local port and drive Debian's
``chromium`` with Playwright (no browser download; ``sim.app_driver``). They check that the page
renders with no request leaving 127.0.0.1, that a preset and a slider change the next run, that
steps advance and redraw the plots, that browser sessions have separate models, and that several
sessions playing at once each get exactly a solo run's numbers. Screenshots go to
``tests/artifacts/`` (git-ignored). No test measures speed: ``benchmarks/bench_app.py`` does.
"""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
import pytest

from sim.app import MONITORS
from sim.app_driver import CHROMIUM, REPO, AppSession, app_server, chromium
from sim.app_model import (
    APP_HORIZON_WEEKS,
    PRESETS,
    RunMemory,
    WorkshopModel,
    describe_run,
    frame_csv,
    overrides_for,
    preset_levers,
    weekly,
)
from sim.config import load_config
from sim.params import ConfigError

ARTIFACTS = REPO / "tests" / "artifacts"

# Mesa 3.3.1's own ComponentsView trips Solara's hook check when mesa.visualization is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*found despite early return:UserWarning")


# --- the app's model module --------------------------------------------------------------------

def test_preset_alone_is_the_scenario_run():
    """Levers left at the preset's values add no override: the app runs the scenario itself."""
    overrides = overrides_for("north", seed=3, **preset_levers("north"))
    assert overrides == ["scenario=north", "seed=3", "organisation.n_teams=4",
                         "organisation.horizon_weeks=156"]
    model = WorkshopModel(preset="north", seed=3)
    assert model.params == load_config(overrides)


def test_levers_become_overrides_and_bad_values_are_refused():
    model = WorkshopModel(preset="london", supervisor="peer", pw_hours=0.6, pw_count=3,
                          coproduced_definition=True)
    assert model.params.supervision.supervisor == "peer"
    assert model.params.working_patterns.fte == pytest.approx(0.6)
    assert model.params.team.n_peer_workers == 3
    assert model.params.boundaries.coproduced_role_definition is True
    assert model.params.recruitment.process == "informal"  # still London
    assert "Supervisor: peer" in model.label
    with pytest.raises(ConfigError, match="supervision.supervisor"):
        WorkshopModel(preset="london", supervisor="nobody")
    with pytest.raises(ConfigError, match="levers"):
        WorkshopModel(preset="london", not_a_lever=1)
    with pytest.raises(ConfigError, match="preset"):
        WorkshopModel(preset="atlantis")


def test_same_seed_same_run_and_inputs_take_precedence():
    def run(**kwargs):
        model = WorkshopModel(horizon_weeks=30, **kwargs)
        for _ in range(30):
            model.step()
        return model.recorder.timeseries()

    inputs = {"preset": "south", "seed": 5, **preset_levers("south"), "supervisor": "peer"}
    first = run(preset="south", seed=5, supervisor="peer")
    pd.testing.assert_frame_equal(first, run(inputs=lambda: inputs, preset="london", seed=1))
    assert not first.equals(run(preset="south", seed=6, supervisor="peer"))


def test_weekly_means_and_memory_of_the_last_runs():
    memory = RunMemory(keep=2)
    first = WorkshopModel(preset="london", memory=memory)
    assert weekly(first).empty
    for _ in range(8):
        first.step()
    table = weekly(first)
    assert list(table.index) == list(range(8))
    assert {"distinctiveness", "distinctiveness_ci", "pw_leavers_so_far"} <= set(table.columns)
    assert (table["distinctiveness_ci"] >= 0).all()
    second = WorkshopModel(preset="good_practice", memory=memory)
    assert memory.previous is first and memory.current is second
    WorkshopModel(preset="no_pw", memory=memory)  # second never stepped: not remembered
    assert memory.history == [first]
    second.step()
    third = WorkshopModel(preset="south", memory=memory)
    third.step()
    WorkshopModel(preset="north", memory=memory)
    assert memory.history == [third, first]  # newest first, at most ``keep``


def test_no_step_past_the_horizon():
    """Playing steps several weeks per redraw (7 does not divide 156): the run stops at its end."""
    model = WorkshopModel(preset="london", horizon_weeks=10)
    for _ in range(14):  # two redraws at 7 weeks per redraw
        model.step()
    assert model.week == 10 and not model.running
    assert weekly(model).index.max() == 9


def test_reading_while_another_thread_steps():
    """The crash of issue 13: a redraw in one thread read a model half-way through a week
    stepped in another (``All arrays must be of the same length``). Frames are taken under the
    model's lock, so every frame read during a run is one whole week."""
    model = WorkshopModel(preset="london", horizon_weeks=60)
    errors: list[BaseException] = []
    read = threading.Event()  # the reader has read since the player's last week

    def play() -> None:
        try:
            while model.running:
                model.step()
                read.wait(timeout=10)  # interleave: on a busy machine the reader could starve
                read.clear()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    player = threading.Thread(target=play)
    player.start()
    frames = []
    while player.is_alive():
        frames.append(model.frame())
        read.set()
    player.join()
    assert not errors
    assert len({frame.week for frame in frames}) > 10  # read all through the run
    for frame in frames:
        assert list(frame.table.index) == list(range(frame.week))
        assert all(len(view.role) == len(frame.teams[0].role) for view in frame.teams)


def test_frame_is_a_copy_and_exports_every_outcome():
    model = WorkshopModel(preset="london", horizon_weeks=20)
    for _ in range(5):
        model.step()
    frame = model.frame()
    assert model.frame() is frame  # cached until the next step
    practice = frame.teams[0].practice.copy()
    model.step()
    assert model.frame() is not frame and frame.week == 5
    np.testing.assert_array_equal(frame.teams[0].practice, practice)
    table = pd.read_csv(io.BytesIO(frame_csv(frame)))
    assert list(table["week"]) == list(range(5))
    assert (table["run"] == model.label).all()
    assert set(weekly(model).columns) <= set(table.columns)
    np.testing.assert_allclose(table["distinctiveness"], frame.table["distinctiveness"],
                               atol=1e-4)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_draws(preset):
    from sim.app import OutcomePlots, TeamPicture

    memory = RunMemory()
    earlier = WorkshopModel(preset="london", horizon_weeks=12, memory=memory)
    earlier.step()
    model = WorkshopModel(preset=preset, horizon_weeks=12, memory=memory)
    plots, picture = OutcomePlots(), TeamPicture(scale=1.5)
    for _ in range(12):
        model.step()
        assert plots.render(model.frame(), (earlier.frame(),))[:4] == b"\x89PNG"
        assert picture.render(model.frame(), 0)[:4] == b"\x89PNG"


def test_monitors_show_this_week_and_every_series_of_the_last_runs_is_drawn():
    from sim.app import HISTORY_STYLES, MONITORS, PANELS, OutcomePlots, monitor_values

    memory = RunMemory()
    runs = []
    for preset in ("london", "good_practice", "north"):
        runs.append(WorkshopModel(preset=preset, horizon_weeks=8, memory=memory))
        for _ in range(8):
            runs[-1].step()
    values = monitor_values(runs[-1].frame())
    assert set(values) == {column for column, _, _ in MONITORS}
    assert values["distinctiveness"] == pytest.approx(
        weekly(runs[-1])["distinctiveness"].iloc[-1])
    plots = OutcomePlots()
    history = tuple(m.frame() for m in memory.history)
    assert len(history) == 2
    plots.render(runs[-1].frame(), history)
    for lines, (_, _, _, series, _) in zip(plots.history, PANELS, strict=True):
        assert len(lines) == len(HISTORY_STYLES) * len(series)
        drawn = [line for line in lines if len(line.get_xdata())]
        assert len(drawn) == len(history) * len(series)  # every series, not only the first


# --- the page in a real browser ----------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    """``solara run sim/app.py`` on a free local port, as ``make app`` runs it."""
    with app_server(ARTIFACTS / "app_server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install "
                    "chromium)")
    with chromium() as browser:
        yield browser


def test_app_in_a_real_browser(server, browser):
    """Preset, lever, Reset, Step, play and pause, projector mode and export, all offline.

    Every wait is for a condition, with a generous limit (a first start on a fresh machine can
    be slow); nothing here measures speed (``benchmarks/bench_app.py`` does)."""
    user = AppSession(browser, server)
    page = user.page
    plots = page.locator("img.outcome-plots")
    assert "london (seed 1), week 0" in user.label()
    for column, _, _ in MONITORS:
        assert page.locator(f".monitor-{column}").inner_text() == "-"  # nothing simulated yet

    # Choose a preset: the levers take its values; Reset starts a run with them.
    user.choose_preset("good_practice")
    page.get_by_text("Good practice: formal").wait_for()
    recruitment = page.locator(".v-select").filter(has_text="Recruitment").first
    assert recruitment.locator(".v-select__selection").inner_text() == "formal"  # was informal
    assert page.get_by_role("slider", name="Training sessions").get_attribute(
        "aria-valuenow") == "10"  # London has 8
    # Move a slider with the keyboard: PW posts per team 2 -> 3.
    assert page.get_by_role("slider", name="PW posts per team").get_attribute(
        "aria-valuenow") == "2"
    user.nudge_slider("PW posts per team", 1)
    page.wait_for_function(
        "() => document.querySelector('[aria-label=\"PW posts per team\"]')"
        ".getAttribute('aria-valuenow') === '3'")
    user.reset()
    page.get_by_text("This run: good_practice + PW posts per team: 3 (seed 1), week 0",
                     exact=True).wait_for()
    before = plots.screenshot()

    # Steps advance, the plots change and the monitors show numbers.
    for _ in range(10):
        user.step()
    assert user.week() == 10
    page.wait_for_timeout(300)
    assert plots.screenshot() != before
    assert page.locator(".monitor-distinctiveness").inner_text() != "-"

    # Play, then pause as soon as a new week shows: the model steps and redraws on its own.
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function("() => !document.querySelector('.run-label').innerText"
                           ".endsWith('week 10')")
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="▶", exact=True).wait_for()
    # The page showed the run as it played (it used to freeze until the last week).
    assert 10 < user.week() < APP_HORIZON_WEEKS

    # Export: the CSV is this run's weekly table, one row per week simulated.
    page.wait_for_timeout(300)
    week = user.week()
    table = pd.read_csv(io.BytesIO(user.download_csv()))
    assert list(table["week"]) == list(range(week))
    assert table["run"].iloc[0].startswith("good_practice + PW posts per team: 3")
    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)

    # Projector mode: larger type and plots, the plots alone across the page.
    small = plots.bounding_box()["width"]
    page.get_by_text("Projector mode (large type and plots)").click()
    # The plots are re-rendered when the layout changes: wait until the new image is there.
    page.wait_for_function(f"() => {{ const img = document.querySelector('img.outcome-plots'); "
                           f"return img && img.getBoundingClientRect().width > {small} * 1.3; }}")
    page.screenshot(path=str(ARTIFACTS / "app_projector.png"), full_page=True)

    assert not user.error_text()
    assert not user.recorder.external(), f"requests left 127.0.0.1: {user.recorder.external()}"
    assert not user.recorder.failed, f"failed requests: {user.recorder.failed}"
    assert not user.recorder.errors, f"page errors: {user.recorder.errors}"
    user.close()


def test_each_browser_session_has_its_own_model(server, browser):
    first, second = AppSession(browser, server), AppSession(browser, server)
    for _ in range(3):
        first.step()
    assert first.week() == 3
    second.page.wait_for_timeout(500)
    assert second.week() == 0
    first.close()
    second.close()


#: The concurrent sessions: preset, seed, slider moves, and how each plays to the end. Each
#: redraw costs the browser and the server a figure, so only one session redraws every week.
ROOM = (
    {"preset": "london", "seed": 1, "weeks_per_redraw": 1},
    {"preset": "good_practice", "seed": 2, "weeks_per_redraw": 7},
    {"preset": "north", "seed": 3, "weeks_per_redraw": 4},
    {"preset": "south", "seed": 1, "weeks_per_redraw": 3, "pw_count": 1},
)


def test_concurrent_sessions_match_solo_runs(server, browser):
    """Four users at once, each with their own preset, seed and lever, play a whole run
    together: no errors, no week past the horizon (a render interval of 7 used to end at
    week 161), and each session's exported run equals a solo run with the same settings and
    seed, byte for byte."""
    users = [AppSession(browser, server) for _ in ROOM]
    for user, plan in zip(users, ROOM, strict=True):
        configure(user, plan)
    for user in users:  # all play at once
        user.play()
    for user in users:
        user.wait_until_finished(APP_HORIZON_WEEKS)
    for user, plan in zip(users, ROOM, strict=True):
        assert user.page.get_by_role("button", name="▶", exact=True).is_disabled()
        assert user.week() == APP_HORIZON_WEEKS
        assert not user.error_text(), user.error_text()
        assert not user.recorder.errors
        assert user.download_csv() == solo_run_csv(plan), f"{plan} differs from a solo run"
        user.close()


def configure(user: AppSession, plan: dict) -> None:
    """Set a session's preset, seed, lever and controls as in ``plan``, then Reset."""
    user.choose_preset(plan["preset"])
    user.set_seed(plan["seed"])
    if "pw_count" in plan:
        user.nudge_slider("PW posts per team", plan["pw_count"] - 2)
    levers = {"pw_count": plan["pw_count"]} if "pw_count" in plan else {}
    user.wait_for_next_run(describe_run(plan["preset"], overrides_for(
        plan["preset"], plan["seed"], **levers), plan["seed"]))
    user.nudge_slider("Weeks per redraw while playing", plan["weeks_per_redraw"] - 1)
    user.reset()


def solo_run_csv(plan: dict) -> bytes:
    levers = {"pw_count": plan["pw_count"]} if "pw_count" in plan else {}
    model = WorkshopModel(preset=plan["preset"], seed=plan["seed"], **levers)
    model.run()
    return frame_csv(model.frame())
