"""Team-design comparison: design files to model overrides, sampled conditions, the command end
to end at small size (report files, sections and numbers), resume, and bad input."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest

from sim.compare import (
    CompareConfig,
    UncertainFactor,
    available_designs,
    check_designs_leave_conditions,
    design_overrides,
    load_compare_config,
    load_design,
    main,
    sample_conditions,
)
from sim.config import load_config
from sim.params import ConfigError

SMALL = ["designs=[current,proposal_good_practice]", "n_teams=2", "horizon_weeks=20",
         "replications=2", "context_samples=2", "backend=serial", "progress=none"]
SECTIONS = ("## Recommendation", "## Traffic lights", "## Headline per design",
            "## PW turnover over time", "## Evidence: each design against current",
            "## Evidence: how the outcomes move", "## Evidence: across conditions",
            "## Designs compared", "## Conditions sampled", "## Caveats", "## Reproduce")


def design_params(name: str):
    return load_config(design_overrides(load_design(name)))


def test_planner_terms_map_to_model_settings():
    params = design_params("proposal_good_practice")
    assert params.recruitment.process == "formal"
    assert params.working_patterns.days == "fixed"
    assert params.working_patterns.aligned_with_meeting is True
    assert params.working_patterns.fte == pytest.approx(15 / 37.5)
    assert params.supervision.supervisor == "peer"
    assert params.supervision.boundary_focus == "personal"  # the peer supervisor's usual
    assert params.supervision.training_content == "peer"
    assert params.supervision.training_sessions == 10
    assert params.supervision.whole_team_training is True
    assert params.boundaries.coproduced_role_definition is True
    assert params.context.peer_network is True
    current = design_params("current")
    assert (current.recruitment.process, current.working_patterns.days,
            current.supervision.supervisor, current.supervision.boundary_focus) == (
        "informal", "flexible", "clinical", "protective")


def test_hours_boundaries_and_extra_overrides(tmp_path):
    (tmp_path / "long_hours.yaml").write_text(
        "pw_posts: 3\npw_hours_per_week: 30\nboundary_focus: personal\n"
        "overrides: [team.n_nonpeer_staff=6]\n")
    params = load_config(design_overrides(load_design("long_hours", tmp_path)))
    assert params.working_patterns.fte == pytest.approx(0.8)
    assert params.team.n_peer_workers == 3
    assert params.supervision.supervisor == "clinical"  # unset keys: the model's defaults
    assert params.supervision.boundary_focus == "personal"
    assert params.team.n_nonpeer_staff == 6


@pytest.mark.parametrize("design, preset", [("london", "london"), ("south", "south"),
                                            ("north", "north"),
                                            ("proposal_good_practice", "good_practice")])
def test_case_designs_mirror_the_scenario_presets(design, preset):
    """The planner files of the study's cases mean the same model as conf/scenario presets."""
    expected = dataclasses.replace(load_config([f"scenario={preset}"]), scenario_name="default")
    assert design_params(design) == expected


@pytest.mark.parametrize("text, key, allowed", [
    ("pw_hour_per_week: 15\n", "pw_hour_per_week", "keys: description, pw_posts"),
    ("days: sometimes\n", "days", "one of fixed, flexible"),
    ("supervisor: buddy\n", "supervisor", "one of clinical, mixed, peer"),
    ("pw_hours_per_week: 60\n", "pw_hours_per_week", "37.5 hours = full time"),
    ("pw_posts: two\n", "pw_posts", ""),
])
def test_bad_design_file_names_the_key(tmp_path, text, key, allowed):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_design("bad", tmp_path)
    assert err.value.key == f"design bad: {key}"
    assert allowed in str(err.value)


def test_a_misspelt_key_in_a_design_file_anywhere_is_named_plainly(tmp_path):
    path = tmp_path / "my_change.yaml"
    path.write_text("pw_post: 3\n")
    with pytest.raises(ConfigError) as err:
        load_design(str(path))
    assert err.value.key == "design my_change: pw_post"  # the design's name, not its path
    assert err.value.value == "(unknown key)" and "pw_posts" in err.value.allowed


