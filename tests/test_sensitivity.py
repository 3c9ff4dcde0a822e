"""Sensitivity analysis: indices recover known answers, and the command end to end.

The analysis is checked on synthetic experiment folders (a SALib sample, and a run table with
several replicates per point) where the true indices are known: Ishigami's Sobol' indices and a
linear function's Morris elementary effects. The command is then run on the model at a tiny
size: it writes the tables and charts, resumes without rerunning anything, and refuses a design
it cannot analyse.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from sim.analysis.sensitivity import analyse
from sim.sensitivity import main


def write_experiment(folder: Path, kind: str, names: list[str], bounds: list[list[float]],
                     samples: int, inputs: np.ndarray, outputs: dict[str, np.ndarray]) -> Path:
    """A saved experiment folder as the engine writes it: experiment.yaml, points, runs.

    ``outputs`` maps a run-table column to an array of shape (points, replicates).
    """
    experiment = {"name": folder.name, "scenarios": {},
                  "factors": [{"name": n, "levels": None, "range": b}
                              for n, b in zip(names, bounds, strict=True)],
                  "design": {"kind": kind, "samples": samples, "num_levels": 4,
                             "second_order": False}}
    folder.mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"experiment": experiment}), folder / "experiment.yaml")
    points = pd.DataFrame(inputs, columns=names)
    points.insert(0, "point_id", range(len(points)))
    points.insert(1, "scenario", [f"point {i}" for i in range(len(points))])
    points.to_parquet(folder / "points.parquet")
    n_points, replicates = next(iter(outputs.values())).shape
    runs = pd.DataFrame({"run_id": range(n_points * replicates),
                         "point_id": np.repeat(np.arange(n_points), replicates),
                         "replicate": np.tile(np.arange(replicates), n_points),
                         "status": "ok"})
    for column, values in outputs.items():
        runs[column] = values.reshape(-1)
    (folder / "runs").mkdir()
    runs.to_parquet(folder / "runs" / "part-000000.parquet")
    return folder


def with_replicate_noise(y: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Two replicates per point, y + e and y - e with large e, plus small independent noise:
    their mean is y, any single replicate is far from it, so averaging is what recovers y."""
    e = rng.normal(0.0, scale, size=len(y))
    return np.column_stack([y + e, y - e]) + rng.normal(0.0, 0.01, size=(len(y), 2))


def test_sobol_recovers_ishigami_indices(tmp_path: Path) -> None:
    names, bounds = ["x1", "x2", "x3"], [[-np.pi, np.pi]] * 3
    problem = {"num_vars": 3, "names": names, "bounds": bounds}
    inputs = sobol_sample.sample(problem, 1024, calc_second_order=False, seed=1)
    y = Ishigami.evaluate(inputs)
    replicates = with_replicate_noise(y, 5.0, np.random.default_rng(2))
    folder = write_experiment(tmp_path / "ishigami", "sobol", names, bounds, 1024, inputs,
                              {"y": replicates})

    result = analyse(folder, ["y"], num_resamples=100)

    values = result.indices.set_index(["parameter", "index"])["value"]
    s1 = [values[(name, "S1")] for name in names]
    assert s1 == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert values[("x3", "ST")] == pytest.approx(0.244, abs=0.05)
    assert values[("x2", "ST")] == pytest.approx(0.442, abs=0.05)
    conf = result.indices.set_index(["parameter", "index"])["conf"]
    assert (conf > 0).all() and (conf < 0.1).all()
    assert result.outputs.loc[0, "noise_share"] > 0.5  # replicates differ a lot ...
    single = analyse_single_replicate(tmp_path, names, bounds, inputs, replicates)
    assert abs(single[("x2", "S1")] - 0.442) > 0.1  # ... so one replicate alone is far off
    for name in ("indices.csv", "indices.parquet", "outputs.csv", "summary.md", "y.png"):
        assert (result.folder / name).is_file()


