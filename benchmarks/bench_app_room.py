"""Load benchmark of the participatory room: facilitators and N participants in headless Chromium.

Run from the repository root::

    python -m benchmarks.bench_app_room                      # 5, 15 and 30 participants
    python -m benchmarks.bench_app_room --participants 5 --periods 2

For each room size a fresh ``solara run sim/app.py`` server is started (as ``make app`` does).
A team has 11 people, so participants are spread over as many rooms as needed, at most
:data:`MAX_PER_ROOM` each, every room with its own facilitator page (``/facilitator``).
Every participant is a separate browser context (``/room``): it types the code and its name,
picks the next free person and joins. Then, for ``--periods`` decision points, every
participant makes one more choice for their person and each facilitator advances four weeks;
finally each facilitator shows the debrief.

Measured, never asserted:

- *join*: from opening ``/room`` to the page saying "You are ...";
- *choice seen*: from a participant's click to the facilitator's screen counting it;
- *advance seen*: from the facilitator's click to a participant's page showing the new week
  (both pages look at the room four times a second, so up to a quarter of a second of it is
  that wait);
- *debrief*: from the click to the table;
- the server process's CPU (as cores busy: CPU seconds / wall seconds) and resident memory,
  sampled four times a second; while everyone waits (``--idle`` s) it is the cost of the
  pages looking at the room (they redraw only when what they show has changed);
- errors: uncaught page errors, failed requests, a traceback or error shown on any page,
  tracebacks in the server log, and whether each room's debrief equals the same room replayed
  in this process (same settings, seed, seats and choices).

The browsers run on the same machine as the server, so every latency includes their share of
the cores. Results: ``benchmarks/results/app_room_<date>.json`` and ``.md``; the script exits
with status 1 if any error was seen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.bench_app import ServerMonitor, quantiles, server_process
from sim.app_driver import PATIENCE_MS, REPO, PageRecorder, app_server, chromium
from sim.app_room import DECISIONS, PERIOD_WEEKS, ROOM_HORIZON_WEEKS, Room
from sim.app_room_page import debrief_cells
from sim.output import git_revision, write_text

RESULTS = REPO / "benchmarks" / "results"
#: Participants per room: a team has 11 people; one is always left to the model's rules.
MAX_PER_ROOM = 10
PRESET = "london"

#: Records, in the page, the time (ms since the epoch) each of ``targets`` first appears in the
#: element matching ``selector``. A MutationObserver, not a timer: timers of pages in the
#: background may be slowed down, DOM changes are seen as they happen.
WATCH_JS = """([selector, targets]) => {
  window.__seen = {};
  const check = () => {
    const el = document.querySelector(selector);
    const text = el ? el.innerText : "";
    for (const t of targets) if (!(t in window.__seen) && text.includes(t)) {
      window.__seen[t] = Date.now(); }
  };
  if (window.__watch) window.__watch.disconnect();
  window.__watch = new MutationObserver(check);
  window.__watch.observe(document.body, {subtree: true, childList: true, characterData: true});
  check();
}"""
ALL_SEEN_JS = "(targets) => targets.every(t => window.__seen && t in window.__seen)"


def new_page(browser, url: str, recorders: list[PageRecorder]):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    recorders.append(PageRecorder().attach(page))
    page.goto(url, timeout=PATIENCE_MS)
    return page


def watch(page, selector: str, targets: list[str]) -> None:
    page.evaluate(WATCH_JS, [selector, targets])


def seen(page, targets: list[str]) -> dict[str, float]:
    """Wait until every target has appeared; their times in seconds since the epoch."""
    page.wait_for_function(ALL_SEEN_JS, arg=targets, timeout=PATIENCE_MS)
    return {t: ms / 1000 for t, ms in page.evaluate("() => window.__seen").items()}


@dataclass
class Player:
    """One participant: their page, their person, and what they have chosen so far."""

    page: Any
    name: str
    seat: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)

    def next_choice(self, room: Room, period: int) -> tuple[str, str]:
        """A decision they have not made yet (staying in post, never leaving: the run goes on),
        with the options taken in turn."""
        open_ = [d for d in room.decisions_for(self.seat) if d not in self.choices]
        decision = open_[period % len(open_)]
        options = [o for o in DECISIONS[decision].options if o != "leave"]
        return decision, options[(period + len(self.choices)) % len(options)]


@dataclass
class RoomRun:
    """One room as the benchmark plays it, and its replay in this process."""

    host: Any
    replay: Room
    players: list[Player] = field(default_factory=list)


def open_room(browser, url: str, seed: int, recorders: list[PageRecorder]) -> RoomRun:
    host = new_page(browser, url + "facilitator", recorders)
    seed_box = host.get_by_label("Seed (same seed, same run)")
    seed_box.fill(str(seed))
    seed_box.press("Enter")
    host.get_by_role("button", name="Open the room").click()
    code = host.locator(".room-code").inner_text()
    host.get_by_text(f"seed {seed}, week 0").wait_for()
    return RoomRun(host, Room(PRESET, seed, ROOM_HORIZON_WEEKS, code=code))


def join(browser, url: str, run: RoomRun, name: str, recorders: list[PageRecorder]) -> float:
    start = time.perf_counter()
    page = new_page(browser, url + "room", recorders)
    seat = list(run.replay.seats.values())[len(run.players)]
    page.get_by_label("Room code").fill(run.replay.code)
    page.get_by_label("Your name").fill(name)
    page.locator(".seats").get_by_role("button", name=seat.label, exact=True).click()
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_text(f"You are {seat.label} (room {run.replay.code})").wait_for()
    run.players.append(Player(page, name, seat.seat, seat.label))
    run.replay.join(run.replay.code, seat.seat, name)
    return time.perf_counter() - start


def status_line(run: RoomRun, player: Player) -> str:
    return (f"{player.label}: {player.name}, chosen {len(player.choices)} of "
            f"{len(run.replay.decisions_for(player.seat))}")


def choose_all(runs: list[RoomRun], period: int) -> list[float]:
    """Every participant makes one more choice; seconds until their facilitator counts it."""
    clicks: dict[tuple[int, str], float] = {}
    for run in runs:
        for player in run.players:
            decision, option = player.next_choice(run.replay, period)
            player.choices[decision] = option
        watch(run.host, ".room-status", [status_line(run, p) for p in run.players])
    for r, run in enumerate(runs):
        for player in run.players:
            decision = list(player.choices)[-1]
            words = DECISIONS[decision].options[player.choices[decision]]
            button = player.page.locator(f".decision-{decision}").get_by_role(
                "button", name=words, exact=True)
            clicks[r, status_line(run, player)] = time.time()
            button.click()
    latencies = []
    for r, run in enumerate(runs):
        for line, at in seen(run.host, [status_line(run, p) for p in run.players]).items():
            latencies.append(at - clicks[r, line])
    for run in runs:  # the replay makes the same choices
        tokens = {p.seat: t for t, p in run.replay.players.items()}
        for player in run.players:
            for decision, option in player.choices.items():
                run.replay.choose(tokens[player.seat], decision, option)
    return latencies


def advance_all(runs: list[RoomRun]) -> list[float]:
    """Each facilitator advances; seconds until each participant's page shows the new week."""
    clicks = []
    for run in runs:
        week = f"Week {run.replay.week + PERIOD_WEEKS} of {ROOM_HORIZON_WEEKS}"
        for player in run.players:
            watch(player.page, ".my-week", [week])
    for run in runs:
        clicks.append(time.time())
        run.host.get_by_role("button", name=f"Advance {PERIOD_WEEKS} weeks").click()
    latencies = []
    for run, at in zip(runs, clicks, strict=True):
        week = f"Week {run.replay.week + PERIOD_WEEKS} of {ROOM_HORIZON_WEEKS}"
        latencies += [seen(p.page, [week])[week] - at for p in run.players]
        run.replay.advance(run.replay.facilitator_key)
        for player in run.players:  # leaving or staying is decided once a period
            player.choices.pop("post", None)
    return latencies


