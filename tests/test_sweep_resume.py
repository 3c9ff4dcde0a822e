"""Interrupted sweeps (Ctrl-C, a killed process) resume to the same results, with no duplicates.

The sweeps here use ``SlowModel`` (the real model, plus a pause) so that the command can be
interrupted part-way; worker processes import it from this module.
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
import psutil
import pytest

from sim.analysis.tables import load_runs, load_timeseries
from sim.model import PeerWorkModel
from sim.params import ConfigError
from sim.sweep.engine import load_sweep_config, run_sweep

ROOT = Path(__file__).resolve().parent.parent
#: 4 points x 3 replications of a 2-team, 20-week organisation.
SMALL = ["+experiment=recruitment_by_supervision", "experiment.replications=3",
         "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=20']",
         "experiment.metrics=[distinctiveness,pw_strain]", "experiment.analysis.outcomes=[]",
         "sweep.analyse=false",
         "sweep.chunk_size=1"]
SLOW = "experiment.model=test_sweep_resume.SlowModel"


class SlowModel(PeerWorkModel):
    def run(self) -> PeerWorkModel:
        time.sleep(0.4)
        return super().run()


def sweep(out: Path, *overrides: str):
    return run_sweep(load_sweep_config([*SMALL, "sweep.progress=none",
                                        f"sweep.output_dir={out}", *overrides]))


def start_cli(out: Path, *overrides: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"}
    return subprocess.Popen([sys.executable, "-m", "sim.sweep", *SMALL, SLOW,
                             f"sweep.output_dir={out}", *overrides], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen) -> int:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        done = len(list((out / "runs").glob("part-*.parquet")))
        if done >= n:
            return done
        time.sleep(0.02)
    raise AssertionError(f"sweep ended or stalled before {n} runs: {proc.communicate()}")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("uninterrupted")
    sweep(out)
    return results(out)


def results(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_runs(out).drop(columns="run_seconds"), load_timeseries(out)


def assert_same(out: Path, expected: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    runs, timeseries = results(out)
    assert runs["run_id"].is_unique
    pd.testing.assert_frame_equal(runs, expected[0])
    pd.testing.assert_frame_equal(timeseries, expected[1])


def test_killed_multiprocess_sweep_resumes_to_the_same_results(tmp_path, uninterrupted):
    proc = start_cli(tmp_path, "sweep.backend=processes", "sweep.workers=2")
    wait_for_parts(tmp_path, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers, no clean-up
    proc.wait()
    saved = len(list((tmp_path / "runs").glob("part-*.parquet")))
    assert 3 <= saved < 12
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "running"  # killed: it never got to say otherwise
    outcome = sweep(tmp_path, SLOW, "sweep.backend=processes", "sweep.workers=2")
    assert (outcome.n_ok, outcome.n_failed) == (12, 0)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["attempts"]) == 2
    assert_same(tmp_path, uninterrupted)


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path, uninterrupted):
    proc = start_cli(tmp_path, "sweep.backend=serial", "sweep.progress=plain")
    wait_for_parts(tmp_path, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "rerun the same command to resume" in stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"].startswith("interrupted")
    assert 0 < manifest["runs"]["missing"] < 12
    sweep(tmp_path, SLOW, "sweep.backend=serial")
    assert_same(tmp_path, uninterrupted)


def test_sigterm_on_the_command_exits_143_with_one_line_and_the_rerun_finishes(
        tmp_path, uninterrupted):
    """SIGTERM to the command only (its run server is stopped, the run under way is left to
    finish into a closed pipe): one line on stderr, no traceback from the abandoned run."""
    proc = start_cli(tmp_path, "sweep.backend=serial", "sweep.progress=none")
    wait_for_parts(tmp_path, 2, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)  # until every holder of stderr (the run) ends
    assert proc.returncode == 143
    assert stderr.strip() == ("terminated: finished runs are saved; rerun the same command to "
                              "resume")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "interrupted (Terminated)"
    sweep(tmp_path, SLOW, "sweep.backend=serial")
    assert_same(tmp_path, uninterrupted)


def test_a_kill_between_a_chunks_two_files_leaves_no_trace(tmp_path, uninterrupted):
    sweep(tmp_path, "sweep.backend=serial")
    victim = "part-00000005.parquet"
    (tmp_path / "runs" / victim).unlink()  # killed after its time series, before its runs
    (tmp_path / "runs" / ".part-00000006.parquet.x.tmp").write_bytes(b"half")
    sweep(tmp_path, "sweep.backend=serial")
    assert not list((tmp_path / "runs").glob(".*.tmp"))
    assert_same(tmp_path, uninterrupted)


def test_another_experiment_in_the_same_folder_is_refused(tmp_path):
    sweep(tmp_path, "experiment.replications=1")
    with pytest.raises(ConfigError, match="another experiment or changed configs"):
        sweep(tmp_path, "experiment.replications=1", "experiment.root_seed=99")


def test_a_lost_worker_process_stops_the_sweep_and_the_rerun_finishes(tmp_path, uninterrupted):
    proc = start_cli(tmp_path, "sweep.backend=processes", "sweep.workers=2")
    wait_for_parts(tmp_path, 2, proc)
    workers = worker_processes(psutil.Process(proc.pid))
    assert workers
    workers[0].kill()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "a worker process died" in stderr and "rerun the same command" in stderr
    sweep(tmp_path, SLOW, "sweep.backend=processes", "sweep.workers=2")
    assert_same(tmp_path, uninterrupted)


def test_a_lost_dask_worker_is_replaced_without_losing_runs(tmp_path, uninterrupted):
    killed: list[int] = []
    killer = threading.Thread(target=kill_a_dask_worker, args=(tmp_path, killed), daemon=True)
    killer.start()
    outcome = sweep(tmp_path, SLOW, "sweep.backend=dask", "sweep.workers=2")
    killer.join()
    assert len(killed) == 1
    assert (outcome.n_ok, outcome.n_failed) == (12, 0)
    assert_same(tmp_path, uninterrupted)


def kill_a_dask_worker(out: Path, killed: list[int]) -> None:
    """Once two chunks are saved, kill one Dask worker process (its nanny starts another)."""
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("part-*.parquet"))) < 2:
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    workers = worker_processes(psutil.Process())
    if workers:
        workers[0].kill()
        killed.append(workers[0].pid)


def worker_processes(parent: psutil.Process) -> list[psutil.Process]:
    """Spawned worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    return [child for child in parent.children()
            if "spawn_main" in " ".join(child.cmdline())]


