"""Compare team designs: ``python -m sim.compare designs=[current,proposal_good_practice]``.

A *design* (``conf/design/<name>.yaml``) says in a planner's terms how PW posts are set up:
how many, what hours, fixed or flexible days, recruitment, supervision, training, a
co-produced role definition, a peer network, pay. Each design is mapped to model overrides and
run by the experiment engine in every one of ``context_samples`` conditions (a Latin
hypercube over ``uncertain``: team culture, staff attitudes, turnover pressure, ...) with
``replications`` seeds each; every design sees the same conditions and seeds (each condition
its own seeds, so conditions are independent). The report
(``sim/analysis/compare_report.py``) then ranks the designs and says how robust the ranking is.

Folder (``output_dir``; rerunning the same command resumes)::

    compare.json      designs, outcomes and conditions: what the report reads
    conditions.csv    the sampled conditions, one column per parameter path
    sweep/            the engine's tables (manifest.json, runs/, timeseries/, points.parquet)
    report/           report.html, report.md, figures/, ranking/differences/robustness.csv

Exit status: 0 done, 1 some runs failed or a worker died (rerun to resume), 2 bad config or
design (nothing written), 130 interrupted (rerun to resume).
"""

# No ``from __future__ import annotations``: worker processes re-import this module as
# ``__mp_main__``, where the schema's string annotations could not be resolved by OmegaConf.
import dataclasses
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.analysis.compare_report import (
    BETTER,
    DERIVED,
    SPEC_FILE,
    TRAJECTORY_METRICS,
    CompareReport,
    OutcomeSpec,
    write_compare_report,
)
from sim.calibrate import posterior_draws
from sim.config import CONF_DIR, SimConfig, load_config, yaml_error
from sim.metrics import TEAM_OUTCOMES
from sim.output import check_writable, git_revision, write_text, write_text_if_changed
from sim.params import ConfigError, describe_allowed
from sim.roster import (
    DAY_NAMES,
    Person,
    Team,
    TeamChanges,
    changed_people,
    day_text,
    fixed_days,
    fixed_paths,
    mean_pw_hours,
    read_team_file,
    roster_override,
    write_template,
)
from sim.rules.working_patterns import FULL_TIME_HOURS
from sim.sweep.cli import asks_hydra, exit_status, hydra_answers
from sim.sweep.design import sampled_points
from sim.sweep.engine import load_sweep_config, omegaconf_error, reject_unknown_keys, run_sweep
from sim.sweep.plan import get_path
from sim.sweep.schema import BACKENDS, PROGRESS_MODES, DesignConfig, FactorConfig

DESIGN_DIR = CONF_DIR / "design"
#: Per-run summaries (sim.metrics.Recorder.summary) that can be ranked besides TEAM_OUTCOMES.
RUN_SUMMARIES = ("pw_turnover_per_year", "staff_turnover_per_year", "user_admissions_per_year",
                 "users_meaningful_gain")
CHANGES = ("add", "multiply", "set")
CONDITIONS_FILE = "conditions.csv"
#: How runs are seeded (part of every design's results key; see sweep_config).
SEEDS = "one seed per condition and replicate, shared by the designs"


@dataclass
class TeamDesign:
    """A team design in planner terms; every key maps to one model setting (``overrides``).

    Every key is optional: a key left out keeps the team as it is (with a team file) or the
    model's default team (:data:`DEFAULT_DESIGN`, without one)."""

    description: str = ""
    pw_posts: int | None = None  # PW posts per team -> team.n_peer_workers
    pw_hours_per_week: float | None = None  # -> working_patterns.fte = hours / 37.5
    days: str | None = None  # fixed | flexible -> working_patterns.days
    days_include_team_meeting: bool | None = None  # fixed days include the meeting day
    pw_days: list[str] = field(default_factory=list)  # team file: every PW's days, or [flexible]
    pw_days_include: list[str] = field(default_factory=list)  # team file: move PW days to these
    recruitment: str | None = None  # formal | informal -> recruitment group
    supervisor: str | None = None  # clinical | mixed | peer -> supervision group
    boundary_focus: str | None = None  # protective | personal; null: the supervisor's usual
    supervision_every_weeks: int | None = None  # -> supervision.interval_weeks
    training: str | None = None  # conventional | peer -> supervision.training_content
    training_sessions: int | None = None
    whole_team_training: bool | None = None  # staff trained about the PW role at the start
    coproduced_role_definition: bool | None = None  # -> boundaries.coproduced_role_definition
    peer_network: bool | None = None  # cross-team PW network -> context.peer_network
    paid: bool | None = None  # -> working_patterns.paid
    sector: str | None = None  # nhs | voluntary | partnership -> context group
    overrides: list[str] = field(default_factory=list)  # any other model override, last


