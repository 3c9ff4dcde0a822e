"""A run that raises is recorded with its traceback; the others finish; the command says so.

``FailingModel`` raises for every point with peer supervision (6 of the 12 runs); worker
processes import it from this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sim.analysis.tables import load_runs, load_timeseries
from sim.model import PeerWorkModel
from sim.sweep.engine import load_sweep_config, run_sweep

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["+experiment=recruitment_by_supervision", "experiment.replications=3",
         "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=10']",
         "experiment.metrics=[distinctiveness]", "experiment.analysis.outcomes=[]",
         "experiment.model=test_sweep_faults.FailingModel", "sweep.chunk_size=2"]


class FailingModel(PeerWorkModel):
    def run(self) -> PeerWorkModel:
        if self.params.supervision.supervisor == "peer":
            raise RuntimeError("peer supervision broke")
        return super().run()


def test_failing_runs_are_isolated_and_recorded(tmp_path):
    outcome = run_sweep(load_sweep_config([*SMALL, "sweep.backend=processes",
                                           f"sweep.output_dir={tmp_path}",
                                           "sweep.progress=none"]))
    assert (outcome.n_runs, outcome.n_ok, outcome.n_failed) == (12, 6, 6)
    runs = load_runs(tmp_path)
    failed = runs[runs["status"] == "failed"]
    assert set(failed["supervision"]) == {"peer"} and len(failed) == 6
    assert failed["error"].str.contains("Traceback").all()
    assert failed["error"].str.contains("RuntimeError: peer supervision broke").all()
    assert failed["distinctiveness_final"].isna().all()
    assert runs.loc[runs["status"] == "ok", "distinctiveness_final"].notna().all()
    assert set(load_timeseries(tmp_path)["run_id"]) == set(runs.loc[runs["status"] == "ok",
                                                                    "run_id"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete_with_failures"
    assert manifest["runs"]["failed"] == 6
    assert manifest["failed_runs"][0]["error"] == ["RuntimeError: peer supervision broke"]
    # resuming does not repeat failed runs or duplicate their rows
    again = run_sweep(load_sweep_config([*SMALL, f"sweep.output_dir={tmp_path}",
                                         "sweep.progress=none"]))
    assert again.n_failed == 6 and load_runs(tmp_path)["run_id"].is_unique


def test_the_command_exits_non_zero_and_counts_failures(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, "-m", "sim.sweep", *SMALL,
                           f"sweep.output_dir={tmp_path}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "6 of 12 runs failed" in done.stderr
    assert "6 of 12 runs succeeded" in done.stdout
    assert "sweep: 12/12 runs (100%), 6 failed" in done.stderr  # plain lines off a terminal


def test_a_bad_config_exits_2_with_one_message_and_writes_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim.sweep", "+experiment=lhs_example",
                           "experiment.design.samples=0", f"sweep.output_dir={tmp_path / 'x'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: invalid config value experiment.design.samples=0: "
                                   "allowed an integer >= 1")
    assert not (tmp_path / "x").exists()


def test_cfg_job_prints_the_composed_sweep_config():
    done = subprocess.run([sys.executable, "-m", "sim.sweep", "+experiment=morris_example",
                           "sweep.backend=dask", "--cfg", "job"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kind: morris" in done.stdout and "backend: dask" in done.stdout
