"""A run that kills its process, exits, hangs or returns a non-number fails alone, on every
backend; failed runs are retried on request; one folder has one writer.

The misbehaving models are in ``sweep_fault_models`` (a light module: every restarted run
process imports it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_fault_models import FAULTS

from sim.analysis.tables import load_runs, load_timeseries
from sim.params import ConfigError
from sim.sweep.__main__ import main
from sim.sweep.engine import load_sweep_config, run_sweep
from sim.sweep.lock import output_lock

ROOT = Path(__file__).resolve().parent.parent

#: 7 points (one per fault, two healthy) of a 2-team, 5-week organisation, 3 runs per chunk:
#: a healthy run follows a crash and a hang in their chunks.
TINY = ["+experiment=recruitment_by_supervision", "experiment.replications=1",
        "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=5']",
        "experiment.factors=[{name: team.caseload, levels: [21, 20, 22, 24, 26, 23, 25]}]",
        "experiment.metrics=[distinctiveness]", "experiment.analysis.outcomes=[]",
        "experiment.analysis.reference=null", "sweep.analyse=false", "sweep.chunk_size=3",
        "sweep.progress=none", "sweep.workers=2"]


def sweep(out: Path, *overrides: str):
    return run_sweep(load_sweep_config([*TINY, f"sweep.output_dir={out}", *overrides]))


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_every_fault_fails_its_runs_alone_and_is_recorded(tmp_path, backend):
    outcome = sweep(tmp_path, "experiment.model=sweep_fault_models.FaultyModel",
                    "sweep.run_timeout_s=3", f"sweep.backend={backend}")
    assert (outcome.n_runs, outcome.n_ok, outcome.n_failed) == (7, 2, 5)
    runs = load_runs(tmp_path)
    assert runs["run_id"].tolist() == list(range(7))
    for caseload, (fault, cause) in FAULTS.items():
        rows = runs[runs["team.caseload"] == caseload]
        assert len(rows) == 1, fault
        if cause is None:
            assert (rows["status"] == "ok").all() and rows["distinctiveness_final"].notna().all()
        else:
            assert (rows["status"] == "failed").all(), fault
            assert rows["error"].str.contains(cause, regex=False).all(), (fault, rows["error"])
    assert set(load_timeseries(tmp_path)["run_id"]) == set(runs.loc[runs["status"] == "ok",
                                                                    "run_id"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete_with_failures"
    assert manifest["runs"] == {"total": 7, "ok": 2, "failed": 5, "missing": 0}
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_a_faulty_run_in_an_ensemble_fails_alone_and_the_others_are_saved(tmp_path, backend):
    """Both runs of a point share an ensemble (2 runs a chunk); a faulty run takes its
    ensemble down, the engine reruns that ensemble's runs one at a time."""
    together = ["experiment.model=sweep_fault_models.FaultyEnsembleModel",
                "experiment.replications=2", "sweep.chunk_size=2", "sweep.run_timeout_s=3",
                f"sweep.backend={backend}"]
    outcome = sweep(tmp_path / "together", *together)
    assert (outcome.n_runs, outcome.n_ok, outcome.n_failed) == (14, 4, 10)
    runs = load_runs(tmp_path / "together")
    for caseload, (fault, cause) in FAULTS.items():
        rows = runs[runs["team.caseload"] == caseload]
        assert len(rows) == 2, fault
        if cause is None:  # saved from their ensemble: one time shared by both runs
            assert (rows["status"] == "ok").all()
            assert rows["run_seconds"].nunique() == 1
        else:
            assert (rows["status"] == "failed").all(), fault
            assert rows["error"].str.contains(cause, regex=False).all(), (fault, rows["error"])
    sweep(tmp_path / "alone", *together, "sweep.ensemble=false")
    alone = load_runs(tmp_path / "alone")
    pd.testing.assert_frame_equal(runs.drop(columns=["run_seconds", "error"]),
                                  alone.drop(columns=["run_seconds", "error"]))
    pd.testing.assert_frame_equal(load_timeseries(tmp_path / "together"),
                                  load_timeseries(tmp_path / "alone"))


