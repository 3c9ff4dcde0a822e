"""Summaries, contrasts, the replication check and plots, on tables with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import plots
from sim.analysis.__main__ import main as analysis_main
from sim.analysis.summaries import (
    contrast,
    contrasts,
    replication_adequacy,
    replications_needed,
    weekly_summary,
)
from sim.sweep.engine import load_sweep_config, run_sweep


def synthetic_timeseries(runs: int = 6, weeks: int = 4, teams: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [{"scenario": "a" if run < runs // 2 else "b", "run_id": run, "week": week,
             "team": team, "x": rng.normal(week + (run >= runs // 2), 1.0)}
            for run in range(runs) for week in range(weeks) for team in range(teams)]
    return pd.DataFrame(rows)


def test_weekly_summary_is_a_t_interval_over_run_means_and_works_part_by_part():
    table = synthetic_timeseries()
    whole = weekly_summary([table], ["x"])
    parts = weekly_summary([table[table["run_id"] < 2], table[table["run_id"] >= 2]], ["x"])
    pd.testing.assert_frame_equal(whole, parts)
    run_means = table[(table["scenario"] == "a") & (table["week"] == 2)].groupby("run_id")["x"]
    values = run_means.mean().to_numpy()
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                 scale=stats.sem(values))
    row = whole[(whole["scenario"] == "a") & (whole["week"] == 2)].iloc[0]
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(values.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_contrast_matches_welch_and_hedges_formulas():
    rng = np.random.default_rng(2)
    x, y = rng.normal(1.0, 1.0, 12), rng.normal(0.0, 2.0, 9)
    result = contrast(x, y)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert (result["difference_ci_low"], result["difference_ci_high"]) == pytest.approx(
        (ci.low, ci.high))
    pooled = math.sqrt((11 * x.var(ddof=1) + 8 * y.var(ddof=1)) / 19)
    d = (x.mean() - y.mean()) / pooled
    assert result["cohens_d"] == pytest.approx(d)
    assert result["hedges_g"] == pytest.approx(d * (1 - 3 / (4 * 21 - 9)))
    assert result["hedges_g_ci_low"] < result["hedges_g"] < result["hedges_g_ci_high"]


def test_contrasts_and_replication_check_per_scenario():
    runs = pd.DataFrame({"scenario": ["ref"] * 5 + ["new"] * 5,
                         "x_final": [1.0, 1.1, 0.9, 1.0, 1.0, 2.0, 2.2, 1.8, 2.0, 2.0]})
    table = contrasts(runs, ["x"], reference="ref")
    assert list(table["scenario"]) == ["new"]
    assert table["difference"].iloc[0] == pytest.approx(1.0)
    check = replication_adequacy(runs, ["x"], target_half_width=0.05)
    sd = np.std([1.0, 1.1, 0.9, 1.0, 1.0], ddof=1)
    assert check["ci_half_width"].iloc[0] == pytest.approx(stats.t.ppf(0.975, 4) * sd / 5**0.5)
    assert not check["adequate"].any()
    needed = replications_needed(sd, 0.05)
    assert stats.t.ppf(0.975, needed - 1) * sd / needed**0.5 <= 0.05
    assert stats.t.ppf(0.975, needed - 2) * sd / (needed - 1) ** 0.5 > 0.05
    assert replication_adequacy(runs, ["x"], target_half_width=1.0)["adequate"].all()


def test_plots_are_written(tmp_path):
    weekly = weekly_summary([synthetic_timeseries()], ["x"])
    assert plots.trajectories(weekly, ["x"], tmp_path / "t.png").stat().st_size > 0
    runs = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "x_final": [1, 2, 3, 2, 3, 4.0]})
    forest = plots.forest(contrasts(runs, ["x"], "a"), tmp_path / "f.png")
    assert forest.stat().st_size > 0


def test_analysis_command_reads_a_saved_experiment(tmp_path, capsys):
    run_sweep(load_sweep_config([
        "+experiment=recruitment_by_supervision", "experiment.replications=2",
        "experiment.base=['organisation.n_teams=1','organisation.horizon_weeks=8']",
        "experiment.metrics=[distinctiveness,pw_strain]", "experiment.analysis.outcomes=[]",
        "sweep.analyse=false", "sweep.progress=none", f"sweep.output_dir={tmp_path}"]))
    assert not (tmp_path / "analysis").exists()
    assert analysis_main([str(tmp_path), "--half-width", "100"]) == 0
    assert "replications adequate" in capsys.readouterr().out
    contrast_table = pd.read_csv(tmp_path / "analysis" / "contrasts.csv")
    assert len(contrast_table) == 3 * 2  # 3 scenarios vs the first, 2 outcomes
    weekly = pd.read_parquet(tmp_path / "analysis" / "weekly_summary.parquet")
    assert set(weekly["n"]) == {2} and weekly["week"].max() == 7
    assert (tmp_path / "analysis" / "contrasts.png").exists()
    assert analysis_main([str(tmp_path), "--reference", "nobody"]) == 2
