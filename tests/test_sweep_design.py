"""Experiment configs: designs, seeds, and clear errors for bad configs (before any output)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.params import ConfigError
from sim.sweep.engine import load_sweep_config, run_sweep, to_sweep_config
from sim.sweep.plan import build_plan
from sim.sweep.seeds import child_seed, run_seed


def plan_of(overrides: list[str], base_dir: Path | None = None):
    config = to_sweep_config(load_sweep_config(overrides))
    return build_plan(config.experiment, base_dir or Path.cwd())


def test_factorial_crosses_levels_and_composes_config_groups():
    plan = plan_of(["+experiment=recruitment_by_supervision"])
    assert plan.n_runs == 4 * 10
    table = plan.points_table()
    assert list(table["scenario"])[0] == "recruitment=formal supervision=clinical"
    by_label = {p.scenario: p.params for p in plan.points}
    peer = by_label["recruitment=informal supervision=peer"]
    assert peer.recruitment.process == "informal" and peer.supervision.supervisor == "peer"


def test_sampled_designs_have_salib_sizes_and_round_integer_parameters():
    lhs = plan_of(["+experiment=lhs_example"])
    assert len(lhs.points) == 32
    assert all(isinstance(p.params.team.n_peer_workers, int) for p in lhs.points)
    assert {p.params.team.n_peer_workers for p in lhs.points} <= {1, 2, 3, 4}
    rates = [p.params.supervision.socialisation_rate for p in lhs.points]
    assert min(rates) >= 0.05 and max(rates) <= 0.4
    assert all(p.params.scenario_name == "london" for p in lhs.points)
    morris = plan_of(["+experiment=morris_example"])
    assert len(morris.points) == 10 * (5 + 1)
    sobol = plan_of(["+experiment=lhs_example", "experiment.design.kind=sobol",
                     "experiment.design.samples=8"])
    assert len(sobol.points) == 8 * (4 + 2)


def test_csv_design_reads_points_and_labels(tmp_path):
    (tmp_path / "points.csv").write_text(
        "scenario,supervision,team.caseload\nsmall,peer,20\nlarge,clinical,60\n")
    plan = plan_of(["+experiment=recruitment_by_supervision", "experiment.factors=[]",
                    "experiment.design.kind=csv", "experiment.design.csv=points.csv",
                    "experiment.analysis.reference=null"], tmp_path)
    assert [p.scenario for p in plan.points] == ["small", "large"]
    assert [p.params.team.caseload for p in plan.points] == [20, 60]
    assert plan.points[0].params.supervision.supervisor == "peer"


def test_seeds_are_spawned_from_the_root_and_shared_across_points():
    root = 20240601
    children = np.random.SeedSequence(root).spawn(3)
    assert child_seed(root, 2) == int(children[2].generate_state(1, np.uint64)[0] >> 1)
    plan = plan_of(["+experiment=recruitment_by_supervision"])
    seeds = [plan.run_spec(r).seed for r in range(plan.n_runs)]
    assert len(set(seeds)) == 10  # replication r has the same seed at every point
    assert seeds[0] == seeds[10] == run_seed(root, 0, 10, True)
    own = plan_of(["+experiment=recruitment_by_supervision",
                   "experiment.common_random_numbers=false"])
    assert len({own.run_spec(r).seed for r in range(own.n_runs)}) == own.n_runs


def test_the_hash_changes_with_what_determines_results():
    a = plan_of(["+experiment=recruitment_by_supervision"])
    b = plan_of(["+experiment=recruitment_by_supervision", "experiment.analysis.ci_half_width=1"])
    c = plan_of(["+experiment=recruitment_by_supervision", "experiment.root_seed=1"])
    d = plan_of(["+experiment=recruitment_by_supervision", "experiment.base=['team=small']"])
    assert a.experiment_hash == b.experiment_hash
    assert len({a.experiment_hash, c.experiment_hash, d.experiment_hash}) == 3


@pytest.mark.parametrize(("overrides", "key", "says"), [
    (["experiment.factors=[{name: supervision.socialisaton_rate, levels: [0.1]}]"],
     "experiment.factors[0].name", "keys of supervision"),
    (["experiment.factors=[{name: supervision, levels: [clinical, nobody]}]"],
     "experiment.factors[0].levels", "options of config group 'supervision'"),
    (["experiment.factors=[{name: recruitment, levels: []}]"],
     "experiment.factors[0].levels", "at least one level"),
    (["experiment.factors=[{name: team.caseload, range: [50, 10]}]",
      "experiment.design.kind=lhs"], "experiment.factors[0].range", "low < high"),
    (["experiment.factors=[{name: team.caseload, range: [10, 50]}]",
      "experiment.design.kind=sobol", "experiment.design.samples=10"],
     "experiment.design.samples", "power of 2"),
    (["experiment.factors=[{name: team.caseload, range: [10, 50]}]",
      "experiment.design.kind=morris", "experiment.design.num_levels=3"],
     "experiment.design.num_levels", "even integer"),
    (["experiment.design.kind=latin"], "experiment.design.kind", "one of factorial"),
    (["experiment.factors=[{name: team.caseload, range: [10, 50]}]"],
     "experiment.factors[0].levels", "factorial design takes levels"),
    (["experiment.factors=[{name: supervision.socialisation_rate, levels: [0.1, 7.0]}]"],
     "supervision.socialisation_rate", "point 1"),
    (["experiment.replications=0"], "experiment.replications", ">= 1"),
    (["experiment.metrics=[happiness]"], "experiment.metrics", "TEAM_OUTCOMES"),
    (["experiment.base=['scenario=atlantis']"], "experiment.base/scenario", "london"),
    (["sweep.backend=mpi"], "sweep.backend", "serial, processes, dask"),
    (["experiment.analysis.reference=nobody"], "experiment.analysis.reference",
     "recruitment=formal supervision=peer"),
])
def test_bad_configs_name_key_value_and_what_is_allowed(tmp_path, overrides, key, says):
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as caught:
        run_sweep(load_sweep_config(["+experiment=recruitment_by_supervision", *overrides,
                                     f"sweep.output_dir={out}"]))
    assert caught.value.key == key
    assert says in str(caught.value)
    assert not out.exists()  # nothing half-written


def test_no_experiment_lists_the_available_ones():
    with pytest.raises(ConfigError, match="recruitment_by_supervision"):
        plan_of([])


@pytest.mark.parametrize(("override", "key", "says"), [
    ("sweep.workerz=3", "sweep.workerz", "allowed keys: backend, workers"),
    ("sweep.workers=two", "sweep.workers", "could not be converted to Integer"),
    ("+experiment=nope", "experiment", "recruitment_by_supervision"),
])
def test_schema_violations_fail_while_composing(override, key, says):
    overrides = [override] if override.startswith("+") else ["+experiment=lhs_example", override]
    with pytest.raises(ConfigError) as caught:
        load_sweep_config(overrides)
    assert caught.value.key == key and says in str(caught.value)
