"""The comparison report's practical-significance wording: a difference inside the smallest
difference that matters is "no practical difference", never "better"; intervals take the
condition as the unit; numbers are rounded and carry their units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.compare_report import (
    CompareSpec,
    OutcomeSpec,
    paired_differences,
    recommendation,
    robustness,
    rounded,
    shown,
    verdict,
)
from sim.analysis.stats import Interval

USERS = OutcomeSpec("users", "service users with a meaningful gain", "people", "higher", 2.0, 1)
LEAVERS = OutcomeSpec("leavers", "PW leavers", "PWs", "lower", 0.5, 1)


def interval(mean: float, low: float, high: float, n: int = 10) -> Interval:
    """The t interval over ``n`` conditions with this 95% range."""
    se = (high - low) / 2 / stats.t.ppf(0.975, n - 1)
    return Interval(mean, low, high, n, "test", se, n - 1)


@pytest.mark.parametrize("mean, low, high, expected", [
    (1.0, 0.8, 1.2, "no practical difference"),  # certain, but too small to matter
    (-1.9, -1.95, -1.85, "no practical difference"),
    (-1.9, -2.5, -1.3, "unclear"),  # small on average, but the interval reaches a loss that matters
    (0.5, -6.0, 7.0, "unclear"),  # never "no practical difference" with an interval this wide
    (3.0, 2.1, 3.9, "better"),
    (-3.0, -3.9, -2.1, "worse"),
    (3.0, 1.0, 5.0, "unclear"),  # surely a gain, but not surely one of 2 people or more
    (3.0, -1.0, 7.0, "unclear"),  # large enough to matter, direction not known
    (float("nan"), float("nan"), float("nan"), "unclear"),
])
def test_verdict_uses_the_smallest_difference_that_matters(mean, low, high, expected):
    assert verdict(USERS, interval(mean, low, high)) == expected


def test_verdict_reads_off_the_95_interval_shown():
    """Each one-sided test at 2.5%: green exactly when the whole 95% interval clears the
    threshold, grey exactly when it lies inside it."""
    assert verdict(USERS, interval(3.0, 2.01, 3.99)) == "better"
    assert verdict(USERS, interval(3.0, 1.99, 4.01)) == "unclear"
    assert verdict(USERS, interval(1.0, 0.01, 1.99)) == "no practical difference"
    assert verdict(USERS, interval(1.0, -0.01, 2.01)) == "unclear"


def test_lower_is_better_turns_the_verdict_round():
    assert verdict(LEAVERS, interval(-1.0, -1.4, -0.6)) == "better"
    assert verdict(LEAVERS, interval(1.0, 0.6, 1.4)) == "worse"
    assert verdict(LEAVERS, interval(0.3, 0.2, 0.4)) == "no practical difference"


def values_table(effect: dict[str, float], conditions: int = 4, replications: int = 5,
                 seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(conditions):
        level = rng.normal(10, 2)
        for r in range(replications):
            noise = rng.normal(0, 0.2)
            for design, shift in effect.items():
                rows.append({"design": design, "condition": c, "replicate": r,
                             "users": level + noise + shift, "leavers": 1.0 + shift / 10})
    return pd.DataFrame(rows)


def test_intervals_take_the_condition_as_the_unit():
    values = values_table({"now": 0.0, "new": 1.0}, conditions=4, replications=50)
    row = paired_differences(values, [USERS], "now").iloc[0]
    assert row["conditions"] == 4 and row["runs_paired"] == 200
    pairs = values.pivot_table(index=["condition", "replicate"], columns="design",
                               values="users")
    per_condition = (pairs["new"] - pairs["now"]).groupby(level="condition").mean()
    half = 3.182 * per_condition.std(ddof=1) / 2  # t(0.975, 3 df) / sqrt(4)
    assert row["ci_high"] - row["difference"] == pytest.approx(half, rel=1e-3)


def spec(designs=("now", "new")) -> CompareSpec:
    return CompareSpec({d: {} for d in designs}, {d: [] for d in designs}, [USERS, LEAVERS],
                       [], {"horizon_weeks": 156})


def test_a_small_certain_gain_is_no_practical_difference_in_the_words():
    diffs = paired_differences(values_table({"now": 0.0, "new": 1.0}), [USERS, LEAVERS], "now")
    row = diffs.set_index("outcome").loc["users"]
    assert row["ci_low"] > 0  # the runs are sure of the direction...
    assert row["verdict"] == "no practical difference"  # ...but it is below 2 people
    assert row["light"] == "grey"
    text = recommendation(spec(), diffs)
    assert text.startswith("No design makes a practical difference for the better over now")


def test_a_gain_beyond_the_threshold_is_recommended_with_units_and_rounding():
    diffs = paired_differences(values_table({"now": 0.0, "new": 3.0, "other": 0.5}),
                               [USERS, LEAVERS], "now")
    text = recommendation(spec(("now", "new", "other")), diffs)
    assert text.startswith("Recommended on these outcomes: new. Against now, it is better on "
                           "service users with a meaningful gain (+3.0 people)")
    assert "No practical difference on PW leavers" in text
    assert "other" not in text


def test_too_uncertain_is_not_read_as_keep_your_team():
    """Effects that swing from +5 to -5 people between conditions: amber, and the paragraph
    asks for a larger comparison instead of advising to keep the team as it is."""
    values = values_table({"now": 0.0, "new": 0.0})
    swing = values["condition"].map({0: 5.0, 1: -5.0, 2: 4.0, 3: -4.0})
    values.loc[values["design"] == "new", "users"] += swing
    diffs = paired_differences(values, [USERS], "now")
    assert list(diffs["verdict"]) == ["unclear"] and list(diffs["light"]) == ["amber"]
    text = recommendation(spec(), diffs)
    assert text.startswith("No design is clearly better than now on these outcomes, but 1 of "
                           "the 1 traffic lights are amber")
    assert "Run a larger comparison" in text and "keep now" not in text


def test_robustness_counts_conditions_by_the_threshold():
    values = values_table({"now": 0.0, "new": 3.0})
    table = robustness(values, [USERS], "now").iloc[0]
    assert (table["better"], table["no_practical_difference"], table["worse"]) == (4, 0, 0)


def test_rounding_has_no_negative_zero():
    assert rounded(-0.04, 1) == "0.0"
    assert rounded(-0.04, 1, signed=True) == "0.0"
    assert rounded(1.26, 1, signed=True) == "+1.3"
    assert rounded(float("nan"), 1) == "n/a"


def test_inside_the_threshold_is_never_better_in_any_words():
    """A sure +1 person (threshold 2) is grey in the table and not 'better' in the paragraph."""
    diffs = paired_differences(values_table({"now": 0.0, "new": 1.0}), [USERS], "now")
    assert list(diffs["verdict"]) == ["no practical difference"]
    assert list(diffs["light"]) == ["grey"]
    text = recommendation(spec(), diffs)
    assert "better on" not in text and "Recommended" not in text


def test_traffic_lights_follow_the_verdicts():
    diffs = paired_differences(values_table({"now": 0.0, "up": 3.0, "down": -3.0, "same": 0.2}),
                               [USERS], "now").set_index("design")
    assert diffs.loc["up", "light"] == "green" and diffs.loc["down", "light"] == "red"
    assert diffs.loc["same", "light"] == "grey"


def test_design_names_are_shown_in_words():
    assert shown("third_pw_post") == "third PW post"
    assert shown("more_pws") == "more PWs"
    text = recommendation(spec(("now", "add_pw_post")), paired_differences(
        values_table({"now": 0.0, "add_pw_post": 3.0}), [USERS], "now"))
    assert "add PW post" in text and "add_pw_post" not in text
