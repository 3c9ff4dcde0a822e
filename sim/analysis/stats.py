"""One statistics layer for every tool: intervals that respect how runs were made.

Runs of a sweep share seeds across scenarios (common random numbers) and are nested in design
points or planner conditions, so the unit of analysis is chosen, not assumed:

* :func:`mean_interval`: a t interval of a mean of independent values;
* :func:`paired_interval`: the mean difference of runs matched by seed (paired t interval);
* :func:`clustered_interval`: a mean or a mean difference when runs are nested in clusters
  (conditions, design points): the cluster means are the unit, a t interval with G - 1 degrees
  of freedom. With equal cluster sizes it equals the CR1 cluster-robust interval of an
  intercept-only regression (the tests check this against statsmodels);
* :func:`tost` (two one-sided tests, Schuirmann 1987) and :func:`minimum_effect` test a
  difference against a smallest effect of interest, so that "no practical difference" and "a
  difference that matters" can each be shown, and :func:`practical_verdict` says which;
* :func:`standardised` puts a difference in units of a spread that describes something (the SD
  of teams, or of service users) and names it;
* :func:`pooled_replication_check` asks whether the replications per point of a sampled design
  pin a point's mean down, from the variance within points pooled over all of them.

Every result carries ``method``: the words a report prints to say how it was computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05  # each one-sided test of TOST and of the minimum-effect test


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided interval, the number of units and how it was made."""

    estimate: float
    low: float
    high: float
    n: int
    method: str
    se: float = math.nan
    dof: float = math.nan

    def as_dict(self, prefix: str = "") -> dict[str, float | int | str]:
        return {f"{prefix}estimate": self.estimate, f"{prefix}ci_low": self.low,
                f"{prefix}ci_high": self.high, f"{prefix}n": self.n,
                f"{prefix}method": self.method}


def _t_interval(values: np.ndarray, method: str, confidence: float) -> Interval:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, method)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, method)
    se = float(values.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return Interval(mean, mean - half, mean + half, n, method, se, n - 1)


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The mean of independent values with a t interval."""
    n = int(np.sum(~np.isnan(np.asarray(values, dtype=float))))
    return _t_interval(values, f"t interval over {n} independent runs", confidence)


def paired_interval(x: pd.Series, y: pd.Series, confidence: float = CONFIDENCE) -> Interval:
    """Mean of x - y over the index values (seeds) both have: a paired t interval."""
    joined = pd.concat({"x": x, "y": y}, axis=1).dropna()
    diff = (joined["x"] - joined["y"]).to_numpy(dtype=float)
    return _t_interval(diff, f"paired t interval over {len(diff)} shared seeds", confidence)


def clustered_interval(values: pd.Series, clusters: pd.Series, confidence: float = CONFIDENCE,
                       unit: str = "conditions") -> Interval:
    """Mean of ``values`` (e.g. paired differences) whose rows are nested in ``clusters``: the
    cluster means are the unit of analysis (t interval, G - 1 degrees of freedom)."""
    frame = pd.DataFrame({"value": np.asarray(values, dtype=float),
                          "cluster": np.asarray(clusters)}).dropna()
    means = frame.groupby("cluster")["value"].mean().to_numpy()
    return _t_interval(means, f"t interval over {len(means)} {unit} (runs averaged within "
                              f"each; {len(frame)} runs)", confidence)


def tost(interval: Interval, margin: float, alpha: float = ALPHA) -> dict[str, float | bool]:
    """Two one-sided tests of |effect| < ``margin`` from an interval's estimate, SE and df."""
    if not margin > 0:
        raise ValueError(f"equivalence margin {margin!r}: allowed a number > 0")
    if interval.n < 2 or math.isnan(interval.se):
        return {"tost_p": math.nan, "equivalent": False}
    if interval.se == 0:
        p = 0.0 if abs(interval.estimate) < margin else 1.0
    else:
        above = stats.t.sf((interval.estimate + margin) / interval.se, interval.dof)
        below = stats.t.cdf((interval.estimate - margin) / interval.se, interval.dof)
        p = float(max(above, below))
    return {"tost_p": p, "equivalent": bool(p < alpha)}


def minimum_effect(interval: Interval, margin: float,
                   alpha: float = ALPHA) -> dict[str, float | bool]:
    """One-sided test that the effect lies beyond +/- ``margin`` in the estimate's direction
    (a minimum-effect test: the difference is shown to matter, not only to exist)."""
    if not margin >= 0:
        raise ValueError(f"smallest effect {margin!r}: allowed a number >= 0")
    if interval.n < 2 or math.isnan(interval.se):
        return {"minimum_effect_p": math.nan, "matters": False}
    sign = 1.0 if interval.estimate >= 0 else -1.0
    if interval.se == 0:
        p = 0.0 if abs(interval.estimate) > margin else 1.0
    else:
        p = float(stats.t.sf((sign * interval.estimate - margin) / interval.se, interval.dof))
    return {"minimum_effect_p": p, "matters": bool(p < alpha)}


def practical_verdict(interval: Interval, smallest_effect: float, higher_is_better: bool = True,
                      alpha: float = ALPHA) -> str:
    """'better' / 'worse' (the difference is shown to exceed the smallest effect that matters),
    'no practical difference' (shown to lie inside it, TOST) or 'unclear' (neither shown)."""
    if minimum_effect(interval, smallest_effect, alpha)["matters"]:
        return "better" if (interval.estimate > 0) == higher_is_better else "worse"
    if smallest_effect > 0 and tost(interval, smallest_effect, alpha)["equivalent"]:
        return "no practical difference"
    return "unclear"


def standardised(difference: float, sd: float, sd_name: str) -> dict[str, float | str]:
    """A difference in units of a spread that describes something, and which spread it is."""
    value = difference / sd if sd > 0 else math.nan
    return {"standardised": value, "standardised_by": sd_name}


def pooled_replication_check(values: pd.Series, points: pd.Series, target_half_width: float,
                             confidence: float = CONFIDENCE) -> dict[str, float | bool | str]:
    """Whether the replications per point give a point mean within +/- the target, using the
    within-point variance pooled over every point (sum of (n_i - 1) s_i^2 over sum of n_i - 1),
    and about how many replications per point would."""
    frame = pd.DataFrame({"value": np.asarray(values, dtype=float),
                          "point": np.asarray(points)}).dropna()
    grouped = frame.groupby("point")["value"]
    n_i, var_i = grouped.count(), grouped.var(ddof=1)
    usable = n_i > 1
    dof = float((n_i[usable] - 1).sum())
    if dof < 1:
        return {"points": int(len(n_i)), "replications": math.nan, "pooled_sd": math.nan,
                "ci_half_width": math.nan, "adequate": False, "replications_needed": math.nan,
                "method": "pooled within-point variance (not estimable: one run per point)"}
    pooled_sd = math.sqrt(float(((n_i[usable] - 1) * var_i[usable]).sum()) / dof)
    n = float(n_i.median())
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * pooled_sd / math.sqrt(n)
    needed = max(1, math.ceil((float(stats.t.ppf(0.5 + confidence / 2, dof)) * pooled_sd
                               / target_half_width) ** 2)) if target_half_width > 0 else math.nan
    return {"points": int(len(n_i)), "replications": n, "pooled_sd": pooled_sd,
            "ci_half_width": half, "adequate": bool(half <= target_half_width),
            "replications_needed": float(needed),
            "method": f"pooled within-point variance over {len(n_i)} points ({dof:.0f} df)"}
