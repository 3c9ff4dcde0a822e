"""Drive the workshop app in a real browser: a local server and headless Chromium sessions.

Used by the browser tests (``tests/test_app*.py``) and the load benchmark
(``benchmarks/bench_app.py``). The server is ``solara run sim/app.py`` as ``make app`` starts
it; the browser is Debian's ``chromium`` driven by Playwright (never ``playwright install``:
this machine cannot download a browser). Each :class:`AppSession` is its own browser context,
so it is a separate user of the app (its own cookies, hence its own Solara session).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sim.launch import SOLARA_ENV

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium tries Google's hosts at every start.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Waits are for a condition, never a limit on speed: a first start on a busy machine can take
#: minutes, so the waits are generous (milliseconds, as Playwright takes them).
PATIENCE_MS = 300_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(log_path: Path, app: str = "sim/app.py", startup_s: float = 300.0,
               env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``solara run <app>`` on a free 127.0.0.1 port; yield its URL; stop it after."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "solara", "run", app, "--host", "127.0.0.1", "--port",
             str(port), "--production", "--no-open", "--no-check-version"],
            cwd=REPO, env={**os.environ, **SOLARA_ENV, **(env or {})},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_up(proc, url, startup_s, log_path)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):  # already exited
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_until_up(proc: subprocess.Popen, url: str, startup_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + startup_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app server did not answer within {startup_s:.0f} s; "
                                   f"see {log_path}") from None
            time.sleep(0.5)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageRecorder:
    """Every request, failed response and uncaught page error of one browser page."""

    requests: list[str] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page) -> PageRecorder:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", lambda response: response.status >= 400
                and self.failed.append((response.status, response.url)))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return self

    def external(self) -> list[str]:
        return [url for url in self.requests if urlparse(url).scheme not in ("data", "blob")
                and urlparse(url).hostname not in LOCAL_HOSTS]


class AppSession:
    """One user of the workshop app: a browser context with one page."""

    def __init__(self, browser, url: str, width: int = 1600, height: int = 1000) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           accept_downloads=True)
        self.context.set_default_timeout(PATIENCE_MS)
        self.page = self.context.new_page()
        self.recorder = PageRecorder().attach(self.page)
        start = time.perf_counter()
        self.page.goto(url, timeout=PATIENCE_MS)
        self.page.get_by_role("button", name="Step", exact=True).wait_for()
        self.wait_for_week(0)
        self.load_s = time.perf_counter() - start

    def close(self) -> None:
        self.context.close()

    # --- reading the page ---------------------------------------------------------------
    def week(self) -> int:
        """The week the run label shows."""
        return int(self.page.locator(".run-label").inner_text().rsplit("week ", 1)[1])

    def label(self) -> str:
        return self.page.locator(".run-label").inner_text()

    def wait_for_week(self, week: int) -> None:
        self.page.wait_for_function(
            "w => { const e = document.querySelector('.run-label');"
            " return e && e.innerText.endsWith('week ' + w); }", arg=week)

    def error_text(self) -> str:
        """Any error or traceback the page shows (empty if none)."""
        alerts = self.page.locator(".v-alert.error, .v-alert--text.error--text")
        texts = [alerts.nth(i).inner_text() for i in range(alerts.count())]
        body = self.page.locator("body").inner_text()
        if "Traceback" in body:
            texts.append(body)
        return "\n".join(texts)

    # --- acting ---------------------------------------------------------------------------
    def choose_preset(self, preset: str) -> None:
        self.choose("Preset", preset)

    def choose(self, label: str, value: str) -> None:
        """Pick ``value`` in the drop-down labelled ``label``, and wait until its menu has
        closed: while it fades out, its overlay takes the clicks meant for the page."""
        self.page.locator(".v-select").filter(has_text=label).first.click()
        self.page.get_by_role("option", name=value, exact=True).click()
        self.page.locator(".menuable__content__active").wait_for(state="detached")
        self.page.locator(".v-overlay--active").wait_for(state="detached")

    def nudge_slider(self, name: str, presses: int) -> None:
        """Move a slider by keyboard: ``presses`` steps right (negative: left).

        One press at a time, each waited for: two quick presses can cross the server's echo
        of the first, which then sets the slider back (a lost press). At the end the value is
        checked again after the server has had time to answer, and nudged back if it moved.
        """
        slider = self.page.get_by_role("slider", name=name)
        key = "ArrowRight" if presses > 0 else "ArrowLeft"
        target = None
        for _ in range(abs(presses)):
            before = float(slider.get_attribute("aria-valuenow"))
            slider.focus()
            slider.press(key)
            self._wait_slider(name, lambda v, b=before: v != b)
            target = float(slider.get_attribute("aria-valuenow"))
        while target is not None:
            self.page.wait_for_timeout(400)  # let any echo of an earlier press arrive
            now = float(slider.get_attribute("aria-valuenow"))
            if now == target:
                return
            slider.focus()
            slider.press("ArrowRight" if now < target else "ArrowLeft")
            self._wait_slider(name, lambda v, n=now: v != n)

    def _wait_slider(self, name: str, condition) -> None:
        slider = self.page.get_by_role("slider", name=name)
        deadline = time.monotonic() + PATIENCE_MS / 1000
        while not condition(float(slider.get_attribute("aria-valuenow"))):
            if time.monotonic() > deadline:
                raise TimeoutError(f"slider {name!r} did not move")
            self.page.wait_for_timeout(50)

    def set_seed(self, seed: int) -> None:
        current = int(self.page.get_by_role("slider", name="Seed (same seed, same run)")
                      .get_attribute("aria-valuenow"))
        self.nudge_slider("Seed (same seed, same run)", seed - current)

    def wait_for_next_run(self, label: str) -> None:
        """Wait until the server has every input: the label of the run Reset would start."""
        self.page.wait_for_function(
            "l => { const e = document.querySelector('.next-run');"
            " return e && e.innerText === 'Reset starts: ' + l; }", arg=label)

    def reset(self) -> None:
        """Click Reset and wait until the page shows the new run (the one it announced)."""
        label = self.page.locator(".next-run").inner_text().removeprefix("Reset starts: ")
        self.page.get_by_role("button", name="Reset", exact=True).click()
        self.page.wait_for_function(
            "l => { const e = document.querySelector('.run-label');"
            " return e && e.innerText === 'This run: ' + l + ', week 0'; }", arg=label)

    def step(self) -> float:
        """Click Step once; return the seconds from click to the redrawn week."""
        week = self.week()
        start = time.perf_counter()
        self.page.get_by_role("button", name="Step", exact=True).click()
        self.page.wait_for_function(
            "w => { const e = document.querySelector('.run-label');"
            " return e && !e.innerText.endsWith('week ' + w); }", arg=week)
        return time.perf_counter() - start

    def play(self) -> None:
        self.page.get_by_role("button", name="▶", exact=True).click()

    def wait_until_finished(self, horizon: int = 156) -> None:
        """Wait until the run shows its last week and the play button is back (and disabled)."""
        self.wait_for_week(horizon)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some("
            "b => b.innerText.trim() === '▶' && b.disabled)")

    def play_to_end(self, horizon: int = 156) -> float:
        """Press play and wait until the run reaches its horizon; return the seconds taken."""
        start = time.perf_counter()
        self.play()
        self.wait_until_finished(horizon)
        return time.perf_counter() - start

    def download_csv(self) -> bytes:
        with self.page.expect_download() as info:
            self.page.get_by_role("button", name="Download this run (CSV)").click()
        return Path(info.value.path()).read_bytes()
