"""Benchmark of the experiment engine: throughput of its backends against ``mesa.batch_run``,
and whether memory stays flat as the number of runs grows.

Run from the repository root::

    python -m benchmarks.bench_sweep                 # full: 100 default runs, 100 vs 10,000
    python -m benchmarks.bench_sweep --quick         # smoke test: 20 default runs, 100 vs 1,000
    python -m benchmarks.bench_sweep --runs 200 --many 20000

What is measured, each case in a fresh subprocess (so start-up is counted and memory is the
case's own):

(a)-(d) throughput on the same ``--runs`` runs of the default scenario (8 teams x 156 weeks,
    seeds spawned from one root seed): runs per second over the whole call (pool or cluster
    start-up included) and peak memory, for (a) the serial backend, (b) the processes backend
    with 2 workers, (c) a 2-worker Dask LocalCluster and (d) ``mesa.batch_run`` with 2
    processes on an adapter model whose ``mesa.DataCollector`` collects four model reporters
    every week. The engine cases write every outcome's weekly team table to Parquet;
    ``batch_run`` keeps its rows in memory.
(e) memory flatness: a 100-run and a ``--many``-run sweep of short runs (1 team x 10 weeks)
    with the processes backend and 2 workers.

Peak memory is sampled every 50 ms with psutil as the sum of the resident set of the case's
process and all its children (workers), and reported with the parent's own peak. Results go
to ``benchmarks/results/sweep_<date>.json`` and ``.md``. Targets (from the issue) are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import json
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
TARGETS = {"processes_vs_serial": 1.8, "processes_vs_batch_run": 2.0, "memory_ratio_max": 1.2}


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


def engine_case(backend: str, base: list[str], runs: int) -> float:
    from sim.sweep.engine import load_sweep_config, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_sweep_config(sweep_overrides(base, runs, Path(tmp) / "out", backend))
        clock = time.perf_counter()
        outcome = run_sweep(cfg)
        seconds = time.perf_counter() - clock
    assert outcome.n_ok == runs, outcome
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
    if case == "batch_run":
        seconds = batch_run_case(runs)
    else:
        backend, _, size = case.partition(":")
        seconds = engine_case(backend, SHORT_RUNS if size == "short" else DEFAULT_SCENARIO, runs)
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


def measure(case: str, runs: int) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_sweep", "--child", case,
                             "--runs", str(runs)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = [0.0]
    watched = psutil.Process(proc.pid)

    def sample() -> None:
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], tree_rss_mb(watched))
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
    row = {"case": case, "runs": runs, "seconds": round(result["seconds"], 2),
           "runs_per_second": round(runs / result["seconds"], 2),
           "peak_total_mb": round(peak[0], 1),
           "parent_peak_mb": round(result["parent_peak_mb"], 1)}
    print(f"  {case:<20} {runs:>6} runs  {row['seconds']:>8.2f} s  "
          f"{row['runs_per_second']:>8.2f} runs/s  peak {row['peak_total_mb']:>7.1f} MB "
          f"(parent {row['parent_peak_mb']:.1f} MB)", flush=True)
    return row


def run(runs: int, few: int, many: int) -> dict[str, Any]:
    print(f"throughput: {runs} runs of the default scenario (8 teams x 156 weeks)")
    throughput = {name: measure(case, runs) for name, case in (
        ("serial", "serial"), ("processes_2", "processes"), ("dask_local_2", "dask"),
        ("mesa_batch_run_2", "batch_run"))}
    print(f"memory: {few} vs {many} short runs (1 team x 10 weeks), processes backend, 2 workers")
    memory = {"few": measure("processes:short", few), "many": measure("processes:short", many)}
    rate = {name: row["runs_per_second"] for name, row in throughput.items()}
    ratios = {
        "processes_vs_serial": round(rate["processes_2"] / rate["serial"], 2),
        "dask_vs_serial": round(rate["dask_local_2"] / rate["serial"], 2),
        "processes_vs_batch_run": round(rate["processes_2"] / rate["mesa_batch_run_2"], 2),
        "dask_vs_batch_run": round(rate["dask_local_2"] / rate["mesa_batch_run_2"], 2),
        "memory_ratio_total": round(memory["many"]["peak_total_mb"]
                                    / memory["few"]["peak_total_mb"], 3),
        "memory_ratio_parent": round(memory["many"]["parent_peak_mb"]
                                     / memory["few"]["parent_peak_mb"], 3),
    }
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(),
                        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
            "throughput": throughput, "memory": memory, "ratios": ratios, "targets": TARGETS}


def markdown(report: dict[str, Any]) -> str:
    ratios, targets = report["ratios"], report["targets"]
    lines = [f"# Sweep engine benchmark, {report['date']}", "",
             f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}"
             f", {report['machine']['platform']}; load average at the end "
             f"{report['machine']['load_average_1_5_15']} (other jobs share the machine). "
             "Produced by `python -m benchmarks.bench_sweep` (method in its docstring).", "",
             "| case | runs | seconds | runs/s | peak memory, all processes (MB) | "
             "parent peak (MB) |", "|---|---:|---:|---:|---:|---:|"]
    for name, row in [*report["throughput"].items(), *report["memory"].items()]:
        lines.append(f"| {name} ({row['case']}) | {row['runs']} | {row['seconds']} | "
                     f"{row['runs_per_second']} | {row['peak_total_mb']} | "
                     f"{row['parent_peak_mb']} |")
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|",
              f"| 2 processes / serial | {ratios['processes_vs_serial']} | "
              f">= {targets['processes_vs_serial']} |",
              f"| 2-worker Dask / serial | {ratios['dask_vs_serial']} | "
              f">= {targets['processes_vs_serial']} |",
              f"| 2 processes / mesa.batch_run (2 processes) | "
              f"{ratios['processes_vs_batch_run']} | >= {targets['processes_vs_batch_run']} |",
              f"| 2-worker Dask / mesa.batch_run | {ratios['dask_vs_batch_run']} | "
              f">= {targets['processes_vs_batch_run']} |",
              f"| peak memory, many / few runs (all processes) | "
              f"{ratios['memory_ratio_total']} | <= {targets['memory_ratio_max']} |",
              f"| peak memory, many / few runs (parent) | {ratios['memory_ratio_parent']} | "
              f"<= {targets['memory_ratio_max']} |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sweep")
    parser.add_argument("--runs", type=int, default=100, help="runs per throughput case")
    parser.add_argument("--many", type=int, default=10_000, help="runs of the large sweep")
    parser.add_argument("--quick", action="store_true", help="20 runs; 100 vs 1,000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.runs)
        return
    runs, many = (20, 1000) if args.quick else (args.runs, args.many)
    report = run(runs, 100, many)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    write_text(RESULTS / f"sweep_{stamp}.json", json.dumps(report, indent=2))
    text = markdown(report)
    write_text(RESULTS / f"sweep_{stamp}.md", text)
    print(text)


if __name__ == "__main__":
    main()
