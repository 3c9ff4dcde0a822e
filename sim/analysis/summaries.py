"""Means with 95% confidence intervals, contrasts between scenarios, replication adequacy.

The unit of replication is a run. Per run and week, team outcomes are first averaged over
teams (the organisation mean; teams without a PW are skipped for PW outcomes); the weekly
summary then takes the mean and a t-based 95% CI across a scenario's runs. End-of-run contrasts
use the run table's ``<outcome>_final`` (or ``_mean``) columns: the difference in means with a
paired interval when scenarios share seeds (``sim.analysis.stats``; Welch otherwise), the
difference in units of the SD between teams, and, for reference, Cohen's d and Hedges' g from the
run-level spread (which describes runs, not teams or people).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.stats import (
    Interval,
    clustered_interval,
    paired_interval,
    pooled_replication_check,
    standardised,
)

CONFIDENCE = 0.95


def t_critical(n: np.ndarray | int) -> np.ndarray:
    """Two-sided t quantile for a 95% CI of a mean of ``n`` values (NaN for n < 2)."""
    dof = np.asarray(n, dtype=float) - 1
    return np.where(dof >= 1, stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(dof, 1)), np.nan)


def weekly_moments(timeseries: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Count, sum and sum of squares of run-level outcomes per scenario, week and outcome.

    Moments of separate parts of the table add up, so the table can be summarised part by part.
    """
    per_run = timeseries.groupby(["scenario", "run_id", "week"])[outcomes].mean()
    long = per_run.reset_index().melt(id_vars=["scenario", "run_id", "week"], value_vars=outcomes,
                                      var_name="outcome").dropna(subset=["value"])
    long["square"] = long["value"] ** 2
    grouped = long.groupby(["scenario", "week", "outcome"])
    return pd.DataFrame({"n": grouped["value"].size(), "total": grouped["value"].sum(),
                         "total_square": grouped["square"].sum()}).reset_index()


def weekly_summary(parts: Iterable[pd.DataFrame], outcomes: list[str]) -> pd.DataFrame:
    """Per scenario, week and outcome: n runs, mean, SD and the 95% CI of the mean."""
    moments = pd.concat([weekly_moments(part, outcomes) for part in parts], ignore_index=True)
    totals = moments.groupby(["scenario", "week", "outcome"], as_index=False)[
        ["n", "total", "total_square"]].sum()
    n = totals["n"].to_numpy(dtype=float)
    mean = totals["total"] / n
    variance = np.where(n > 1, (totals["total_square"] - n * mean**2) / np.maximum(n - 1, 1),
                        np.nan)
    sd = np.sqrt(np.maximum(variance, 0.0))
    half = t_critical(n) * sd / np.sqrt(n)
    return pd.DataFrame({"scenario": totals["scenario"], "week": totals["week"],
                         "outcome": totals["outcome"], "n": totals["n"], "mean": mean, "sd": sd,
                         "ci_low": mean - half, "ci_high": mean + half, "ci_half_width": half})


def contrasts(runs: pd.DataFrame, outcomes: list[str], reference: str,
              statistic: str = "final", paired: bool = True,
              team_sd: dict[str, float] | None = None) -> pd.DataFrame:
    """Each scenario against ``reference`` on the end-of-run outcomes.

    With common random numbers (``paired``) replicate r of every scenario shares its seed, so
    the difference is taken per replicate (matched on ``design_point`` too, when a scenario
    spans several points) and its interval is a paired t interval (``sim.analysis.stats``),
    clustered by design point when there are several. The difference is also put in units of
    the SD between teams (``team_sd``: per outcome, from the reference scenario), a spread that
    describes teams, not runs.
    """
    keys = [k for k in ("design_point", "replicate") if k in runs.columns]
    rows = []
    base = runs[runs["scenario"] == reference]
    for scenario, group in runs.groupby("scenario", sort=False):
        if scenario == reference:
            continue
        for outcome in outcomes:
            column = f"{outcome}_{statistic}"
            x, y = group[column].dropna().to_numpy(), base[column].dropna().to_numpy()
            row = {"scenario": scenario, "reference": reference, "outcome": outcome,
                   **contrast(x, y)}
            if paired and "replicate" in keys:
                x_by, y_by = group.set_index(keys)[column], base.set_index(keys)[column]
                interval = _paired_or_clustered(x_by, y_by, keys)
                row.update({"difference": interval.estimate,
                            "difference_ci_low": interval.low,
                            "difference_ci_high": interval.high, "n_pairs": interval.n})
                method = interval.method
            else:
                method = "Welch t interval (no shared seeds)"
            sd = (team_sd or {}).get(outcome, math.nan)
            row.update(standardised(row["difference"], sd, "SD between teams in the "
                                    f"reference scenario ({reference})"))
            row["method"] = method
            rows.append(row)
    return pd.DataFrame(rows)


