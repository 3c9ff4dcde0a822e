"""Load benchmark of the workshop app: a room of browser sessions against one server.

``python -m benchmarks.bench_app [--sessions 20]`` starts ``solara run sim/app.py`` as
``make app`` does, times one session alone (page load, a whole play), then opens ``--sessions``
browser contexts in Debian's headless Chromium (each a
separate user), and has each choose a preset and seed, move a lever, Reset, press Step a few
times, then play to the end, all at once. It reports page-load time, step latency (click to
redrawn week), full-play time, and checks that every session saw no error and that its
exported run equals a solo run with the same settings and seed, byte for byte.

It also samples the server process's CPU time and resident memory (four times a second) while
the room plays. Results: ``benchmarks/results/app_<date>.json`` and ``.md`` (and a screenshot
of one session at the end, ``app_session.png``, not committed). The figures in
``docs/workshop.md`` come from this script; it exits with status 1 if any session saw an error
or differed from its solo run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from datetime import UTC, datetime

import numpy as np
import psutil

from sim.app_driver import PATIENCE_MS, REPO, AppSession, app_server, chromium
from sim.app_model import (
    APP_HORIZON_WEEKS,
    PRESETS,
    WorkshopModel,
    describe_run,
    frame_csv,
    overrides_for,
)
from sim.output import git_revision, write_text

RESULTS = REPO / "benchmarks" / "results"
STEPS_PER_SESSION = 5
#: Seconds without a new week after which a playing session counts as stalled.
STALL_S = 300


def plan_for(index: int) -> dict:
    """Session ``index``'s settings: presets in turn, seeds 1-3, every other one a lever."""
    presets = list(PRESETS)
    plan = {"preset": presets[index % len(presets)], "seed": 1 + index % 3}
    if index % 2 and plan["preset"] != "no_pw":
        plan["pw_count"] = 3
    return plan


def configure(user: AppSession, plan: dict) -> None:
    user.choose_preset(plan["preset"])
    user.set_seed(plan["seed"])
    if "pw_count" in plan:
        user.nudge_slider("PW posts per team", plan["pw_count"] - 2)
    levers = {"pw_count": plan["pw_count"]} if "pw_count" in plan else {}
    user.wait_for_next_run(describe_run(plan["preset"], overrides_for(
        plan["preset"], plan["seed"], **levers), plan["seed"]))
    user.reset()


def solo_csv(plan: dict) -> bytes:
    levers = {"pw_count": plan["pw_count"]} if "pw_count" in plan else {}
    return frame_csv(WorkshopModel(preset=plan["preset"], seed=plan["seed"], **levers)
                     .run().frame())


def wait_to_the_end(user: AppSession) -> str:
    """Wait until the session's run has ended, however slowly: "" then, or why not. A session
    that shows no new week for :data:`STALL_S` seconds has stalled (an error); one that is
    only slow (a busy machine, many sessions) is waited for."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    last, since = user.week(), time.monotonic()
    user.page.set_default_timeout(30_000)
    try:
        while True:
            try:
                user.wait_until_finished(APP_HORIZON_WEEKS)
                return ""
            except PlaywrightTimeout:
                week = user.week()
                if week != last:
                    last, since = week, time.monotonic()
                elif time.monotonic() - since > STALL_S:
                    return f"stalled at week {week}: no new week for {STALL_S} s"
    finally:
        user.page.set_default_timeout(PATIENCE_MS)


def quantiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"median": round(float(np.median(array)), 3),
            "p95": round(float(np.quantile(array, 0.95)), 3),
            "max": round(float(array.max()), 3), "n": len(values)}


class ServerMonitor:
    """Samples a process's CPU time and resident memory four times a second, in a thread."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.samples: list[tuple[float, float, float]] = []  # (time, CPU s, RSS MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(0.25)

    def sample(self) -> tuple[float, float, float]:
        with self.process.oneshot():
            cpu = self.process.cpu_times()
            return (time.time(), cpu.user + cpu.system, self.process.memory_info().rss / 2**20)

    def phase(self, start: tuple[float, float, float]) -> dict[str, float]:
        """Wall seconds, CPU seconds, cores busy and peak memory since ``start``."""
        end = self.sample()
        wall, cpu = end[0] - start[0], end[1] - start[1]
        rss = [s[2] for s in self.samples if s[0] >= start[0]] + [end[2]]
        return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                "cores_busy": round(cpu / wall, 2) if wall else 0.0,
                "peak_rss_mb": round(max(rss)), "rss_mb_end": round(end[2])}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def server_process() -> psutil.Process:
    """The ``solara run`` server this process started (a child of ours)."""
    for child in psutil.Process().children(recursive=True):
        try:
            if "solara run" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    raise RuntimeError("the app server's process was not found")