#: The model's default team in design terms: what a key left out means without a team file.
DEFAULT_DESIGN = {"pw_posts": 2, "pw_hours_per_week": 15.0, "days": "fixed",
                  "days_include_team_meeting": True, "recruitment": "formal",
                  "supervisor": "clinical", "supervision_every_weeks": 4,
                  "training": "conventional", "training_sessions": 8,
                  "whole_team_training": False, "coproduced_role_definition": False,
                  "peer_network": False, "paid": True, "sector": "nhs"}
#: The reference design of a comparison with a team file: the team as it is.
AS_IS = "your team as it is"


@dataclass
class UncertainFactor:
    """A condition the planner cannot control, sampled over ``range`` and applied to ``paths``."""

    name: str = ""
    description: str = ""
    paths: list[str] = field(default_factory=list)  # parameter paths; ``table.*``: every entry
    change: str = "add"  # one of CHANGES
    range: list[float] = field(default_factory=list)  # [low, high]


@dataclass
class CompareConfig:
    team_file: str | None = None  # a team file (.xlsx or .csv, sim/roster.py); then the reference
    # is the team as it is and every design is a change to it
    designs: list[str] = field(default_factory=list)  # names in conf/design/ or paths to .yaml;
    # without a team file the first is the reference
    replications: int = 10
    context_samples: int = 10
    n_teams: int = 8
    horizon_weeks: int = 156
    record_interval_weeks: int = 1  # saved time-series rows; 4 would alias 4-weekly supervision
    root_seed: int = 20130188
    backend: str = "processes"  # one of BACKENDS
    workers: int = 2
    progress: str = "auto"  # one of PROGRESS_MODES
    output_dir: str | None = None  # default outputs/compare/<design>-vs-<design>...
    report_dir: str | None = None  # default <output_dir>/report
    uncertain: list[UncertainFactor] = field(default_factory=list)
    outcomes: list[OutcomeSpec] = field(default_factory=list)
    # A calibration's posterior (posterior.parquet of python -m sim.calibrate): every sampled
    # condition also draws the calibrated parameters from it, so a verdict allows for what is
    # not known about the world as well as for chance.
    parameter_draws: str | None = None


ConfigStore.instance().store(name="compare_schema", node=CompareConfig)


# --- designs -------------------------------------------------------------------------------

