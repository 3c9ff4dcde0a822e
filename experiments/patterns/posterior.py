"""Posterior predictive stage: every comparison under parameter sets drawn from a calibration.

``python -m experiments.patterns --posterior experiments/calibration/published/posterior.parquet``
draws ``--posterior-samples`` parameter sets from the posterior of ``python -m sim.calibrate``
(with replacement, by weight), runs every scenario at each with the robustness stage's
replications, and reports per comparison the share of draws in which it holds: its posterior
predictive probability of holding, given what the published figures say about the calibrated
parameters. The section goes into the existing report (``<!-- section:posterior -->``), like
the multiverse's; ``posterior.csv`` holds the shares.

Calibration targets and validation patterns stay apart: the comparisons whose figures the
calibration fitted are marked ``role: calibration`` in ``patterns.yaml``, and the section
says so next to each share.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.patterns import evaluate
from experiments.patterns.run import FOLDERS, ROOT_SEED, read, run, sweep_minutes
from experiments.patterns.spec import PatternSpec
from sim.calibrate import posterior_draws
from sim.output import write_text, write_text_if_changed


def write_design(posterior: Path, samples: int, path: Path) -> Path:
    """The draws as the engine's CSV design (rewritten only when they change: a resume finds
    the same file)."""
    return write_text_if_changed(path, posterior_draws(
        posterior, samples, ROOT_SEED, "--posterior").to_csv(index=False, float_format="%.10g"))


def stage(spec: PatternSpec, size_name: str, workdir: Path, out: Path, posterior: Path,
          samples: int, backend: str, workers: int) -> str:
    """Run (or resume) the posterior sweep, write ``posterior.csv`` into ``out``; return the
    report section."""
    size = spec.sizes[size_name]
    design = write_design(posterior, samples, workdir / f"{FOLDERS['posterior']}_design.csv")
    run(spec, size, workdir, "posterior", backend, workers, design)
    runs, weekly = read(workdir / FOLDERS["posterior"], robustness=True)
    shares = evaluate.robustness(spec.comparisons, runs, weekly)
    roles = {c.id: c.role for c in spec.comparisons}
    shares.insert(1, "role", shares["id"].map(roles))
    write_text(out / "posterior.csv", shares.to_csv(index=False))
    note = (f"Size '{size_name}': {samples} draws from `{posterior}` x {len(spec.scenarios)} "
            f"scenarios x {size.robustness_replications} replications, {size.n_teams} teams x "
            f"156 weeks per run; {backend} backend, {workers} workers; "
            f"{sweep_minutes(workdir / FOLDERS['posterior']):.1f} min of simulation.")
    return markdown(spec, shares, note)


def markdown(spec: PatternSpec, shares: pd.DataFrame, note: str) -> str:
    rows = shares.set_index("id")
    lines = ["## Posterior predictive: each comparison under the calibrated parameters", "",
             "The parameters fitted to published figures (docs/calibration.md) are not known "
             "exactly; here each comparison is rerun at parameter sets drawn from their "
             "posterior. *Holds* is the share of draws in which the comparison holds (sign "
             "and, where the evidence gives one, size): its posterior predictive probability. "
             "Calibration comparisons overlap the fitted figures and are not validation.", "",
             "| # | comparison | role | holds | right sign | estimate range |",
             "|---|---|---|---:|---:|---|"]
    for c in spec.comparisons:
        r = rows.loc[c.id]
        lines.append(f"| {c.id} | {c.title} | {c.role} | {r['share_holding']:.0%} | "
                     f"{r['share_direction']:.0%} | {r['estimate_min']:.3g} to "
                     f"{r['estimate_max']:.3g} |")
    return "\n".join([*lines, "", note, ""])
