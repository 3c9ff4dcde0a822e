"""SLURM and PBS clusters are built from conf/cluster/ through dask-jobqueue; their job scripts
render without a batch scheduler (nothing is submitted before ``scale``)."""

from __future__ import annotations

import pytest

from sim.sweep.backends import jobqueue_cluster
from sim.sweep.engine import load_sweep_config, to_sweep_config


@pytest.mark.parametrize(("kind", "directive"), [("slurm", "#SBATCH"), ("pbs", "#PBS")])
def test_job_script_renders_from_config(kind, directive):
    config = to_sweep_config(load_sweep_config([
        "+experiment=lhs_example", "sweep.backend=dask", f"cluster={kind}",
        "cluster.jobqueue.account=peerwork", "cluster.jobqueue.walltime=00:30:00"]))
    cluster = jobqueue_cluster(config.cluster)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert directive in script
    assert "peerwork" in script and "00:30:00" in script
    assert "source .venv/bin/activate" in script
    assert "distributed.cli.dask_worker" in script or "dask-worker" in script
