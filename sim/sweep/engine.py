"""Running an experiment end to end: plan, resume, execute, save, summarise.

:func:`run_sweep` is what ``python -m sim.sweep`` calls and what tests call. It validates every
point before anything is written, resumes from what the output folder already holds (only the
missing runs execute), streams each finished chunk to Parquet and keeps the manifest current.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.analysis.report import write_report
from sim.config import CONF_DIR
from sim.output import git_revision, package_versions, write_parquet, write_text
from sim.params import ConfigError
from sim.sweep.backends import JOBQUEUE_CLUSTERS, chunk_results
from sim.sweep.plan import Plan, available_experiments, build_plan
from sim.sweep.progress import Progress
from sim.sweep.runner import Chunk
from sim.sweep.schema import BACKENDS, PROGRESS_MODES, SweepConfig
from sim.sweep.store import ResultStore

SWEEP_PACKAGES = ("SALib", "dask", "distributed", "dask-jobqueue", "tqdm")
#: With ``sweep.chunk_size=0``: aim for this many chunks per worker, each at most MAX_CHUNK runs.
CHUNKS_PER_WORKER = 8
MAX_CHUNK = 64


@dataclass(frozen=True)
class SweepOutcome:
    output_dir: Path
    n_runs: int
    n_ok: int
    n_failed: int
    verdict: str = ""  # the replication check, when the sweep was analysed


def load_sweep_config(overrides: list[str]) -> DictConfig:
    """Compose ``conf/sweep.yaml`` with overrides against the typed schema."""
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name="sweep", overrides=list(overrides))
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    except HydraException as err:
        if isinstance(err.__cause__, OmegaConfBaseException):
            raise omegaconf_error(err.__cause__) from None
        message = str(err).splitlines()[0]
        if "experiment/" in message:
            raise ConfigError("experiment", message.split("experiment/")[-1].rstrip("'"),
                              "one of: " + ", ".join(available_experiments())) from None
        raise ConfigError("overrides", list(overrides), message) from None


def omegaconf_error(err: OmegaConfBaseException) -> ConfigError:
    """Key, value and reason of a schema violation (e.g. ``sweep.workers=two``)."""
    message = str(err).splitlines()[0]
    value = "(unknown key)" if message.startswith("Key '") else getattr(err, "value", "?")
    return ConfigError(getattr(err, "full_key", None) or "?", value, message)


def to_sweep_config(cfg: DictConfig) -> SweepConfig:
    try:
        config = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    check_settings(config)
    return config


def check_settings(config: SweepConfig) -> None:
    sweep = config.sweep
    if sweep.backend not in BACKENDS:
        raise ConfigError("sweep.backend", sweep.backend, "one of " + ", ".join(BACKENDS))
    if sweep.workers < 1:
        raise ConfigError("sweep.workers", sweep.workers, "an integer >= 1")
    if sweep.chunk_size < 0:
        raise ConfigError("sweep.chunk_size", sweep.chunk_size, "0 (automatic) or more runs")
    if sweep.progress not in PROGRESS_MODES:
        raise ConfigError("sweep.progress", sweep.progress, "one of " + ", ".join(PROGRESS_MODES))
    if config.cluster.kind != "local" and config.cluster.kind not in JOBQUEUE_CLUSTERS:
        raise ConfigError("cluster.kind", config.cluster.kind,
                          "local or one of " + ", ".join(JOBQUEUE_CLUSTERS))


def run_sweep(cfg: DictConfig, base_dir: Path | None = None) -> SweepOutcome:
    """Run (or resume) the experiment of a composed sweep config; see the module docstring."""
    config = to_sweep_config(cfg)
    plan = build_plan(config.experiment, base_dir or Path.cwd())
    store = ResultStore(Path(config.sweep.output_dir))
    store.check_same_experiment(plan.experiment_hash)
    manifest = store.read_manifest() or new_manifest(cfg, plan)
    attempt: dict[str, Any] = {"started": now(), "backend": config.sweep.backend,
                               "workers": config.sweep.workers, "git_revision": git_revision()}
    manifest["attempts"].append(attempt)
    manifest["status"] = "running"
    store.write_manifest(manifest)
    store.prepare()
    write_text(store.root / "experiment.yaml", OmegaConf.to_yaml(cfg))
    write_parquet(store.root / "points.parquet", plan.points_table())

    status = dict(store.run_status())
    pending = [run_id for run_id in range(plan.n_runs) if run_id not in status]
    failed_before = sum(s != "ok" for s in status.values())
    if status:
        print(f"resuming {plan.experiment.name}: {len(status)} of {plan.n_runs} runs already "
              f"saved, {len(pending)} to run", file=sys.stderr)
    size = chunk_size(len(pending), config)
    attempt["chunk_size"] = size
    progress = Progress(plan.n_runs, len(status), failed_before, config.sweep.progress)
    results = chunk_results(chunks(plan, pending, size), config.sweep, config.cluster)
    try:
        with closing(results):  # on any exit, stop the workers and drop unfinished chunks
            for result in results:
                store.write_chunk(result)
                progress.update(len(result.runs), int((result.runs["status"] != "ok").sum()))
    except BaseException as err:
        progress.close()
        finish(store, manifest, attempt, plan, f"interrupted ({type(err).__name__})")
        raise
    progress.close()
    outcome = finish(store, manifest, attempt, plan, "complete")
    if config.sweep.analyse and outcome.n_ok:
        analysis = config.experiment.analysis
        report = write_report(store.root, outcomes=analysis.outcomes,
                              reference=analysis.reference,
                              ci_half_width=analysis.ci_half_width, plots_wanted=analysis.plots)
        outcome = dataclasses.replace(outcome, verdict=report.verdict)
    return outcome


def chunk_size(n_pending: int, config: SweepConfig) -> int:
    if config.sweep.chunk_size:
        return config.sweep.chunk_size
    workers = 1 if config.sweep.backend == "serial" else config.sweep.workers
    return max(1, min(MAX_CHUNK, math.ceil(n_pending / (workers * CHUNKS_PER_WORKER))))


def chunks(plan: Plan, run_ids: list[int], size: int) -> Iterator[Chunk]:
    """Chunks of consecutive pending runs, built as the backend asks for them."""
    ids = iter(run_ids)
    while batch := list(itertools.islice(ids, size)):
        specs = [plan.run_spec(run_id) for run_id in batch]
        points = {spec.point_id: plan.points[spec.point_id] for spec in specs}
        yield Chunk(specs, points, plan.output)


def new_manifest(cfg: DictConfig, plan: Plan) -> dict[str, Any]:
    exp = plan.experiment
    versions = package_versions()
    for name in SWEEP_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"experiment": exp.name, "experiment_hash": plan.experiment_hash,
            "root_seed": exp.root_seed, "common_random_numbers": exp.common_random_numbers,
            "design": exp.design.kind, "n_points": len(plan.points),
            "replications": exp.replications, "n_runs": plan.n_runs,
            "config": OmegaConf.to_container(cfg, resolve=True), "packages": versions,
            "git_revision": git_revision(), "started": now(), "attempts": []}


def finish(store: ResultStore, manifest: dict[str, Any], attempt: dict[str, Any], plan: Plan,
           status: str) -> SweepOutcome:
    """Record the attempt's end and the per-run status counts in the manifest."""
    statuses = [s for _, s in store.run_status()]
    n_ok = statuses.count("ok")
    failed = store.failed_runs()
    missing = plan.n_runs - len(statuses)
    if status == "complete" and (failed or missing):
        status = "complete_with_failures" if not missing else "incomplete"
    attempt.update(finished=now(), status=status)
    manifest.update(status=status, finished=now(),
                    runs={"total": plan.n_runs, "ok": n_ok, "failed": len(failed),
                          "missing": missing},
                    failed_runs=failed)
    store.write_manifest(manifest)
    return SweepOutcome(store.root, plan.n_runs, n_ok, len(failed))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
