"""The pattern experiment at small size: every comparison's direction holds at the defaults."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.patterns import evaluate
from experiments.patterns.__main__ import main
from experiments.patterns.spec import Comparison, load_spec
from sim.params import ConfigError


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("patterns")
    code = main(["--size", "small", "--backend", "serial", "--workdir", str(workdir)])
    return code, workdir / "small" / "report"


COMMITTED = Path(__file__).resolve().parents[1] / "experiments" / "patterns" / "results"


def _results(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "results.csv", dtype={"id": str})


def test_small_run_agrees_with_the_committed_full_size_report(small_run):
    """Every comparison that passes in the committed full-size report keeps its predicted sign
    and size at small size; the exit code says whether every comparison passed."""
    code, report = small_run
    results, committed = _results(report), _results(COMMITTED)
    ids = {c.id for c in load_spec().comparisons}
    assert set(results["id"]) == ids
    assert set(committed["id"]) == ids, "the committed report is stale: rerun make patterns"
    passing = set(committed.loc[committed["passes"], "id"])
    lost = results.loc[results["id"].isin(passing) & ~results["holds"],
                       ["id", "estimate", "ci_low", "ci_high"]]
    assert lost.empty, lost.to_string()
    assert code == (0 if results["passes"].all() else 1)


def test_robustness_stage_samples_full_ranges_and_every_form(tmp_path):
    """The smoke size runs the whole pipeline: the robustness design and its shares."""
    assert main(["--size", "smoke", "--backend", "serial", "--workdir", str(tmp_path)]) in (0, 1)
    points = pd.read_csv(tmp_path / "smoke" / "patterns_robustness_design.csv")
    spec = load_spec()
    assert len(points) == spec.sizes["smoke"].robustness_samples
    assert {f.name for f in spec.robustness.forms} <= set(points.columns)
    shares = pd.read_csv(tmp_path / "smoke" / "report" / "robustness.csv", dtype={"id": str})
    assert set(shares["id"]) == {c.id for c in spec.comparisons}
    assert (shares["samples"] == len(points)).all()
    assert shares["share_holding"].between(0, 1).all()


def test_posterior_stage_runs_every_scenario_at_posterior_draws(tmp_path):
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"service_users.peer_practice_gain": [0.0, 0.012], "weight": [0.5, 0.5],
                  "distance": 0.1}).to_parquet(posterior)
    assert main(["--size", "smoke", "--backend", "serial", "--workdir", str(tmp_path),
                 "--posterior", str(posterior), "--posterior-samples", "3"]) == 0
    smoke = tmp_path / "smoke"
    draws = pd.read_csv(smoke / "patterns_posterior_design.csv")
    assert len(draws) == 3 and set(draws["service_users.peer_practice_gain"]) <= {0.0, 0.012}
    runs = pd.read_parquet(smoke / "patterns_posterior" / "runs")
    by_point = runs.groupby("point_id")["service_users.peer_practice_gain"].first()
    assert set(by_point) == set(draws["service_users.peer_practice_gain"])
    assert runs["scenario"].nunique() == len(load_spec().scenarios)
    shares = pd.read_csv(smoke / "report" / "posterior.csv", dtype={"id": str})
    assert set(shares["id"]) == {c.id for c in load_spec().comparisons}
    assert (shares["samples"] == 3).all() and shares["share_holding"].between(0, 1).all()
    assert "<!-- section:posterior -->" in (smoke / "report" / "report.md").read_text()


def test_an_unusable_posterior_is_refused_before_anything_runs(tmp_path, capsys):
    assert main(["--size", "smoke", "--workdir", str(tmp_path),
                 "--posterior", str(tmp_path / "nope.parquet")]) == 2
    assert "--posterior" in capsys.readouterr().err
    assert not (tmp_path / "smoke").exists()


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


def _equivalence_case(differences: list[float]) -> tuple[Comparison, dict[str, float]]:
    """A comparison of y - z within +/-0.05, and its estimate from per-replicate differences."""
    c = Comparison(id="x", title="t", claim="c", source="s", statistic="equivalence",
                   scenario="a", outcome="y", second_outcome="z", weeks=(0, 1), margin=0.05)
    weekly = pd.DataFrame({"scenario": "a", "sample": -1, "replicate": range(len(differences)),
                           "week": 0, "y": differences, "z": 0.0})
    return c, evaluate.estimate(c, pd.DataFrame(), weekly)


def test_equivalence_holds_by_tost_when_differences_sit_well_inside_the_margin():
    c, result = _equivalence_case([0.01, -0.01, 0.02, 0.0, 0.005, -0.005, 0.01, 0.0])
    assert result["tost_p"] < evaluate.TOST_ALPHA
    assert evaluate.verdict(c, result) == (True, True)


def test_equivalence_fails_by_tost_when_the_mean_is_near_the_margin_or_noisy():
    c, near_edge = _equivalence_case([0.02, 0.07, 0.045, 0.01, 0.06, 0.05])
    assert near_edge["tost_p"] >= evaluate.TOST_ALPHA
    assert evaluate.verdict(c, near_edge) == (False, True)  # inside on average, not shown
    c, outside = _equivalence_case([0.11, 0.12, 0.10, 0.13])
    assert evaluate.verdict(c, outside) == (False, False)


def test_odds_ratio_of_leaving_compares_drifted_with_anchored_pws():
    runs = pd.DataFrame({"pw_exits_drifted": [6.0], "pw_weeks_drifted": [1000.0],
                         "pw_exits_anchored": [2.0], "pw_weeks_anchored": [1000.0]})
    drifted, anchored = 1 - (1 - 0.006) ** 52, 1 - (1 - 0.002) ** 52
    expected = (drifted / (1 - drifted)) / (anchored / (1 - anchored))
    assert math.isclose(evaluate.annual_odds_ratio(runs), expected)
    assert evaluate.annual_odds_ratio(runs) > 1


def test_small_or_null_ratio_passes_only_when_its_whole_ci_is_inside_the_range():
    c = Comparison(id="x", title="t", claim="c", source="s", statistic="ratio", scenario="a",
                   reference="b", outcome="y", direction="less", size=(-0.25, 0.05))
    shown = {"estimate": -0.03, "ci_low": -0.05, "ci_high": -0.01, "hedges_g": math.nan, "n": 9}
    unsure = {**shown, "ci_high": 0.09}  # a 9% rise cannot be ruled out
    assert evaluate.verdict(c, shown) == (True, True)
    assert evaluate.verdict(c, unsure) == (False, True)
    assert not evaluate.established(c, unsure)


def test_attribution_reuses_finished_tasks_but_never_those_of_other_model_code(tmp_path,
                                                                               monkeypatch):
    from experiments.patterns import attribution
    from experiments.patterns.spec import Size

    full = load_spec()
    spec = dataclasses.replace(full, scenarios={"baseline": full.scenarios["baseline"]},
                               knockouts=full.knockouts[:1])
    size = Size(replications=1, n_teams=1, robustness_samples=0, robustness_replications=1,
                attribution_replications=1)

    def tasks_saved() -> set[str]:
        return {p.name for p in tmp_path.glob("*.pkl")}

    first = attribution.run_knockouts(spec, size, tmp_path, 1, 7, ["pw_strain"])
    saved = tasks_saved()
    assert len(saved) == 2  # the defaults and one knock-out
    modified = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.pkl")}
    again = attribution.run_knockouts(spec, size, tmp_path, 1, 7, ["pw_strain"])
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.pkl")} == modified  # reused
    pd.testing.assert_frame_equal(again[0], first[0])
    monkeypatch.setattr(attribution, "model_fingerprint", lambda: "other code")
    attribution.run_knockouts(spec, size, tmp_path, 1, 7, ["pw_strain"])
    assert len(tasks_saved() - saved) == 2  # both tasks run again for the other code


def _knockout_rows(effects: dict[tuple[str, str], bool]) -> pd.DataFrame:
    """Knock-out rows of one comparison: (name, kind) -> still established; defaults hold."""
    rows = [{"id": "x", "knockout": "(defaults)", "kind": "defaults", "estimate": 1.0,
             "established": True}]
    rows += [{"id": "x", "knockout": name, "kind": kind, "estimate": 1.0 if held else 0.0,
              "established": held} for (name, kind), held in effects.items()]
    return pd.DataFrame(rows)


def test_classes_follow_what_single_and_paired_knock_outs_remove():
    from experiments.patterns.attribution import classify

    a, b, p = ("a", "mechanism"), ("b", "mechanism"), ("p", "parameter")
    assert classify(_knockout_rows({a: True, b: True, p: True}))["class"] == "guaranteed"
    assert classify(_knockout_rows({a: False, b: True, p: True}))["class"] == "single-mechanism"
    assert classify(_knockout_rows({a: False, b: False, p: True}))["class"] == "emergent"
    assert classify(_knockout_rows({a: False, b: False, p: False}))["class"] == "parameter-set"
    # no single knock-out removes it, two mechanisms together do: either one produces it
    redundant = _knockout_rows({a: True, b: True, p: True, ("a + b", "pair"): False})
    assert classify(redundant)["class"] == "redundant"
    assert classify(redundant)["removed_by_pairs"] == "a + b"
    # only a pair with an input removes it: the input sets it
    with_input = _knockout_rows({a: True, b: True, p: True, ("a + b", "pair"): True,
                                 ("a + p", "pair"): False})
    assert classify(with_input)["class"] == "parameter-set"
    survives = _knockout_rows({a: True, b: True, p: True, ("a + b", "pair"): True})
    assert classify(survives)["class"] == "guaranteed"
    not_produced = _knockout_rows({a: False}).assign(established=False)
    assert classify(not_produced)["class"] == "not produced"


def test_knock_outs_of_one_rule_count_as_one_mechanism():
    """Ties and the meeting term of ties are one rule: both removing a comparison make it
    single-mechanism, not emergent; knock-outs of two rules make it emergent."""
    from experiments.patterns.attribution import classify

    spec = load_spec()
    family = {k.name: k.family for k in spec.knockouts}
    assert family["meeting_ties"] == family["ties"] == "ties"
    assert family["renegotiation"] == family["supervision"]
    assert family["anchoring"] == "anchoring"  # default: its own name
    rows = _knockout_rows({("ties", "mechanism"): False, ("meeting_ties", "mechanism"): False,
                           ("anchoring", "mechanism"): True})
    rows["family"] = rows["knockout"].map(family)
    assert classify(rows)["class"] == "single-mechanism"
    rows.loc[rows["knockout"] == "anchoring", "established"] = False
    assert classify(rows)["class"] == "emergent"


def test_pairs_are_tried_for_a_guaranteed_comparison_from_the_knock_outs_nearest_removal():
    from experiments.patterns import attribution
    from experiments.patterns.spec import Knockout

    spec = load_spec()
    c = next(c for c in spec.comparisons if c.statistic == "difference")
    knockouts = [Knockout(n, "mechanism", n, (f"schedule.{n}=false",)) for n in "abcde"]
    spec = dataclasses.replace(spec, comparisons=[c], knockouts=knockouts)
    left = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.3, "e": 0.05}  # share of the effect left
    table = pd.DataFrame([{"id": c.id, "knockout": "(defaults)", "kind": "defaults",
                           "estimate": 2.0, "established": True}]
                         + [{"id": c.id, "knockout": n, "kind": "mechanism",
                             "estimate": 2.0 * v, "established": True}
                            for n, v in left.items()])
    pairs = attribution.pairs_to_try(spec, table)[c.id]
    assert [k.name for k in pairs] == ["e + b", "e + d", "e + c", "b + d", "b + c", "d + c"]
    assert pairs[0].overrides == ("schedule.e=false", "schedule.b=false")
    table.loc[table["knockout"] == "b", "established"] = False  # now single-mechanism
    assert attribution.pairs_to_try(spec, table) == {}


def test_a_knock_out_leaving_a_negligible_effect_removes_it():
    """A CI above zero is not enough under a knock-out: with common random numbers a sliver
    of the effect can be significant; a CI reaching within the negligible share (10%) of the
    defaults' effect of the null removes the comparison, for either direction."""
    from experiments.patterns import attribution

    spec = load_spec()
    assert spec.negligible_share == 0.1
    for c in [next(c for c in spec.comparisons if c.direction == d) for d in ("greater", "less")]:
        sign = 1.0 if c.direction == "greater" else -1.0
        rows = [("(defaults)", "defaults", 0.10, 0.09, 0.11),
                ("sliver", "mechanism", 0.01, 0.008, 0.012),  # CI beyond 0, 10% or less left
                ("half", "mechanism", 0.05, 0.04, 0.06)]
        table = pd.DataFrame([{"id": c.id, "knockout": k, "kind": kind, "estimate": sign * e,
                               "ci_low": sign * (lo if sign > 0 else hi),
                               "ci_high": sign * (hi if sign > 0 else lo), "established": True}
                              for k, kind, e, lo, hi in rows])
        judged = attribution.apply_minimum_effect(
            dataclasses.replace(spec, comparisons=[c]), table).set_index("knockout")
        assert judged["established"].to_dict() == {"(defaults)": True, "sliver": False,
                                                   "half": True}
        assert attribution.classify(judged.reset_index())["class"] == "single-mechanism"


