"""Scenario discovery: PRIM finds a planted box; the command end to end; bad input exits 2."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf, open_dict

from sim.analysis.discovery import (
    Condition,
    DiscoveryError,
    PrimSettings,
    condition_text,
    discover,
    parse_condition,
)
from sim.discover import main as discover_main
from sim.output import write_parquet
from sim.sweep.engine import load_sweep_config, run_sweep

REPO = Path(__file__).resolve().parent.parent


def engine_like_folder(folder: Path, x: pd.DataFrame, outcomes: pd.DataFrame,
                       replications: int = 1) -> Path:
    """points.parquet and runs/part-0.parquet laid out as the sweep engine writes them."""
    points = x.assign(point_id=range(len(x)),
                      scenario=[f"point {i}" for i in range(len(x))])
    write_parquet(folder / "points.parquet", points[["point_id", "scenario", *x.columns]])
    runs = points.loc[points.index.repeat(replications)].reset_index(drop=True)
    runs.insert(0, "run_id", range(len(runs)))
    runs["replicate"] = np.tile(range(replications), len(x))
    runs["seed"] = runs["replicate"] + 100
    runs["status"], runs["error"], runs["run_seconds"] = "ok", None, 0.1
    runs = pd.concat([runs, outcomes.reset_index(drop=True)], axis=1)
    write_parquet(folder / "runs" / "part-0.parquet", runs)
    return folder


def planted_box_cases(n: int = 1000, noise: float = 0.02, seed: int = 3):
    """Uniform points in 5 dimensions; the goal holds inside x1 in [0.2, 0.5] and x3 > 0.7,
    with a share ``noise`` of labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(0, 1, (n, 5)), columns=[f"x{i}" for i in range(1, 6)])
    inside = x["x1"].between(0.2, 0.5) & (x["x3"] > 0.7)
    flipped = rng.uniform(0, 1, n) < noise
    score = (inside.to_numpy() ^ flipped).astype(float)
    return x, pd.DataFrame({"score_final": score}), inside.to_numpy()


def test_prim_finds_a_planted_box(tmp_path):
    x, outcomes, inside = planted_box_cases()
    folder = engine_like_folder(tmp_path / "exp", x, outcomes)
    result = discover(folder, ["score_final>=0.5"], PrimSettings(threshold=0.9, max_boxes=1))
    box = result.boxes[0]
    limits = box.limits.set_index("factor")
    assert set(limits.index) == {"x1", "x3"}
    assert limits.loc["x1", "lower"] == pytest.approx(0.2, abs=0.05)
    assert limits.loc["x1", "upper"] == pytest.approx(0.5, abs=0.05)
    assert limits.loc["x3", "lower"] == pytest.approx(0.7, abs=0.05)
    assert limits.loc["x3", "upper"] == limits.loc["x3", "range_high"]  # x3 only cut below
    assert box.stats["density"] >= 0.9
    goal = outcomes["score_final"].to_numpy() > 0.5
    planted_coverage = (goal & inside).sum() / goal.sum()  # the most any box can cover
    assert box.stats["coverage"] >= 0.9 * planted_coverage
    assert box.chosen >= box.n_peeled  # the spurious cut on x4 (quasi-p 0.45) was dropped
    assert condition_text(limits.reset_index().iloc[1]).startswith("x3 >= 0.7")
    written = pd.read_csv(result.folder / "boxes.csv")
    assert written.loc[0, "coverage"] == pytest.approx(box.stats["coverage"])
    assert {"peeling_trajectory.png", "box_limits.png", "summary.md", "box_limits.csv",
            "peeling_trajectory.csv"} <= {p.name for p in result.folder.iterdir()}
    assert "x1 <= 0.5" in result.summary.replace("0.2 <= ", "")


def test_prim_warns_nothing_and_silences_nothing_else(tmp_path):
    """ema-workbench's pandas deprecation on every PRIM call is filtered where PRIM is built,
    not by switching warnings off: a warning raised afterwards still shows."""
    x, outcomes, _ = planted_box_cases()
    folder = engine_like_folder(tmp_path / "exp", x, outcomes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        discover(folder, ["score_final>=0.5"], PrimSettings(threshold=0.9, max_boxes=1))
        warnings.warn("raised after PRIM", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["raised after PRIM"]


def test_no_box_when_no_region_reaches_the_threshold(tmp_path):
    """Both ema-workbench 2.5 (a 'dump box') and 3.x (the box regardless) end the search when
    the peeled box misses the density threshold."""
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"a": rng.random(200), "b": rng.random(200)})
    outcomes = pd.DataFrame({"y_final": rng.random(200)})  # the goal is pure noise
    folder = engine_like_folder(tmp_path / "exp", x, outcomes)
    result = discover(folder, ["y_final>=0.5"], PrimSettings(threshold=0.99, max_boxes=3))
    assert result.boxes == []
    assert "No box reaches a density of 99%" in result.summary


def test_replications_are_averaged_per_point_before_the_goal(tmp_path):
    x = pd.DataFrame({"a": [0.1, 0.2, 0.8, 0.9] * 10, "b": np.linspace(0, 1, 40)})
    # replicate 0 gives 0 and replicate 1 gives 1 at points with a > 0.5: mean 0.5 there
    values = [[0.0, float(a > 0.5)] for a in x["a"]]
    outcomes = pd.DataFrame({"y_final": np.ravel(values)})
    folder = engine_like_folder(tmp_path / "exp", x, outcomes, replications=2)
    result = discover(folder, ["y_final>=0.5"], PrimSettings(threshold=0.9, max_boxes=1))
    assert "20 of 40 cases" in result.summary
    assert "averaged over its replications: 2 runs" in result.summary
    assert result.boxes[0].limits["factor"].tolist() == ["a"]
    per_run = discover(folder, ["y_final>=0.5"], PrimSettings(threshold=0.4, max_boxes=1),
                       per_run=True, out_dir=tmp_path / "runs_as_cases")
    assert "20 of 80 cases" in per_run.summary


