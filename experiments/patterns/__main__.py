"""``python -m experiments.patterns [--size full|small] [--backend processes --workers 2]``.

Runs the pattern experiment (resumable: rerun the same command after an interruption),
evaluates the ten comparisons and writes the report. Exits 1 if a comparison fails at the
defaults. ``--multiverse`` adds the multiverse stage (every comparison under every combination
of rival rule forms, ``multiverse.py``) as a section of the report; ``--multiverse-only`` runs
that stage alone and puts its section into the existing report in the output folder;
``--posterior PATH`` does the same for the posterior predictive stage (``posterior.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from experiments.patterns import attribution, evaluate, multiverse, posterior, report, robustness
from experiments.patterns.run import FOLDERS, METRICS, ROOT_SEED, read, run, sweep_minutes
from experiments.patterns.spec import PatternSpec, load_spec
from sim.calibrate import posterior_draws
from sim.params import ConfigError

HERE = Path(__file__).resolve().parent
ODD = HERE.parents[1] / "docs" / "ODD.md"


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
    parser.add_argument("--multiverse", action="store_true",
                        help="also run the multiverse stage (rival rule forms)")
    parser.add_argument("--multiverse-only", action="store_true",
                        help="run only the multiverse stage")
    parser.add_argument("--posterior", type=Path, default=None,
                        help="run only the posterior predictive stage, at draws from this "
                        "posterior.parquet (python -m sim.calibrate)")
    parser.add_argument("--posterior-samples", type=int, default=20,
                        help="parameter sets drawn from the posterior (default 20)")
    parser.add_argument("--class-draws", type=int, default=0,
                        help="with --posterior: also rerun the mechanism attribution at this "
                        "many posterior draws (how stable each class is)")
    parser.add_argument("--ranges", action="store_true",
                        help="only rewrite the robustness-range table of docs/ODD.md (8.2)")
    args = parser.parse_args(argv)
    try:
        spec = load_spec()
        if args.size not in spec.sizes:
            raise ConfigError("--size", args.size, "one of " + ", ".join(spec.sizes))
        if args.multiverse or args.multiverse_only:
            multiverse.size_of(multiverse.load_multiverse(), args.size)
        if args.posterior_samples < 1:
            raise ConfigError("--posterior-samples", args.posterior_samples, "an integer >= 1")
        if args.class_draws < 0 or (args.class_draws and (
                args.posterior is None or not spec.sizes[args.size].attribution_replications)):
            raise ConfigError("--class-draws", args.class_draws,
                              "an integer >= 0, and above 0 only with --posterior and a size "
                              "with attribution replications (full, attribution)")
        if args.posterior is not None:  # checked before anything runs
            posterior_draws(args.posterior, 1, ROOT_SEED, "--posterior")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.ranges:
        ODD.write_text(robustness.odd_with_ranges(ODD.read_text(), spec.robustness))
        print(f"robustness ranges: {ODD} section 8.2 ({len(spec.robustness.ranges)} "
              f"parameters, {len(spec.robustness.forms)} rule forms)")
        return 0
    size = spec.sizes[args.size]
    workdir = args.workdir / args.size
    out = args.out or (HERE / "results" if args.size == "full" else workdir / "report")
    if args.multiverse_only:
        return _multiverse(spec, args, workdir, out)
    if args.posterior is not None:
        section = posterior.stage(spec, args.size, workdir, out, args.posterior,
                                  args.posterior_samples, args.backend, args.workers)
        path = report.insert_section(out, "posterior", section)
        print(f"posterior predictive: {out / 'posterior.csv'} (section added to {path})")
        if args.class_draws:
            section = posterior.class_stage(spec, args.size, workdir, out, args.posterior,
                                            args.class_draws, args.workers)
            path = report.insert_section(out, "posterior_classes", section)
            print(f"classes across the posterior: {out / 'classes_posterior.csv'} (section "
                  f"added to {path})")
        return 0
    run(spec, size, workdir, "defaults", args.backend, args.workers)
    runs, weekly = read(workdir / FOLDERS["defaults"], robustness=False)
    results = evaluate.evaluate(spec.comparisons, runs, weekly)
    knockouts = None
    if size.attribution_replications and spec.knockouts:
        started = time.perf_counter()
        knockouts = attribution.attribute(spec, size, workdir / "attribution", args.workers,
                                          ROOT_SEED, METRICS)
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
    if args.multiverse:
        _multiverse(spec, args, workdir, out)
    return 0 if results["passes"].all() else 1


def _multiverse(spec: PatternSpec, args: argparse.Namespace, workdir: Path, out: Path) -> int:
    section = multiverse.stage(spec, args.size, workdir, out, args.backend, args.workers)
    path = report.insert_section(out, "multiverse", section)
    print(f"multiverse: {out / 'multiverse.md'} (section added to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
