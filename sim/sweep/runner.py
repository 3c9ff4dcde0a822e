"""Running runs: the function every backend executes, one chunk of runs per task.

A run takes a point's parameters and a seed and returns one row for the run table (ids, seed,
factor values, status, the model's summary outcomes) and its time-series rows (the selected
metrics every ``record_interval_weeks`` and in the last week). A run that raises (or calls
``sys.exit``) or returns a summary value that is not a number returns a row with
``status="failed"`` and the cause in ``error``; the other runs of the chunk go on. Each run
executes in a run process (:mod:`sim.sweep.worker`), so a run that kills its process or hangs
fails alone too.

Ensembles (``sweep.ensemble``, on by default): the runs of a chunk that have equal structure
(``sim.ensemble.structure_key``: same rule forms, switches, team make-up, horizon) execute as
one :class:`sim.ensemble.EnsembleModel` in one run process; each run's row and time series
are exactly those it would have alone. Should the ensemble fail as a whole (an exception, its
process dying or running out of time), its runs are run again one at a time, so the failing
run is found and named and the others are saved. An ensemble's runs share its wall time
(``run_seconds`` is the ensemble's time divided by its runs). A model class forms ensembles
if it names an ensemble class itself (``PeerWorkModel.ensemble_model``); others run alone.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import numbers
import time
import traceback
from dataclasses import dataclass
from functools import cache
from typing import Any

import mesa
import pandas as pd

from sim import compat
from sim.config import SimConfig


@dataclass(frozen=True)
class Point:
    point_id: int
    scenario: str  # label: "factor=level ..." or the CSV's scenario column
    values: dict[str, Any]  # factor name -> value
    params: SimConfig


@dataclass(frozen=True)
class RunSpec:
    run_id: int
    point_id: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class OutputSpec:
    """What a run returns: the model class, time-series metrics and recording interval."""

    model: str
    metrics: tuple[str, ...]
    record_interval_weeks: int


@cache
def import_model(path: str) -> type:
    """The class at ``'package.module.Class'``."""
    module, _, name = path.rpartition(".")
    if not module:
        raise ValueError("no module in the path")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Chunk:
    runs: list[RunSpec]
    points: dict[int, Point]  # the points these runs need
    output: OutputSpec
    timeout_s: float = 0.0  # per-run time limit (sweep.run_timeout_s); 0: none
    ensemble: bool = True  # runs of equal structure execute as one ensemble (sweep.ensemble)


@dataclass(frozen=True)
class ChunkResult:
    runs: pd.DataFrame  # one row per run
    timeseries: pd.DataFrame  # one row per run, recorded week and team (successful runs)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every run of the chunk in the run process, as ensembles of equal structure where
    allowed, else one at a time; rows in the chunk's order. Importable and picklable for any
    backend."""
    from sim.sweep.worker import run_ensemble_isolated, run_isolated

    results: dict[int, tuple[dict[str, Any], pd.DataFrame | None]] = {}
    for group in ensemble_groups(chunk):
        answers = run_ensemble_isolated(
            chunk.points, group, chunk.output, chunk.timeout_s * len(group),
        ) if len(group) > 1 else None
        if answers is None:  # one run, or the ensemble failed as a whole: one at a time
            answers = [run_isolated(chunk.points[spec.point_id], spec, chunk.output,
                                    chunk.timeout_s) for spec in group]
        results.update({spec.run_id: answer for spec, answer in zip(group, answers,
                                                                     strict=True)})
    ordered = [results[spec.run_id] for spec in chunk.runs]
    series = [timeseries for _, timeseries in ordered if timeseries is not None]
    return ChunkResult(pd.DataFrame([row for row, _ in ordered]),
                       pd.concat(series, ignore_index=True) if series else pd.DataFrame())


def ensemble_groups(chunk: Chunk) -> list[list[RunSpec]]:
    """The chunk's runs grouped by structure, in order of first appearance (each run its own
    group when ensembles are off or the model class cannot form them)."""
    if not chunk.ensemble or ensemble_model(chunk.output.model) is None:
        return [[spec] for spec in chunk.runs]
    from sim.ensemble import structure_key

    keys = {pid: structure_key(point.params) for pid, point in chunk.points.items()}
    groups: dict[str, list[RunSpec]] = {}
    for spec in chunk.runs:
        groups.setdefault(keys[spec.point_id], []).append(spec)
    return list(groups.values())


def ensemble_model(model: str) -> str | None:
    """The ensemble class the model class ``model`` names itself, if any (an import error is
    left to the runs, which record it)."""
    try:
        return vars(import_model(model)).get("ensemble_model")
    except Exception:
        return None


