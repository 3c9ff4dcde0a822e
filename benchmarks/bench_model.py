"""Benchmark of the Peer Worker model: speed of the default run, and cost as the organisation grows.

Run from the repository root::

    python -m benchmarks.bench_model                    # full: 5 repeats, 10/100/1000 teams
    python -m benchmarks.bench_model --quick            # smoke test: 2 repeats, 10/100 teams
    python -m benchmarks.bench_model --repeats 9 --sizes 10,100,1000,3000
    python -m benchmarks.bench_model --profile          # also write cProfile listings

What is measured (see benchmarks/README.md for the meaning of every number):

(a) the default run (``conf/config.yaml`` as composed by ``sim.config.load_config``, 8 teams x
    156 weeks) run in this process ``--repeats`` times; each timing covers model construction
    and ``run()``, not imports and not composing the config. The median is reported.
(b) agent-steps per second of the default run: (staff slots + service users per team) x teams
    x weeks / median wall time.
(c) for each of ``--sizes`` teams (156 weeks), ``--repeats`` fresh subprocesses: wall time
    (median) and peak resident memory (max of the child's VmHWM, i.e. its own high-water mark,
    which includes the interpreter and imported libraries), and time per team-week so that
    linear growth shows as a flat column.

(d) ensembles (``sim.ensemble.EnsembleModel``) of ``ENSEMBLE_SIZES`` default runs with
    different seeds, in this process: milliseconds per run for building, running and reading
    every run's summary and time series (``recorder.results``), against the same for runs
    alone; the best of ``--repeats``.

Results go to ``benchmarks/results/model_<date>.json`` and ``.md`` (written atomically) and the
table is printed. Nothing here asserts on wall-clock time: the numbers are reported, never
judged by an exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (10, 100, 1000)
ENSEMBLE_SIZES = (1, 8, 32, 64)
HORIZON_WEEKS = 156
#: Targets from the project brief (reported next to the measurements, never asserted).
TARGETS = {"default_run_s": 0.1, "teams_1000_s": 60.0, "teams_1000_peak_mb": 4096.0}


# --------------------------------------------------------------------------------------------
# Helpers shared by parent and child


def _status_kb(field: str) -> float | None:
    """A ``kB`` field of /proc/self/status (VmHWM, VmRSS), or None where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _maxrss_mb(who: int) -> float:
    """ru_maxrss in MB (Linux reports kB, macOS bytes)."""
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(who).ru_maxrss * scale / 2**20


def _config(n_teams: int | None, weeks: int) -> Any:
    from sim.config import load_config

    overrides = [f"organisation.horizon_weeks={weeks}"]
    if n_teams is not None:
        overrides.append(f"organisation.n_teams={n_teams}")
    return load_config(overrides)


def agents_per_team(params: Any) -> int:
    """Staff slots (manager + non-peer staff + PW posts) plus service users, per team."""
    team = params.team
    return 1 + team.n_nonpeer_staff + team.n_peer_workers + team.caseload


def _timed_run(params: Any) -> dict[str, float]:
    """Wall seconds of construction and of the run, and CPU seconds of both, for one model.

    CPU time (``time.process_time``) is reported next to wall time because it is much less
    affected by other work competing for the cores of a shared machine.
    """
    from sim.model import PeerWorkModel

    cpu0, start = time.process_time(), time.perf_counter()
    model = PeerWorkModel(params)
    built = time.perf_counter()
    model.run()
    done, cpu1 = time.perf_counter(), time.process_time()
    if model.week != params.organisation.horizon_weeks:
        raise RuntimeError(f"model stopped at week {model.week}")
    return {"construct_s": built - start, "run_s": done - built, "wall_s": done - start,
            "cpu_s": cpu1 - cpu0}


# --------------------------------------------------------------------------------------------
# Child: one size in a fresh interpreter


def child_main(n_teams: int, weeks: int) -> None:
    """Run one model of ``n_teams`` and print one JSON line with time and memory."""
    params = _config(n_teams, weeks)
    import sim.model  # noqa: F401  (imported before the baseline so it is not counted)

    baseline_kb = _status_kb("VmRSS")
    timing = _timed_run(params)
    hwm_kb = _status_kb("VmHWM")
    print(json.dumps({
        "n_teams": n_teams,
        "weeks": weeks,
        **timing,
        "baseline_rss_mb": baseline_kb / 1024 if baseline_kb is not None else None,
        "vmhwm_mb": hwm_kb / 1024 if hwm_kb is not None else None,
        "ru_maxrss_mb": _maxrss_mb(resource.RUSAGE_SELF),
    }))


