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
SECTIONS = ("## Summary", "## Designs compared", "## Outcome trajectories",
            "## Each design against current", "## Ranking", "## Robustness across conditions",
            "## Conditions sampled", "## Caveats", "## Reproduce")


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


def test_comparison_writes_the_report(comparison):
    status, out = comparison
    assert status == 0
    report = out / "report"
    for name in ("report.html", "report.md", "ranking.csv", "differences.csv", "robustness.csv",
                 "figures/trajectories.png", "figures/differences.png", "figures/robustness.png"):
        assert (report / name).is_file() and (report / name).stat().st_size > 0, name
    markdown = (report / "report.md").read_text()
    positions = [markdown.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    page = (report / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3
    assert not re.search(r"src=['\"](?!data:)", page)  # self-contained
    for heading in SECTIONS:
        assert f"<h2>{heading[3:]}</h2>" in page


def test_report_numbers_come_from_the_run_table(comparison):
    _, out = comparison
    runs = pd.read_parquet(out / "sweep" / "runs")
    assert len(runs) == 2 * 2 * 2 and (runs["status"] == "ok").all()
    assert set(runs["scenario"]) == {"current", "proposal_good_practice"}
    # every design saw the same conditions with the same seeds
    seeds = runs.pivot_table(index=["design_point", "replicate"], columns="scenario",
                             values="seed")
    assert (seeds["current"] == seeds["proposal_good_practice"]).all()
    ranking = pd.read_csv(out / "report" / "ranking.csv").set_index("design")
    means = runs.groupby("scenario")["distinctiveness_final"].mean()
    assert ranking["distinctiveness"].to_dict() == pytest.approx(means.to_dict())
    turnover = runs.groupby("scenario")["pw_turnover_per_year"].mean()
    assert ranking["pw_turnover_per_year"].to_dict() == pytest.approx(turnover.to_dict())
    markdown = (out / "report" / "report.md").read_text()
    for design, value in means.items():
        assert f"| {design} | {value:.3g} [" in markdown
    paired = runs.pivot_table(index=["design_point", "replicate"], columns="scenario",
                              values="distinctiveness_final")
    difference = (paired["proposal_good_practice"] - paired["current"]).mean()
    diffs = pd.read_csv(out / "report" / "differences.csv")
    row = diffs[diffs["outcome"] == "distinctiveness"].iloc[0]
    assert row["difference"] == pytest.approx(difference)
    assert f"distinctive peer practice kept {difference:+.3g} (95% CI" in markdown
    robust = pd.read_csv(out / "report" / "robustness.csv")
    per_sample = paired.groupby(level="design_point").mean()
    wins = int((per_sample["proposal_good_practice"] > per_sample["current"]).sum())
    got = robust.set_index(["outcome", "design"]).loc[("distinctiveness",
                                                       "proposal_good_practice")]
    assert got["times_best"] == wins and got["samples"] == 2
    assert f"in {max(wins, 2 - wins)} of 2 conditions" in markdown


def test_rerun_resumes_without_running_again(comparison, capsys):
    status, out = comparison
    before = sorted(p.name for p in (out / "sweep" / "runs").iterdir())
    assert main([*SMALL, f"output_dir={out}"]) == 0
    assert "8 of 8 runs already saved, 0 to run" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "sweep" / "runs").iterdir()) == before
    spec = json.loads((out / "compare.json").read_text())
    assert list(spec["designs"]) == ["current", "proposal_good_practice"]


def test_other_conditions_in_the_same_folder_are_refused(comparison, capsys):
    _, out = comparison
    assert main([*SMALL, "context_samples=3", f"output_dir={out}"]) == 2
    assert "output_dir" in capsys.readouterr().err
    assert len(pd.read_csv(out / "conditions.csv")) == 2