def available_designs() -> list[str]:
    return sorted(p.stem for p in DESIGN_DIR.glob("*.yaml"))


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def design_path(name: str, folder: Path = DESIGN_DIR) -> Path:
    """A design by name (``conf/design/<name>.yaml``) or as a path to a YAML file anywhere."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return Path(name).expanduser()
    return folder / f"{name}.yaml"


def design_name(name: str) -> str:
    return design_path(name).stem if name.endswith((".yaml", ".yml")) or "/" in name else name


def load_design(name: str, folder: Path = DESIGN_DIR) -> TeamDesign:
    """Read and check a design file against :class:`TeamDesign`."""
    path = design_path(name, folder)
    if not path.is_file():
        raise ConfigError("designs", name, "a path to a design file (.yaml) or a design name "
                          "(files in conf/design/): " + ", ".join(available_designs()))
    try:
        node = OmegaConf.merge(OmegaConf.structured(TeamDesign), OmegaConf.load(path))
        design: TeamDesign = OmegaConf.to_object(node)
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise yaml_error(err, path) from None
    except OmegaConfBaseException as err:
        unknown = str(err).startswith("Key '")
        raise ConfigError(f"design {design_name(name)}: {getattr(err, 'full_key', '?')}",
                          "(unknown key)" if unknown else getattr(err, "value", "?"),
                          "keys: " + ", ".join(f.name for f in dataclasses.fields(TeamDesign))
                          if unknown else str(err).splitlines()[0]) from None
    check_design(design_name(name), design)
    return design


def with_defaults(design: TeamDesign, base: dict[str, Any]) -> TeamDesign:
    """The design with every key it leaves out taken from ``base``."""
    return dataclasses.replace(design, **{k: v for k, v in base.items()
                                          if getattr(design, k) is None})


def check_design(name: str, design: TeamDesign) -> None:
    """Choices and ranges in planner terms (the model checks the rest when the plan is built)."""
    choices = {"days": ["fixed", "flexible"], "recruitment": group_options("recruitment"),
               "supervisor": group_options("supervision"), "training": ["conventional", "peer"],
               "sector": group_options("context")}
    for key, allowed in choices.items():
        if getattr(design, key) not in (*allowed, None):
            raise ConfigError(f"design {name}: {key}", getattr(design, key),
                              "one of " + ", ".join(allowed))
    if design.boundary_focus not in (None, "protective", "personal"):
        raise ConfigError(f"design {name}: boundary_focus", design.boundary_focus,
                          "protective, personal or null (the supervisor's usual)")
    if design.pw_posts is not None and not 1 <= design.pw_posts <= 10:
        raise ConfigError(f"design {name}: pw_posts", design.pw_posts, "an integer in [1, 10]")
    low = 0.05 * FULL_TIME_HOURS  # working_patterns.fte >= 0.05
    if design.pw_hours_per_week is not None and not (
            low <= design.pw_hours_per_week <= FULL_TIME_HOURS):
        raise ConfigError(f"design {name}: pw_hours_per_week", design.pw_hours_per_week,
                          f"a number in [{low:g}, {FULL_TIME_HOURS:g}] ({FULL_TIME_HOURS:g} "
                          "hours = full time)")


def design_overrides(design: TeamDesign) -> list[str]:
    """Model overrides of a design without a team file: group choices first, then values."""
    design = with_defaults(design, DEFAULT_DESIGN)
    if design.pw_days or design.pw_days_include:
        raise ConfigError("design: pw_days", design.pw_days or design.pw_days_include,
                          "pw_days and pw_days_include only with a team file (team=...); "
                          "without one use days and days_include_team_meeting")
    overrides = [f"recruitment={design.recruitment}", f"supervision={design.supervisor}",
                 f"context={design.sector}",
                 f"team.n_peer_workers={design.pw_posts}",
                 f"working_patterns.fte={design.pw_hours_per_week / FULL_TIME_HOURS:.6g}",
                 f"working_patterns.days={design.days}",
                 f"working_patterns.aligned_with_meeting={str(design.days_include_team_meeting).lower()}",
                 f"working_patterns.paid={str(design.paid).lower()}",
                 f"supervision.interval_weeks={design.supervision_every_weeks}",
                 f"supervision.training_content={design.training}",
                 f"supervision.training_sessions={design.training_sessions}",
                 f"supervision.whole_team_training={str(design.whole_team_training).lower()}",
                 "boundaries.coproduced_role_definition="
                 f"{str(design.coproduced_role_definition).lower()}",
                 f"context.peer_network={str(design.peer_network).lower()}"]
    if design.boundary_focus:
        overrides.append(f"supervision.boundary_focus={design.boundary_focus}")
    return [*overrides, *design.overrides]


def team_base(team: Team) -> dict[str, Any]:
    """A team file's facts in design terms: what a key a design leaves out means."""
    return {"recruitment": team.recruitment, "supervisor": team.supervisor(),
            "supervision_every_weeks": team.supervision_every_weeks, "training": team.training,
            "training_sessions": team.training_sessions,
            "whole_team_training": team.whole_team_training,
            "coproduced_role_definition": team.coproduced_role_definition,
            "peer_network": team.peer_network, "paid": team.pws_paid, "sector": team.sector}


