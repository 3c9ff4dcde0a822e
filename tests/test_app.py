"""The workshop app: its model module, redraw speed, and the page in a real headless Chromium.

The browser tests start ``solara run sim/app.py`` on a free local port and drive Debian's
``chromium`` with Playwright (no browser download). They check that the page renders with no
request leaving 127.0.0.1, that a preset and a slider change the next run, that steps advance
and redraw the plots, and that two browser sessions have separate models. A screenshot and the
measured time per step go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from sim.app_model import PRESETS, RunMemory, WorkshopModel, overrides_for, preset_levers, weekly
from sim.compat import step_counter_text
from sim.config import load_config
from sim.params import ConfigError

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

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


def test_weekly_means_and_memory_of_the_previous_run():
    memory = RunMemory()
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
    assert memory.previous is first


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_draws(preset):
    from sim.app import OutcomePlots, TeamPicture

    model = WorkshopModel(preset=preset, horizon_weeks=12)
    plots, picture = OutcomePlots(), TeamPicture()
    for _ in range(12):
        model.step()
        assert plots.render(model, None)[:4] == b"\x89PNG"
        assert picture.render(model, 0)[:4] == b"\x89PNG"


def test_redraw_is_fast_enough_to_play():
    """One week with plots on: step, outcome plots and team view (median over 60 weeks)."""
    from sim.app import OutcomePlots, TeamPicture

    memory = RunMemory()
    previous = WorkshopModel(preset="london", memory=memory)
    for _ in range(60):
        previous.step()
    model = WorkshopModel(preset="london", supervisor="peer", memory=memory)
    plots, picture = OutcomePlots(), TeamPicture()
    times = []
    for _ in range(60):
        start = time.perf_counter()
        model.step()
        plots.render(model, memory.previous)
        picture.render(model, 0)
        times.append(time.perf_counter() - start)
    median_ms = 1000 * float(np.median(times))
    _save_timing("server", {"server_ms_per_step_median": round(median_ms, 1),
                  "server_ms_per_step_p90": round(1000 * float(np.quantile(times, 0.9)), 1)})
    assert median_ms < 250, f"a week's step and redraw took {median_ms:.0f} ms"


# --- the page in a real browser ----------------------------------------------------------------

def _save_timing(name: str, values: dict) -> None:
    """Measured times, for the report: ``tests/artifacts/app_timing_<name>.json``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"app_timing_{name}.json").write_text(json.dumps(values, indent=2) + "\n")
    print(values)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``solara run sim/app.py`` on a free local port, as ``make app`` runs it."""
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "app_server.log").open("w")
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "solara", "run", "sim/app.py", "--host", "127.0.0.1", "--port",
         str(port), "--production", "--no-open", "--no-check-version"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app server exited; see {ARTIFACTS / 'app_server.log'}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the app server did not answer within 120 s")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install "
                    "chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageRecorder:
    """Every request, failed response and uncaught page error of one browser page."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.failed: list[tuple[int, str]] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", lambda response: response.status >= 400
                and self.failed.append((response.status, response.url)))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def external(self) -> list[str]:
        return [url for url in self.requests if urlparse(url).scheme not in ("data", "blob")
                and urlparse(url).hostname not in LOCAL_HOSTS]


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    recorder = PageRecorder(page)
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
    page.get_by_text(step_counter_text(0), exact=True).wait_for()
    return page, recorder


def _step(page, times: int, done: int) -> None:
    button = page.get_by_role("button", name="Step", exact=True)
    for k in range(done + 1, done + times + 1):
        button.click()
        page.get_by_text(step_counter_text(k), exact=True).wait_for()


def test_app_in_a_real_browser(server, browser):
    page, recorder = _open(browser, server)
    plots = page.locator("img.outcome-plots")
    label = page.locator(".run-label")
    assert "london (seed 1), week 0" in label.inner_text()

    # Choose a preset: the levers take its values; Reset starts a run with them.
    page.locator(".v-select").filter(has_text="Preset").first.click()
    page.get_by_role("option", name="good_practice").click()
    page.get_by_text("Good practice: formal").wait_for()
    recruitment = page.locator(".v-select").filter(has_text="Recruitment").first
    assert recruitment.locator(".v-select__selection").inner_text() == "formal"  # was informal
    assert page.get_by_role("slider", name="Training sessions").get_attribute(
        "aria-valuenow") == "10"  # London has 8
    # Move a slider with the keyboard: PW posts per team 2 -> 3.
    slider = page.get_by_role("slider", name="PW posts per team")
    assert slider.get_attribute("aria-valuenow") == "2"
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('[aria-label=\"PW posts per team\"]')"
        ".getAttribute('aria-valuenow') === '3'")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("This run: good_practice + PW posts per team: 3 (seed 1), week 0",
                     exact=True).wait_for()
    before = plots.screenshot()

    # Steps advance and the plots change; time each step's round trip with the plots on.
    start = time.perf_counter()
    _step(page, 10, done=0)
    per_step_ms = 1000 * (time.perf_counter() - start) / 10
    page.get_by_text("This run: good_practice + PW posts per team: 3 (seed 1), week 10",
                     exact=True).wait_for()
    page.wait_for_timeout(300)
    assert plots.screenshot() != before

    # Play for a few seconds, then pause: the model keeps stepping and redrawing on its own.
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_timeout(4000)
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="▶", exact=True).wait_for()
    page.wait_for_timeout(300)
    played = int(label.inner_text().rsplit("week ", 1)[1]) - 10
    assert played > 0
    _save_timing("browser", {"browser_ms_per_step_click_to_redraw": round(per_step_ms, 1),
                  "browser_weeks_played_in_4s_at_50ms_interval": played})

    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
    assert not recorder.external(), f"requests left 127.0.0.1: {recorder.external()}"
    assert not recorder.failed, f"failed requests: {recorder.failed}"
    assert not recorder.errors, f"page errors: {recorder.errors}"
    page.close()


def test_each_browser_session_has_its_own_model(server, browser):
    first, _ = _open(browser, server)
    second, _ = _open(browser, server)
    _step(first, 3, done=0)
    first.get_by_text(step_counter_text(3), exact=True).wait_for()
    second.wait_for_timeout(500)
    assert second.get_by_text(step_counter_text(0), exact=True).is_visible()
    assert "week 0" in second.locator(".run-label").inner_text()
    first.close()
    second.close()
