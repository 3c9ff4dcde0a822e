"""Running an experiment end to end: plan, resume, execute, save, summarise.

:func:`run_sweep` is what ``python -m sim.sweep`` calls and what tests call. It validates every
point before anything is written, resumes from what the output folder already holds (only the
missing runs execute), streams each finished chunk to Parquet and keeps the manifest current.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.analysis.report import write_report
from sim.config import CONF_DIR, yaml_error
from sim.output import git_revision, package_versions, write_parquet, write_text
from sim.params import ConfigError
from sim.sweep.backends import JOBQUEUE_CLUSTERS, check_scheduler_reachable, chunk_results
from sim.sweep.errors import Terminated
from sim.sweep.lock import output_lock
from sim.sweep.plan import Plan, available_experiments, build_plan
from sim.sweep.progress import Progress
from sim.sweep.runner import Chunk
from sim.sweep.schema import BACKENDS, PROGRESS_MODES, SweepConfig
from sim.sweep.store import ResultStore

SWEEP_PACKAGES = ("SALib", "dask", "distributed", "dask-jobqueue", "tqdm")
#: With ``sweep.chunk_size=0``: aim for this many chunks per worker, each at most MAX_CHUNK runs.
#: Few enough that a chunk's ensemble is large (an ensemble's cost per run falls up to about 32
#: runs), enough that the workers finish close together.
CHUNKS_PER_WORKER = 4
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
    except yaml.YAMLError as err:  # an experiment file (conf/experiment/, a search path)
        raise yaml_error(err) from None
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    except HydraException as err:
        # a bad key or type inside a config file: Hydra raises while handling OmegaConf's error
        cause = err.__cause__ or err.__context__
        if isinstance(cause, OmegaConfBaseException):
            found = omegaconf_error(cause)
            where = re.match(r"In '([^']+)'", str(err))
            raise ConfigError(found.key, found.value, found.allowed + (
                f" (in {where.group(1)}.yaml)" if where else "")) from None
        message = str(err).splitlines()[0]
        if "experiment/" in message:
            raise ConfigError("experiment", message.split("experiment/")[-1].rstrip("'"),
                              "one of: " + ", ".join(available_experiments())) from None
        raise ConfigError("overrides", list(overrides), message) from None


def omegaconf_error(err: OmegaConfBaseException) -> ConfigError:
    """Key, value and reason of a schema violation (e.g. ``sweep.workers=two``)."""
    message = str(err).splitlines()[0]
    key = getattr(err, "full_key", None) or "?"
    if message.startswith("Key '"):
        node: Any = SweepConfig
        for part in key.split(".")[:-1]:
            fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(
                node) else {}
            node = fields[part].default_factory if part in fields else None
        if dataclasses.is_dataclass(node):
            message = "keys: " + ", ".join(f.name for f in dataclasses.fields(node))
        return ConfigError(key, "(unknown key)", message)
    return ConfigError(key, getattr(err, "value", "?"), message)


def to_sweep_config(cfg: DictConfig) -> SweepConfig:
    try:
        reject_unknown_keys(OmegaConf.to_container(cfg, resolve=True), SweepConfig, "")
        config = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    check_settings(config)
    return config


def reject_unknown_keys(values: Any, schema: Any, prefix: str) -> None:
    """``+experiment.name=value`` adds a key the schema lacks (dropped silently otherwise)."""
    if not isinstance(values, dict) or not dataclasses.is_dataclass(schema):
        return
    fields = {f.name: f for f in dataclasses.fields(schema)}
    for key, value in values.items():
        if key == "hydra":
            continue
        if key not in fields:
            raise ConfigError(f"{prefix}{key}", value, "keys of " + (prefix.rstrip(".") or
                              "the sweep config") + ": " + ", ".join(fields))
        reject_unknown_keys(value, fields[key].default_factory, f"{prefix}{key}.")


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
    if not math.isfinite(sweep.run_timeout_s) or sweep.run_timeout_s < 0:
        raise ConfigError("sweep.run_timeout_s", sweep.run_timeout_s,
                          "seconds >= 0 (0: no limit)")
    for key in ("max_runs", "max_timeseries_rows"):
        if getattr(sweep, key) < 1:
            raise ConfigError(f"sweep.{key}", getattr(sweep, key), "an integer >= 1")
    if config.cluster.kind != "local" and config.cluster.kind not in JOBQUEUE_CLUSTERS:
        raise ConfigError("cluster.kind", config.cluster.kind,
                          "local or one of " + ", ".join(JOBQUEUE_CLUSTERS))


def raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def run_sweep(cfg: DictConfig, base_dir: Path | None = None) -> SweepOutcome:
    """Run (or resume) the experiment of a composed sweep config; see the module docstring."""
    config = to_sweep_config(cfg)
    plan = build_plan(config.experiment, base_dir or Path.cwd())
    check_size(config, plan)
    check_scheduler_reachable(config.sweep)
    store = ResultStore(Path(config.sweep.output_dir))
    with output_lock(store.root):
        store.check_same_experiment(plan.experiment_hash, plan.model_fingerprint)
        store.check_readable()
        return locked_sweep(cfg, config, plan, store)


def locked_sweep(cfg: DictConfig, config: SweepConfig, plan: Plan,
                 store: ResultStore) -> SweepOutcome:
    manifest = store.read_manifest() or new_manifest(cfg, plan)
    attempt: dict[str, Any] = {"started": now(), "backend": config.sweep.backend,
                               "workers": config.sweep.workers, "git_revision": git_revision()}
    manifest["attempts"].append(attempt)
    manifest["status"] = "running"
    store.write_manifest(manifest)
    previous = (signal.signal(signal.SIGTERM, raise_terminated)
                if threading_main() else None)
    try:
        store.prepare()
        if config.sweep.retry_failed:
            retried = store.forget_failed()
            if retried:
                print(f"retrying {retried} failed runs", file=sys.stderr)
        write_text(store.root / "experiment.yaml", OmegaConf.to_yaml(cfg))
        write_parquet(store.root / "points.parquet", plan.points_table())
        status = dict(store.run_status())
        pending = [run_id for run_id in range(plan.n_runs) if run_id not in status]
        failed_before = sum(s != "ok" for s in status.values())
        if status:
            print(f"resuming {plan.experiment.name}: {len(status)} of {plan.n_runs} runs "
                  f"already saved, {len(pending)} to run", file=sys.stderr)
        size = chunk_size(len(pending), config)
        attempt["chunk_size"] = size
        progress = Progress(plan.n_runs, len(status), failed_before, config.sweep.progress)
        results = chunk_results(chunks(plan, pending, size, config.sweep.run_timeout_s,
                                       config.sweep.ensemble),
                                config.sweep, config.cluster)
        try:
            with closing(results):  # on any exit, stop the workers and drop unfinished chunks
                for result in results:
                    store.write_chunk(result)
                    progress.update(len(result.runs),
                                    int((result.runs["status"] != "ok").sum()))
        finally:
            progress.close()
    except BaseException as err:
        finish(store, manifest, attempt, plan, f"interrupted ({type(err).__name__})",
               raising=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    outcome = finish(store, manifest, attempt, plan, "complete")
    if config.sweep.analyse and outcome.n_ok:
        analysis = config.experiment.analysis
        report = write_report(store.root, outcomes=analysis.outcomes,
                              reference=analysis.reference,
                              ci_half_width=analysis.ci_half_width, plots_wanted=analysis.plots)
        outcome = dataclasses.replace(outcome, verdict=report.verdict)
    return outcome


def threading_main() -> bool:
    """Signal handlers can only be set from the main thread (tests run sweeps in threads)."""
    return threading.current_thread() is threading.main_thread()


def check_size(config: SweepConfig, plan: Plan) -> None:
    """Refuse, before anything is written, an experiment too big to run or save.

    Building the plan holds only the points (few); the runs and their time-series rows (runs x
    teams x recorded weeks) are what grow, so they are estimated from the points.
    """
    exp, sweep = config.experiment, config.sweep
    if plan.n_runs > sweep.max_runs:
        raise ConfigError("experiment.replications", exp.replications,
                          f"an experiment within sweep.max_runs={sweep.max_runs:,} runs: this "
                          f"one has {plan.n_runs:,} ({len(plan.points):,} points x "
                          f"{exp.replications:,} replications); lower it or raise "
                          "sweep.max_runs")
    rows = exp.replications * sum(
        p.params.organisation.n_teams
        * (p.params.organisation.horizon_weeks // exp.record_interval_weeks + 2)
        for p in plan.points)
    if rows > sweep.max_timeseries_rows:
        raise ConfigError("experiment.record_interval_weeks", exp.record_interval_weeks,
                          f"an experiment within sweep.max_timeseries_rows="
                          f"{sweep.max_timeseries_rows:,}: this one saves about {rows:,} "
                          "time-series rows (runs x teams x recorded weeks); record less "
                          "often, run fewer runs or raise sweep.max_timeseries_rows")


def chunk_size(n_pending: int, config: SweepConfig) -> int:
    if config.sweep.chunk_size:
        return config.sweep.chunk_size
    workers = 1 if config.sweep.backend == "serial" else config.sweep.workers
    return max(1, min(MAX_CHUNK, math.ceil(n_pending / (workers * CHUNKS_PER_WORKER))))


def chunks(plan: Plan, run_ids: list[int], size: int,
           timeout_s: float = 0.0, ensemble: bool = True) -> Iterator[Chunk]:
    """Chunks of consecutive pending runs, built as the backend asks for them."""
    ids = iter(run_ids)
    while batch := list(itertools.islice(ids, size)):
        specs = [plan.run_spec(run_id) for run_id in batch]
        points = {spec.point_id: plan.points[spec.point_id] for spec in specs}
        yield Chunk(specs, points, plan.output, timeout_s, ensemble)


def new_manifest(cfg: DictConfig, plan: Plan) -> dict[str, Any]:
    exp = plan.experiment
    versions = package_versions()
    for name in SWEEP_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"experiment": exp.name, "experiment_hash": plan.experiment_hash,
            "model_fingerprint": plan.model_fingerprint,
            "root_seed": exp.root_seed, "common_random_numbers": exp.common_random_numbers,
            "design": exp.design.kind, "n_points": len(plan.points),
            "replications": exp.replications, "n_runs": plan.n_runs,
            "config": OmegaConf.to_container(cfg, resolve=True), "packages": versions,
            "git_revision": git_revision(), "started": now(), "attempts": []}


def finish(store: ResultStore, manifest: dict[str, Any], attempt: dict[str, Any], plan: Plan,
           status: str, raising: bool = False) -> SweepOutcome:
    """Record the attempt's end and the per-run status counts in the manifest.

    When the sweep is stopping on an error (``raising``), a manifest that cannot be written
    (full disk, folder gone) is left as it was: the error being raised says why.
    """
    try:
        return record_finish(store, manifest, attempt, plan, status)
    except (OSError, ConfigError):
        if not raising:
            raise
        return SweepOutcome(store.root, plan.n_runs, 0, 0)


def record_finish(store: ResultStore, manifest: dict[str, Any], attempt: dict[str, Any],
                  plan: Plan, status: str) -> SweepOutcome:
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
