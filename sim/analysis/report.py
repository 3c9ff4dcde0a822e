"""The analysis folder of an experiment: summary tables, the replication check and plots.

Writes ``analysis/`` inside the experiment's output folder::

    weekly_summary.parquet   scenario x week x outcome: n, mean, sd, 95% CI
    contrasts.csv            each scenario vs the reference: difference (paired over shared
                             seeds), in SDs between teams, and the method used
    replication_check.csv    95% CI half-width of each end-of-run mean vs the target (pooled
                             within points for a sampled design)
    trajectories.png         outcome trajectories with CI bands (up to MAX_PLOTTED scenarios)
    contrasts.png            forest plot of the differences with their 95% CIs

Statistics come from the shared layer ``sim.analysis.stats``; each table has a ``method``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import plots
from sim.analysis.summaries import contrasts, replication_adequacy, weekly_summary
from sim.analysis.tables import (
    iter_timeseries,
    load_points,
    load_runs,
    metric_columns,
    read_manifest,
)
from sim.output import write_parquet, write_text
from sim.sweep.plan import SAMPLED_DESIGNS

#: Trajectory plots get unreadable beyond this many scenarios (e.g. a large LHS design).
MAX_PLOTTED = 12


@dataclass(frozen=True)
class Report:
    folder: Path
    adequate: bool
    verdict: str  # one line on replication adequacy


def write_report(folder: Path, outcomes: list[str] | None = None, reference: str | None = None,
                 ci_half_width: float = 0.05, plots_wanted: bool = True) -> Report:
    folder = Path(folder)
    out = folder / "analysis"
    manifest = read_manifest(folder / "manifest.json")  # read everything before writing
    outcomes = list(outcomes or metric_columns(folder))
    runs = load_runs(folder, ok_only=True)
    scenarios = list(load_points(folder)["scenario"].drop_duplicates())
    reference = reference or scenarios[0]
    if reference not in scenarios:
        raise ValueError(f"analysis reference {reference!r} is not a scenario of this "
                         f"experiment: {', '.join(scenarios)}")
    columns = ["scenario", "run_id", "week", *outcomes]
    weekly = weekly_summary(iter_timeseries(folder, columns), outcomes)
    write_parquet(out / "weekly_summary.parquet", weekly)
    sampled = manifest.get("design") in SAMPLED_DESIGNS
    check = replication_adequacy(runs, outcomes, ci_half_width, sampled=sampled)
    write_text(out / "replication_check.csv", check.to_csv(index=False))
    table = contrasts(runs, outcomes, reference,
                      paired=bool(manifest.get("common_random_numbers", False)),
                      team_sd=team_sd(folder, outcomes, reference)) \
        if len(scenarios) > 1 else pd.DataFrame()
    if not table.empty:
        write_text(out / "contrasts.csv", table.to_csv(index=False))
    if plots_wanted and len(scenarios) <= MAX_PLOTTED:
        plots.trajectories(weekly, outcomes, out / "trajectories.png")
        if not table.empty:
            plots.forest(table, out / "contrasts.png")
    return Report(out, bool(check["adequate"].all()), adequacy_verdict(check))


def team_sd(folder: Path, outcomes: list[str], scenario: str) -> dict[str, float]:
    """Per outcome: the SD between teams in the last recorded week of ``scenario``'s runs
    (the variance across teams within each run, averaged over runs)."""
    frames = [part[part["scenario"] == scenario] for part in
              iter_timeseries(folder, ["scenario", "run_id", "week", "team", *outcomes])]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if table.empty or "team" not in table:
        return {}
    last = table[table["week"] == table["week"].max()]
    variance = last.groupby("run_id")[outcomes].var(ddof=1).mean()
    return {outcome: float(variance[outcome]) ** 0.5 for outcome in outcomes
            if pd.notna(variance[outcome])}


def adequacy_verdict(check: pd.DataFrame) -> str:
    target = check["target_half_width"].iloc[0]
    short = check[~check["adequate"]]
    if short.empty:
        return (f"replications adequate: every end-of-run 95% CI is within +/-{target:g} "
                f"(widest {check['ci_half_width'].max():.3g})")
    worst = short.sort_values("replications_needed").iloc[-1]
    pooled = (check["scenario"] == "all points").all()
    what = "outcomes (variance within points pooled)" if pooled else "scenario-outcome pairs"
    return (f"replications NOT adequate for {len(short)} of {len(check)} {what} (target "
            f"+/-{target:g}); {worst['outcome']} in '{worst['scenario']}' needs about "
            f"{worst['replications_needed']:.0f} replications")
