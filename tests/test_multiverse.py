"""The multiverse stage of the pattern experiment (experiments/patterns/multiverse.py)."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.patterns import multiverse, report
from experiments.patterns.run import read
from experiments.patterns.spec import load_spec
from sim.config import load_config
from sim.params import ConfigError
from sim.sweep.engine import run_sweep


def test_full_design_is_every_combination_with_the_defaults_first():
    full = multiverse.structures("full")
    assert len(full) == 3 * 3 * 2 * 2
    assert len({tuple(s.values()) for s in full}) == len(full)
    defaults = load_config([])
    assert full[0] == {"status": defaults.meetings.status_form,
                       "influence": defaults.boundaries.influence_form,
                       "socialisation": defaults.supervision.socialisation_form,
                       "exit": defaults.wellbeing.exit_form}


def test_one_at_a_time_design_changes_one_family_per_structure():
    design = multiverse.structures("one_at_a_time")
    assert len(design) == 1 + 2 + 2 + 1 + 1
    for structure in design[1:]:
        assert sum(structure[f] != design[0][f] for f in multiverse.FAMILIES) == 1


def test_every_structure_composes_to_a_valid_config():
    for structure in multiverse.structures("one_at_a_time"):
        cfg = load_config(multiverse.overrides(structure))
        assert cfg.meetings.status_form == structure["status"]
        assert cfg.wellbeing.exit_form == structure["exit"]


def test_multiverse_spec_is_read_and_checked(tmp_path):
    spec = multiverse.load_multiverse()
    assert spec.design in multiverse.DESIGNS and {"full", "small"} <= set(spec.sizes)
    bad = tmp_path / "patterns.yaml"
    bad.write_text("multiverse: {design: random}\n")
    with pytest.raises(ConfigError, match="multiverse.design"):
        multiverse.load_multiverse(bad)


def test_an_unknown_multiverse_size_is_refused_by_name():
    with pytest.raises(ConfigError, match="multiverse.sizes.*full"):
        multiverse.size_of(multiverse.load_multiverse(), "huge")


@pytest.fixture(scope="module")
def tiny_multiverse(tmp_path_factory):
    """One team, two replications, the one-at-a-time design, two scenarios: fast, and enough
    to check that every structure is run and evaluated apart from the others."""
    folder = tmp_path_factory.mktemp("multiverse") / "sweep"
    full = load_spec()  # two scenarios and the three comparisons they make, to stay fast
    spec = dataclasses.replace(
        full, scenarios={k: full.scenarios[k] for k in ("baseline", "flexible")},
        comparisons=[c for c in full.comparisons if c.id in ("2a", "2b", "5")])
    run_sweep(multiverse.sweep_config(spec, "one_at_a_time", multiverse.MultiverseSize(2, 1),
                                      folder, "serial", 1))
    runs, weekly = read(folder, robustness=False)
    table = multiverse.evaluate_structures(spec, "one_at_a_time", runs, weekly)
    return spec, runs, table


def test_each_structure_evaluates_every_comparison_from_its_own_runs(tiny_multiverse):
    spec, runs, table = tiny_multiverse
    n = len(multiverse.structures("one_at_a_time"))
    assert len(runs) == n * len(spec.scenarios) * 2
    assert len(table) == n * len(spec.comparisons)
    assert set(table["id"]) == {c.id for c in spec.comparisons}
    status_gap = table[table["id"] == "2a"].set_index("structure")["estimate"]
    assert status_gap.nunique() > 1  # the structures really differ


def test_survival_shares_and_the_report_section(tiny_multiverse, tmp_path):
    spec, _, table = tiny_multiverse
    shares = multiverse.survival(spec, table)
    assert shares["share_passing"].between(0, 1).all()
    row = shares.set_index("id").loc["2b"]
    mine = table[table["id"] == "2b"]
    assert row["share_holding"] == pytest.approx(mine["holds"].mean())
    assert row["status=persistent"] == pytest.approx(
        mine[mine["status"] == "persistent"]["passes"].mean())
    section = multiverse.markdown(spec, table, shares, "a note")
    assert section.startswith("## Multiverse")
    assert all(f"| {c.id} | {c.title} |" in section for c in spec.comparisons)
    (tmp_path / "report.md").write_text("# Report\n")
    (tmp_path / "report.html").write_text("<html><body><h1>R</h1></body></html>\n")
    for _ in range(2):  # a second run replaces the section instead of adding another
        report.insert_section(tmp_path, "multiverse", section)
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("# Report") and text.count("## Multiverse") == 1
    page = (tmp_path / "report.html").read_text()
    assert page.count("<h2>Multiverse") == 1 and page.index("<table>") < page.index("</body>")
