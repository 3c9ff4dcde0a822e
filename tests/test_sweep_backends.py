"""Real serial, multi-process and Dask LocalCluster sweeps give identical, complete results."""

from __future__ import annotations

import json
import socket

import pandas as pd
import pytest

from sim.analysis.tables import load_runs, load_timeseries
from sim.params import ConfigError
from sim.sweep.engine import load_sweep_config, run_sweep

#: 4 points x 2 replications of a 2-team, 20-week organisation.
SMALL = ["+experiment=recruitment_by_supervision", "experiment.replications=2",
         "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=20']",
         "experiment.metrics=[distinctiveness,pw_strain,pw_in_post]",
         "experiment.record_interval_weeks=5", "experiment.analysis.outcomes=[distinctiveness]",
         "sweep.progress=none"]


def sweep(out, *overrides: str):
    return run_sweep(load_sweep_config([*SMALL, f"sweep.output_dir={out}", *overrides]))


def results(out) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_runs(out).drop(columns="run_seconds"), load_timeseries(out)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    outcome = sweep(out, "sweep.backend=serial", "sweep.chunk_size=1")
    assert (outcome.n_runs, outcome.n_ok, outcome.n_failed) == (8, 8, 0)
    return out


def test_serial_output_is_complete_tidy_and_seeded(serial):
    runs, timeseries = results(serial)
    assert list(runs["run_id"]) == list(range(8))
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    assert {"recruitment", "supervision", "distinctiveness_final", "pw_strain_mean",
            "pw_turnover_per_year"} <= set(runs.columns)
    assert "status_gap_final" not in runs.columns  # only the selected metrics
    assert sorted(timeseries["week"].unique()) == [0, 5, 10, 15, 19]
    assert len(timeseries) == 8 * 5 * 2  # runs x recorded weeks x teams
    assert {"seed", "run_id", "scenario", "replicate"} <= set(timeseries.columns)
    seeds = runs.groupby("replicate")["seed"].nunique()
    assert (seeds == 1).all() and runs["seed"].nunique() == 2  # common random numbers
    manifest = json.loads((serial / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["runs"] == {"total": 8, "ok": 8, "failed": 0, "missing": 0}
    assert {"experiment_hash", "root_seed", "packages", "git_revision", "started",
            "finished", "config"} <= set(manifest)
    assert (serial / "analysis" / "trajectories.png").exists()


@pytest.mark.parametrize("overrides", [
    ("sweep.backend=processes", "sweep.workers=2", "sweep.chunk_size=3"),
    ("sweep.backend=processes", "sweep.workers=1"),
    ("sweep.backend=dask", "sweep.workers=2", "sweep.chunk_size=2"),
], ids=["processes-2", "processes-1", "dask-local-2"])
def test_backends_and_worker_counts_give_identical_results(serial, tmp_path, overrides):
    sweep(tmp_path, *overrides, "sweep.analyse=false")
    expected_runs, expected_series = results(serial)
    runs, timeseries = results(tmp_path)
    pd.testing.assert_frame_equal(runs, expected_runs)
    pd.testing.assert_frame_equal(timeseries, expected_series)


def test_an_ensemble_sweep_gives_the_numbers_of_its_runs_alone(tmp_path):
    """Number factors only, so all 8 runs have one structure and form one ensemble."""
    numeric = ["experiment.factors=[{name: wellbeing.demand_weight, levels: [0.03, 0.09]},"
               "{name: meetings.tie_gain, levels: [0.05, 0.2]}]", "sweep.chunk_size=8",
               "experiment.analysis.reference=null", "sweep.analyse=false"]
    sweep(tmp_path / "together", *numeric)
    sweep(tmp_path / "alone", *numeric, "sweep.ensemble=false")
    runs, timeseries = results(tmp_path / "together")
    expected_runs, expected_series = results(tmp_path / "alone")
    pd.testing.assert_frame_equal(runs, expected_runs)
    pd.testing.assert_frame_equal(timeseries, expected_series)
    assert runs["distinctiveness_final"].nunique() == 8  # every run is its own
    seconds = load_runs(tmp_path / "together")["run_seconds"]
    assert seconds.nunique() == 1  # one ensemble's time, shared
    assert load_runs(tmp_path / "alone")["run_seconds"].nunique() == 8


def test_rerunning_a_finished_sweep_runs_nothing(serial):
    before = sorted(p.stat().st_mtime_ns for p in (serial / "runs").iterdir())
    outcome = sweep(serial, "sweep.backend=serial", "sweep.chunk_size=1", "sweep.analyse=false")
    assert outcome.n_ok == 8
    assert sorted(p.stat().st_mtime_ns for p in (serial / "runs").iterdir()) == before
    assert len(json.loads((serial / "manifest.json").read_text())["attempts"]) == 2


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "nohost.invalid:8786",
                                     "tcp://127.0.0.1:notaport"])
def test_an_unreachable_dask_scheduler_is_refused_before_anything_is_written(tmp_path, address):
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = address.format(port=port)
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as caught:
        sweep(out, "sweep.backend=dask", f"sweep.scheduler_address={address}")
    assert caught.value.key == "sweep.scheduler_address"
    assert "a running Dask scheduler" in str(caught.value)
    assert not out.exists()
