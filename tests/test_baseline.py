"""Fixed-seed baseline: the default run's summary must not move unless a change is intended.

If this fails after a deliberate change in results, refresh the baseline with
``.venv/bin/python tests/make_baseline.py`` and commit the new JSON with the change.
"""

from __future__ import annotations

import math

from make_baseline import BASELINE, baseline_summary, differences, load_baseline


def test_baseline_summary_matches_stored_numbers():
    moved = differences(baseline_summary(), load_baseline())
    assert not moved, (
        "results differ from tests/baseline/default_summary.json; if intended, run "
        "`.venv/bin/python tests/make_baseline.py`:\n" + "\n".join(moved))


def test_baseline_is_a_real_run():
    stored = load_baseline()
    assert stored["weeks"] == 52
    assert BASELINE.name == "default_summary.json"
    finite = [key for key, value in stored.items() if not math.isnan(value)]
    assert len(finite) > 40


def test_differences_flags_moved_missing_and_new_outcomes():
    stored = {"a": 1.0, "b": float("nan"), "c": 2.0}
    assert differences({"a": 1.0, "b": float("nan"), "c": 2.0}, stored) == []
    assert differences({"a": 1.0 + 1e-13, "b": float("nan"), "c": 2.0}, stored) == []
    moved = differences({"a": 1.0 + 1e-9, "b": 0.0, "d": 3.0}, stored)
    assert [line.split(":")[0] for line in moved] == ["c", "d", "a", "b"]