def run_ensemble(points: dict[int, Point], specs: list[RunSpec],
                 output: OutputSpec) -> list[tuple[dict[str, Any], pd.DataFrame | None]]:
    """The runs ``specs`` as one ensemble: each run's row and time series. Raises if the
    ensemble cannot be built or run (the caller then runs them one at a time); a run whose
    summary is not numeric fails alone."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    clock = time.perf_counter()
    ensemble_class = ensemble_model(output.model)
    if ensemble_class is None:
        raise ValueError(f"{output.model} names no ensemble class")
    model = import_model(ensemble_class)([points[spec.point_id].params for spec in specs],
                          [spec.seed for spec in specs])
    try:
        model.run()
        seconds = (time.perf_counter() - clock) / len(specs)
        return [run_tables(points[spec.point_id], spec, output, seconds,
                           lambda run=run: model.recorder.results(run))
                for run, spec in enumerate(specs)]
    finally:
        release(model)


def run_tables(point: Point, spec: RunSpec, output: OutputSpec, seconds: float,
               tables: Any) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """A finished run's row and time series from ``tables()`` (summary, time series), or a
    failed row if they are not fit to save."""
    row = id_row(point, spec)
    try:
        summary_table, timeseries_table = tables()
        summary = selected_summary(summary_table, output.metrics)
        check_numeric(summary)
        timeseries = selected_timeseries(timeseries_table, output)
    except (Exception, SystemExit):
        row.update(status="failed", error=traceback.format_exc(), run_seconds=seconds)
        return row, None
    row.update(status="ok", error=None, run_seconds=seconds, **summary)
    for name in reversed(ID_KEYS):
        timeseries.insert(0, name, row[name])
    return row, timeseries


def run_one(point: Point, spec: RunSpec, output: OutputSpec) -> tuple[dict[str, Any],
                                                                      pd.DataFrame | None]:
    """One run: its run-table row and its time-series rows (``None`` if it failed)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    clock = time.perf_counter()
    model = None
    try:
        model = import_model(output.model)(dataclasses.replace(point.params, seed=spec.seed))
        model.run()
        return run_tables(point, spec, output, time.perf_counter() - clock,
                          model.recorder.results)
    except (Exception, SystemExit):  # any model error is recorded in the row, not raised
        row = id_row(point, spec)
        row.update(status="failed", error=traceback.format_exc(),
                   run_seconds=time.perf_counter() - clock)
        return row, None
    finally:
        if model is not None:
            release(model)


ID_KEYS = ("run_id", "point_id", "scenario", "replicate", "seed")


def id_row(point: Point, spec: RunSpec) -> dict[str, Any]:
    return {"run_id": spec.run_id, "point_id": spec.point_id, "scenario": point.scenario,
            "replicate": spec.replicate, "seed": spec.seed, **point.values}


def failed_row(point: Point, spec: RunSpec, cause: str) -> dict[str, Any]:
    """The row of a run that gave no result (its process died or it ran out of time)."""
    return {**id_row(point, spec), "status": "failed", "error": cause, "run_seconds": None}


def check_numeric(summary: dict[str, Any]) -> None:
    """Summary outcomes are numbers (or missing): anything else cannot go in the run table."""
    for key, value in summary.items():
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, numbers.Real)):
            raise TypeError(f"summary outcome {key!r} is {value!r}, not a number")


def release(model: mesa.Model) -> None:
    """Let a finished model be freed, so a worker's memory stays flat over thousands of runs.

    Mesa before 3.4.2 holds every model ever built (``sim.compat.forget_model``), and a cycle
    through a numpy object array (agents kept in an array, each pointing back at the model) is
    invisible to Python's garbage collector; together they kept about 2 MB per default run.
    Forgetting the model and clearing its attributes breaks both.
    """
    compat.forget_model(model)
    vars(model).clear()


def selected_summary(summary: dict[str, float], metrics: tuple[str, ...]) -> dict[str, float]:
    """Summary outcomes of the selected metrics, and the run-level ones (turnover, weeks)."""
    per_metric = {f"{m}_{stat}" for m in metrics for stat in ("final", "mean")}
    return {key: value for key, value in summary.items()
            if key in per_metric or not key.endswith(("_final", "_mean"))}


def selected_timeseries(timeseries: pd.DataFrame, output: OutputSpec) -> pd.DataFrame:
    weeks = timeseries["week"]
    keep = (weeks % output.record_interval_weeks == 0) | (weeks == weeks.max())
    return timeseries.loc[keep, ["week", "team", *output.metrics]].reset_index(drop=True)
