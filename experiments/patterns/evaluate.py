"""Evaluating each comparison from saved tables: estimate, 95% CI, effect size, verdict.

Inputs are two tables, both with the columns ``scenario``, ``sample`` (-1 at the defaults, k
for the k-th robustness sample) and ``replicate``:

* ``runs``: one row per run, the model's summary (``sim.metrics.Recorder.summary``);
* ``weekly``: one row per run and recorded week, each outcome averaged over teams.

Replicate r has the same seed in every scenario (common random numbers), so differences
between scenarios are taken per replicate and their CI is a paired t interval; effect sizes
(Hedges' g) use the run-level spread of both scenarios (``sim.analysis.summaries.contrast``).
A comparison *passes* when its 95% CI lies on the predicted side of zero (or of the threshold)
and, where the evidence gives a size, the estimate lies within it; an equivalence comparison
passes when the two one-sided tests (TOST, Schuirmann 1987) both reject at ``TOST_ALPHA``
against +/- its margin (equivalently: the 90% CI lies inside the margin). Over robustness
samples a comparison *holds* when the estimate has the predicted sign and size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.patterns.spec import Comparison
from sim.analysis.stats import mean_interval, tost
from sim.analysis.summaries import contrast

BOOTSTRAP_DRAWS = 2000
TOST_ALPHA = 0.05  # each one-sided test of the equivalence comparisons
#: Differences no larger than this are floating-point rounding, not effects: a knock-out that
#: removes a mechanism entirely leaves scenario differences of ~1e-16 whose CI can still
#: exclude zero (comparison 8a with no recovery did), so "beyond zero" means beyond this.
NUMERICAL_ZERO = 1e-9


def window_mean(weekly: pd.DataFrame, outcome: str, weeks: tuple[int, int]) -> pd.Series:
    """Per run (scenario, sample, replicate): the outcome's mean over the weeks [first, last)."""
    inside = weekly[(weekly["week"] >= weeks[0]) & (weekly["week"] < weeks[1])]
    return inside.groupby(["scenario", "sample", "replicate"])[outcome].mean()


def _runs_of(values: pd.Series, scenario: str) -> pd.Series:
    return values.xs(scenario, level="scenario")


def _t_interval(values: np.ndarray) -> tuple[float, float, float]:
    interval = mean_interval(values)
    return interval.estimate, interval.low, interval.high


def tost_p(diff: np.ndarray, margin: float) -> float:
    """The TOST p-value of paired differences against +/- ``margin`` (``sim.analysis.stats``)."""
    return float(tost(mean_interval(diff), margin, TOST_ALPHA)["tost_p"])