def run_size(n_teams: int, weeks: int, python: str) -> dict[str, Any]:
    """One fresh subprocess for one size; its JSON line plus the parent's view of its memory."""
    cmd = [python, "-m", "benchmarks.bench_model", "--child", str(n_teams), "--weeks", str(weeks)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # wait4 gives the rusage of this one child (RUSAGE_CHILDREN would be the max over all).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"child for {n_teams} teams failed ({proc.returncode}):\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    result["wait4_maxrss_mb"] = usage.ru_maxrss * scale / 2**20
    result["peak_mb"] = result["vmhwm_mb"] if result["vmhwm_mb"] is not None \
        else result["wait4_maxrss_mb"]
    return result


# --------------------------------------------------------------------------------------------
# Parent: default run, sizes, machine info, report


def machine_info() -> dict[str, Any]:
    import mesa
    import numpy

    cpu_model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu_model = next((line.split(":", 1)[1].strip() for line in fh
                              if line.startswith("model name")), None)
    except OSError:
        pass
    mem_total_mb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem_total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model or platform.processor() or None,
        "mem_total_mb": round(mem_total_mb) if mem_total_mb else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mesa": mesa.__version__,
        "loadavg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "git": _git_state(),
    }


def _git_state() -> dict[str, Any]:
    """HEAD commit and whether sim/ or conf/ differ from it (the model may be mid-edit)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "model_dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--",
                                    "sim", "conf"))}


def bench_default(repeats: int, weeks: int) -> dict[str, Any]:
    params = _config(None, weeks)
    per_team = agents_per_team(params)
    n_teams = params.organisation.n_teams
    runs = [_timed_run(params) for _ in range(repeats)]
    wall = [r["wall_s"] for r in runs]
    median = statistics.median(wall)
    agents = per_team * n_teams
    return {
        "n_teams": n_teams,
        "weeks": weeks,
        "agents": agents,
        "agents_per_team": per_team,
        "repeats": repeats,
        "wall_s": wall,
        "median_s": median,
        "min_s": min(wall),
        "max_s": max(wall),
        "cpu_s": [r["cpu_s"] for r in runs],
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "median_construct_s": statistics.median(r["construct_s"] for r in runs),
        "agent_steps_per_s": agents * weeks / median,
        "us_per_team_week": median / (n_teams * weeks) * 1e6,
    }


def bench_ensembles(repeats: int, weeks: int) -> list[dict[str, Any]]:
    """Milliseconds per run, alone and in ensembles of ``ENSEMBLE_SIZES`` runs (best of
    ``repeats``), every run's tables read as the experiment engine reads them."""
    from sim.ensemble import EnsembleModel
    from sim.model import PeerWorkModel

    params = _config(None, weeks)

    def alone(n: int) -> None:
        for seed in range(n):
            PeerWorkModel(params, seed=seed).run().recorder.results()

    def together(n: int) -> None:
        model = EnsembleModel([params] * n, list(range(n))).run()
        for run in range(n):
            model.recorder.results(run)

    rows = []
    for n in ENSEMBLE_SIZES:
        row: dict[str, Any] = {"runs": n}
        for name, work in (("alone", alone), ("ensemble", together)):
            times = []
            for _ in range(repeats):
                clock = time.perf_counter()
                work(n)
                times.append(time.perf_counter() - clock)
            row[f"{name}_ms_per_run"] = min(times) / n * 1000
        row["speed_up"] = row["alone_ms_per_run"] / row["ensemble_ms_per_run"]
        rows.append(row)
        print(f"  ensemble of {n}: {row['ensemble_ms_per_run']:.1f} ms/run "
              f"(alone {row['alone_ms_per_run']:.1f})", file=sys.stderr, flush=True)
    return rows


