"""Benchmark of the experiment engine: throughput of its backends, with and without
ensembles, against ``mesa.batch_run``; a 12-parameter Sobol design; and whether memory stays
flat as the number of runs grows.

Run from the repository root::

    python -m benchmarks.bench_sweep                 # full: 1,000 default runs, 100 vs 10,000,
                                                     # Sobol N = 256 x 5 replications (~15 min)
    python -m benchmarks.bench_sweep --quick         # smoke test: 20 runs, 100 vs 1,000, N = 8
    python -m benchmarks.bench_sweep --runs 200 --many 20000 --sobol-samples 64

What is measured, each case in a fresh subprocess (so start-up is counted and memory is the
case's own):

(a)-(e) throughput on the same ``--runs`` runs of the default scenario (8 teams x 156 weeks,
    seeds spawned from one root seed): runs per second over the whole call (pool or cluster
    start-up included: about 1 s serially, 2 s for 2 processes and their run servers, which
    1,000 runs make a small part) and peak memory, for (a) the serial backend with every run alone
    (``sweep.ensemble=false``, the engine before ensembles), (b) the serial backend with
    ensembles (the default), (c) the processes backend with 2 workers, (d) a 2-worker Dask
    LocalCluster and (e) ``mesa.batch_run`` with 2 processes on an adapter model whose
    ``mesa.DataCollector`` collects four model reporters every week. The engine cases write
    every outcome's weekly team table to Parquet; ``batch_run`` keeps its rows in memory.
(f) a Sobol design over 12 number parameters of the default scenario (each +/-30% of its
    default, within its allowed range): ``--sobol-samples`` x 14 points x 5 replications
    (N = 256: 17,920 runs), four outcomes every 13 weeks, processes backend, 2 workers; peak
    memory in the first and the second half of the case's time shows whether memory stays
    flat.
(g) memory flatness: a 100-run and a ``--many``-run sweep of short runs (1 team x 10 weeks)
    with the processes backend and 2 workers.

Peak memory is sampled every 50 ms with psutil as the sum of the resident set of the case's
process and all its children (workers), and reported with the parent's own peak. Results go
to ``benchmarks/results/sweep_<date>.json`` and ``.md``. Targets (from the issues) are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import mesa
import psutil

from sim.config import SimConfig, load_config
from sim.model import PeerWorkModel
from sim.output import write_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SCENARIO = ["organisation.n_teams=8", "organisation.horizon_weeks=156"]
SHORT_RUNS = ["organisation.n_teams=1", "organisation.horizon_weeks=10"]
TARGETS = {"processes_vs_serial": 1.8, "ensemble_vs_alone": 5.0, "processes_vs_batch_run": 3.0,
           "sobol_minutes_max": 10.0, "memory_ratio_max": 1.2}
#: The Sobol case's 12 parameters, each over +/-30% of its default.
SOBOL_FACTORS = ("recruitment.anchor", "recruitment.expectation_sd",
                 "boundaries.anchor_weight", "boundaries.influence_rate",
                 "supervision.renegotiation_rate", "meetings.status_salience",
                 "meetings.status_rate", "meetings.tie_gain", "meetings.tie_decay",
                 "wellbeing.recovery_rate", "wellbeing.demand_weight", "service_users.peer_gain")
SOBOL_REPLICATIONS = 5


# --------------------------------------------------------------------------------------------
# Child side: one case


def sweep_overrides(base: list[str], runs: int, out: Path, backend: str) -> list[str]:
    quoted = ",".join(f"'{item}'" for item in base)
    return ["+experiment=recruitment_by_supervision", "experiment.name=bench",
            "experiment.factors=[]", f"experiment.replications={runs}",
            f"experiment.base=[{quoted}]", "experiment.metrics=[]",
            "experiment.analysis.outcomes=[]", "experiment.analysis.reference=null",
            "sweep.analyse=false", "sweep.progress=none",
            f"sweep.backend={backend}", "sweep.workers=2", f"sweep.output_dir={out}"]


def sobol_overrides(samples: int) -> list[str]:
    """The Sobol case's experiment (see the module docstring), ``samples`` x 14 points."""
    defaults = default_params()
    factors = []
    for name in SOBOL_FACTORS:
        group_name, key = name.split(".")
        group = getattr(defaults, group_name)
        limits = {f.name: f.metadata for f in dataclasses.fields(group)}[key]
        value = getattr(group, key)
        low, high = max(0.7 * value, limits.get("lo", -math.inf)), min(
            1.3 * value, limits.get("hi", math.inf))
        factors.append(f"{{name: {name}, range: [{low:.6g}, {high:.6g}]}}")
    return [f"experiment.factors=[{','.join(factors)}]",
            f"experiment.design={{kind: sobol, samples: {samples}, second_order: false}}",
            f"experiment.replications={SOBOL_REPLICATIONS}",
            "experiment.metrics=[distinctiveness,expectation_gap,status_gap,user_recovery]",
            "experiment.record_interval_weeks=13"]


