"""Running runs: the function every backend executes, one chunk of runs per task.

A run takes a point's parameters and a seed and returns one row for the run table (ids, seed,
factor values, status, the model's summary outcomes) and its time-series rows (the selected
metrics every ``record_interval_weeks`` and in the last week). A run that raises (or calls
``sys.exit``) or returns a summary value that is not a number returns a row with
``status="failed"`` and the cause in ``error``; the other runs of the chunk go on. Each run
executes in a run process (:mod:`sim.sweep.worker`), so a run that kills its process or hangs
fails alone too.
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


@dataclass(frozen=True)
class ChunkResult:
    runs: pd.DataFrame  # one row per run
    timeseries: pd.DataFrame  # one row per run, recorded week and team (successful runs)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every run of the chunk, in order, each in the run process; importable and
    picklable for any backend."""
    from sim.sweep.worker import run_isolated

    rows, series = [], []
    for spec in chunk.runs:
        row, timeseries = run_isolated(chunk.points[spec.point_id], spec, chunk.output,
                                       chunk.timeout_s)
        rows.append(row)
        if timeseries is not None:
            series.append(timeseries)
    return ChunkResult(pd.DataFrame(rows),
                       pd.concat(series, ignore_index=True) if series else pd.DataFrame())


def run_one(point: Point, spec: RunSpec, output: OutputSpec) -> tuple[dict[str, Any],
                                                                      pd.DataFrame | None]:
    """One run: its run-table row and its time-series rows (``None`` if it failed)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    row = id_row(point, spec)
    ids = {key: row[key] for key in ID_KEYS}
    clock = time.perf_counter()
    model = None
    try:
        model = import_model(output.model)(dataclasses.replace(point.params, seed=spec.seed))
        model.run()
        summary = selected_summary(model.recorder.summary(), output.metrics)
        check_numeric(summary)
        timeseries = selected_timeseries(model.recorder.timeseries(), output)
    except (Exception, SystemExit):  # any model error is recorded in the row, not raised
        row.update(status="failed", error=traceback.format_exc(),
                   run_seconds=time.perf_counter() - clock)
        return row, None
    finally:
        if model is not None:
            release(model)
    row.update(status="ok", error=None, run_seconds=time.perf_counter() - clock, **summary)
    for name, value in reversed(ids.items()):
        timeseries.insert(0, name, value)
    return row, timeseries


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
