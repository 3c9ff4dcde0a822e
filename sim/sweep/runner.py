"""Running runs: the function every backend executes, one chunk of runs per task.

A run takes a point's parameters and a seed and returns one row for the run table (ids, seed,
factor values, status, the model's summary outcomes) and its time-series rows (the selected
metrics every ``record_interval_weeks`` and in the last week). A run that raises returns a row
with ``status="failed"`` and the traceback in ``error``; the other runs of the chunk go on.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
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


@dataclass(frozen=True)
class ChunkResult:
    runs: pd.DataFrame  # one row per run
    timeseries: pd.DataFrame  # one row per run, recorded week and team (successful runs)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every run of the chunk, in order; importable and picklable for any backend."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    rows, series = [], []
    for spec in chunk.runs:
        row, timeseries = run_one(chunk.points[spec.point_id], spec, chunk.output)
        rows.append(row)
        if timeseries is not None:
            series.append(timeseries)
    return ChunkResult(pd.DataFrame(rows),
                       pd.concat(series, ignore_index=True) if series else pd.DataFrame())


def run_one(point: Point, spec: RunSpec, output: OutputSpec) -> tuple[dict[str, Any],
                                                                      pd.DataFrame | None]:
    """One run: its run-table row and its time-series rows (``None`` if it failed)."""
    ids = {"run_id": spec.run_id, "point_id": spec.point_id, "scenario": point.scenario,
           "replicate": spec.replicate, "seed": spec.seed}
    row: dict[str, Any] = {**ids, **point.values}
    clock = time.perf_counter()
    model = None
    try:
        model = import_model(output.model)(dataclasses.replace(point.params, seed=spec.seed))
        model.run()
        summary = selected_summary(model.recorder.summary(), output.metrics)
        timeseries = selected_timeseries(model.recorder.timeseries(), output)
    except Exception:  # any model error is recorded in the row, not raised
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