def bench_sizes(sizes: list[int], repeats: int, weeks: int) -> list[dict[str, Any]]:
    per_team = agents_per_team(_config(None, weeks))
    rows = []
    for n in sizes:
        runs = []
        for i in range(repeats):
            print(f"  {n} teams, run {i + 1}/{repeats} ...", file=sys.stderr, flush=True)
            runs.append(run_size(n, weeks, sys.executable))
        wall = [r["wall_s"] for r in runs]
        median = statistics.median(wall)
        rows.append({
            "n_teams": n,
            "weeks": weeks,
            "agents": per_team * n,
            "repeats": repeats,
            "wall_s": wall,
            "median_s": median,
            "cpu_s": [r["cpu_s"] for r in runs],
            "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "median_construct_s": statistics.median(r["construct_s"] for r in runs),
            "agent_steps_per_s": per_team * n * weeks / median,
            "us_per_team_week": median / (n * weeks) * 1e6,
            "peak_mb": max(r["peak_mb"] for r in runs),
            "baseline_rss_mb": statistics.median(r["baseline_rss_mb"] or 0.0 for r in runs),
            "wait4_maxrss_mb": max(r["wait4_maxrss_mb"] for r in runs),
        })
    for prev, row in zip(rows, rows[1:], strict=False):
        # Local scaling exponent: 1.0 is linear, above 1 superlinear.
        row["exponent_vs_prev"] = math.log(row["median_s"] / prev["median_s"]) / math.log(
            row["n_teams"] / prev["n_teams"])
        row["mem_exponent_vs_prev"] = _mem_exponent(prev, row)
        # Marginal cost of one more team-week: flat across sizes when cost is linear in teams
        # (the per-team-week average also carries the fixed per-week cost of numpy calls).
        row["marginal_us_per_team_week"] = (row["median_s"] - prev["median_s"]) / (
            (row["n_teams"] - prev["n_teams"]) * row["weeks"]) * 1e6
    return rows


