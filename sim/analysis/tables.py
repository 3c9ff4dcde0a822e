"""Reading an experiment's saved tables (the Parquet parts under ``runs/`` and ``timeseries/``).

Parts are read with one unified schema, so a part whose runs all failed (no outcome columns)
reads as missing values. Time series are read one part at a time, so memory stays bounded
however many runs there are. A part that is not readable Parquet, or a run that is in two
parts (a file copied by hand), is refused with the files named (``ConfigError``): analysing
it would silently count runs twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.params import ConfigError

#: Columns identifying a run in both tables.
ID_COLUMNS = ("run_id", "point_id", "scenario", "replicate", "seed")


def parts(folder: Path, table: str) -> list[Path]:
    return sorted((Path(folder) / table).glob("part-*.parquet"))


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One saved part, or a ``ConfigError`` naming the file if it is corrupt or truncated."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException, ValueError) as err:
        raise ConfigError(str(path), "(unreadable)", f"a Parquet file written by sim.sweep "
                          f"({str(err).splitlines()[0]}); delete it and rerun the sweep "
                          "to redo its runs") from None


def read_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException, ValueError) as err:
        raise ConfigError(str(path), "(unreadable)", f"a Parquet file written by sim.sweep "
                          f"({str(err).splitlines()[0]}); delete it and rerun the sweep "
                          "to redo its runs") from None


def check_unique_runs(run_ids: dict[Path, list[Any]]) -> None:
    """No run id is in two parts (or twice in one)."""
    seen: dict[Any, Path] = {}
    for path, ids in run_ids.items():
        for run_id in ids:
            if run_id in seen:
                raise ConfigError(str(path), f"run_id {run_id}",
                                  f"each run saved once; run {run_id} is also in "
                                  f"{seen[run_id]}. Remove the copied file")
            seen[run_id] = path


def load_runs(folder: Path, ok_only: bool = False) -> pd.DataFrame:
    """The run table: one row per run, sorted by ``run_id``."""
    files = parts(folder, "runs")
    if not files:
        return pd.DataFrame(columns=[*ID_COLUMNS, "status", "error"])
    schemas = [read_schema(f) for f in files]
    check_unique_runs({f: read_part(f, ["run_id"])["run_id"].to_pylist() for f in files})
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    runs = ds.dataset(files, schema=schema).to_table().to_pandas()
    if ok_only:
        runs = runs[runs["status"] == "ok"]
    return runs.sort_values("run_id").reset_index(drop=True)


def read_manifest(path: Path) -> dict[str, Any]:
    """A sweep's manifest, or a ``ConfigError`` naming the file if it is corrupt or truncated."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(str(path), "(unreadable)", f"a manifest written by sim.sweep ({err}); "
                          "move the folder away and rerun into a new one") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("attempts"), list):
        raise ConfigError(str(path), "(not a sweep manifest)", "a manifest written by "
                          "sim.sweep; choose another folder")
    return manifest


def load_points(folder: Path) -> pd.DataFrame:
    return read_part(Path(folder) / "points.parquet").to_pandas()


def iter_timeseries(folder: Path, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The time-series table, one part (chunk of runs) at a time."""
    for path in parts(folder, "timeseries"):
        yield read_part(path, columns).to_pandas()


def load_timeseries(folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole time-series table, sorted by run, week and team (fits in memory when small)."""
    frames = list(iter_timeseries(folder, columns))
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    keys = [c for c in ("run_id", "week", "team") if c in table.columns]
    return table.sort_values(keys).reset_index(drop=True)


def metric_columns(folder: Path) -> list[str]:
    """Outcome columns of the time-series table."""
    files = parts(folder, "timeseries")
    if not files:
        return []
    names = read_schema(files[0]).names
    return [n for n in names if n not in (*ID_COLUMNS, "week", "team")]