def test_runs_of_changed_model_code_are_not_resumed(tmp_path, monkeypatch):
    """A folder of runs made before the model's code changed is refused, naming both
    fingerprints, instead of being completed by the new code."""
    module = tmp_path / "code" / "changing_model.py"
    module.parent.mkdir()
    module.write_text("from sim.model import PeerWorkModel\n\n\n"
                      "class ChangingModel(PeerWorkModel):\n    pass\n")
    monkeypatch.syspath_prepend(str(module.parent))
    out = tmp_path / "out"
    model = "experiment.model=changing_model.ChangingModel"
    sweep(out, "experiment.replications=1", model, "sweep.backend=serial")
    made_by = json.loads((out / "manifest.json").read_text())["model_fingerprint"]
    sweep(out, "experiment.replications=1", model, "sweep.backend=serial")  # same code: resumes
    module.write_text(module.read_text() + "    WEEKLY_BONUS = 1\n")
    with pytest.raises(ConfigError, match=f"other model code \\(fingerprint {made_by}"):
        sweep(out, "experiment.replications=1", model, "sweep.backend=serial")


def test_a_folder_from_before_fingerprints_still_resumes(tmp_path):
    sweep(tmp_path, "experiment.replications=1", "sweep.backend=serial")
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["model_fingerprint"]
    manifest_path.write_text(json.dumps(manifest))
    outcome = sweep(tmp_path, "experiment.replications=1", "sweep.backend=serial")
    assert outcome.n_failed == 0 and outcome.n_ok == outcome.n_runs