def _mem_exponent(prev: dict[str, Any], row: dict[str, Any]) -> float | None:
    """Scaling exponent of the memory the model adds above the interpreter's baseline."""
    a = prev["peak_mb"] - prev["baseline_rss_mb"]
    b = row["peak_mb"] - row["baseline_rss_mb"]
    if a <= 0 or b <= 0:
        return None
    return math.log(b / a) / math.log(row["n_teams"] / prev["n_teams"])


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def markdown(report: dict[str, Any]) -> str:
    d, m = report["default"], report["machine"]
    lines = [
        f"## Model benchmark, {report['date']}",
        "",
        f"Machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m['cpu_model']}, "
        f"{m['mem_total_mb']} MB RAM; Python {m['python']}, numpy {m['numpy']}, "
        f"Mesa {m['mesa']}; commit {m['git']['commit']}"
        + (" (sim/ or conf/ modified)" if m["git"]["model_dirty"] else "")
        + f"; 1-min load average {_fmt(m['loadavg_1m'], '.2f')} before the benchmark "
        "(above ~0.5: other work was running), "
        f"{_fmt(m.get('loadavg_1m_end'), '.2f')} at the end (includes the benchmark itself). "
        "Wall time well above CPU time also means the cores were shared.",
        "",
        "### Default run (in process)",
        "",
        "| teams x weeks | agents | repeats | median s | min s | max s | median CPU s "
        "| agent-steps/s | us/team-week |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {d['n_teams']} x {d['weeks']} | {d['agents']:,} | {d['repeats']} "
        f"| {d['median_s']:.3f} | {d['min_s']:.3f} | {d['max_s']:.3f} | {d['median_cpu_s']:.3f} "
        f"| {d['agent_steps_per_s']:,.0f} | {d['us_per_team_week']:.1f} |",
        "",
        "### Organisation size (fresh subprocess per run)",
        "",
        "| teams | agents | repeats | median s | of which build s | median CPU s "
        "| agent-steps/s | us/team-week | marginal us/team-week | time exponent | peak RSS MB "
        "| baseline MB | mem exponent |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["sizes"]:
        lines.append(
            f"| {r['n_teams']:,} | {r['agents']:,} | {r['repeats']} | {r['median_s']:.2f} "
            f"| {r['median_construct_s']:.2f} | {r['median_cpu_s']:.2f} "
            f"| {r['agent_steps_per_s']:,.0f} "
            f"| {r['us_per_team_week']:.1f} | {_fmt(r.get('marginal_us_per_team_week'), '.1f')} "
            f"| {_fmt(r.get('exponent_vs_prev'), '.2f')} "
            f"| {r['peak_mb']:.0f} | {r['baseline_rss_mb']:.0f} "
            f"| {_fmt(r.get('mem_exponent_vs_prev'), '.2f')} |")
    lines += ["", "Marginal cost and exponents compare each size with the previous one: a flat "
              "marginal cost and an exponent of 1.00 mean linear growth; the exponent is below 1 "
              "while the fixed per-week cost of numpy calls still dominates. The memory exponent "
              "uses peak minus the baseline RSS of the interpreter and libraries.",
              "", "### Ensembles (in process, best of the repeats)", "",
              "| runs | ms per run alone | ms per run in the ensemble | speed-up |",
              "|---:|---:|---:|---:|"]
    for r in report["ensembles"]:
        lines.append(f"| {r['runs']} | {r['alone_ms_per_run']:.1f} "
                     f"| {r['ensemble_ms_per_run']:.1f} | {r['speed_up']:.2f} |")
    lines += ["", "Each run is built, run, and its summary and time series read "
              "(`recorder.results`), as the experiment engine does; the engine's own costs "
              "(run process, Parquet) are in `bench_sweep`.",
              "", "### Targets (reported, not asserted)", ""]
    lines += [f"- {t}" for t in report["targets"]]
    return "\n".join(lines) + "\n"


def targets(report: dict[str, Any]) -> list[str]:
    d = report["default"]
    out = [f"default run < {TARGETS['default_run_s']:g} s: median {d['median_s']:.3f} s"]
    big = next((r for r in report["sizes"] if r["n_teams"] == 1000), None)
    if big is not None:
        out.append(f"1,000 teams x {big['weeks']} weeks < {TARGETS['teams_1000_s']:g} s and "
                   f"< {TARGETS['teams_1000_peak_mb'] / 1024:g} GB: {big['median_s']:.1f} s, "
                   f"{big['peak_mb']:.0f} MB peak")
    later = [r for r in report["sizes"] if "exponent_vs_prev" in r]
    if later:
        out.append("linear in teams: marginal us/team-week "
                   + ", ".join(f"{r['marginal_us_per_team_week']:.1f}" for r in later)
                   + "; time exponents " + ", ".join(f"{r['exponent_vs_prev']:.2f}" for r in later)
                   + " (flat marginal cost and exponent 1.00 = linear)")
    return out


def atomic_write(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# Profiling (optional): cProfile listings of the default run and of the largest size


def profile(n_teams: int | None, weeks: int, top: int = 25, ensemble: int = 0) -> str:
    """cProfile listings of one run of ``n_teams`` teams (None: the default), or of an
    ensemble of ``ensemble`` default runs."""
    from sim.ensemble import EnsembleModel
    from sim.model import PeerWorkModel

    params = _config(n_teams, weeks)
    prof = cProfile.Profile()
    prof.enable()
    if ensemble:
        EnsembleModel([params] * ensemble, list(range(ensemble))).run()
    else:
        PeerWorkModel(params).run()
    prof.disable()
    what = (f"an ensemble of {ensemble} runs of " if ensemble else "") + \
        f"{params.organisation.n_teams} teams x {weeks} weeks"
    text = []
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        text.append(f"# {what}, by {key}\n" + buf.getvalue())
    return "\n".join(text)


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_model", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs of the default model, and subprocesses per size "
                    "(default 5, --quick 2)")
    ap.add_argument("--sizes", default=None,
                    help="comma-separated team counts (default 10,100,1000; --quick 10,100)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: fewer repeats and sizes; writes model_<date>_quick.*")
    ap.add_argument("--weeks", type=int, default=HORIZON_WEEKS, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true",
                    help="also write cProfile listings of the default run and the largest size "
                    "to results/profile_<date>.txt")
    ap.add_argument("--no-write", action="store_true", help="print only, write no files")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.sizes is None:
        args.sizes = "10,100" if args.quick else ",".join(map(str, DEFAULT_SIZES))
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        ap.error("--sizes takes comma-separated integers, e.g. 10,100,1000")
    if not args.sizes or min(args.sizes) < 1:
        ap.error("--sizes must be positive team counts")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        child_main(args.child, args.weeks)
        return 0
    os.chdir(ROOT)
    started = datetime.now(UTC)
    print(f"default run x {args.repeats} ...", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d"),
        "started_utc": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine_info(),
        "default": bench_default(args.repeats, args.weeks),
    }
    report["sizes"] = bench_sizes(args.sizes, args.repeats, args.weeks)
    print("ensembles ...", file=sys.stderr, flush=True)
    report["ensembles"] = bench_ensembles(args.repeats, args.weeks)
    report["targets"] = targets(report)
    report["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["loadavg_1m_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") \
        else None
    table = markdown(report)
    print(table)
    if args.no_write:
        return 0
    stem = f"model_{report['date']}" + ("_quick" if args.quick else "")
    atomic_write(RESULTS / f"{stem}.json", json.dumps(report, indent=2) + "\n")
    atomic_write(RESULTS / f"{stem}.md", table)
    print(f"wrote {RESULTS / stem}.json and .md", file=sys.stderr)
    if args.profile:
        print("profiling ...", file=sys.stderr, flush=True)
        text = "\n".join([profile(None, args.weeks), profile(max(args.sizes), args.weeks),
                          profile(None, args.weeks, ensemble=max(ENSEMBLE_SIZES))])
        atomic_write(RESULTS / f"profile_{report['date']}.txt", text)
        print(f"wrote {RESULTS / 'profile_'}{report['date']}.txt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