def test_goal_grammar():
    assert parse_condition(" pw_turnover_per_year <= 0.2") == Condition(
        "pw_turnover_per_year", "<=", 0.2)
    assert parse_condition("distinctiveness_final>-1e-2").value == pytest.approx(-0.01)
    for bad in ["x=1", "x >= ", "__import__('os') > 1", "x >= 1 and y < 2", "1 < x"]:
        with pytest.raises(DiscoveryError, match="allowed '<outcome column><op><number>'"):
            parse_condition(bad)


@pytest.fixture(scope="module")
def tiny_experiment(tmp_path_factory) -> Path:
    """A real engine output: LHS over 3 factors, 12 points, 1 team, 20 weeks, 1 replication."""
    folder = tmp_path_factory.mktemp("dilution")
    cfg = load_sweep_config(["+experiment=dilution_discovery", "sweep.analyse=false",
                             "sweep.progress=none", f"sweep.output_dir={folder}"])
    with open_dict(cfg):
        cfg.experiment = OmegaConf.merge(cfg.experiment, {
            "factors": [{"name": "supervision.socialisation_rate", "range": [0.0, 0.4]},
                        {"name": "boundaries.enforcement_probability", "range": [0.0, 0.6]},
                        {"name": "team.n_nonpeer_staff", "range": [3, 15]}],
            "base": ["organisation.n_teams=1", "organisation.horizon_weeks=20"],
            "design": {"kind": "lhs", "samples": 12}, "replications": 1})
    run_sweep(cfg)
    return folder


def test_command_end_to_end_on_an_engine_output(tiny_experiment, tmp_path, capsys):
    runs = pd.read_parquet(tiny_experiment / "runs")
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    cut = float(runs["pw_dilution_mean"].median())
    out = tmp_path / "discovery"
    code = discover_main([str(tiny_experiment), "--goal", f"pw_dilution_mean<={cut}",
                          "--threshold", "0.7", "--mass-min", "0.1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    expected = int((runs["pw_dilution_mean"] <= cut).sum())
    summary = (out / "summary.md").read_text()
    assert f"{expected} of 12 cases" in summary
    assert "team.n_nonpeer_staff" in summary  # an integer factor is one PRIM may cut
    boxes = pd.read_csv(out / "boxes.csv")
    assert len(boxes) == printed.count("box ")
    for _, box in boxes.iterrows():
        assert 0 < box["density"] <= 1 and 0 < box["coverage"] <= 1
    if len(boxes):
        assert (out / "peeling_trajectory.png").stat().st_size > 0


@pytest.mark.parametrize("goal, message", [
    ("pw_dilution_mean=0.1", "allowed '<outcome column><op><number>'"),
    ("pw_dillution_mean<=0.1", "invalid goal column 'pw_dillution_mean': allowed one of"),
    ("pw_dilution_mean<=-1", "no case meets it"),
    ("pw_dilution_mean>=-1", "every case meets it"),
])
def test_bad_goal_exits_2_and_writes_nothing(tiny_experiment, tmp_path, capsys, goal, message):
    out = tmp_path / "discovery"
    assert discover_main([str(tiny_experiment), "--goal", goal, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_settings_exit_2(tiny_experiment, tmp_path, capsys):
    assert discover_main([str(tiny_experiment), "--goal", "pw_dilution_mean<=0.2",
                          "--threshold", "1.5", "--out", str(tmp_path / "d")]) == 2
    assert "invalid threshold=1.5: allowed a number in (0, 1)" in capsys.readouterr().err


def test_command_rejects_a_folder_without_an_experiment(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim.discover", str(tmp_path), "--goal",
                           "pw_dilution_mean<=0.1"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 2
    assert "no points.parquet" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "discovery").exists()


def test_categorical_factor_is_restricted_to_its_levels(tmp_path):
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"supervision": rng.choice(["clinical", "mixed", "peer"], 600),
                      "x1": rng.uniform(0, 1, 600), "x2": rng.uniform(0, 1, 600)})
    outcomes = pd.DataFrame({"y_final": ((x["supervision"] == "peer") & (x["x1"] > 0.5))
                             .astype(float)})
    folder = engine_like_folder(tmp_path / "exp", x, outcomes)
    box = discover(folder, ["y_final>0.5"], PrimSettings(threshold=0.9, max_boxes=1)).boxes[0]
    limits = box.limits.set_index("factor")
    assert set(limits.index) == {"supervision", "x1"}
    assert limits.loc["supervision", "levels"] == "peer"
    assert limits.loc["x1", "lower"] == pytest.approx(0.5, abs=0.05)
    assert box.stats["density"] >= 0.9 and box.stats["coverage"] >= 0.9


def test_goal_on_a_column_missing_everywhere_exits_2(tmp_path, capsys):
    x = pd.DataFrame({"a": np.linspace(0, 1, 10)})
    folder = engine_like_folder(tmp_path / "exp", x, pd.DataFrame({"y_final": [np.nan] * 10}))
    assert discover_main([str(folder), "--goal", "y_final>0"]) == 2
    assert "missing (NaN) in every case" in capsys.readouterr().err
    assert not (folder / "discovery").exists()