def team_people(team: Team, design: TeamDesign, name: str) -> list[Person]:
    """The team's people after a design's changes to PW posts, hours and days."""
    include = list(design.pw_days_include)
    if design.days_include_team_meeting:
        include += [DAY_NAMES[d] for d in team.meeting_days]
    days = ["flexible"] if design.days == "flexible" else list(design.pw_days)
    people = changed_people(team, TeamChanges(design.pw_posts, design.pw_hours_per_week, days,
                                              include), f"design {name}")
    if design.days == "fixed":  # flexible PWs get fixed days: the meeting day(s) first
        for p in people:
            if p.role == "peer_worker" and not p.days:
                p.days = fixed_days(p.fte, team.meeting_days)
                p.attends_team_meeting = True
    return people


def team_design_overrides(team: Team, design: TeamDesign, name: str) -> list[str]:
    """Model overrides of a design applied to a planner's team: the roster (after the design's
    changes) with each person's FTE and days, the team's facts, then the design's keys."""
    people = team_people(team, design, name)
    full = with_defaults(dataclasses.replace(design, pw_posts=None, pw_hours_per_week=None,
                                             days=None, days_include_team_meeting=None),
                         team_base(team))
    overrides = [f"recruitment={full.recruitment}", f"supervision={full.supervisor}",
                 f"context={full.sector}", *roster_override(people),
                 f"team.caseload={team.caseload}",
                 f"meetings.meeting_days=[{','.join(map(str, team.meeting_days))}]",
                 f"working_patterns.paid={str(full.paid).lower()}",
                 f"supervision.interval_weeks={full.supervision_every_weeks}",
                 f"supervision.training_content={full.training}",
                 f"supervision.training_sessions={full.training_sessions}",
                 f"supervision.whole_team_training={str(full.whole_team_training).lower()}",
                 "boundaries.coproduced_role_definition="
                 f"{str(full.coproduced_role_definition).lower()}",
                 f"context.peer_network={str(full.peer_network).lower()}"]
    if team.manager_championing is not None:
        overrides.append(f"team.manager_champion_effort={team.manager_championing}")
    if full.boundary_focus:
        overrides.append(f"supervision.boundary_focus={full.boundary_focus}")
    return [*overrides, *full.overrides]


# --- the comparison's config ---------------------------------------------------------------

def load_compare_config(overrides: list[str]) -> CompareConfig:
    """Compose ``conf/compare.yaml`` with overrides against the typed schema and check it."""
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="compare", overrides=list(overrides))
        reject_unknown_keys(OmegaConf.to_container(cfg, resolve=True), CompareConfig, "")
        config: CompareConfig = OmegaConf.to_object(cfg)
    except yaml.YAMLError as err:
        raise yaml_error(err) from None
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    except HydraException as err:
        cause = err.__cause__ or err.__context__  # a bad key or type inside a config file
        if isinstance(cause, OmegaConfBaseException):
            raise omegaconf_error(cause) from None
        raise ConfigError("overrides", list(overrides), str(err).splitlines()[0]) from None
    check_settings(config)
    return config


