"""Running the pattern experiment's sweeps with the experiment engine, and reading them back.

Sweeps: every scenario at the defaults (``defaults/``), every scenario at each point of the
robustness design (``robustness.py``: every assumption over its full range, every rule form;
``robustness/``), and at each draw from a calibration's posterior (``posterior.py``). All are
ordinary engine
outputs: streamed Parquet, a manifest, resumable by running the command again.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.patterns import robustness as robustness_design
from experiments.patterns.spec import PatternSpec, Size
from sim.analysis.tables import iter_timeseries, load_runs
from sim.sweep.engine import SweepOutcome, load_sweep_config, run_sweep

#: Outcomes recorded in the time-series table: what the comparisons and figures read.
METRICS = ["expectation_gap", "status_gap", "pw_integration", "distinctiveness",
           "pw_role_ambiguity", "pw_disempowerment", "pw_confidence", "pw_supported",
           "pw_valued_by_users", "pw_valued_by_staff", "pw_strain", "staff_strain",
           "user_recovery", "user_admissions"]
ROOT_SEED = 20131188  # Gillard et al. 2013, BMC Health Services Research 13:188


FOLDERS = {"defaults": "patterns", "robustness": "patterns_robustness",
           "posterior": "patterns_posterior"}


def sweep_config(spec: PatternSpec, size: Size, workdir: Path, stage: str,
                 backend: str, workers: int, design: Path | None = None) -> DictConfig:
    """The engine config of one of the sweeps (``FOLDERS``): at the defaults, or at every
    point of a CSV design (robustness: written here; posterior: ``design``)."""
    name = FOLDERS[stage]
    robustness = stage != "defaults"
    if stage == "robustness":
        design = robustness_design.write_design(spec.robustness, size.robustness_samples,
                                                ROOT_SEED, workdir / f"{name}_design.csv")
    cfg = load_sweep_config([f"sweep.backend={backend}", f"sweep.workers={workers}",
                             "sweep.analyse=false", f"sweep.output_dir={workdir / name}"])
    replications = size.robustness_replications if robustness else size.replications
    experiment = {
        "name": name, "description": "pattern-oriented validation (experiments/patterns)",
        "base": [f"organisation.n_teams={size.n_teams}"],
        "scenarios": spec.scenarios,
        "replications": replications,
        "root_seed": ROOT_SEED, "metrics": METRICS, "record_interval_weeks": 1,
        "factors": [],
        "design": {"kind": "csv", "csv": str(design)} if robustness else {"kind": "factorial"},
    }
    with open_dict(cfg):  # scenario labels are new keys of a typed dict
        cfg.experiment = OmegaConf.merge(cfg.experiment, experiment)
    return cfg


def run(spec: PatternSpec, size: Size, workdir: Path, stage: str, backend: str,
        workers: int, design: Path | None = None) -> SweepOutcome:
    return run_sweep(sweep_config(spec, size, workdir, stage, backend, workers, design))


def sweep_minutes(folder: Path) -> float:
    """Minutes spent running the sweep, summed over its attempts (from its manifest)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return sum((datetime.fromisoformat(a["finished"]) - datetime.fromisoformat(a["started"]))
               .total_seconds() for a in manifest["attempts"] if a.get("finished")) / 60


def read(folder: Path, robustness: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run table and the weekly table (outcomes averaged over teams per run and week),
    both with ``scenario``, ``sample`` (-1 at the defaults) and ``replicate`` columns."""
    runs = load_runs(folder, ok_only=True)
    runs["sample"] = runs["design_point"] if robustness else -1
    sample_of = runs.set_index("run_id")["sample"]
    parts = []
    for part in iter_timeseries(folder):
        weekly = part.groupby(["run_id", "scenario", "replicate", "week"], as_index=False)[
            METRICS].mean()
        weekly["sample"] = weekly["run_id"].map(sample_of)
        parts.append(weekly)
    return runs, pd.concat(parts, ignore_index=True)
