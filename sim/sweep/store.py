"""The results folder of an experiment, written as results arrive and safe to resume.

Layout (one folder per experiment, ``sweep.output_dir``)::

    manifest.json         provenance and status (written at start, after every attempt)
    experiment.yaml       the composed sweep config
    points.parquet        one row per point: point_id, scenario label, factor values
    runs/part-<first run id>.parquet        one row per run, one file per finished chunk
    timeseries/part-<first run id>.parquet  its time-series rows (same file name)

Each file is written to a temporary name and renamed into place. A chunk's time-series file is
written before its run file, and a run file is what marks its runs done; so after a kill, a
time-series file without its run file is an orphan and is deleted before resuming, and no run
is ever in two files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.output import atomic_path, write_text
from sim.params import ConfigError
from sim.sweep.runner import ChunkResult


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs_dir = root / "runs"
        self.timeseries_dir = root / "timeseries"
        self.manifest_path = root / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))

    def check_same_experiment(self, experiment_hash: str) -> None:
        """Refuse to mix two different experiments (or changed configs) in one folder."""
        manifest = self.read_manifest()
        if manifest is None:
            if self.root.exists() and any(self.root.iterdir()):
                raise ConfigError("sweep.output_dir", str(self.root),
                                  "an empty or new folder, or one holding this experiment")
            return
        if manifest.get("experiment_hash") != experiment_hash:
            raise ConfigError("sweep.output_dir", str(self.root),
                              f"a folder of this experiment (hash {experiment_hash}); it holds "
                              f"hash {manifest.get('experiment_hash')}: another experiment or "
                              "changed configs. Choose another sweep.output_dir")

    def prepare(self) -> None:
        """Create the folders and delete what an interrupted attempt left half-done."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.timeseries_dir.mkdir(parents=True, exist_ok=True)
        done = {p.name for p in self.runs_dir.glob("part-*.parquet")}
        for path in self.timeseries_dir.glob("part-*.parquet"):
            if path.name not in done:
                path.unlink()
        for folder in (self.root, self.runs_dir, self.timeseries_dir):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink()

    def run_files(self) -> list[Path]:
        return sorted(self.runs_dir.glob("part-*.parquet"))

    def run_status(self) -> Iterator[tuple[int, str]]:
        """(run_id, status) of every saved run."""
        for path in self.run_files():
            table = pq.read_table(path, columns=["run_id", "status"])
            yield from zip(table["run_id"].to_pylist(), table["status"].to_pylist(), strict=True)

    def failed_runs(self) -> list[dict[str, Any]]:
        """run_id, scenario, replicate, seed and the error's last line of every failed run."""
        failed = []
        for path in self.run_files():
            table = pq.read_table(path, columns=["run_id", "scenario", "replicate", "seed",
                                                 "status", "error"]).to_pylist()
            failed += [{**{k: row[k] for k in ("run_id", "scenario", "replicate", "seed")},
                        "error": (row["error"] or "").strip().splitlines()[-1:]}
                       for row in table if row["status"] != "ok"]
        return failed

    def write_chunk(self, result: ChunkResult) -> None:
        """Save a finished chunk: time series first, then the run rows that commit it."""
        name = f"part-{int(result.runs['run_id'].min()):08d}.parquet"
        if not result.timeseries.empty:
            write_table(self.timeseries_dir / name,
                        pa.Table.from_pandas(result.timeseries, preserve_index=False))
        runs = pa.Table.from_pandas(result.runs, preserve_index=False)
        errors = pa.array(result.runs["error"], type=pa.string(), from_pandas=True)
        runs = runs.set_column(runs.schema.get_field_index("error"), "error", errors)
        write_table(self.runs_dir / name, runs)


def write_table(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