def test_retry_failed_reruns_only_the_failed_runs_once_fixed(tmp_path):
    marker = tmp_path / "broken"
    marker.touch()
    out = tmp_path / "out"
    flaky = ["experiment.model=sweep_fault_models.FlakyModel",
             f"experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=5',"
             f"'scenario_name={marker}']",
             "experiment.factors=[{name: team.caseload, levels: [20, 21]}]"]
    first = sweep(out, *flaky)
    assert (first.n_ok, first.n_failed) == (0, 2)
    marker.unlink()  # the cause is fixed
    again = sweep(out, *flaky)  # a plain resume does not retry
    assert (again.n_ok, again.n_failed) == (0, 2)
    fixed = sweep(out, *flaky, "sweep.retry_failed=true")
    assert (fixed.n_ok, fixed.n_failed) == (2, 0)
    runs = load_runs(out)
    assert runs["run_id"].tolist() == [0, 1] and (runs["status"] == "ok").all()
    assert sorted(load_timeseries(out)["run_id"].unique()) == [0, 1]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_second_writer_is_refused_with_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    with output_lock(out):  # another sweep is writing the folder
        status = main([*TINY, f"sweep.output_dir={out}"])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"sweep.output_dir='{out}'" in err and "another process holds its lock" in err
    assert not (out / "manifest.json").exists()
    assert not out.exists()  # the lock's holder made the folder; it removed it again


def test_two_concurrent_sweeps_into_one_folder_never_duplicate_a_run(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "sim.sweep", *TINY, f"sweep.output_dir={out}",
               "experiment.model=sweep_fault_models.SlowModel", "experiment.replications=3"]
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    done = sorted((proc.wait(timeout=300), proc.communicate()[1]) for proc in procs)
    assert [code for code, _ in done] == [0, 2]
    refusal = done[1][1].strip()
    assert len(refusal.splitlines()) == 1 and "another process holds its lock" in refusal
    assert load_runs(out)["run_id"].tolist() == list(range(21))


def test_a_copied_part_is_refused_by_readers_and_by_resume(tmp_path):
    sweep(tmp_path, "experiment.factors=[{name: team.caseload, levels: [20, 26]}]")
    first = sorted((tmp_path / "runs").glob("part-*.parquet"))[0]
    (tmp_path / "runs" / "part-copy.parquet").write_bytes(first.read_bytes())
    with pytest.raises(ConfigError, match="each run saved once; run 0 is also in"):
        load_runs(tmp_path)
    with pytest.raises(ConfigError, match="each run saved once"):
        sweep(tmp_path, "experiment.factors=[{name: team.caseload, levels: [20, 26]}]")


def test_sigterm_leaves_a_true_manifest(tmp_path):
    """SIGTERM (a batch system's cancel) ends the attempt as interrupted, not "running"."""
    slow = ["experiment.model=sweep_fault_models.SlowModel", "sweep.chunk_size=1"]
    killer = threading.Thread(target=terminate_after_a_part, args=(tmp_path,), daemon=True)
    killer.start()
    with pytest.raises(BaseException) as caught:
        sweep(tmp_path, *slow)
    killer.join()
    assert type(caught.value).__name__ == "Terminated"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "interrupted (Terminated)"
    assert not list(tmp_path.rglob("*.tmp"))
    pd.testing.assert_index_equal(load_runs(tmp_path).columns[:2], pd.Index(["run_id",
                                                                               "point_id"]))
    # The run under way when SIGTERM came must not answer for the next one: resuming in this
    # process (same run server) saves each run once, under its own id.
    sweep(tmp_path, *slow)
    assert load_runs(tmp_path)["run_id"].tolist() == list(range(7))
    assert sorted(p.name for p in (tmp_path / "runs").glob("part-*.parquet")) == [
        f"part-{run_id:08d}.parquet" for run_id in range(7)]


def terminate_after_a_part(out: Path) -> None:
    while not list((out / "runs").glob("part-*.parquet")):
        time.sleep(0.02)
    os.kill(os.getpid(), signal.SIGTERM)
