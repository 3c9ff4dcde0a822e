"""Run an experiment: ``python -m sim.sweep +experiment=NAME [overrides]``.

Examples::

    python -m sim.sweep +experiment=recruitment_by_supervision
    python -m sim.sweep +experiment=recruitment_by_supervision sweep.backend=processes \\
        sweep.workers=2 experiment.replications=30
    python -m sim.sweep +experiment=lhs_example sweep.backend=dask cluster=slurm
    python -m sim.sweep +experiment=morris_example --cfg job     # print the composed config

Rerunning the same command resumes: only the runs missing from ``sweep.output_dir`` execute.
Exit status: 0 all runs succeeded, 1 some runs failed (tracebacks in the run table) or a worker
process died (rerun to resume), 2 bad config (nothing written), 130 interrupted (rerun to
resume).
"""

from __future__ import annotations

import sys

from sim.sweep.cli import asks_hydra, exit_status, hydra_answers
from sim.sweep.engine import SweepOutcome, load_sweep_config, run_sweep


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if asks_hydra(args):
        return hydra_answers("sweep", args)
    return exit_status(lambda: report(run_sweep(load_sweep_config(args))))


def report(outcome: SweepOutcome) -> int:
    print(f"{outcome.n_ok} of {outcome.n_runs} runs succeeded; results in {outcome.output_dir}")
    if outcome.verdict:
        print(outcome.verdict)
    if outcome.n_failed:
        print(f"error: {outcome.n_failed} of {outcome.n_runs} runs failed; tracebacks in the "
              f"'error' column of {outcome.output_dir / 'runs'} and in manifest.json",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
