"""Reading an experiment's saved tables (the Parquet parts under ``runs/`` and ``timeseries/``).

Parts are read with one unified schema, so a part whose runs all failed (no outcome columns)
reads as missing values. Time series are read one part at a time, so memory stays bounded
however many runs there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

#: Columns identifying a run in both tables.
ID_COLUMNS = ("run_id", "point_id", "scenario", "replicate", "seed")


def parts(folder: Path, table: str) -> list[Path]:
    return sorted((Path(folder) / table).glob("part-*.parquet"))


def load_runs(folder: Path, ok_only: bool = False) -> pd.DataFrame:
    """The run table: one row per run, sorted by ``run_id``."""
    files = parts(folder, "runs")
    if not files:
        return pd.DataFrame(columns=[*ID_COLUMNS, "status", "error"])
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    runs = ds.dataset(files, schema=schema).to_table().to_pandas()
    if ok_only:
        runs = runs[runs["status"] == "ok"]
    return runs.sort_values("run_id").reset_index(drop=True)


def load_points(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(folder) / "points.parquet")


def iter_timeseries(folder: Path, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The time-series table, one part (chunk of runs) at a time."""
    for path in parts(folder, "timeseries"):
        yield pd.read_parquet(path, columns=columns)


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
    names = pq.read_schema(files[0]).names
    return [n for n in names if n not in (*ID_COLUMNS, "week", "team")]