def check_settings(config: CompareConfig) -> None:
    if len(config.designs) < (1 if config.team_file else 2):
        raise ConfigError("designs", list(config.designs),
                          ("one or more" if config.team_file else "two or more (or a team file, "
                           "team_file=my_team.xlsx, and one or more)") + " design files or names: "
                          + ", ".join(available_designs()))
    if len(set(config.designs)) < len(config.designs):
        raise ConfigError("designs", list(config.designs), "each design once")
    for key in ("replications", "context_samples", "n_teams", "horizon_weeks",
                "record_interval_weeks", "workers"):
        if getattr(config, key) < 1:
            raise ConfigError(key, getattr(config, key), "an integer >= 1")
    if config.root_seed < 0:
        raise ConfigError("root_seed", config.root_seed, "an integer >= 0")
    if config.backend not in BACKENDS:
        raise ConfigError("backend", config.backend, "one of " + ", ".join(BACKENDS))
    if config.progress not in PROGRESS_MODES:
        raise ConfigError("progress", config.progress, "one of " + ", ".join(PROGRESS_MODES))
    if not config.outcomes:
        raise ConfigError("outcomes", [], "at least one outcome")
    rankable = [*DERIVED, *RUN_SUMMARIES, *TEAM_OUTCOMES]
    for i, o in enumerate(config.outcomes):
        if o.name not in rankable:
            raise ConfigError(f"outcomes[{i}].name", o.name, "one of " + ", ".join(rankable))
        if o.better not in BETTER:
            raise ConfigError(f"outcomes[{i}].better", o.better, "one of " + ", ".join(BETTER))
        if o.smallest_difference < 0:
            raise ConfigError(f"outcomes[{i}].smallest_difference", o.smallest_difference,
                              "a number >= 0, in the outcome's units")
    names = [u.name for u in config.uncertain]
    for i, u in enumerate(config.uncertain):
        key = f"uncertain[{i}]"
        if not u.name or names.count(u.name) > 1:
            raise ConfigError(f"{key}.name", u.name, "a name used once")
        if u.change not in CHANGES:
            raise ConfigError(f"{key}.change", u.change, "one of " + ", ".join(CHANGES))
        if len(u.range) != 2 or u.range[0] >= u.range[1]:
            raise ConfigError(f"{key}.range", list(u.range), "[low, high] with low < high")
        if not u.paths:
            raise ConfigError(f"{key}.paths", [], "one or more parameter paths")


def default_output_dir(designs: list[str]) -> Path:
    return Path("outputs/compare") / "-vs-".join(designs)


# --- sampled conditions --------------------------------------------------------------------

def expand_paths(factor: UncertainFactor, defaults: SimConfig, key: str) -> list[str]:
    """The factor's parameter paths, ``table.*`` replaced by every entry of the table."""
    paths = []
    for path in factor.paths:
        head, star, _ = path.partition(".*")
        try:
            value = get_path(defaults, head)
        except (AttributeError, KeyError, TypeError):
            raise ConfigError(f"{key}.paths", path, "a parameter path of the model (see "
                              "docs/params.md), e.g. wellbeing.exit_base or "
                              "context.staff_practice.*") from None
        if star and not isinstance(value, dict):
            raise ConfigError(f"{key}.paths", path, "'.*' only after a table parameter")
        if not star and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ConfigError(f"{key}.paths", path, "a numeric parameter")
        paths += [f"{head}.{entry}" for entry in value] if star else [head]
    return paths


def allowed_range(defaults: SimConfig, path: str) -> dict[str, Any]:
    """The ``lo``/``hi`` metadata of the parameter at ``path`` (a table's entries share it)."""
    parts = path.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        parent = get_path(defaults, ".".join(parts[:depth]))
        if dataclasses.is_dataclass(parent):
            return next(f.metadata for f in dataclasses.fields(parent) if f.name == parts[depth])
    return {}


def apply_change(change: str, default: float, amount: float, meta: dict[str, Any]) -> float:
    """The parameter's value for a sampled amount, kept within its allowed range."""
    value = {"add": default + amount, "multiply": default * amount, "set": amount}[change]
    low, high = meta.get("lo"), meta.get("hi")
    value = max(value, low) if low is not None else value
    value = min(value, high) if high is not None else value
    return round(value) if isinstance(default, int) else value


def sample_conditions(config: CompareConfig, defaults: SimConfig) -> pd.DataFrame:
    """One row per sampled condition, one column per parameter path (SALib's LHS via the
    engine's sampler, seeded by ``root_seed``)."""
    factors = [FactorConfig(name=u.name, range=list(u.range)) for u in config.uncertain]
    design = DesignConfig(kind="lhs", samples=config.context_samples)
    amounts = sampled_points(design, factors, config.root_seed)
    columns: dict[str, list[float]] = {}
    for i, u in enumerate(config.uncertain):
        key = f"uncertain[{i}]"
        for path in expand_paths(u, defaults, key):
            meta = allowed_range(defaults, path)
            if u.change == "set" and not (meta.get("lo", -float("inf")) <= u.range[0] and
                                          u.range[1] <= meta.get("hi", float("inf"))):
                raise ConfigError(f"{key}.range", list(u.range),
                                  f"values {describe_allowed(meta)} for {path}")
            if path in columns:
                raise ConfigError(f"{key}.paths", path, "a path used by one condition only")
            default = get_path(defaults, path)
            columns[path] = [apply_change(u.change, default, a, meta) for a in amounts[u.name]]
    return pd.DataFrame(columns)


