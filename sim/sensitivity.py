"""Sensitivity analysis in one command: run (or resume) a Morris or Sobol' experiment, then
compute its indices on replication-averaged outputs (``sim/analysis/sensitivity.py``).

Examples::

    python -m sim.sensitivity +experiment=sensitivity_morris sweep.backend=processes
    python -m sim.sensitivity +experiment=sensitivity_sobol experiment.design.samples=128
    python -m sim.sensitivity +experiment=sensitivity_morris --outputs pw_strain_mean,weeks
    python -m sim.sensitivity --analyse-only outputs/sweeps/sensitivity_morris

Everything but the options below is a Hydra override of ``conf/sweep.yaml``, as for
``python -m sim.sweep``. The engine's own summaries are off (``sweep.analyse=false``) unless
overridden. Rerunning resumes: only runs missing from ``sweep.output_dir`` execute. Exit status:
0 indices written, 1 some runs failed (indices still written if every point has a successful
run) or a worker died, 2 bad config or input (nothing written), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from sim.analysis import sensitivity
from sim.analysis.sensitivity import MAIN_OUTPUTS, SensitivityResult, analyse
from sim.metrics import TEAM_OUTCOMES
from sim.params import ConfigError
from sim.sweep.__main__ import main as sweep_main
from sim.sweep.cli import HYDRA_FLAGS, asks_hydra, exit_status
from sim.sweep.design import design_points
from sim.sweep.engine import load_sweep_config, run_sweep, to_sweep_config
from sim.sweep.plan import build_plan

PER_METRIC = ("_final", "_mean")
#: Hydra's flags that print the config, passed to python -m sim.sweep (our --help is our own).
CONFIG_FLAGS = tuple(flag for flag in HYDRA_FLAGS if flag not in ("--help", "-h"))


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m sim.sensitivity",
                                     description=__doc__.split("\n\n")[0],
                                     epilog="other arguments: Hydra overrides, e.g. "
                                            "+experiment=sensitivity_morris sweep.workers=2")
    parser.add_argument("--analyse-only", metavar="DIR", default=None,
                        help="re-analyse a saved experiment folder; run nothing")
    parser.add_argument("--outputs", default=",".join(MAIN_OUTPUTS),
                        help="comma-separated run-table columns (default: %(default)s)")
    parser.add_argument("--resamples", type=int, default=1000,
                        help="bootstrap resamples for the confidence intervals")
    parser.add_argument("--no-plots", action="store_true")
    return parser.parse_known_args(argv)


def check_design(cfg: DictConfig, outputs: list[str]) -> None:
    """Before running: the experiment is Morris or Sobol' and records the outputs' metrics."""
    experiment = cfg.experiment
    if not experiment.name:
        raise ConfigError("experiment", None, "+experiment=NAME with a morris or sobol design, "
                          "e.g. +experiment=sensitivity_morris")
    if experiment.design.kind not in sensitivity.METHODS:
        raise ConfigError("experiment.design.kind", experiment.design.kind,
                          f"{' or '.join(sensitivity.METHODS)} for python -m sim.sensitivity "
                          "(use python -m sim.sweep for other designs)")
    if experiment.scenarios:
        raise ConfigError("experiment.scenarios", dict(experiment.scenarios),
                          "none: one design per sensitivity experiment")
    recorded = list(experiment.metrics) or list(TEAM_OUTCOMES)
    for output in outputs:
        metric = output.removesuffix("_final").removesuffix("_mean")
        if output.endswith(PER_METRIC) and metric not in recorded:
            raise ConfigError("--outputs", output,
                              f"<metric>_final or <metric>_mean of a recorded metric "
                              f"({', '.join(recorded)}; add it to experiment.metrics) or a "
                              "run-level summary such as pw_turnover_per_year")


def check_morris_rounding(cfg: DictConfig) -> None:
    """Before running: every Morris step still moves its factor once integer parameters are
    rounded (a too-narrow integer range would otherwise be found only after every run)."""
    experiment = to_sweep_config(cfg).experiment
    if experiment.design.kind != "morris":
        return
    names = [factor.name for factor in experiment.factors]
    shape = (experiment.design.samples, len(names) + 1, len(names))
    raw = design_points(experiment, Path.cwd())[names].to_numpy(dtype=float)
    rounded = build_plan(experiment, Path.cwd()).points_table()[names].to_numpy(dtype=float)
    undone = (np.diff(raw.reshape(shape), axis=1) != 0) & (
        np.diff(rounded.reshape(shape), axis=1) == 0)
    if undone.any():
        trajectory, step, i = np.argwhere(undone)[0]
        factor = experiment.factors[i]
        raise ConfigError(f"experiment.factors[{i}].range", list(factor.range),
                          f"a range wide enough that every Morris step of {factor.name} (an "
                          f"integer, rounded) changes it; trajectory {trajectory}, step {step} "
                          "does not: widen the range or lower experiment.design.num_levels")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if asks_hydra(argv, CONFIG_FLAGS):
        return sweep_main(argv)  # --cfg job and friends: print the composed config
    args, overrides = parse(argv)
    return exit_status(lambda: run_and_analyse(args, overrides),
                       input_errors=(ConfigError, ValueError, FileNotFoundError))


def run_and_analyse(args: argparse.Namespace, overrides: list[str]) -> int:
    outputs = [o for o in args.outputs.split(",") if o]
    if args.resamples < 1:
        raise ConfigError("--resamples", args.resamples, "an integer >= 1")
    n_failed = 0
    if args.analyse_only:
        if overrides:
            raise ConfigError("arguments", overrides, "none besides the options with "
                              "--analyse-only (it runs nothing)")
        folder = Path(args.analyse_only)
    else:
        cfg = load_sweep_config(["sweep.analyse=false", *overrides])
        check_design(cfg, outputs)
        check_morris_rounding(cfg)
        outcome = run_sweep(cfg)
        folder, n_failed = outcome.output_dir, outcome.n_failed
        print(f"{outcome.n_ok} of {outcome.n_runs} runs succeeded; results in {folder}")
    result = analyse(folder, outputs, args.resamples, plots_wanted=not args.no_plots)
    print(headline(result))
    print(f"sensitivity indices: {result.folder}")
    if n_failed:
        print(f"error: {n_failed} runs failed; their points were averaged over the remaining "
              f"replications; tracebacks in {folder / 'runs'}", file=sys.stderr)
        return 1
    return 0


def headline(result: SensitivityResult) -> str:
    """The most influential parameter of each outcome, one line each."""
    index = sensitivity.MAIN_INDEX[result.indices["method"].iloc[0]]
    main = result.indices[result.indices["index"] == index]
    lines = []
    for outcome in result.outputs["outcome"]:
        top = main[main["outcome"] == outcome].sort_values("value").iloc[-1]
        lines.append(f"{outcome}: most influential {top['parameter']} ({index} "
                     f"{top['value']:.3g})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
