"""The shared statistics layer (sim/analysis/stats.py), cross-tested against scipy and
statsmodels on the same data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as scipy_stats
from statsmodels.stats.weightstats import ttost_paired

from sim.analysis import stats

RNG = np.random.default_rng(20131188)


def test_mean_interval_matches_scipy():
    values = RNG.normal(1.0, 2.0, 17)
    interval = stats.mean_interval(values)
    low, high = scipy_stats.t.interval(0.95, 16, loc=values.mean(),
                                       scale=scipy_stats.sem(values))
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert "17 independent runs" in interval.method


def test_paired_interval_matches_scipy_paired_t_and_is_narrower_with_shared_noise():
    seeds = pd.RangeIndex(20)
    common = RNG.normal(0, 1.0, 20)  # what common random numbers share
    x = pd.Series(common + 0.3 + RNG.normal(0, 0.1, 20), index=seeds)
    y = pd.Series(common + RNG.normal(0, 0.1, 20), index=seeds)
    paired = stats.paired_interval(x, y)
    result = scipy_stats.ttest_rel(x, y)
    ci = result.confidence_interval(0.95)
    assert (paired.low, paired.high) == pytest.approx((ci.low, ci.high))
    welch = scipy_stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert paired.high - paired.low < (welch.high - welch.low) / 3


def test_paired_interval_uses_only_seeds_both_arms_have():
    x = pd.Series([1.0, 2.0, 3.0, 4.0], index=[0, 1, 2, 3])
    y = pd.Series([0.0, 1.0, 2.0], index=[1, 2, 3])
    assert stats.paired_interval(x, y).n == 3


def test_clustered_interval_equals_cr1_cluster_robust_regression_with_equal_clusters():
    clusters = np.repeat(np.arange(10), 10)
    effects = RNG.normal(0, 0.5, 10)[clusters]  # conditions differ
    values = 0.2 + effects + RNG.normal(0, 0.1, 100)
    interval = stats.clustered_interval(pd.Series(values), pd.Series(clusters))
    fit = sm.OLS(values, np.ones_like(values)).fit(cov_type="cluster",
                                                   cov_kwds={"groups": clusters},
                                                   use_t=True)
    low, high = fit.conf_int(alpha=0.05)[0]
    assert interval.se == pytest.approx(float(fit.bse[0]))
    assert (interval.low, interval.high) == pytest.approx((low, high))
    naive = stats.mean_interval(values)
    assert interval.high - interval.low > 2 * (naive.high - naive.low)  # 100 runs are not 100 units
    assert "10 conditions" in interval.method


def test_tost_matches_statsmodels_ttost_paired():
    x = RNG.normal(0.0, 1.0, 30)
    y = x + RNG.normal(0.01, 0.05, 30)
    p_statsmodels = ttost_paired(y, x, -0.05, 0.05)[0]
    interval = stats.paired_interval(pd.Series(y), pd.Series(x))
    result = stats.tost(interval, 0.05)
    assert result["tost_p"] == pytest.approx(p_statsmodels)
    assert result["equivalent"] == (p_statsmodels < 0.05)


def test_tost_cannot_show_equivalence_of_a_difference_near_the_margin():
    near = stats.Interval(0.045, 0.03, 0.06, 10, "m", se=0.007, dof=9)
    assert not stats.tost(near, 0.05)["equivalent"]
    inside = stats.Interval(0.0, -0.01, 0.01, 10, "m", se=0.005, dof=9)
    assert stats.tost(inside, 0.05)["equivalent"]


def test_minimum_effect_needs_the_difference_beyond_the_smallest_effect():
    small_but_sure = stats.Interval(0.005, 0.004, 0.006, 50, "m", se=0.0005, dof=49)
    assert not stats.minimum_effect(small_but_sure, 0.02)["matters"]
    large = stats.Interval(0.1, 0.08, 0.12, 50, "m", se=0.01, dof=49)
    assert stats.minimum_effect(large, 0.02)["matters"]
    p = stats.minimum_effect(large, 0.02)["minimum_effect_p"]
    assert p == pytest.approx(scipy_stats.t.sf((0.1 - 0.02) / 0.01, 49))


@pytest.mark.parametrize("estimate, se, expected", [
    (0.10, 0.01, "better"),
    (-0.10, 0.01, "worse"),
    (0.005, 0.001, "no practical difference"),  # sure, but smaller than what matters
    (0.01, 0.05, "unclear"),
])
def test_practical_verdict_says_better_only_beyond_the_smallest_effect(estimate, se, expected):
    interval = stats.Interval(estimate, estimate - 2 * se, estimate + 2 * se, 30, "m", se, 29)
    assert stats.practical_verdict(interval, smallest_effect=0.02) == expected


def test_practical_verdict_respects_which_direction_is_better():
    fewer_leavers = stats.Interval(-0.3, -0.35, -0.25, 30, "m", 0.025, 29)
    assert stats.practical_verdict(fewer_leavers, 0.1, higher_is_better=False) == "better"


def test_standardised_difference_names_its_spread():
    result = stats.standardised(0.1, 0.5, "SD of service users' recovery")
    assert result == {"standardised": 0.2, "standardised_by": "SD of service users' recovery"}
    assert math.isnan(stats.standardised(0.1, 0.0, "x")["standardised"])


def test_pooled_replication_check_pools_within_point_variance():
    points = np.repeat(np.arange(200), 3)
    point_means = RNG.normal(0, 5.0, 200)[points]  # points differ a lot: that is the design
    values = point_means + RNG.normal(0, 0.1, 600)
    check = stats.pooled_replication_check(pd.Series(values), pd.Series(points),
                                           target_half_width=0.2)
    assert check["pooled_sd"] == pytest.approx(0.1, rel=0.15)
    assert check["adequate"]  # 3 replications pin a point down to about +/-0.12
    assert check["replications_needed"] <= 3
    strict = stats.pooled_replication_check(pd.Series(values), pd.Series(points), 0.05)
    assert not strict["adequate"] and strict["replications_needed"] > 3


def test_pooled_replication_check_says_when_it_cannot_estimate():
    check = stats.pooled_replication_check(pd.Series([1.0, 2.0]), pd.Series([0, 1]), 0.1)
    assert not check["adequate"] and "not estimable" in check["method"]


def test_sweep_contrasts_pair_runs_that_share_seeds():
    from sim.analysis.summaries import contrasts
    common = RNG.normal(0, 1.0, 10)
    runs = pd.DataFrame({"scenario": ["ref"] * 10 + ["new"] * 10,
                         "replicate": list(range(10)) * 2,
                         "x_final": np.concatenate([common, common + 0.2
                                                    + RNG.normal(0, 0.01, 10)])})
    paired = contrasts(runs, ["x"], "ref", paired=True, team_sd={"x": 0.5}).iloc[0]
    unpaired = contrasts(runs, ["x"], "ref", paired=False).iloc[0]
    assert paired["difference"] == pytest.approx(0.2, abs=0.01)
    assert "paired" in paired["method"] and "Welch" in unpaired["method"]
    width = paired["difference_ci_high"] - paired["difference_ci_low"]
    assert width < (unpaired["difference_ci_high"] - unpaired["difference_ci_low"]) / 10
    assert paired["standardised"] == pytest.approx(paired["difference"] / 0.5)
    assert "between teams" in paired["standardised_by"]


def test_sweep_contrasts_cluster_by_design_point_when_a_scenario_spans_several():
    from sim.analysis.summaries import contrasts
    points, reps = np.repeat(np.arange(6), 4), np.tile(np.arange(4), 6)
    effect = RNG.normal(0.2, 0.3, 6)[points]  # the difference depends on the point
    base = RNG.normal(0, 1, 24)
    runs = pd.DataFrame({"scenario": ["ref"] * 24 + ["new"] * 24,
                         "design_point": np.concatenate([points, points]),
                         "replicate": np.concatenate([reps, reps]),
                         "x_final": np.concatenate([base, base + effect])})
    row = contrasts(runs, ["x"], "ref").iloc[0]
    assert "6 design points" in row["method"]


def test_replication_check_of_a_sampled_design_pools_within_points():
    from sim.analysis.summaries import replication_adequacy
    points = np.repeat(np.arange(50), 2)
    runs = pd.DataFrame({"scenario": [f"p{p}" for p in points], "point_id": points,
                         "x_final": RNG.normal(0, 3.0, 50)[points] + RNG.normal(0, 0.01, 100)})
    per_point = replication_adequacy(runs, ["x"], 0.05)
    pooled = replication_adequacy(runs, ["x"], 0.05, sampled=True)
    assert len(per_point) == 50 and len(pooled) == 1
    assert bool(pooled["adequate"].iloc[0])
    assert "pooled within-point variance over 50 points" in pooled["method"].iloc[0]