def _paired(x: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    joined = pd.concat({"x": x, "y": y}, axis=1).dropna()
    return (joined["x"] - joined["y"]).to_numpy(), joined["x"].to_numpy(), joined["y"].to_numpy()


def estimate(c: Comparison, runs: pd.DataFrame, weekly: pd.DataFrame) -> dict[str, float]:
    """The comparison's statistic with its 95% CI (and Hedges' g where it applies)."""
    g = math.nan
    if c.statistic in ("difference", "level", "windows", "equivalence"):
        if c.statistic == "difference":
            values = window_mean(weekly, c.outcome, c.weeks)
            diff, x, y = _paired(_runs_of(values, c.scenario), _runs_of(values, c.reference))
            g = contrast(x, y)["hedges_g"]
        elif c.statistic == "level":
            x = _runs_of(window_mean(weekly, c.outcome, c.weeks), c.scenario).to_numpy()
            diff = x - c.threshold
        elif c.statistic == "windows":
            early = _runs_of(window_mean(weekly, c.outcome, c.weeks), c.scenario)
            late = _runs_of(window_mean(weekly, c.outcome, c.late_weeks), c.scenario)
            diff, x, y = _paired(early, late)
            g = contrast(x, y)["hedges_g"]
        else:
            first = _runs_of(window_mean(weekly, c.outcome, c.weeks), c.scenario)
            second = _runs_of(window_mean(weekly, c.second_outcome, c.weeks), c.scenario)
            diff, x, y = _paired(first, second)
            g = contrast(x, y)["hedges_g"]
        value, low, high = _t_interval(diff)
        result = {"estimate": value, "ci_low": low, "ci_high": high, "hedges_g": g,
                  "n": len(diff)}
        if c.statistic == "equivalence":
            result["tost_p"] = tost_p(diff, c.margin)
        return result
    by_run = runs.set_index(["scenario", "sample", "replicate"])
    if c.statistic == "smd":
        return _smd(by_run, c)
    if c.statistic == "ratio":
        x, y = (_runs_of(by_run[c.outcome], s) for s in (c.scenario, c.reference))
        joined = pd.concat({"x": x, "y": y}, axis=1).dropna()
        value = joined["x"].mean() / joined["y"].mean() - 1.0
        low, high = _bootstrap(joined, lambda d: d["x"].mean() / d["y"].mean() - 1.0)
        return {"estimate": value, "ci_low": low, "ci_high": high, "hedges_g": math.nan,
                "n": len(joined)}
    return _odds_ratio(runs)


def _smd(by_run: pd.DataFrame, c: Comparison) -> dict[str, float]:
    """Users' recovery: difference in run means over the pooled SD of individual users."""
    x = _runs_of(by_run["user_recovery_final"], c.scenario)
    y = _runs_of(by_run["user_recovery_final"], c.reference)
    diff, _, _ = _paired(x, y)
    sd = math.sqrt(0.5 * (_runs_of(by_run["user_recovery_sd"], c.scenario) ** 2).mean()
                   + 0.5 * (_runs_of(by_run["user_recovery_sd"], c.reference) ** 2).mean())
    value, low, high = _t_interval(diff / sd)
    return {"estimate": value, "ci_low": low, "ci_high": high, "hedges_g": value,
            "n": len(diff)}


def annual_odds_ratio(table: pd.DataFrame) -> float:
    """Odds of leaving within a year, drifted vs anchored PWs, from pooled weekly exit rates."""
    def annual(exits: str, weeks: str) -> float:
        rate = table[exits].sum() / max(table[weeks].sum(), 1.0)
        return 1.0 - (1.0 - rate) ** 52

    drifted = annual("pw_exits_drifted", "pw_weeks_drifted")
    anchored = annual("pw_exits_anchored", "pw_weeks_anchored")
    if not 0 < anchored < 1 or not 0 < drifted < 1:
        return math.nan
    return (drifted / (1 - drifted)) / (anchored / (1 - anchored))


def _odds_ratio(runs: pd.DataFrame) -> dict[str, float]:
    low, high = _bootstrap(runs, annual_odds_ratio)
    return {"estimate": annual_odds_ratio(runs), "ci_low": low, "ci_high": high,
            "hedges_g": math.nan, "n": len(runs)}


def _bootstrap(table: pd.DataFrame, statistic) -> tuple[float, float]:
    """Percentile 95% CI from resampling runs (fixed seed: the report is reproducible)."""
    if len(table) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(0)
    draws = [statistic(table.iloc[rng.integers(0, len(table), len(table))])
             for _ in range(BOOTSTRAP_DRAWS)]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def _in_size(c: Comparison, value: float) -> bool:
    return c.size is None or c.size[0] <= value <= c.size[1]


def _ci_in_size(c: Comparison, low: float, high: float) -> bool:
    return c.size is None or (c.size[0] <= low and high <= c.size[1])


def _beyond_zero(c: Comparison, value: float) -> bool:
    """Whether ``value`` lies on the predicted side of zero, by more than rounding."""
    return value > NUMERICAL_ZERO if c.direction == "greater" else value < -NUMERICAL_ZERO


def direction_holds(c: Comparison, value: float) -> bool:
    """Whether the estimate has the predicted sign (ignoring any size)."""
    if math.isnan(value):
        return False
    if c.statistic == "equivalence":
        return abs(value) <= c.margin
    if c.statistic == "odds_ratio":
        return value > 1.0
    if c.statistic == "ratio":
        return value <= 0.0 if c.direction == "less" else value >= 0.0
    return _beyond_zero(c, value)


def verdict(c: Comparison, result: dict[str, float]) -> tuple[bool, bool]:
    """(passes: the CI is on the predicted side and the size fits; holds: the sign and size fit)."""
    value, low, high = result["estimate"], result["ci_low"], result["ci_high"]
    if any(math.isnan(v) for v in (value, low, high)):
        return False, False
    if c.statistic == "equivalence":
        return _equivalent(result), abs(value) <= c.margin
    if c.statistic == "ratio":  # small or null: shown to be, i.e. the whole 95% CI inside
        return _ci_in_size(c, low, high), _in_size(c, value)
    if c.statistic == "odds_ratio":
        return low > 1.0 and _in_size(c, value), value > 1.0 and _in_size(c, value)
    side = _beyond_zero(c, low if c.direction == "greater" else high)
    return side and _in_size(c, value), _beyond_zero(c, value) and _in_size(c, value)


def _equivalent(result: dict[str, float]) -> bool:
    p = result.get("tost_p", math.nan)
    return not math.isnan(p) and p < TOST_ALPHA


def established(c: Comparison, result: dict[str, float]) -> bool:
    """Whether the effect is established, ignoring any size: the 95% CI on the predicted side
    (equivalence: the TOST passes; a small-or-null ratio: its whole 95% CI within its range)."""
    value, low, high = result["estimate"], result["ci_low"], result["ci_high"]
    if any(math.isnan(v) for v in (value, low, high)):
        return False
    if c.statistic == "equivalence":
        return _equivalent(result)
    if c.statistic == "ratio":
        return _ci_in_size(c, low, high)
    if c.statistic == "odds_ratio":
        return low > 1.0
    return _beyond_zero(c, low if c.direction == "greater" else high)


def evaluate(comparisons: list[Comparison], runs: pd.DataFrame,
             weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison at the defaults (``sample == -1``)."""
    rows = []
    at_defaults = runs[runs["sample"] == -1], weekly[weekly["sample"] == -1]
    for c in comparisons:
        result = estimate(c, *at_defaults)
        passes, holds = verdict(c, result)
        rows.append({"id": c.id, "title": c.title, **result, "passes": passes, "holds": holds})
    return pd.DataFrame(rows)


def robustness(comparisons: list[Comparison], runs: pd.DataFrame,
               weekly: pd.DataFrame) -> pd.DataFrame:
    """Per comparison: the share of robustness samples in which it holds (sign and size), in
    which it has the predicted sign, and in which it also passes (its CI on the right side)."""
    samples = sorted(s for s in runs["sample"].unique() if s >= 0)
    rows = []
    for c in comparisons:
        estimates = [estimate(c, runs[runs["sample"] == k], weekly[weekly["sample"] == k])
                     for k in samples]
        verdicts = [verdict(c, result) for result in estimates]
        n = max(len(samples), 1)
        rows.append({"id": c.id, "samples": len(samples),
                     "share_holding": sum(h for _, h in verdicts) / n if samples else math.nan,
                     "share_direction": sum(direction_holds(c, r["estimate"])
                                            for r in estimates) / n if samples else math.nan,
                     "share_significant": sum(p for p, _ in verdicts) / n if samples
                     else math.nan,
                     "estimate_min": min(r["estimate"] for r in estimates) if samples
                     else math.nan,
                     "estimate_max": max(r["estimate"] for r in estimates) if samples
                     else math.nan})
    return pd.DataFrame(rows)
