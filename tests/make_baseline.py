"""Refresh the fixed-seed baseline that ``tests/test_baseline.py`` compares against.

The baseline is the run summary (``Recorder.summary()``) of the default configuration, composed
through Hydra exactly as ``python -m sim.run`` does, with 2 teams over 52 weeks and the default
seed. ``test_baseline.py`` fails when any summary number moves by more than 1e-12, so an
unintended change in results (a reordered draw, a changed default, a broken rule) is caught.

When a change in results IS intended (calibration, a new mechanism, a fixed bug), refresh the
baseline and commit it with the change, saying why the numbers moved::

    .venv/bin/python tests/make_baseline.py          # rewrites tests/baseline/default_summary.json
    git diff --stat tests/baseline                    # check what moved
    .venv/bin/pytest -q tests/test_baseline.py

``--check`` prints the outcomes that differ from the stored baseline without writing anything.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere without installing

from sim.config import load_config  # noqa: E402
from sim.model import PeerWorkModel  # noqa: E402
from sim.output import git_revision  # noqa: E402

BASELINE = HERE / "baseline" / "default_summary.json"
OVERRIDES = ["organisation.n_teams=2", "organisation.horizon_weeks=52"]
TOLERANCE = 1e-12


def baseline_summary() -> dict[str, float]:
    """The summary row of the baseline run, computed now."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    model = PeerWorkModel(load_config(OVERRIDES)).run()
    return {key: float(value) for key, value in model.recorder.summary().items()}


def load_baseline(path: Path = BASELINE) -> dict[str, float]:
    return json.loads(path.read_text(encoding="utf-8"))["summary"]


def differences(now: dict[str, float], stored: dict[str, float],
                tolerance: float = TOLERANCE) -> list[str]:
    """Lines describing every outcome that is missing, new, or moved beyond ``tolerance``."""
    lines = [f"{key}: missing now (stored {stored[key]!r})"
             for key in sorted(set(stored) - set(now))]
    lines += [f"{key}: new (now {now[key]!r})" for key in sorted(set(now) - set(stored))]
    for key in sorted(set(now) & set(stored)):
        a, b = now[key], stored[key]
        same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance
        if not same:
            lines.append(f"{key}: stored {b!r}, now {a!r}")
    return lines


def write(path: Path = BASELINE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"overrides": OVERRIDES, "seed": load_config(OVERRIDES).seed,
              "git_revision": git_revision(), "summary": baseline_summary()}
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if "--check" in argv:
        moved = differences(baseline_summary(), load_baseline())
        print("\n".join(moved) if moved else "baseline matches")
        return 1 if moved else 0
    print(f"wrote {write()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