def test_conditions_shift_every_sector_together_and_stay_in_range():
    defaults = load_config([])
    config = CompareConfig(context_samples=5, uncertain=[
        UncertainFactor("culture", paths=["context.staff_practice.*"], change="add",
                        range=[-0.2, 0.2]),
        UncertainFactor("turnover", paths=["wellbeing.exit_base"], change="multiply",
                        range=[0.5, 2.0]),
        UncertainFactor("caseload", paths=["team.caseload"], change="set", range=[30, 60])])
    samples = sample_conditions(config, defaults)
    assert len(samples) == 5
    shifts = np.column_stack([samples[f"context.staff_practice.{s}"] - value
                              for s, value in defaults.context.staff_practice.items()])
    assert np.allclose(shifts, shifts[:, :1])  # one shift for nhs, voluntary and partnership
    assert shifts.min() >= -0.2 and shifts.max() <= 0.2 and shifts.std() > 0
    ratio = samples["wellbeing.exit_base"] / defaults.wellbeing.exit_base
    assert ratio.between(0.5, 2.0).all()
    assert samples["team.caseload"].map(lambda v: isinstance(v, int)).all()
    assert samples["team.caseload"].between(30, 60).all()


def test_a_design_may_not_set_a_sampled_condition():
    defaults = load_config([])
    with pytest.raises(ConfigError, match="team.caseload"):
        check_designs_leave_conditions({"mine": ["team.caseload=25"]}, [], ["team.caseload"],
                                       defaults)


@pytest.mark.parametrize("override, key", [("designs=[current]", "designs"),
                                           ("replications=0", "replications"),
                                           ("backend=cloud", "backend"),
                                           ("outcomes.0.better=more", "outcomes[0].better"),
                                           ("outcomes.0.name=happiness", "outcomes[0].name")])
def test_bad_settings_are_refused(override, key):
    with pytest.raises(ConfigError) as err:
        load_compare_config([override])
    assert err.value.key == key


def test_unknown_design_exits_2_listing_designs_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["designs=[current,dream_team]", f"output_dir={out}"]) == 2
    message = capsys.readouterr().err
    assert "designs='dream_team'" in message
    for name in available_designs():
        assert name in message
    assert not out.exists()


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "cmp"
    status = main([*SMALL, f"output_dir={out}"])
    return status, out


def design_runs(out, spec):
    return {name: pd.read_parquet(out / folder / "runs") for name, folder in
            spec["folders"].items()}