def test_the_negligible_share_is_checked(tmp_path):
    from experiments.patterns.spec import SPEC_PATH

    raw = yaml.safe_load(SPEC_PATH.read_text())
    raw["attribution"]["negligible_share"] = 1.5
    path = tmp_path / "patterns.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="attribution.negligible_share"):
        load_spec(path)


def test_a_difference_of_rounding_size_is_not_an_effect():
    c = Comparison(id="x", title="t", claim="c", source="s", statistic="smd", scenario="a",
                   reference="b", outcome="y", direction="greater")
    rounding = {"estimate": 1.5e-16, "ci_low": 1.1e-17, "ci_high": 2.9e-16,
                "hedges_g": math.nan, "n": 10}  # a knock-out left both scenarios equal
    assert not evaluate.established(c, rounding)
    assert not evaluate.direction_holds(c, rounding["estimate"])
    real = {**rounding, "estimate": 0.002, "ci_low": 0.001, "ci_high": 0.003}
    assert evaluate.established(c, real)


def test_a_pair_of_knock_outs_reruns_the_comparisons_scenarios_with_both(tmp_path):
    from experiments.patterns import attribution
    from experiments.patterns.run import METRICS
    from experiments.patterns.spec import Size

    full = load_spec()
    c = next(c for c in full.comparisons if c.id == "2a")
    knockouts = [k for k in full.knockouts if k.name in ("meeting_status", "ties")]
    spec = dataclasses.replace(full, comparisons=[c], knockouts=knockouts)
    size = Size(replications=1, n_teams=2, robustness_samples=0, robustness_replications=1,
                attribution_replications=2)
    held = pd.DataFrame([{"id": "2a", "knockout": k, "kind": kind, "what": k, "estimate": e,
                          "ci_low": e / 2, "ci_high": 2 * e, "established": True}
                         for k, kind, e in [("(defaults)", "defaults", 0.1),
                                            ("meeting_status", "mechanism", 0.04),
                                            ("ties", "mechanism", 0.06)]])
    pairs = attribution.pairs_to_try(spec, held)
    tasks = attribution.pair_scenarios(spec, pairs)
    both = [*knockouts[0].overrides, *knockouts[1].overrides]
    assert tasks == {f"{s} ~ meeting_status + ties": [*full.scenarios[s], *both]
                     for s in c.scenarios}  # only the comparison's own scenarios
    table = attribution.with_pairs(spec, held, size, tmp_path, 1, 7, METRICS)
    pair = table[table["kind"] == attribution.PAIR]
    assert list(pair["knockout"]) == ["meeting_status + ties"]
    assert math.isfinite(pair["estimate"].iloc[0])
    assert attribution.classify(table)["class"] == (
        "guaranteed" if pair["established"].iloc[0] else "redundant")


