"""Benchmark of the rival rule forms: the default run's time under each form alone.

Run from the repository root::

    python -m benchmarks.bench_forms                 # 5 repeats per structure
    python -m benchmarks.bench_forms --repeats 3

For the default forms and each rival form alone (the multiverse's one-at-a-time design,
``experiments/patterns/multiverse.py``), the default run (8 teams x 156 weeks) is built and run
``--repeats`` times in this process; each timing covers model construction and ``run()``, not
composing the config. The median and its ratio to the default forms are reported and written to
``benchmarks/results/forms_<date>.json`` and ``.md``. Nothing is asserted on wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from experiments.patterns.multiverse import overrides, structures
from sim.config import load_config
from sim.model import PeerWorkModel
from sim.output import write_text

RESULTS = Path(__file__).resolve().parent / "results"


def time_structure(structure: dict[str, str], repeats: int) -> float:
    """Median seconds of building and running the default model under ``structure``."""
    params = load_config(overrides(structure))
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        PeerWorkModel(params).run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_forms",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    PeerWorkModel(load_config([])).run()  # warm-up: first-run costs are not a form's
    rows = [{**s, "median_s": time_structure(s, args.repeats)}
            for s in structures("one_at_a_time")]
    for row in rows:
        row["vs_default"] = row["median_s"] / rows[0]["median_s"]
    date = datetime.now(UTC).date().isoformat()
    meta = {"date": date, "repeats": args.repeats, "python": platform.python_version(),
            "machine": platform.machine(), "run": "default config, 8 teams x 156 weeks"}
    write_text(RESULTS / f"forms_{date}.json", json.dumps({**meta, "rows": rows}, indent=2))
    lines = [f"# Rival rule forms: time of the default run ({date})", "",
             f"{meta['run']}; median of {args.repeats} runs in one process; Python "
             f"{meta['python']}, {meta['machine']}. Shared machine: compare ratios, not "
             "absolute times.", "",
             "| status | influence | socialisation | exit | median (s) | vs default |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['status']} | {r['influence']} | {r['socialisation']} | {r['exit']} | "
              f"{r['median_s']:.2f} | {r['vs_default']:.2f} |" for r in rows]
    text = "\n".join(lines) + "\n"
    write_text(RESULTS / f"forms_{date}.md", text)
    print(text)


if __name__ == "__main__":
    main()
