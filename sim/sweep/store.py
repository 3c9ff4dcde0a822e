"""The results folder of an experiment, written as results arrive and safe to resume.

Layout (one folder per experiment, ``sweep.output_dir``)::

    manifest.json         provenance and status (written at start, after every attempt)
    experiment.yaml       the composed sweep config
    points.parquet        one row per point: point_id, scenario label, factor values
    .lock                 held by the one sweep writing the folder (sim.sweep.lock)
    runs/part-<first run id>.parquet        one row per run, one file per finished chunk
    timeseries/part-<first run id>.parquet  its time-series rows (same file name)

Each file is written to a temporary name and renamed into place. A chunk's time-series file is
written before its run file, and a run file is what marks its runs done; so after a kill, a
time-series file without its run file is an orphan and is deleted before resuming. Only the
lock holder writes, and it only runs runs no file holds, so no run is ever in two files; a
folder where one is (a part copied by hand) is refused by every reader, naming the files.
``sweep.retry_failed`` rewrites the run files holding failed runs without them (failed runs
have no time-series rows), then runs them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.analysis.tables import check_unique_runs, read_manifest, read_part
from sim.output import atomic_path, write_text
from sim.params import ConfigError
from sim.sweep.lock import LOCK_NAME
from sim.sweep.runner import ChunkResult


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs_dir = root / "runs"
        self.timeseries_dir = root / "timeseries"
        self.manifest_path = root / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        return read_manifest(self.manifest_path) if self.manifest_path.exists() else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))

    def check_same_experiment(self, experiment_hash: str, model_fingerprint: str) -> None:
        """Refuse to mix two different experiments (or changed configs), or runs of changed
        model code (``sim.output.model_fingerprint``), in one folder. A folder written before
        fingerprints were recorded is taken as it is."""
        manifest = self.read_manifest()
        if manifest is None:
            if self.root.exists() and any(p.name != LOCK_NAME for p in self.root.iterdir()):
                raise ConfigError("sweep.output_dir", str(self.root),
                                  "an empty or new folder, or one holding this experiment")
            return
        if manifest.get("experiment_hash") != experiment_hash:
            raise ConfigError("sweep.output_dir", str(self.root),
                              f"a folder of this experiment (hash {experiment_hash}); it holds "
                              f"hash {manifest.get('experiment_hash')}: another experiment or "
                              "changed configs. Choose another sweep.output_dir")
        made_by = manifest.get("model_fingerprint", model_fingerprint)
        if made_by != model_fingerprint:
            raise ConfigError("sweep.output_dir", str(self.root),
                              f"a folder of runs made by this model code (fingerprint "
                              f"{model_fingerprint}); its runs were made by other model code "
                              f"(fingerprint {made_by}, git revision "
                              f"{manifest.get('git_revision', 'unknown')}), so resuming would "
                              "mix two models. Choose another sweep.output_dir or delete this "
                              "one")

    def prepare(self) -> None:
        """Create the folders and delete what an interrupted attempt left half-done."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.timeseries_dir.mkdir(parents=True, exist_ok=True)
        done = {p.name for p in self.runs_dir.glob("part-*.parquet")}
        for path in self.timeseries_dir.glob("part-*.parquet"):
            if path.name not in done:
                path.unlink()
        for tmp in self.root.rglob(".*.tmp"):  # analysis/ and plots too
            tmp.unlink()

    def run_files(self) -> list[Path]:
        return sorted(self.runs_dir.glob("part-*.parquet"))

    def check_readable(self) -> None:
        """Every saved run file reads and no run is in two of them (raises ``ConfigError``)."""
        check_unique_runs({path: read_part(path, ["run_id"])["run_id"].to_pylist()
                           for path in self.run_files()})

    def run_status(self) -> Iterator[tuple[int, str]]:
        """(run_id, status) of every saved run."""
        for path in self.run_files():
            table = read_part(path, ["run_id", "status"])
            yield from zip(table["run_id"].to_pylist(), table["status"].to_pylist(), strict=True)

    def forget_failed(self) -> int:
        """Rewrite each run file without its failed runs, so they run again; how many."""
        forgotten = 0
        for path in self.run_files():
            table = read_part(path)
            ok = pc.equal(table["status"], "ok")
            n_failed = len(table) - pc.sum(ok).as_py() if len(table) else 0
            if not n_failed:
                continue
            forgotten += n_failed
            if n_failed == len(table):
                path.unlink()  # its time-series file, if any, is an orphan now
                (self.timeseries_dir / path.name).unlink(missing_ok=True)
            else:
                write_table(path, table.filter(ok))
        return forgotten

    def failed_runs(self) -> list[dict[str, Any]]:
        """run_id, scenario, replicate, seed and the error's last line of every failed run."""
        failed = []
        for path in self.run_files():
            table = read_part(path, ["run_id", "scenario", "replicate", "seed", "status",
                                     "error"]).to_pylist()
            failed += [{**{k: row[k] for k in ("run_id", "scenario", "replicate", "seed")},
                        "error": (row["error"] or "").strip().splitlines()[-1:]}
                       for row in table if row["status"] != "ok"]
        return failed

    def write_chunk(self, result: ChunkResult) -> None:
        """Save a finished chunk: time series first, then the run rows that commit it."""
        name = self.part_name(int(result.runs["run_id"].min()))
        if not result.timeseries.empty:
            write_table(self.timeseries_dir / name,
                        pa.Table.from_pandas(result.timeseries, preserve_index=False))
        runs = pa.Table.from_pandas(result.runs, preserve_index=False)
        errors = pa.array(result.runs["error"], type=pa.string(), from_pandas=True)
        runs = runs.set_column(runs.schema.get_field_index("error"), "error", errors)
        write_table(self.runs_dir / name, runs)


    def part_name(self, first_run: int) -> str:
        """``part-<first run id>``; after a retry, a rewritten file may already hold that name
        (its own first run was retried), so the new one gets a suffix."""
        name, n = f"part-{first_run:08d}.parquet", 1
        while (self.runs_dir / name).exists() or (self.timeseries_dir / name).exists():
            name, n = f"part-{first_run:08d}-{n}.parquet", n + 1
        return name


def write_table(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