def analyse_single_replicate(tmp_path: Path, names: list[str], bounds: list[list[float]],
                             inputs: np.ndarray, replicates: np.ndarray) -> pd.Series:
    folder = write_experiment(tmp_path / "one_replicate", "sobol", names, bounds, 1024, inputs,
                              {"y": replicates[:, :1]})
    return analyse(folder, ["y"], num_resamples=10, plots_wanted=False).indices.set_index(
        ["parameter", "index"])["value"]


def morris_folder(tmp_path: Path, noise: str, trajectories: int) -> tuple[Path, float]:
    """y = 4 a + 0 b + 0.5 c with a over [0, 2]: Morris mu* = coefficient x range = 8, 0, 0.5."""
    names, bounds = ["a", "b", "c"], [[0.0, 2.0], [0.0, 1.0], [0.0, 1.0]]
    problem = {"num_vars": 3, "names": names, "bounds": bounds}
    inputs = morris_sample.sample(problem, trajectories, num_levels=4, seed=3)
    y = 4.0 * inputs[:, 0] + 0.5 * inputs[:, 2]
    rng = np.random.default_rng(4)
    sd = 0.3
    replicates = (with_replicate_noise(y, 3.0, rng) if noise == "antithetic"
                  else y[:, None] + rng.normal(0.0, sd, size=(len(y), 3)))
    folder = write_experiment(tmp_path / noise, "morris", names, bounds, trajectories, inputs,
                              {"y": replicates})
    return folder, sd


def test_morris_finds_the_dominant_and_the_inert_input(tmp_path: Path) -> None:
    folder, _ = morris_folder(tmp_path, "antithetic", trajectories=20)
    result = analyse(folder, ["y"], num_resamples=100)
    values = result.indices.set_index(["parameter", "index"])["value"]
    assert values[("a", "mu_star")] == pytest.approx(8.0, abs=0.1)
    assert values[("a", "mu")] == pytest.approx(8.0, abs=0.1)  # the effect is positive
    assert values[("b", "mu_star")] == pytest.approx(0.0, abs=0.1)
    assert values[("c", "mu_star")] == pytest.approx(0.5, abs=0.1)
    assert values[("a", "sigma")] == pytest.approx(0.0, abs=0.1)  # linear: no interactions
    summary = result.summary
    assert summary.index("`a`") < summary.index("`c`") < summary.index("`b`")


def test_morris_noise_floor_matches_an_inert_input(tmp_path: Path) -> None:
    """Independent replicate noise: the inert input's mu* is about the reported noise floor."""
    folder, sd = morris_folder(tmp_path, "independent", trajectories=60)
    result = analyse(folder, ["y"], num_resamples=100, plots_wanted=False)
    values = result.indices.set_index(["parameter", "index"])["value"]
    floor = result.outputs.loc[0, "noise_mu_star"]
    delta = 4 / (2 * 3)  # SALib's step on the unit scale with 4 levels
    expected = np.sqrt(2 * sd**2 / 3) / delta * np.sqrt(2 / np.pi)
    assert floor == pytest.approx(expected, rel=0.15)
    assert values[("b", "mu_star")] == pytest.approx(floor, rel=0.3)
    assert values[("a", "mu_star")] > 10 * floor


def test_missing_output_column_is_named(tmp_path: Path) -> None:
    folder, _ = morris_folder(tmp_path, "antithetic", trajectories=4)
    with pytest.raises(ValueError, match="not_a_column.*available: y"):
        analyse(folder, ["not_a_column"])
    assert not (folder / "sensitivity").exists()


TINY = ["+experiment=sensitivity_morris",
        "experiment.factors=[{name: supervision.socialisation_rate, range: [0.05, 0.3]},"
        "{name: boundaries.enforcement_probability, range: [0.1, 0.5]},"
        "{name: service_users.peer_gain, range: [0.0, 0.003]}]",
        "experiment.design.samples=2", "experiment.replications=2",
        "experiment.base=['scenario=london','organisation.n_teams=1',"
        "'organisation.horizon_weeks=20']",
        "sweep.progress=none", "--resamples=50"]