def with_parameter_draws(conditions: pd.DataFrame, config: CompareConfig) -> pd.DataFrame:
    """The sampled conditions, each with one draw of the calibrated parameters (weighted by
    the posterior, seeded by ``root_seed``) in extra columns."""
    draws = posterior_draws(config.parameter_draws, len(conditions) or config.context_samples,
                            config.root_seed, "parameter_draws")
    both = sorted(set(draws.columns) & set(conditions.columns))
    if both:
        raise ConfigError("parameter_draws", both, "calibrated parameters that `uncertain` "
                          "does not also sample (remove them from one or the other)")
    return pd.concat([conditions.reset_index(drop=True), draws], axis=1)


def check_designs_leave_conditions(designs: dict[str, list[str]], base: list[str],
                                   paths: list[str], defaults: SimConfig) -> None:
    """A design must not set a sampled condition: the sampled value would silently win."""
    for name, overrides in designs.items():
        params = load_design_config(name, [*base, *overrides])
        for path in paths:
            if get_path(params, path) != get_path(defaults, path):
                raise ConfigError(f"design {name}", path,
                                  "settings other than the sampled conditions in compare.yaml "
                                  "`uncertain` (remove it from the design or from `uncertain`)")


def load_design_config(name: str, overrides: list[str]) -> SimConfig:
    try:
        return load_config(overrides)
    except ConfigError as err:
        raise ConfigError(f"design {name}: {err.key}", err.value, err.allowed) from None


# --- running -------------------------------------------------------------------------------

def sweep_config(config: CompareConfig, overrides: list[str], base: list[str],
                 folder: Path, metrics: list[str]) -> DictConfig:
    """The engine's config for one design (scenario ``design``) x every sampled condition."""
    cfg = load_sweep_config([])
    experiment = {
        "name": "compare", "description": "one team design",
        "base": base, "scenarios": {"design": overrides},
        "design": {"kind": "csv", "csv": CONDITIONS_FILE}
        if config.uncertain or config.parameter_draws
        else {"kind": "factorial"},
        "replications": config.replications, "root_seed": config.root_seed,
        # Seeds per condition and replicate (SEEDS): every design's sweep numbers its runs the
        # same way, so designs share each run's seed (paired), while conditions do not share
        # seeds and are independent units for the intervals. Common random numbers across
        # conditions would repeat the same few chance histories in every condition, and
        # intervals over conditions would miss that chance entirely.
        "common_random_numbers": False, "metrics": metrics,
        "record_interval_weeks": config.record_interval_weeks,
    }
    sweep = {"backend": config.backend, "workers": config.workers, "progress": config.progress,
             "output_dir": str(folder), "analyse": False}
    with open_dict(cfg):  # the scenario name is a new key of a typed dict
        cfg.experiment = OmegaConf.merge(cfg.experiment, experiment)
        cfg.sweep = OmegaConf.merge(cfg.sweep, sweep)
    return cfg


def design_key(overrides: list[str], base: list[str], conditions: pd.DataFrame,
               config: CompareConfig, metrics: list[str]) -> str:
    """What a design's results depend on, hashed: a changed design is a new result; an
    unchanged one (under any name) reuses its runs."""
    content = json.dumps({"overrides": overrides, "base": base, "seeds": SEEDS,
                          "conditions": conditions.to_csv(index=False),
                          "replications": config.replications, "root_seed": config.root_seed,
                          "record_interval_weeks": config.record_interval_weeks,
                          "metrics": metrics}, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:12]