def engine_case(backend: str, base: list[str], runs: int, extra: list[str]) -> float:
    from sim.sweep.engine import load_sweep_config, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_sweep_config(sweep_overrides(base, runs, Path(tmp) / "out", backend)
                                + extra)
        clock = time.perf_counter()
        outcome = run_sweep(cfg)
        seconds = time.perf_counter() - clock
    assert outcome.n_ok == outcome.n_runs, outcome
    return seconds


@cache
def default_params() -> SimConfig:
    return load_config(DEFAULT_SCENARIO)


def pw_mean(name: str):
    return lambda m: float(getattr(m.workforce, name)[m.workforce.is_peer].mean())


class BatchRunPeerWorkModel(PeerWorkModel):
    """A Mesa-idiomatic adapter for ``batch_run``: built from a seed, with a DataCollector of
    four model reporters collected every week."""

    def __init__(self, seed: int) -> None:
        super().__init__(default_params(), seed=seed)
        self.datacollector = mesa.DataCollector(model_reporters={
            "pw_practice": pw_mean("practice"), "pw_confidence": pw_mean("confidence"),
            "pw_strain": pw_mean("strain"),
            "pw_in_post": lambda m: int(m.workforce.is_peer.sum())})

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)


def batch_run_case(runs: int) -> float:
    # by its module name, not __main__, so that batch_run's worker processes can unpickle it
    from benchmarks.bench_sweep import BatchRunPeerWorkModel as model_class
    from sim.sweep.seeds import child_seed

    seeds = [child_seed(20240601, i) for i in range(runs)]
    clock = time.perf_counter()
    rows = mesa.batch_run(model_class, parameters={"seed": seeds}, number_processes=2,
                          iterations=1, data_collection_period=1, display_progress=False)
    seconds = time.perf_counter() - clock
    assert len({row["seed"] for row in rows}) == runs
    return seconds


def child(case: str, runs: int) -> None:
    """One case: ``batch_run``, ``sobol`` (``runs`` is then the Sobol N), or an engine backend
    with ``:alone`` (no ensembles) or ``:short`` (short runs)."""
    if case == "batch_run":
        seconds = batch_run_case(runs)
    elif case == "sobol":
        seconds = engine_case("processes", DEFAULT_SCENARIO, 1, sobol_overrides(runs))
    else:
        backend, _, variant = case.partition(":")
        seconds = engine_case(backend, SHORT_RUNS if variant == "short" else DEFAULT_SCENARIO,
                              runs, ["sweep.ensemble=false"] if variant == "alone" else [])
    peak_self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "parent_peak_mb": peak_self_mb}))


# --------------------------------------------------------------------------------------------
# Parent side: run each case in a subprocess and sample its memory


def tree_rss_mb(process: psutil.Process) -> float:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def measure(case: str, runs: int, n_runs: int | None = None) -> dict[str, Any]:
    """Run ``case`` in a subprocess (``runs`` passed on; ``n_runs`` runs done, if not
    ``runs``) and sample its memory."""
    n_runs = runs if n_runs is None else n_runs
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_sweep", "--child", case,
                             "--runs", str(runs)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []  # (seconds since start, MB)
    watched, start = psutil.Process(proc.pid), time.perf_counter()

    def sample() -> None:
        while proc.poll() is None:
            try:
                samples.append((time.perf_counter() - start, tree_rss_mb(watched)))
            except psutil.Error:
                break
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"case {case} failed with exit status {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    half = (samples[-1][0] if samples else 0.0) / 2
    row = {"case": case, "runs": n_runs, "seconds": round(result["seconds"], 2),
           "runs_per_second": round(n_runs / result["seconds"], 2),
           "peak_total_mb": round(max((mb for _, mb in samples), default=0.0), 1),
           "peak_first_half_mb": round(max((mb for t, mb in samples if t <= half),
                                           default=0.0), 1),
           "peak_second_half_mb": round(max((mb for t, mb in samples if t > half),
                                            default=0.0), 1),
           "parent_peak_mb": round(result["parent_peak_mb"], 1)}
    print(f"  {case:<20} {n_runs:>6} runs  {row['seconds']:>8.2f} s  "
          f"{row['runs_per_second']:>8.2f} runs/s  peak {row['peak_total_mb']:>7.1f} MB "
          f"(parent {row['parent_peak_mb']:.1f} MB)", flush=True)
    return row