def run_parts(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (folder / "runs").glob("part-*.parquet")}


def test_command_end_to_end_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "tiny_morris"
    command = [*TINY, f"sweep.output_dir={folder}"]
    assert main(command) == 0
    out = folder / "sensitivity"
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["outcome"]) == {"distinctiveness_mean", "expectation_gap_mean",
                                       "status_gap_mean", "pw_turnover_per_year",
                                       "user_recovery_final"}
    assert set(indices["parameter"]) == {"supervision.socialisation_rate",
                                         "boundaries.enforcement_probability",
                                         "service_users.peer_gain"}
    assert indices["value"].notna().all()
    for outcome in set(indices["outcome"]):
        assert (out / f"{outcome}.png").stat().st_size > 1000
    assert "## distinctiveness_mean" in (out / "summary.md").read_text()
    assert "distinctiveness_mean: most influential" in capsys.readouterr().out

    parts_before = run_parts(folder)
    assert main(command) == 0  # resume: nothing left to run
    assert run_parts(folder) == parts_before
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["runs"] == {"total": 16, "ok": 16, "failed": 0, "missing": 0}
    assert len(manifest["attempts"]) == 2
    assert "16 of 16 runs already saved, 0 to run" in capsys.readouterr().err

    assert main(["--analyse-only", str(folder), "--outputs", "pw_strain_mean"]) == 2
    assert "pw_strain_mean" in capsys.readouterr().err
    assert main(["--analyse-only", str(folder), "--outputs", "pw_turnover_per_year",
                 "--no-plots", "--resamples", "50"]) == 0
    assert set(pd.read_csv(out / "indices.csv")["outcome"]) == {"pw_turnover_per_year"}


def test_sobol_command_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "tiny_sobol"
    assert main(["+experiment=sensitivity_sobol",
                 "experiment.factors=[{name: recruitment.anchor, range: [0.6, 1.0]},"
                 "{name: wellbeing.recovery_rate, range: [0.3, 0.7]}]",
                 "experiment.design.samples=4", "experiment.replications=1", *TINY[4:],
                 "--outputs=distinctiveness_mean,pw_turnover_per_year",
                 f"sweep.output_dir={folder}"]) == 0
    indices = pd.read_csv(folder / "sensitivity" / "indices.csv")
    assert len(indices) == 2 * 2 * 2  # outputs x parameters x (S1, ST)
    assert set(indices["index"]) == {"S1", "ST"} and set(indices["method"]) == {"sobol"}
    assert (folder / "sensitivity" / "pw_turnover_per_year.png").is_file()


@pytest.mark.parametrize("arguments, message", [
    (["+experiment=recruitment_by_supervision"],
     "experiment.design.kind='factorial': allowed morris or sobol"),
    ([*TINY, "--outputs", "pw_strain_mean"], "--outputs='pw_strain_mean'"),
    # an integer whose levels all round to 8: refused before any run, naming the factor
    ([TINY[0], "experiment.factors=[{name: recruitment.refill_delay_weeks, range: [8.1, 8.4]},"
      "{name: meetings.tie_gain, range: [0.07, 0.13]}]", *TINY[2:]],
     "experiment.factors[0].range=[8.1, 8.4]: allowed a range wide enough that every Morris "
     "step of recruitment.refill_delay_weeks"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture,
                                              arguments: list[str], message: str) -> None:
    folder = tmp_path / "never_written"
    assert main([*arguments, f"sweep.output_dir={folder}"]) == 2
    assert message in capsys.readouterr().err
    assert not folder.exists()


def test_analyse_only_refuses_a_factorial_folder(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "factorial"
    folder.mkdir()
    OmegaConf.save(OmegaConf.create({"experiment": {"design": {"kind": "factorial"}}}),
                   folder / "experiment.yaml")
    assert main(["--analyse-only", str(folder)]) == 2
    assert "needs one of morris, sobol" in capsys.readouterr().err