def test_classes_are_rerun_at_each_posterior_draw(tmp_path):
    """At a draw with no practice-weighted gain, the service-user benefit of good practice
    (10) is no longer produced; at the calibrated value it is."""
    from experiments.patterns import attribution
    from experiments.patterns.run import METRICS
    from experiments.patterns.spec import Size

    full = load_spec()
    c = next(c for c in full.comparisons if c.id == "10")
    spec = dataclasses.replace(
        full, comparisons=[c], knockouts=[k for k in full.knockouts if k.name == "recovery"],
        scenarios={s: full.scenarios[s] for s in c.scenarios})
    gain = "service_users.peer_practice_gain"
    draws = pd.DataFrame({gain: [0.0, 0.0059]})
    assert attribution.at_draw(spec, draws.iloc[1]).scenarios[c.scenario][-1] == f"{gain}=0.0059"
    size = Size(replications=1, n_teams=4, robustness_samples=0, robustness_replications=1,
                attribution_replications=4)
    found = attribution.classes_at_draws(spec, draws, size, tmp_path, 1, 7, METRICS)
    assert list(found.columns) == ["draw", "id", "class"]
    by_draw = found.set_index("draw")["class"]
    assert by_draw[1] == "single-mechanism"  # the recovery knock-out removes it
    assert by_draw[0] != by_draw[1]
    shares = attribution.class_shares(spec, found).set_index("id").loc["10"]
    assert shares["single-mechanism"] == 0.5 and shares.sum() == 1.0


def test_class_draws_need_a_posterior_and_attribution_replications(capsys):
    assert main(["--size", "smoke", "--class-draws", "2"]) == 2
    assert "--class-draws" in capsys.readouterr().err
