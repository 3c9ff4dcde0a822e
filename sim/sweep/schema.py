"""The typed schema of ``conf/sweep.yaml``: the experiment, how to run it, and on what cluster.

Hydra merges the YAML onto these dataclasses, so an unknown key or a wrong type fails while
composing; :func:`sim.sweep.plan.check_experiment` then checks what types cannot (empty factors,
design parameters, config paths).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

BACKENDS = ("serial", "processes", "dask")
DESIGNS = ("factorial", "lhs", "sobol", "morris", "csv")
PROGRESS_MODES = ("auto", "bar", "plain", "none")


@dataclass
class FactorConfig:
    """One varied input: a config group (``recruitment``) or a value path (``team.caseload``).

    Give ``levels`` (any design; the only choice for config groups) or ``range`` [low, high]
    (sampled designs). Values of integer parameters sampled from a range are rounded.
    """

    name: str = ""
    levels: list[Any] | None = None
    range: list[float] | None = None


@dataclass
class DesignConfig:
    kind: str = "factorial"  # one of DESIGNS
    samples: int = 16  # lhs: points; sobol: base sample N (power of 2); morris: trajectories
    num_levels: int = 4  # morris grid levels (even, >= 2)
    second_order: bool = False  # sobol: also sample for second-order indices
    csv: str | None = None  # csv: file of points, one column per factor name


@dataclass
class AnalysisConfig:
    outcomes: list[str] = field(default_factory=list)  # empty: every recorded metric
    reference: str | None = None  # scenario the contrasts are taken against (default: first)
    ci_half_width: float = 0.05  # target 95% CI half-width for the replication check
    plots: bool = True


@dataclass
class ExperimentConfig:
    name: str = ""  # also names the default output folder
    description: str = ""
    base: list[str] = field(default_factory=list)  # overrides of conf/config.yaml for every run
    # Named scenarios, label -> overrides applied after ``base``; every design point is run in
    # every scenario (factor values win over a scenario's), labelled by the scenario's name.
    scenarios: dict[str, list[str]] = field(default_factory=dict)
    factors: list[FactorConfig] = field(default_factory=list)
    design: DesignConfig = field(default_factory=DesignConfig)
    replications: int = 10
    root_seed: int = 20240601
    common_random_numbers: bool = True  # replication r has the same seed at every point
    metrics: list[str] = field(default_factory=list)  # time-series columns; empty: all
    record_interval_weeks: int = 1  # weeks between saved time-series rows (and the last week)
    model: str = "sim.model.PeerWorkModel"  # class built from a SimConfig, with run()/recorder
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


@dataclass
class SweepSettings:
    backend: str = "serial"  # one of BACKENDS
    workers: int = 2  # processes, or LocalCluster workers
    chunk_size: int = 0  # runs per task; 0 picks one from the number of runs and workers
    output_dir: str = "outputs/sweeps/${experiment.name}"
    scheduler_address: str | None = None  # dask: connect to this scheduler instead
    progress: str = "auto"  # one of PROGRESS_MODES; auto: a bar on a terminal, else lines
    analyse: bool = True  # write summaries and plots when the sweep completes
    # a run with no result after this many seconds is stopped and recorded as failed; 0: no limit
    run_timeout_s: float = 0.0
    # runs of a chunk with equal structure execute as one ensemble (same numbers, faster)
    ensemble: bool = True
    retry_failed: bool = False  # on resume, run the failed runs again (their rows are replaced)
    # refuse, before writing anything, an experiment above these sizes (runs; time-series rows)
    max_runs: int = 1_000_000
    max_timeseries_rows: int = 200_000_000


@dataclass
class ClusterConfig:
    """The Dask cluster for ``sweep.backend=dask`` (ignored with ``sweep.scheduler_address``).

    ``kind`` is ``local`` (a LocalCluster of ``sweep.workers`` processes) or a dask-jobqueue
    cluster (``slurm``, ``pbs``, ``sge``, ``lsf``, ``htcondor``, ``moab``, ``oar``) built from
    the keyword arguments in ``jobqueue`` and scaled to ``jobs`` batch jobs.
    """

    kind: str = "local"
    jobs: int = 1
    jobqueue: dict[str, Any] = field(default_factory=dict)


@dataclass
class SweepConfig:
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    sweep: SweepSettings = field(default_factory=SweepSettings)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


ConfigStore.instance().store(name="sweep_schema", node=SweepConfig)
