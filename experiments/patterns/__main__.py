"""``python -m experiments.patterns [--size full|small] [--backend processes --workers 2]``.

Runs the pattern experiment (resumable: rerun the same command after an interruption),
evaluates the ten comparisons and writes the report. Exits 1 if a comparison fails at the
defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from experiments.patterns import attribution, evaluate, report
from experiments.patterns.run import FOLDERS, METRICS, ROOT_SEED, read, run, sweep_minutes
from experiments.patterns.spec import load_spec
from sim.params import ConfigError

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.patterns",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", help="a size in patterns.yaml (full, small)")
    parser.add_argument("--backend", default="processes", choices=["serial", "processes",
                                                                   "dask"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("outputs/patterns"),
                        help="where the sweeps' raw tables go (resume from here)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder (default: experiments/patterns/results for "
                        "full size, <workdir>/report otherwise)")
    args = parser.parse_args(argv)
    try:
        spec = load_spec()
        if args.size not in spec.sizes:
            raise ConfigError("--size", args.size, "one of " + ", ".join(spec.sizes))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    size = spec.sizes[args.size]
    workdir = args.workdir / args.size
    out = args.out or (HERE / "results" if args.size == "full" else workdir / "report")
    run(spec, size, workdir, "defaults", args.backend, args.workers)
    runs, weekly = read(workdir / FOLDERS["defaults"], robustness=False)
    results = evaluate.evaluate(spec.comparisons, runs, weekly)
    knockouts = None
    if size.attribution_replications and spec.knockouts:
        started = time.perf_counter()
        ko_runs, ko_weekly = attribution.run_knockouts(
            spec, size, workdir / "attribution", args.workers, ROOT_SEED, METRICS)
        knockouts = attribution.knockout_table(spec, ko_runs, ko_weekly)
        attribution_minutes = (time.perf_counter() - started) / 60
    shares = None
    if size.robustness_samples:
        run(spec, size, workdir, "robustness", args.backend, args.workers)
        rob_runs, rob_weekly = read(workdir / FOLDERS["robustness"], robustness=True)
        shares = evaluate.robustness(spec.comparisons, rob_runs, rob_weekly)
    minutes = {stage: sweep_minutes(workdir / name) for stage, name in FOLDERS.items()
               if (workdir / name / "manifest.json").exists()}
    if knockouts is not None:
        minutes["attribution (last attempt)"] = attribution_minutes
    note = (f"Size '{args.size}': {size.n_teams} teams x 156 weeks per run, "
            f"{size.replications} replications per scenario at the defaults"
            + (f"; attribution {len(spec.knockouts)} knock-outs x {len(spec.scenarios)} "
               f"scenarios x {size.attribution_replications} replications"
               if knockouts is not None else "")
            + (f"; robustness {size.robustness_samples} samples x "
               f"{size.robustness_replications} replications" if size.robustness_samples
               else "") + f"; {args.backend} backend, {args.workers} workers; minutes of "
            "simulation over all attempts: " + ", ".join(f"{stage} {m:.1f}"
                                                         for stage, m in minutes.items()) + ".")
    path = report.write(out, spec, results, shares, runs, weekly, note, knockouts)
    print(report.table(spec, results, shares)[["id", "comparison", "estimate", "95% CI",
                                               "result", "robustness: share holding"]]
          .to_string(index=False))
    print(f"report: {path}")
    return 0 if results["passes"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