def markdown(result: dict) -> str:
    m, q = result["machine"], result["step_latency_s_click_to_redraw_while_half_the_room_plays"]
    load, alone, server = result["page_load_s"], result["one_session_alone"], result["server"]
    lines = [
        f"# Workshop app under load ({result['date']})", "",
        f"`python -m benchmarks.bench_app --sessions {result['sessions']}`; commit {m['git']}; "
        f"{m['cpus']} CPUs, Python {m['python']}; 1-min load average "
        f"{m['loadavg_1m_start']:.2f} at the start and {m['loadavg_1m_end']:.2f} at the end. "
        "The server and the headless browsers share the machine.", "",
        "| measure | median | 95th percentile | max | n |", "|---|---:|---:|---:|---:|",
        f"| one session alone: page load s | {alone['page_load_s']} | | | 1 |",
        f"| one session alone: full play of {result['weeks_per_run']} weeks s | "
        f"{alone['full_play_s']} | | | 1 |",
        f"| {result['sessions']} sessions: page load s | {load['median']} | {load['p95']} | "
        f"{load['max']} | {load['n']} |",
        f"| step latency s (click to redrawn week, while half the room plays) | {q['median']} | "
        f"{q['p95']} | {q['max']} | {q['n']} |",
        f"| all {result['sessions']} sessions playing to the end at once s | "
        f"{result['full_play_s_all_sessions_at_once']} | | | 1 |", "",
        f"Server process while the {result['sessions']} sessions ran: {server['cores_busy']} "
        f"cores busy on average (CPU s / wall s), peak resident memory {server['peak_rss_mb']} "
        f"MB (after start, before any session: {result['server_rss_mb_after_start']} MB).", "",
        f"Errors: {len(result['errors'])}; sessions whose exported run differs from a solo run "
        f"with the same settings and seed: {len(result['sessions_differing_from_a_solo_run'])}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_start, commit = os.getloadavg()[0], git_revision()  # as the run starts
    with app_server(RESULTS / "app_server.log") as url, chromium() as browser:
        monitor = ServerMonitor(server_process())
        baseline = monitor.sample()[2]
        # One facilitator alone first: what a page load and a whole run take on this machine.
        alone = AppSession(browser, url)
        alone_load_s, alone_play_s = alone.load_s, alone.play_to_end(APP_HORIZON_WEEKS)
        alone.close()
        start = time.perf_counter()
        room_start = monitor.sample()
        users = [AppSession(browser, url) for _ in range(args.sessions)]
        loads = [user.load_s for user in users]
        plans = [plan_for(i) for i in range(args.sessions)]
        for user, plan in zip(users, plans, strict=True):
            configure(user, plan)
        # Step latency while the others are busy: half the room plays while the rest step.
        playing = users[::2]
        for user in playing:
            user.play()
        play_start = time.perf_counter()
        steps = [user.step() for _ in range(STEPS_PER_SESSION) for user in users[1::2]]
        for user in users[1::2]:
            user.play()
        stalled = [wait_to_the_end(user) for user in users]
        full_play_s = time.perf_counter() - play_start
        errors, mismatches = [], []
        for i, (user, plan) in enumerate(zip(users, plans, strict=True)):
            if user.error_text() or user.recorder.errors or stalled[i]:
                errors.append({"session": i, "error": (stalled[i] or user.error_text())[:500],
                               "page_errors": user.recorder.errors[:3]})
            if user.week() != APP_HORIZON_WEEKS or user.download_csv() != solo_csv(plan):
                mismatches.append({"session": i, **plan, "week": user.week()})
        server = monitor.phase(room_start)
        monitor.stop()
        users[0].page.screenshot(path=str(RESULTS / "app_session.png"))
        for user in users:
            user.close()
        total_s = time.perf_counter() - start
    date = datetime.now(UTC).date().isoformat()
    result = {
        "date": date,
        "one_session_alone": {"page_load_s": round(alone_load_s, 1),
                              "full_play_s": round(alone_play_s, 1)},
        "sessions": args.sessions, "weeks_per_run": APP_HORIZON_WEEKS,
        "page_load_s": quantiles(loads),
        "step_latency_s_click_to_redraw_while_half_the_room_plays": quantiles(steps),
        "full_play_s_all_sessions_at_once": round(full_play_s, 1),
        "errors": errors, "sessions_differing_from_a_solo_run": mismatches,
        "server_rss_mb_after_start": round(baseline), "server": server,
        "total_s": round(total_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "git": commit, "loadavg_1m_start": load_start,
                    "loadavg_1m_end": os.getloadavg()[0]},
    }
    write_text(RESULTS / f"app_{date}.json", json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    write_text(RESULTS / f"app_{date}.md", text)
    print(text)
    if errors or mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