@dataclass
class Prepared:
    """A checked comparison, ready to run: designs, their overrides, conditions and folders."""

    designs: dict[str, dict[str, Any]]  # name -> planner settings (for the report)
    overrides: dict[str, list[str]]  # name -> model overrides
    folders: dict[str, Path]  # name -> the design's own engine folder (keyed by content)
    pw_posts: dict[str, int]
    pw_hours: dict[str, float]  # mean contracted hours of a PW post
    conditions: pd.DataFrame
    uncertain: list[UncertainFactor]
    base: list[str]
    metrics: list[str]
    folder: Path
    team: str | None = None
    unsampled: list[str] = field(default_factory=list)  # conditions the team file fixes

    @property
    def n_runs(self) -> int:
        return len(self.designs) * max(len(self.conditions), 1)


def prepare(config: CompareConfig) -> Prepared:
    """Check the team file, the designs and the settings; nothing is written."""
    team = read_team_file(config.team_file) if config.team_file else None
    names = [design_name(n) for n in config.designs]
    if len(set(names)) < len(names):
        raise ConfigError("designs", list(config.designs), "each design once (file names "
                          "must differ)")
    loaded = {design_name(n): load_design(n) for n in config.designs}
    designs: dict[str, TeamDesign] = ({AS_IS: TeamDesign(description="the team file as it is")}
                                      if team else {}) | loaded
    base = [f"organisation.n_teams={config.n_teams}",
            f"organisation.horizon_weeks={config.horizon_weeks}"]
    if team:
        overrides = {n: team_design_overrides(team, d, n) for n, d in designs.items()}
        people = {n: team_people(team, d, n) for n, d in designs.items()}
        pw_posts = {n: sum(p.role == "peer_worker" for p in ps) for n, ps in people.items()}
        pw_hours = {n: mean_pw_hours(ps) for n, ps in people.items()}
        settings = {n: dataclasses.asdict(with_defaults(d, team_base(team)))
                    | {"PW posts": pw_posts[n],
                       "PW hours and days": "; ".join(
                           f"{p.fte * FULL_TIME_HOURS:g} h {day_text(p.days)}"
                           for p in people[n] if p.role == "peer_worker")}
                    for n, d in designs.items()}
    else:
        overrides = {n: design_overrides(d) for n, d in designs.items()}
        full = {n: with_defaults(d, DEFAULT_DESIGN) for n, d in designs.items()}
        pw_posts = {n: int(d.pw_posts) for n, d in full.items()}
        pw_hours = {n: float(d.pw_hours_per_week) for n, d in full.items()}
        settings = {n: dataclasses.asdict(d) for n, d in full.items()}
    for key in ("pw_days", "pw_days_include", "pw_posts", "pw_hours_per_week", "days",
                "days_include_team_meeting") if team else ("pw_days", "pw_days_include"):
        for row in settings.values():
            row.pop(key, None)
    fixed = fixed_paths(team) if team else set()
    uncertain = [u for u in config.uncertain if not set(u.paths) <= fixed]
    unsampled = [u.name for u in config.uncertain if set(u.paths) <= fixed]
    defaults = load_config(base)
    trimmed = dataclasses.replace(config, uncertain=uncertain)
    conditions = sample_conditions(trimmed, defaults) if uncertain else pd.DataFrame()
    if config.parameter_draws:
        conditions = with_parameter_draws(conditions, config)
    check_designs_leave_conditions(overrides, base, list(conditions.columns), defaults)
    folder = Path(config.output_dir or default_output_dir(names))
    # Time series of the outcomes the report draws (an empty list would mean all 25 metrics).
    metrics = [m for m in TRAJECTORY_METRICS if m in TEAM_OUTCOMES]
    folders = {n: folder / "designs" / design_key(o, base, conditions, trimmed, metrics)
               for n, o in overrides.items()}
    return Prepared(settings, overrides, folders, pw_posts, pw_hours, conditions, uncertain,
                    base, metrics, folder, config.team_file, unsampled)