def debrief_all(runs: list[RoomRun]) -> tuple[list[float], list[int]]:
    """Each facilitator shows the debrief: seconds to the table, and the rooms whose table
    differs from the replay's."""
    latencies, differing = [], []
    for r, run in enumerate(runs):
        start = time.perf_counter()
        run.host.get_by_role("button", name="Show the debrief").click()
        run.host.locator(".debrief td").first.wait_for()
        latencies.append(time.perf_counter() - start)
        expected = [cell for row in debrief_cells(run.replay.debrief()) for cell in row]
        if run.host.locator(".debrief td").all_inner_texts() != expected:
            differing.append(r + 1)
    return latencies, differing


def page_errors(pages: list, recorders: list[PageRecorder]) -> list[str]:
    errors = [f"page error: {e}" for rec in recorders for e in rec.errors]
    errors += [f"failed request: {status} {url}" for rec in recorders
               for status, url in rec.failed]
    for page in pages:
        body = page.locator("body").inner_text()
        alerts = page.locator(".v-alert").all_inner_texts()
        if "Traceback" in body:
            errors.append(f"traceback on {page.url}")
        errors += [f"error shown on {page.url}: {a[:200]}" for a in alerts]
    return errors


def bench_size(browser_factory, participants: int, periods: int, idle_s: float) -> dict:
    rooms = math.ceil(participants / MAX_PER_ROOM)
    log = RESULTS / f"app_room_server_{participants}.log"
    recorders: list[PageRecorder] = []
    with app_server(log) as url, browser_factory() as browser:
        monitor = ServerMonitor(server_process())
        baseline = monitor.sample()[2]
        start = monitor.sample()
        runs = [open_room(browser, url, seed, recorders) for seed in range(1, rooms + 1)]
        joins = [join(browser, url, runs[i % rooms], f"P{i + 1:02d}", recorders)
                 for i in range(participants)]
        joining = monitor.phase(start)
        start = monitor.sample()
        time.sleep(idle_s)
        idle = monitor.phase(start)
        start = monitor.sample()
        choice_seen, advance_seen = [], []
        for period in range(periods):
            choice_seen += choose_all(runs, period)
            advance_seen += advance_all(runs)
        playing = monitor.phase(start)
        debrief_s, differing = debrief_all(runs)
        pages = [run.host for run in runs] + [p.page for run in runs for p in run.players]
        errors = page_errors(pages, recorders)
        monitor.stop()
    server_tracebacks = log.read_text().count("Traceback")
    if server_tracebacks:
        errors.append(f"{server_tracebacks} traceback(s) in {log.name}")
    if differing:
        errors.append(f"debrief differs from the replay in room(s) {differing}")
    return {
        "participants": participants, "rooms": rooms, "browser_pages": len(pages),
        "periods": periods, "server_rss_mb_after_start": round(baseline),
        "join_s": quantiles(joins), "choice_seen_by_facilitator_s": quantiles(choice_seen),
        "advance_seen_by_participants_s": quantiles(advance_seen),
        "debrief_s": quantiles(debrief_s),
        "server": {"joining": joining, "idle": {**idle, "seconds_waited": idle_s},
                   "choosing_and_advancing": playing},
        "errors": errors, "debriefs_equal_to_replay": not differing,
    }


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"# Participatory room under load ({report['date']})", "",
             f"`python -m benchmarks.bench_app_room --participants "
             f"{','.join(str(r['participants']) for r in report['sizes'])} --periods "
             f"{report['periods']}`; commit {m['git']}; {m['cpus']} CPUs, Python {m['python']}; "
             f"1-min load average {m['loadavg_1m_start']:.2f} at the start and "
             f"{m['loadavg_1m_end']:.2f} at the end. Server and browsers share the machine. "
             "Times in seconds: median / 95th percentile / max (number of measurements).", "",
             "| participants | rooms | join | choice seen by facilitator | advance seen by "
             "participants | debrief | errors |", "|---:|---:|---|---|---|---|---:|"]

    def q(values: dict) -> str:
        return f"{values['median']:.2f} / {values['p95']:.2f} / {values['max']:.2f} " \
               f"({values['n']})"

    for r in report["sizes"]:
        lines.append(f"| {r['participants']} | {r['rooms']} | {q(r['join_s'])} | "
                     f"{q(r['choice_seen_by_facilitator_s'])} | "
                     f"{q(r['advance_seen_by_participants_s'])} | {q(r['debrief_s'])} | "
                     f"{len(r['errors'])} |")
    lines += ["", "Server process: cores busy (CPU s / wall s) and peak resident memory.", "",
              "| participants | memory after start MB | joining: cores, peak MB | idle: cores, "
              "peak MB | choosing and advancing: cores, peak MB |", "|---:|---:|---|---|---|"]
    for r in report["sizes"]:
        s = r["server"]
        lines.append(f"| {r['participants']} | {r['server_rss_mb_after_start']} | " + " | ".join(
            f"{s[k]['cores_busy']:.2f}, {s[k]['peak_rss_mb']}"
            for k in ("joining", "idle", "choosing_and_advancing")) + " |")
    errors = [f"- {r['participants']} participants: {e}" for r in report["sizes"]
              for e in r["errors"]]
    lines += ["", "Errors:" if errors else
              "No errors: no page error, failed request, traceback or error message on any "
              "page or in the server log, and every room's debrief equals the same room "
              "replayed in one process.", *errors]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_app_room",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--participants", default="5,15,30",
                        help="room sizes to run, comma-separated (default 5,15,30)")
    parser.add_argument("--periods", type=int, default=3, help="decision points per room")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds everyone waits, to measure the pages' polling cost")
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.participants.split(",")]
    except ValueError:
        parser.error(f"--participants {args.participants!r}: whole numbers, e.g. 5,15,30")
    if not all(n >= 1 for n in sizes) or args.periods < 1 or args.idle < 0:
        parser.error("participants and periods must be at least 1, idle at least 0")
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_start, commit = os.getloadavg()[0], git_revision()  # as the run starts
    results = [bench_size(chromium, n, args.periods, args.idle) for n in sizes]
    date = datetime.now(UTC).date().isoformat()
    report = {"date": date, "periods": args.periods, "preset": PRESET,
              "max_participants_per_room": MAX_PER_ROOM, "sizes": results,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "git": commit, "loadavg_1m_start": load_start,
                          "loadavg_1m_end": os.getloadavg()[0]}}
    write_text(RESULTS / f"app_room_{date}.json", json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    write_text(RESULTS / f"app_room_{date}.md", text)
    print(text)
    if any(r["errors"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
