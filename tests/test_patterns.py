"""The pattern experiment at small size: every comparison's direction holds at the defaults."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from experiments.patterns import evaluate
from experiments.patterns.__main__ import main
from experiments.patterns.spec import Comparison, load_spec


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("patterns")
    code = main(["--size", "small", "--backend", "serial", "--workdir", str(workdir)])
    return code, workdir / "small" / "report"


def test_every_comparison_passes_at_small_size(small_run):
    code, report = small_run
    results = pd.read_csv(report / "results.csv", dtype={"id": str})
    failed = results.loc[~results["passes"], ["id", "estimate", "ci_low", "ci_high"]]
    assert failed.empty, failed.to_string()
    assert code == 0
    assert set(results["id"]) == {c.id for c in load_spec().comparisons}


def test_report_has_a_section_and_figure_per_comparison(small_run):
    _, report = small_run
    text = (report / "report.md").read_text()
    for c in load_spec().comparisons:
        assert f"## {c.id}. {c.title}" in text
        assert (report / "figures" / f"comparison_{c.id}.png").stat().st_size > 0
    assert "data:image/png;base64," in (report / "report.html").read_text()


def _table(values: dict[tuple[str, int], float], column: str) -> pd.DataFrame:
    return pd.DataFrame([{"scenario": s, "sample": -1, "replicate": r, "week": 0, column: v}
                         for (s, r), v in values.items()])


def test_difference_fails_when_the_effect_has_the_wrong_sign():
    c = Comparison(id="x", title="t", claim="c", source="s", statistic="difference",
                   scenario="a", reference="b", outcome="y", weeks=(0, 1), direction="greater")
    weekly = _table({("a", r): 1.0 + 0.01 * r for r in range(5)} |
                    {("b", r): 2.0 + 0.02 * r for r in range(5)}, "y")
    result = evaluate.estimate(c, pd.DataFrame(), weekly)
    assert result["estimate"] < 0
    assert evaluate.verdict(c, result) == (False, False)


def test_equivalence_needs_the_whole_ci_inside_the_margin():
    c = Comparison(id="x", title="t", claim="c", source="s", statistic="equivalence",
                   scenario="a", outcome="y", second_outcome="z", weeks=(0, 1), margin=0.05)
    near = {"estimate": 0.01, "ci_low": -0.02, "ci_high": 0.04, "hedges_g": 0.0, "n": 5}
    wide = {**near, "ci_high": 0.09}
    assert evaluate.verdict(c, near) == (True, True)
    assert evaluate.verdict(c, wide) == (False, True)


def test_odds_ratio_of_leaving_compares_drifted_with_anchored_pws():
    runs = pd.DataFrame({"pw_exits_drifted": [6.0], "pw_weeks_drifted": [1000.0],
                         "pw_exits_anchored": [2.0], "pw_weeks_anchored": [1000.0]})
    drifted, anchored = 1 - (1 - 0.006) ** 52, 1 - (1 - 0.002) ** 52
    expected = (drifted / (1 - drifted)) / (anchored / (1 - anchored))
    assert math.isclose(evaluate.annual_odds_ratio(runs), expected)
    assert evaluate.annual_odds_ratio(runs) > 1