def run(runs: int, few: int, many: int, sobol_samples: int) -> dict[str, Any]:
    print(f"throughput: {runs} runs of the default scenario (8 teams x 156 weeks)")
    throughput = {name: measure(case, runs) for name, case in (
        ("serial_alone", "serial:alone"), ("serial", "serial"), ("processes_2", "processes"),
        ("dask_local_2", "dask"), ("mesa_batch_run_2", "batch_run"))}
    sobol_runs = sobol_samples * (len(SOBOL_FACTORS) + 2) * SOBOL_REPLICATIONS
    print(f"Sobol: {len(SOBOL_FACTORS)} parameters, N = {sobol_samples}, "
          f"{SOBOL_REPLICATIONS} replications ({sobol_runs:,} runs), 2 processes")
    sobol = measure("sobol", sobol_samples, sobol_runs)
    print(f"memory: {few} vs {many} short runs (1 team x 10 weeks), processes backend, 2 workers")
    memory = {"few": measure("processes:short", few), "many": measure("processes:short", many)}
    rate = {name: row["runs_per_second"] for name, row in throughput.items()}
    ratios = {
        "ensemble_vs_alone": round(rate["serial"] / rate["serial_alone"], 2),
        "processes_vs_serial": round(rate["processes_2"] / rate["serial"], 2),
        "dask_vs_serial": round(rate["dask_local_2"] / rate["serial"], 2),
        "processes_vs_batch_run": round(rate["processes_2"] / rate["mesa_batch_run_2"], 2),
        "dask_vs_batch_run": round(rate["dask_local_2"] / rate["mesa_batch_run_2"], 2),
        "sobol_minutes": round(sobol["seconds"] / 60, 1),
        "sobol_memory_second_vs_first_half": round(sobol["peak_second_half_mb"]
                                                   / sobol["peak_first_half_mb"], 3),
        "memory_ratio_total": round(memory["many"]["peak_total_mb"]
                                    / memory["few"]["peak_total_mb"], 3),
        "memory_ratio_parent": round(memory["many"]["parent_peak_mb"]
                                     / memory["few"]["parent_peak_mb"], 3),
    }
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(),
                        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
            "throughput": throughput, "sobol": sobol, "memory": memory, "ratios": ratios,
            "targets": TARGETS}


def markdown(report: dict[str, Any]) -> str:
    ratios, targets = report["ratios"], report["targets"]
    lines = [f"# Sweep engine benchmark, {report['date']}", "",
             f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}"
             f", {report['machine']['platform']}; load average at the end "
             f"{report['machine']['load_average_1_5_15']} (other jobs share the machine). "
             "Produced by `python -m benchmarks.bench_sweep` (method in its docstring).", "",
             "| case | runs | seconds | runs/s | peak memory, all processes (MB) | "
             "parent peak (MB) |", "|---|---:|---:|---:|---:|---:|"]
    cases = [*report["throughput"].items(), ("sobol", report["sobol"]),
             *report["memory"].items()]
    for name, row in cases:
        lines.append(f"| {name} ({row['case']}) | {row['runs']} | {row['seconds']} | "
                     f"{row['runs_per_second']} | {row['peak_total_mb']} | "
                     f"{row['parent_peak_mb']} |")
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|",
              f"| serial with ensembles / serial, runs alone (one core) | "
              f"{ratios['ensemble_vs_alone']} | >= {targets['ensemble_vs_alone']} |",
              f"| 2 processes / serial | {ratios['processes_vs_serial']} | "
              f">= {targets['processes_vs_serial']} |",
              f"| 2-worker Dask / serial | {ratios['dask_vs_serial']} | "
              f">= {targets['processes_vs_serial']} |",
              f"| 2 processes / mesa.batch_run (2 processes) | "
              f"{ratios['processes_vs_batch_run']} | >= {targets['processes_vs_batch_run']} |",
              f"| 2-worker Dask / mesa.batch_run | {ratios['dask_vs_batch_run']} | "
              f">= {targets['processes_vs_batch_run']} |",
              f"| Sobol design ({report['sobol']['runs']:,} runs, 2 processes), minutes | "
              f"{ratios['sobol_minutes']} | <= {targets['sobol_minutes_max']} |",
              f"| Sobol peak memory, second / first half of its time (all processes) | "
              f"{ratios['sobol_memory_second_vs_first_half']} | "
              f"<= {targets['memory_ratio_max']} |",
              f"| peak memory, many / few runs (all processes) | "
              f"{ratios['memory_ratio_total']} | <= {targets['memory_ratio_max']} |",
              f"| peak memory, many / few runs (parent) | {ratios['memory_ratio_parent']} | "
              f"<= {targets['memory_ratio_max']} |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sweep")
    parser.add_argument("--runs", type=int, default=1000, help="runs per throughput case")
    parser.add_argument("--many", type=int, default=10_000, help="runs of the large sweep")
    parser.add_argument("--sobol-samples", type=int, default=256,
                        help="Sobol N (a power of 2): N x 14 points x 5 replications")
    parser.add_argument("--quick", action="store_true", help="20 runs; 100 vs 1,000; N = 8")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.runs)
        return
    runs, many, samples = (20, 1000, 8) if args.quick else (args.runs, args.many,
                                                            args.sobol_samples)
    report = run(runs, 100, many, samples)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d") + ("_quick" if args.quick else "")
    write_text(RESULTS / f"sweep_{stamp}.json", json.dumps(report, indent=2))
    text = markdown(report)
    write_text(RESULTS / f"sweep_{stamp}.md", text)
    print(text)


if __name__ == "__main__":
    main()
