"""Load benchmark of the workshop app: a room of browser sessions against one server.

``python -m benchmarks.bench_app [--sessions 20]`` starts ``solara run sim/app.py`` as
``make app`` does, times one session alone (page load, a whole play), then opens ``--sessions``
browser contexts in Debian's headless Chromium (each a
separate user), and has each choose a preset and seed, move a lever, Reset, press Step a few
times, then play to the end, all at once. It reports page-load time, step latency (click to
redrawn week), full-play time, and checks that every session saw no error and that its
exported run equals a solo run with the same settings and seed, byte for byte.

Results: ``benchmarks/results/bench_app.json`` and a screenshot of one session at the end.
The figures in ``docs/workshop.md`` come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from sim.app_driver import REPO, AppSession, app_server, chromium
from sim.app_model import (
    APP_HORIZON_WEEKS,
    PRESETS,
    WorkshopModel,
    describe_run,
    frame_csv,
    overrides_for,
)

RESULTS = REPO / "benchmarks" / "results"
STEPS_PER_SESSION = 5


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


def quantiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"median": round(float(np.median(array)), 3),
            "p95": round(float(np.quantile(array, 0.95)), 3),
            "max": round(float(array.max()), 3), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with app_server(RESULTS / "bench_app_server.log") as url, chromium() as browser:
        # One facilitator alone first: what a page load and a whole run take on this machine.
        alone = AppSession(browser, url)
        alone_load_s, alone_play_s = alone.load_s, alone.play_to_end(APP_HORIZON_WEEKS)
        alone.close()
        start = time.perf_counter()
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
        for user in users:
            user.wait_until_finished(APP_HORIZON_WEEKS)
        full_play_s = time.perf_counter() - play_start
        errors, mismatches = [], []
        for i, (user, plan) in enumerate(zip(users, plans, strict=True)):
            if user.error_text() or user.recorder.errors:
                errors.append({"session": i, "error": user.error_text()[:500],
                               "page_errors": user.recorder.errors[:3]})
            if user.week() != APP_HORIZON_WEEKS or user.download_csv() != solo_csv(plan):
                mismatches.append({"session": i, **plan, "week": user.week()})
        users[0].page.screenshot(path=str(RESULTS / "bench_app_session.png"))
        for user in users:
            user.close()
        total_s = time.perf_counter() - start
    result = {
        "one_session_alone": {"page_load_s": round(alone_load_s, 1),
                              "full_play_s": round(alone_play_s, 1)},
        "sessions": args.sessions, "weeks_per_run": APP_HORIZON_WEEKS,
        "page_load_s": quantiles(loads),
        "step_latency_s_click_to_redraw_while_half_the_room_plays": quantiles(steps),
        "full_play_s_all_sessions_at_once": round(full_play_s, 1),
        "errors": errors, "sessions_differing_from_a_solo_run": mismatches,
        "total_s": round(total_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    (RESULTS / "bench_app.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if errors or mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