def run_compare(config: CompareConfig, command: str = "python -m sim.compare",
                on_progress: Callable[[int, int], None] | None = None) -> CompareReport:
    """Check everything, run (or reuse) each design's runs, and write the report.

    ``on_progress(done, total)`` is called as each design's runs finish (for the app)."""
    prep = prepare(config)
    check_writable(prep.folder, "output_dir")
    trimmed = dataclasses.replace(config, uncertain=prep.uncertain)
    new_folder = not prep.folder.exists()
    for name in prep.unsampled:
        print(f"{name}: fixed by the team file, not sampled", file=sys.stderr)
    try:
        write_conditions(prep.folder, prep.conditions)
        per_design = max(len(prep.conditions), 1) * config.replications
        done = 0
        for name, overrides in prep.overrides.items():
            folder = prep.folders[name]
            finished = (folder / "manifest.json").is_file() and json.loads(
                (folder / "manifest.json").read_text()).get("status") == "complete"
            state = "unchanged, its runs are reused" if finished else "new or changed, running"
            print(f"{name}: {state} ({per_design} runs)", file=sys.stderr)
            outcome = run_sweep(sweep_config(trimmed, overrides, prep.base, folder,
                                             prep.metrics), base_dir=prep.folder)
            if outcome.n_failed:
                raise RunsFailed(outcome.n_failed, outcome.n_runs, folder)
            done += per_design
            if on_progress:
                on_progress(done, per_design * len(prep.overrides))
    except ConfigError:
        if new_folder:  # nothing half-written: a bad config leaves no folder behind
            shutil.rmtree(prep.folder, ignore_errors=True)
        raise
    spec = {"designs": prep.designs, "model_overrides": prep.overrides,
            "folders": {n: str(f.relative_to(prep.folder)) for n, f in prep.folders.items()},
            "pw_posts": prep.pw_posts, "pw_hours": prep.pw_hours,
            "outcomes": [dataclasses.asdict(o) for o in config.outcomes],
            "uncertain": [dataclasses.asdict(u) for u in prep.uncertain],
            "settings": {"replications": config.replications, "n_teams": config.n_teams,
                         "horizon_weeks": config.horizon_weeks, "root_seed": config.root_seed,
                         "context_samples": len(prep.conditions) or 1, "command": command,
                         "team": prep.team, "not_sampled": prep.unsampled,
                         "parameter_draws": config.parameter_draws,
                         "git_revision": git_revision()}}
    write_text(prep.folder / SPEC_FILE, json.dumps(spec, indent=1))
    return write_compare_report(prep.folder,
                                Path(config.report_dir) if config.report_dir else None)


def write_conditions(folder: Path, conditions: pd.DataFrame) -> None:
    """Save the sampled conditions (the engine's CSV design, read by every design's sweep).
    Each design's results are keyed by the conditions too, so new ones are simply new runs."""
    path = folder / CONDITIONS_FILE
    if conditions.empty:
        return
    write_text_if_changed(path, conditions.to_csv(index=False))


class RunsFailed(RuntimeError):
    def __init__(self, failed: int, total: int, tables: Path) -> None:
        super().__init__(f"{failed} of {total} runs failed; tracebacks in the 'error' column of "
                         f"{tables / 'runs'} and in {tables / 'manifest.json'}")


# --- command line --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["template"]:
        return exit_status(lambda: template(args[1:]))
    if asks_hydra(args):
        return hydra_answers("compare", args)
    return exit_status(lambda: compare(args))


def template(args: list[str]) -> int:
    """``python -m sim.compare template my_team.xlsx``: write a team-file template."""
    if len(args) != 1:
        raise ConfigError("template", args, "one file name ending in .xlsx or .csv")
    if Path(args[0]).exists():
        raise ConfigError("template", args[0], "a file that does not exist yet (not "
                          "overwritten)")
    path = write_template(args[0])
    print(f"wrote {path}: replace the example rows with your team, then run\n"
          f"  python -m sim.compare team_file={path} designs=[my_change.yaml]")
    return 0


def compare(args: list[str]) -> int:
    try:
        report = run_compare(load_compare_config(args),
                             " ".join(["python -m sim.compare", *args]))
    except RunsFailed as err:
        print(f"error: {err}; fix the cause and run into a new output_dir", file=sys.stderr)
        return 1
    print("\n".join(report.summary))
    print(f"report: {report.folder / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
