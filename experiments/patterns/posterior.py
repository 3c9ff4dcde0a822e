"""Posterior predictive stage: every comparison under parameter sets drawn from a calibration.

``python -m experiments.patterns --posterior experiments/calibration/published/posterior.parquet``
draws ``--posterior-samples`` parameter sets from the posterior of ``python -m sim.calibrate``
(with replacement, by weight), runs every scenario at each with the robustness stage's
replications, and reports per comparison the share of draws in which it holds: its posterior
predictive probability of holding, given what the published figures say about the calibrated
parameters. The section goes into the existing report (``<!-- section:posterior -->``), like
the multiverse's; ``posterior.csv`` holds the shares. With ``--class-draws K`` the whole
mechanism attribution is also rerun at K draws (``class_stage``): how stable each comparison's
class is across the posterior (``classes_posterior.csv``, section ``posterior_classes``).

Calibration targets and validation patterns stay apart: the comparisons whose figures the
calibration fitted are marked ``role: calibration`` in ``patterns.yaml``, and the section
says so next to each share.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from experiments.patterns import attribution, evaluate
from experiments.patterns.run import FOLDERS, METRICS, ROOT_SEED, read, run, sweep_minutes
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


def _section(title: str, intro: str, columns: list[str], rows: list[list[str]], note: str,
             align: list[str] | None = None) -> str:
    """A report section: heading, intro, a table (``align``: its Markdown rule per column,
    '---' by default), then the note."""
    rule = align or ["---"] * len(columns)
    table = [f"| {' | '.join(cells)} |" for cells in (columns, *rows)]
    return "\n".join([f"## {title}", "", intro, "", table[0], f"|{'|'.join(rule)}|",
                      *table[1:], "", note, ""])


def markdown(spec: PatternSpec, shares: pd.DataFrame, note: str) -> str:
    rows = shares.set_index("id")
    return _section(
        "Posterior predictive: each comparison under the calibrated parameters",
        "The parameters fitted to published figures (docs/calibration.md) are not known "
        "exactly; here each comparison is rerun at parameter sets drawn from their "
        "posterior. *Holds* is the share of draws in which the comparison holds (sign "
        "and, where the evidence gives one, size): its posterior predictive probability. "
        "Calibration comparisons overlap the fitted figures and are not validation.",
        ["#", "comparison", "role", "holds", "right sign", "estimate range"],
        [[c.id, c.title, c.role, f"{rows.loc[c.id, 'share_holding']:.0%}",
          f"{rows.loc[c.id, 'share_direction']:.0%}",
          f"{rows.loc[c.id, 'estimate_min']:.3g} to {rows.loc[c.id, 'estimate_max']:.3g}"]
         for c in spec.comparisons], note, ["---", "---", "---", "---:", "---:", "---"])


def class_stage(spec: PatternSpec, size_name: str, workdir: Path, out: Path, posterior: Path,
                samples: int, workers: int) -> str:
    """Rerun the whole attribution (``attribution.attribute``) at ``samples`` posterior draws
    and write ``classes_posterior.csv`` (each draw's class of each comparison); return the
    report section: how often each comparison gets each class."""
    size = spec.sizes[size_name]
    draws = posterior_draws(posterior, samples, ROOT_SEED, "--posterior")
    started = time.perf_counter()
    found = attribution.classes_at_draws(spec, draws, size, workdir / "attribution", workers,
                                         ROOT_SEED, METRICS)
    minutes = (time.perf_counter() - started) / 60
    write_text(out / "classes_posterior.csv", found.to_csv(index=False))
    at_defaults = out / "classes.csv"
    defaults = (pd.read_csv(at_defaults, dtype={"id": str}).set_index("id")["class"]
                if at_defaults.exists() else pd.Series(dtype=str))
    note = (f"Size '{size_name}': {samples} draws from `{posterior}`, each with "
            f"{len(spec.knockouts)} knock-outs (and the pairs they call for) x "
            f"{len(spec.scenarios)} scenarios x {size.attribution_replications} replications, "
            f"{size.n_teams} teams x 156 weeks per run; {workers} workers; {minutes:.1f} min "
            "(last attempt).")
    return class_markdown(spec, attribution.class_shares(spec, found), defaults, note)


def class_markdown(spec: PatternSpec, shares: pd.DataFrame, defaults: pd.Series,
                   note: str) -> str:
    rows = shares.set_index("id")
    return _section(
        "Classes across the posterior",
        "A comparison's class (emergent, single-mechanism, ...) comes from knock-outs at one "
        "parameter set; here the whole attribution is rerun at parameter sets drawn from "
        "the calibrated parameters' posterior, to show which classes are a property of the "
        "model and which of where in the posterior it sits.",
        ["#", "comparison", "class at the defaults", "classes over the draws"],
        [[c.id, c.title, defaults.get(c.id, "not run"),
          ", ".join(f"{cls} {share:.0%}" for cls, share in rows.loc[c.id].items() if share > 0)]
         for c in spec.comparisons], note)
