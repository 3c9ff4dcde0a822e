"""End to end: ``python -m sim.run`` writes every output, refuses bad config before any folder."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO

OUTPUTS = ("timeseries.parquet", "agents.parquet", "service_users.parquet", "summary.csv",
           "dashboard.png", "config.yaml", "manifest.json")


def sim_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    out = tmp / "run"
    result = sim_run("organisation.n_teams=2", "organisation.horizon_weeks=10", "seed=5",
                     f"hydra.run.dir={out}", cwd=tmp)
    return result, out


def test_run_exits_zero_and_writes_every_output(finished_run):
    result, out = finished_run
    assert result.returncode == 0, result.stderr
    for name in OUTPUTS:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


def test_run_tables_have_the_configured_shape(finished_run):
    _, out = finished_run
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 2 * 10
    assert sorted(ts["week"].unique()) == list(range(10))
    users = pd.read_parquet(out / "service_users.parquet")
    assert len(users) == 2 * 40
    agents = pd.read_parquet(out / "agents.parquet")
    assert {"week", "team", "role", "practice"} <= set(agents.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 1 and summary["seed"].item() == 5
    assert summary["weeks"].item() == 10
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["organisation"]["n_teams"] == 2 and config["seed"] == 5


def test_manifest_records_provenance_and_checksums(finished_run):
    _, out = finished_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["run_seconds"] >= 0
    assert manifest["git_revision"]
    if (REPO / ".git").exists():
        assert manifest["git_revision"] != "unknown"
    assert {"python", "peer-worker-sim", "mesa", "numpy", "pandas", "hydra-core"} <= set(
        manifest["packages"])
    assert set(OUTPUTS) - {"manifest.json"} <= set(manifest["files"])
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["bytes"] == len(data), name
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name


def test_run_prints_a_summary_table(finished_run):
    result, out = finished_run
    for text in ("seed 5", "2 teams x 10 weeks", "final week", "run mean", "distinctiveness",
                 "status_gap", "pw_turnover_per_year", str(out)):
        assert text in result.stdout, text


def test_outputs_honour_the_umask(finished_run):
    _, out = finished_run
    umask = os.umask(0)
    os.umask(umask)
    for name in OUTPUTS:
        mode = stat.S_IMODE((out / name).stat().st_mode)
        assert mode == 0o666 & ~umask, f"{name}: {oct(mode)}"


def test_bad_value_exits_nonzero_with_one_line_and_creates_nothing(tmp_path):
    bad = tmp_path / "bad"
    result = sim_run("recruitment.anchor=2", f"hydra.run.dir={bad}", cwd=tmp_path)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "recruitment.anchor" in message and "2" in message
    assert "Traceback" not in result.stderr
    assert not bad.exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_key_exits_nonzero_and_creates_nothing(tmp_path):
    bad = tmp_path / "bad"
    result = sim_run("+recruitment.bogus=1", f"hydra.run.dir={bad}", cwd=tmp_path)
    assert result.returncode != 0
    assert "recruitment.bogus" in result.stderr
    assert not bad.exists()


def test_cfg_job_prints_the_composed_config(tmp_path):
    result = sim_run("--cfg", "job", "organisation.n_teams=3", "scenario=london", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert config["organisation"]["n_teams"] == 3
    assert config["recruitment"]["process"] == "informal"
    assert config["scenario_name"] == "london"
    assert list(tmp_path.iterdir()) == []  # printing the config runs nothing
