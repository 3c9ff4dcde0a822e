"""Configuration: defaults, every group variant and scenario preset, and clear errors."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import REPO

from sim.config import SimConfig, load_config, to_params
from sim.model import PeerWorkModel
from sim.params import ConfigError, validate

CONF = REPO / "conf"
SCENARIOS = sorted(p.stem for p in (CONF / "scenario").glob("*.yaml"))
SMALL_RUN = ["organisation.n_teams=2", "organisation.horizon_weeks=4"]
#: Config groups of the model (one per params dataclass in SimConfig), and their variants.
GROUPS = [f.name for f in dataclasses.fields(SimConfig)
          if dataclasses.is_dataclass(f.default_factory)]
GROUP_VARIANTS = sorted((group, p.stem) for group in GROUPS
                        for p in (CONF / group).glob("*.yaml"))


def test_default_config_loads_and_equals_dataclass_defaults():
    """`python -m sim.run` and `PeerWorkModel()` mean the same model."""
    cfg = load_config()
    assert isinstance(cfg, SimConfig)
    assert cfg == SimConfig()


def test_overrides_reach_the_typed_config():
    cfg = load_config(["organisation.n_teams=3", "recruitment=informal", "seed=7",
                       "meetings.meeting_days=[0,3]"])
    assert cfg.organisation.n_teams == 3
    assert cfg.recruitment.process == "informal"
    assert cfg.seed == 7
    assert cfg.meetings.meeting_days == [0, 3]


def test_expected_scenarios_exist():
    assert set(SCENARIOS) >= {"london", "south", "north", "good_practice", "no_pw"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_preset_loads_and_runs(scenario):
    cfg = load_config([f"scenario={scenario}", *SMALL_RUN])
    assert cfg.scenario_name == scenario
    model = PeerWorkModel(cfg).run()
    ts = model.recorder.timeseries()
    assert len(ts) == 2 * 4
    assert not ts["user_recovery"].isna().any()


def test_scenario_presets_set_what_they_describe():
    london = load_config(["scenario=london"])
    assert london.recruitment.process == "informal"
    assert london.working_patterns.days == "flexible"
    north = load_config(["scenario=north"])
    assert north.working_patterns.paid is False
    assert north.context.sector == "voluntary"
    assert north.supervision.supervisor == "mixed"
    south = load_config(["scenario=south"])
    assert south.supervision.training_content == "peer"
    assert south.supervision.training_sessions == 7
    good = load_config(["scenario=good_practice"])
    assert good.supervision.supervisor == "peer"
    assert good.boundaries.coproduced_role_definition is True
    assert good.supervision.whole_team_training is True
    assert good.context.peer_network is True
    assert load_config(["scenario=no_pw"]).team.n_peer_workers == 0


def test_no_pw_scenario_has_no_pws_and_no_peer_contact():
    model = PeerWorkModel(load_config(["scenario=no_pw", *SMALL_RUN])).run()
    assert not model.workforce.is_peer.any()
    assert (model.caseload.peer_slot == -1).all()
    assert model.recorder.timeseries()["pw_practice"].isna().all()


@pytest.mark.parametrize("group, option", GROUP_VARIANTS)
def test_every_group_variant_loads_and_validates(group, option):
    cfg = load_config([f"{group}={option}"])
    validate(cfg)


def test_scenario_overrides_compose_with_further_overrides():
    cfg = load_config(["scenario=london", "recruitment=formal", "supervision.interval_weeks=2"])
    assert cfg.recruitment.process == "formal"
    assert cfg.supervision.interval_weeks == 2
    assert cfg.working_patterns.days == "flexible"


# Each bad override, and text its error message must contain: the key, and the value or
# what is allowed.
BAD = [
    ("recruitment.bogus=1", ["recruitment.bogus"]),
    ("+recruitment.bogus=1", ["recruitment.bogus"]),
    ("+bogus=1", ["bogus"]),
    ("organisation.n_teams=abc", ["organisation.n_teams", "abc"]),
    ("recruitment.anchor=1.5", ["recruitment.anchor", "1.5", "[0.0, 1.0]"]),
    ("supervision.supervisor=wizard", ["supervision.supervisor", "wizard",
                                       "clinical, mixed, peer"]),
    ("recruitment=nonexistent", ["recruitment", "nonexistent"]),
    ("meetings.meeting_days=[7]", ["meetings.meeting_days", "7"]),
    ("team.external_status.manager=2.0", ["team.external_status.manager", "2.0"]),
    ("seed=-1", ["seed", "-1"]),
]


@pytest.mark.parametrize("override, needed", BAD, ids=[o for o, _ in BAD])
def test_bad_override_raises_config_error_naming_key_and_value(override, needed):
    with pytest.raises(ConfigError) as info:
        load_config([override])
    message = str(info.value)
    assert "\n" not in message
    for text in needed:
        assert text in message, f"{text!r} not in {message!r}"


def test_unknown_group_option_lists_the_available_options():
    with pytest.raises(ConfigError) as info:
        load_config(["recruitment=nonexistent"])
    assert "formal" in str(info.value) and "informal" in str(info.value)


def test_unknown_key_lists_the_known_keys():
    with pytest.raises(ConfigError) as info:
        load_config(["+recruitment.bogus=1"])
    assert "role_description" in str(info.value)


def test_to_params_rejects_bad_values_in_a_plain_dict():
    with pytest.raises(ConfigError, match="recruitment.anchor"):
        to_params({"recruitment": {"anchor": 1.5}})
    with pytest.raises(ConfigError, match="recruitment.bogus"):
        to_params({"recruitment": {"bogus": 1}})
    assert to_params({"recruitment": {"anchor": 0.5}}).recruitment.anchor == 0.5


@pytest.mark.parametrize("group, field, value", [
    ("team", "profession_mix", {"wizard": 1.0}),
    ("team", "external_status", {"manager": 0.5}),
    ("context", "staff_practice", {"nhs": 0.3}),
])
def test_table_checks_reject_incomplete_or_unknown_entries(group, field, value):
    cfg = SimConfig()
    setattr(getattr(cfg, group), field, value)
    with pytest.raises(ConfigError, match=f"{group}.{field}"):
        validate(cfg)


def test_every_group_has_a_conf_folder_with_a_default_variant():
    defaults = (CONF / "config.yaml").read_text()
    for group in GROUPS:
        assert (CONF / group).is_dir(), group
        assert f"- {group}: " in defaults, group