def _paired_or_clustered(x: pd.Series, y: pd.Series, keys: list[str]) -> Interval:
    """Paired differences over shared seeds; clustered by design point if there are several."""
    if "design_point" in keys and x.index.get_level_values("design_point").nunique() > 1:
        joined = pd.concat({"x": x, "y": y}, axis=1).dropna()
        diff = joined["x"] - joined["y"]
        return clustered_interval(diff.to_numpy(), diff.index.get_level_values("design_point"),
                                  unit="design points")
    if len(keys) > 1:
        x, y = x.droplevel("design_point"), y.droplevel("design_point")
    return paired_interval(x, y)


def contrast(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Difference in means of x and y (Welch 95% CI), Cohen's d and Hedges' g (95% CI)."""
    n1, n2 = len(x), len(y)
    nan = float("nan")
    if n1 < 2 or n2 < 2:
        return {"n": n1, "n_reference": n2, "mean": float(np.mean(x)) if n1 else nan,
                "mean_reference": float(np.mean(y)) if n2 else nan, "difference": nan,
                "difference_ci_low": nan, "difference_ci_high": nan, "cohens_d": nan,
                "hedges_g": nan, "hedges_g_ci_low": nan, "hedges_g_ci_high": nan}
    v1, v2 = np.var(x, ddof=1), np.var(y, ddof=1)
    difference = float(np.mean(x) - np.mean(y))
    se = math.sqrt(v1 / n1 + v2 / n2)
    dof = se**4 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1)) if se > 0 else n1 + n2 - 2
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) * se
    pooled = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    d = difference / pooled if pooled > 0 else nan
    g = d * (1 - 3 / (4 * (n1 + n2) - 9))
    se_g = math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    return {"n": n1, "n_reference": n2, "mean": float(np.mean(x)),
            "mean_reference": float(np.mean(y)), "difference": difference,
            "difference_ci_low": difference - half, "difference_ci_high": difference + half,
            "cohens_d": d, "hedges_g": g, "hedges_g_ci_low": g - z * se_g,
            "hedges_g_ci_high": g + z * se_g}


def replication_adequacy(runs: pd.DataFrame, outcomes: list[str], target_half_width: float,
                         statistic: str = "final", sampled: bool = False) -> pd.DataFrame:
    """Whether each scenario's replications give a 95% CI of the end-of-run mean no wider than
    +/- ``target_half_width``, and about how many replications would.

    For a sampled design (``sampled``: LHS, Sobol, Morris) the points are not scenarios to be
    pinned down one by one: one row per outcome pools the variance within points over all of
    them (``sim.analysis.stats.pooled_replication_check``)."""
    if sampled:
        return pd.DataFrame([{"scenario": "all points", "outcome": outcome, "n": check[
            "replications"], "sd": check["pooled_sd"], "ci_half_width": check["ci_half_width"],
            "target_half_width": target_half_width, "adequate": check["adequate"],
            "replications_needed": check["replications_needed"], "method": check["method"]}
            for outcome in outcomes
            for check in [pooled_replication_check(runs[f"{outcome}_{statistic}"],
                                                   runs["point_id"], target_half_width)]])
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        for outcome in outcomes:
            values = group[f"{outcome}_{statistic}"].dropna().to_numpy()
            n = len(values)
            sd = float(np.std(values, ddof=1)) if n > 1 else float("nan")
            half = float(t_critical(n) * sd / math.sqrt(n)) if n > 1 else float("nan")
            rows.append({"scenario": scenario, "outcome": outcome, "n": n, "sd": sd,
                         "ci_half_width": half, "target_half_width": target_half_width,
                         "adequate": bool(half <= target_half_width),
                         "replications_needed": replications_needed(sd, target_half_width),
                         "method": f"t interval over {n} runs of the scenario"})
    return pd.DataFrame(rows)


def replications_needed(sd: float, target_half_width: float) -> float:
    """Smallest n with t(n-1) * sd / sqrt(n) <= target (NaN if sd is unknown)."""
    if math.isnan(sd):
        return float("nan")
    n = max(2, math.ceil((1.96 * sd / target_half_width) ** 2))
    while t_critical(n) * sd / math.sqrt(n) > target_half_width:
        n += 1
    return float(n)
