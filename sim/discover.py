"""Scenario discovery on a saved experiment: where in parameter space does a goal hold?

    python -m sim.discover OUTPUT_DIR --goal "pw_dilution_mean<=0.15" \\
        --goal "pw_turnover_per_year<=0.2" [--threshold 0.8] [--out DIR]

Analysis only (run the experiment first with ``python -m sim.sweep``). Writes boxes.csv,
box_limits.csv, peeling_trajectory.csv/.png, box_limits.png and summary.md to
``OUTPUT_DIR/discovery/`` (or ``--out``); see sim/analysis/discovery.py and docs/discovery.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.analysis.discovery import DiscoveryError, PrimSettings, discover
from sim.output import check_writable
from sim.params import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.discover",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", help="an experiment's sweep.output_dir")
    parser.add_argument("--goal", action="append", default=[], required=True,
                        help="condition '<outcome column><op><number>', op one of >= <= > <; "
                             "repeat for several (all must hold)")
    parser.add_argument("--threshold", type=float, default=0.8,
                        help="density a box must reach (default 0.8)")
    parser.add_argument("--peel-alpha", type=float, default=0.05,
                        help="share of cases peeled off per step (default 0.05)")
    parser.add_argument("--paste-alpha", type=float, default=0.05)
    parser.add_argument("--mass-min", type=float, default=0.05,
                        help="smallest box as a share of all cases (default 0.05)")
    parser.add_argument("--max-boxes", type=int, default=3)
    parser.add_argument("--box-index", type=int, default=None,
                        help="entry of the first box's peeling trajectory to choose (default: "
                             "the highest coverage reaching the threshold)")
    parser.add_argument("--max-qp", type=float, default=0.05,
                        help="drop restrictions whose quasi-p exceeds this (1: keep all)")
    parser.add_argument("--per-run", action="store_true",
                        help="every run is a case (default: points, outcomes averaged over "
                             "replications)")
    parser.add_argument("--out", default=None, help="output folder (default OUTPUT_DIR/discovery)")
    args = parser.parse_args(argv)
    settings = PrimSettings(args.threshold, args.peel_alpha, args.paste_alpha, args.mass_min,
                            args.max_boxes, args.box_index, args.max_qp)
    try:
        check_writable(Path(args.out or Path(args.output_dir) / "discovery"),
                       "--out" if args.out else "output_dir")
        result = discover(args.output_dir, args.goal, settings, args.per_run, args.out)
    except (DiscoveryError, ConfigError) as err:  # ConfigError: a corrupt or duplicated part
        print(f"error: {err}", file=sys.stderr)
        return 2
    for box in result.boxes:
        print(f"box {box.number}: coverage {box.stats['coverage']:.2f}, density "
              f"{box.stats['density']:.2f}, mass {box.stats['mass']:.2f}, "
              f"{len(box.limits)} restricted factors")
    if not result.boxes:
        print(f"no box reaches density {settings.threshold:g}")
    print(f"discovery: {result.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
