"""Summarise a saved experiment: ``python -m sim.analysis OUTPUT_DIR [options]``.

Writes ``OUTPUT_DIR/analysis/`` (see sim/analysis/report.py) and prints the replication check.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim.analysis.report import write_report
from sim.output import check_writable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.analysis", description=__doc__)
    parser.add_argument("output_dir", help="an experiment's sweep.output_dir")
    parser.add_argument("--outcomes", default="", help="comma-separated (default: all recorded)")
    parser.add_argument("--reference", default=None, help="scenario to contrast against")
    parser.add_argument("--half-width", type=float, default=0.05,
                        help="target 95%% CI half-width of end-of-run means")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    outcomes = [o for o in args.outcomes.split(",") if o]
    folder = Path(args.output_dir)
    if not (folder / "points.parquet").is_file():
        print(f"error: invalid experiment folder {str(folder)!r}: no points.parquet; allowed "
              "an experiment's sweep.output_dir", file=sys.stderr)
        return 2
    if not math.isfinite(args.half_width) or args.half_width <= 0:
        print(f"error: invalid value --half-width={args.half_width}: allowed a number > 0",
              file=sys.stderr)
        return 2
    try:
        check_writable(folder / "analysis", "output_dir")
        report = write_report(args.output_dir, outcomes, args.reference, args.half_width,
                              not args.no_plots)
    except (ValueError, KeyError, FileNotFoundError) as err:  # ConfigError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.verdict)
    print(f"analysis: {report.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