def test_comparison_writes_the_report(comparison):
    status, out = comparison
    assert status == 0
    report = out / "report"
    for name in ("report.html", "report.md", "headline.csv", "differences.csv",
                 "robustness.csv", "figures/turnover.png", "figures/trajectories.png",
                 "figures/differences.png"):
        assert (report / name).is_file() and (report / name).stat().st_size > 0, name
    markdown = (report / "report.md").read_text()
    positions = [markdown.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    page = (report / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3
    assert not re.search(r"src=['\"](?!data:)", page)  # self-contained
    assert "@media print" in page
    for heading in SECTIONS:
        assert f"<h2>{heading[3:]}</h2>" in page


def test_report_numbers_are_per_team_and_clustered_by_condition(comparison):
    _, out = comparison
    spec = json.loads((out / "compare.json").read_text())
    runs = design_runs(out, spec)
    assert set(runs) == {"current", "proposal_good_practice"}
    assert all(len(r) == 2 * 2 and (r["status"] == "ok").all() for r in runs.values())
    # every design saw the same conditions with the same seeds
    keyed = {n: r.set_index(["design_point", "replicate"]).sort_index() for n, r in runs.items()}
    assert (keyed["current"]["seed"] == keyed["proposal_good_practice"]["seed"]).all()
    # ...and no two runs of a design share a seed: conditions are independent units
    assert keyed["current"]["seed"].nunique() == len(keyed["current"])
    years = 20 / 52
    head = pd.read_csv(out / "report" / "headline.csv").set_index("design")
    for name, r in keyed.items():
        leavers = r["pw_turnover_per_year"] * spec["pw_posts"][name] * years
        per_condition = leavers.groupby(level="design_point").mean()
        assert head.loc[name, "pw_leavers"] == pytest.approx(per_condition.mean())
        gain = r["users_meaningful_gain"].groupby(level="design_point").mean()
        assert head.loc[name, "users_meaningful_gain"] == pytest.approx(gain.mean())
    diff = (keyed["proposal_good_practice"]["users_meaningful_gain"]
            - keyed["current"]["users_meaningful_gain"]).groupby(level="design_point").mean()
    diffs = pd.read_csv(out / "report" / "differences.csv").set_index("outcome")
    row = diffs.loc["users_meaningful_gain"]
    assert row["difference"] == pytest.approx(diff.mean())
    assert row["conditions"] == 2  # the condition, not the run, is the unit
    half = 12.706 * diff.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 df)
    assert row["ci_high"] - row["difference"] == pytest.approx(half, rel=1e-3)


def test_rerun_reuses_every_unchanged_design(comparison, capsys):
    status, out = comparison
    spec = json.loads((out / "compare.json").read_text())
    before = {n: sorted(p.name for p in (out / f / "runs").iterdir())
              for n, f in spec["folders"].items()}
    assert main([*SMALL, f"output_dir={out}"]) == 0
    err = capsys.readouterr().err
    assert err.count("unchanged, its runs are reused") == 2
    assert "0 to run" in err
    assert {n: sorted(p.name for p in (out / f / "runs").iterdir())
            for n, f in spec["folders"].items()} == before


def test_an_edited_design_is_a_new_result_and_the_others_are_reused(tmp_path, capsys):
    design = tmp_path / "mine.yaml"
    design.write_text("pw_posts: 2\nsupervisor: peer\n")
    args = [*SMALL[1:], f"designs=[current,{design}]", f"output_dir={tmp_path / 'cmp'}"]
    assert main(args) == 0
    capsys.readouterr()
    design.write_text("pw_posts: 3\nsupervisor: peer\n")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "current: unchanged, its runs are reused" in err
    assert "mine: new or changed, running" in err
    spec = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert spec["pw_posts"]["mine"] == 3
    assert len(list((tmp_path / "cmp" / "designs").iterdir())) == 3  # old result kept


def test_parameter_draws_give_each_condition_a_calibrated_parameter_set(tmp_path):
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"service_users.peer_practice_gain": [0.002, 0.009], "weight": [0.5, 0.5],
                  "distance": 0.1}).to_parquet(posterior)
    out = tmp_path / "cmp"
    assert main([*SMALL, "context_samples=4", f"parameter_draws={posterior}",
                 f"output_dir={out}"]) == 0
    conditions = pd.read_csv(out / "conditions.csv")
    drawn = conditions["service_users.peer_practice_gain"]
    assert set(drawn) <= {0.002, 0.009} and len(conditions) == 4
    assert "context.staff_practice.nhs" in conditions  # the sampled conditions stay
    spec = json.loads((out / "compare.json").read_text())
    for runs in design_runs(out, spec).values():  # every run used its condition's draw
        by_point = runs.groupby("point_id")["service_users.peer_practice_gain"].first()
        np.testing.assert_array_equal(by_point.to_numpy(), drawn.to_numpy())
    assert "calibrated parameters" in (out / "report" / "report.md").read_text()


def test_parameter_draws_may_not_repeat_a_sampled_condition(tmp_path):
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"wellbeing.exit_base": [0.002], "weight": [1.0]}).to_parquet(posterior)
    out = tmp_path / "cmp"
    assert main([*SMALL, f"parameter_draws={posterior}", f"output_dir={out}"]) == 2
    assert not out.exists()
