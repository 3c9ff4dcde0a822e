"""Compare team designs: ``python -m sim.compare designs=[current,proposal_good_practice]``.

A *design* (``conf/design/<name>.yaml``) says in a planner's terms how PW posts are set up:
how many, what hours, fixed or flexible days, recruitment, supervision, training, a
co-produced role definition, a peer network, pay. Each design is mapped to model overrides and
run by the experiment engine in every one of ``context_samples`` conditions (a Latin
hypercube over ``uncertain``: team culture, staff attitudes, turnover pressure, ...) with
``replications`` seeds; every design sees the same conditions and seeds. The report
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
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.analysis.compare_report import (
    BETTER,
    SPEC_FILE,
    SWEEP_DIR,
    CompareReport,
    OutcomeSpec,
    write_compare_report,
)
from sim.config import CONF_DIR, SimConfig, load_config
from sim.metrics import TEAM_OUTCOMES
from sim.output import git_revision, write_text
from sim.params import ConfigError, describe_allowed
from sim.sweep.cli import asks_hydra, exit_status, hydra_answers
from sim.sweep.design import sampled_points
from sim.sweep.engine import load_sweep_config, omegaconf_error, run_sweep
from sim.sweep.plan import get_path
from sim.sweep.schema import BACKENDS, PROGRESS_MODES, DesignConfig, FactorConfig

DESIGN_DIR = CONF_DIR / "design"
FULL_TIME_HOURS = 37.5  # working_patterns.fte = hours / 37.5
#: Per-run summaries (sim.metrics.Recorder.summary) that can be ranked besides TEAM_OUTCOMES.
RUN_SUMMARIES = ("pw_turnover_per_year", "staff_turnover_per_year", "user_admissions_per_year")
CHANGES = ("add", "multiply", "set")
CONDITIONS_FILE = "conditions.csv"


@dataclass
class TeamDesign:
    """A team design in planner terms; every key maps to one model setting (``overrides``)."""

    description: str = ""
    pw_posts: int = 2  # PW posts per team -> team.n_peer_workers
    pw_hours_per_week: float = 15.0  # -> working_patterns.fte = hours / 37.5
    days: str = "fixed"  # fixed | flexible -> working_patterns.days
    days_include_team_meeting: bool = True  # fixed days include the meeting day
    recruitment: str = "formal"  # formal | informal -> recruitment group
    supervisor: str = "clinical"  # clinical | mixed | peer -> supervision group
    boundary_focus: str | None = None  # protective | personal; null: the supervisor's usual
    supervision_every_weeks: int = 4  # -> supervision.interval_weeks
    training: str = "conventional"  # conventional | peer -> supervision.training_content
    training_sessions: int = 8
    whole_team_training: bool = False  # staff trained about the PW role at the start
    coproduced_role_definition: bool = False  # -> boundaries.coproduced_role_definition
    peer_network: bool = False  # cross-team PW network -> context.peer_network
    paid: bool = True  # -> working_patterns.paid
    sector: str = "nhs"  # nhs | voluntary | partnership -> context group
    overrides: list[str] = field(default_factory=list)  # any other model override, last


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
    designs: list[str] = field(default_factory=list)  # conf/design/ names; first = reference
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


ConfigStore.instance().store(name="compare_schema", node=CompareConfig)


# --- designs -------------------------------------------------------------------------------

def available_designs() -> list[str]:
    return sorted(p.stem for p in DESIGN_DIR.glob("*.yaml"))


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def load_design(name: str, folder: Path = DESIGN_DIR) -> TeamDesign:
    """Read and check ``<folder>/<name>.yaml`` against :class:`TeamDesign`."""
    path = folder / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError("designs", name, "design names (files in conf/design/): "
                          + ", ".join(available_designs()))
    try:
        node = OmegaConf.merge(OmegaConf.structured(TeamDesign), OmegaConf.load(path))
        design: TeamDesign = OmegaConf.to_object(node)
    except OmegaConfBaseException as err:
        raise ConfigError(f"design {name}: {getattr(err, 'full_key', '?')}",
                          getattr(err, "value", "(unknown key)"),
                          "keys: " + ", ".join(f.name for f in dataclasses.fields(TeamDesign))
                          if str(err).startswith("Key '") else str(err).splitlines()[0]) from None
    check_design(name, design)
    return design


def check_design(name: str, design: TeamDesign) -> None:
    """Choices and ranges in planner terms (the model checks the rest when the plan is built)."""
    choices = {"days": ["fixed", "flexible"], "recruitment": group_options("recruitment"),
               "supervisor": group_options("supervision"), "training": ["conventional", "peer"],
               "sector": group_options("context")}
    for key, allowed in choices.items():
        if getattr(design, key) not in allowed:
            raise ConfigError(f"design {name}: {key}", getattr(design, key),
                              "one of " + ", ".join(allowed))
    if design.boundary_focus not in (None, "protective", "personal"):
        raise ConfigError(f"design {name}: boundary_focus", design.boundary_focus,
                          "protective, personal or null (the supervisor's usual)")
    if not 1 <= design.pw_posts <= 10:
        raise ConfigError(f"design {name}: pw_posts", design.pw_posts, "an integer in [1, 10]")
    low = 0.05 * FULL_TIME_HOURS  # working_patterns.fte >= 0.05
    if not low <= design.pw_hours_per_week <= FULL_TIME_HOURS:
        raise ConfigError(f"design {name}: pw_hours_per_week", design.pw_hours_per_week,
                          f"a number in [{low:g}, {FULL_TIME_HOURS:g}] ({FULL_TIME_HOURS:g} "
                          "hours = full time)")


def design_overrides(design: TeamDesign) -> list[str]:
    """Model overrides of a design: group choices first, then values (values win)."""
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


# --- the comparison's config ---------------------------------------------------------------

def load_compare_config(overrides: list[str]) -> CompareConfig:
    """Compose ``conf/compare.yaml`` with overrides against the typed schema and check it."""
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="compare", overrides=list(overrides))
        config: CompareConfig = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    except HydraException as err:
        if isinstance(err.__cause__, OmegaConfBaseException):
            raise omegaconf_error(err.__cause__) from None
        raise ConfigError("overrides", list(overrides), str(err).splitlines()[0]) from None
    check_settings(config)
    return config


def check_settings(config: CompareConfig) -> None:
    if len(config.designs) < 2:
        raise ConfigError("designs", list(config.designs),
                          "two or more of: " + ", ".join(available_designs()))
    if len(set(config.designs)) < len(config.designs):
        raise ConfigError("designs", list(config.designs), "each design once")
    for key in ("replications", "context_samples", "n_teams", "horizon_weeks",
                "record_interval_weeks", "workers"):
        if getattr(config, key) < 1:
            raise ConfigError(key, getattr(config, key), "an integer >= 1")
    if config.backend not in BACKENDS:
        raise ConfigError("backend", config.backend, "one of " + ", ".join(BACKENDS))
    if config.progress not in PROGRESS_MODES:
        raise ConfigError("progress", config.progress, "one of " + ", ".join(PROGRESS_MODES))
    if not config.outcomes:
        raise ConfigError("outcomes", [], "at least one outcome")
    rankable = [*TEAM_OUTCOMES, *RUN_SUMMARIES]
    for i, o in enumerate(config.outcomes):
        if o.name not in rankable:
            raise ConfigError(f"outcomes[{i}].name", o.name, "one of " + ", ".join(rankable))
        if o.better not in BETTER:
            raise ConfigError(f"outcomes[{i}].better", o.better, "one of " + ", ".join(BETTER))
        if o.tolerance < 0:
            raise ConfigError(f"outcomes[{i}].tolerance", o.tolerance, "a number >= 0")
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

def sweep_config(config: CompareConfig, designs: dict[str, list[str]], base: list[str],
                 folder: Path, metrics: list[str]) -> DictConfig:
    """The engine's config: every design (a named scenario) x every sampled condition."""
    cfg = load_sweep_config([])
    experiment = {
        "name": "compare", "description": "team designs: " + ", ".join(designs),
        "base": base, "scenarios": designs,
        "design": {"kind": "csv", "csv": CONDITIONS_FILE} if config.uncertain
        else {"kind": "factorial"},
        "replications": config.replications, "root_seed": config.root_seed,
        "common_random_numbers": True, "metrics": metrics,
        "record_interval_weeks": config.record_interval_weeks,
    }
    sweep = {"backend": config.backend, "workers": config.workers, "progress": config.progress,
             "output_dir": str(folder / SWEEP_DIR), "analyse": False}
    with open_dict(cfg):  # design names are new keys of a typed dict
        cfg.experiment = OmegaConf.merge(cfg.experiment, experiment)
        cfg.sweep = OmegaConf.merge(cfg.sweep, sweep)
    return cfg


def run_compare(config: CompareConfig, command: str = "python -m sim.compare") -> CompareReport:
    """Check everything, run (or resume) the comparison, and write the report."""
    designs = {name: load_design(name) for name in config.designs}
    overrides = {name: design_overrides(d) for name, d in designs.items()}
    base = [f"organisation.n_teams={config.n_teams}",
            f"organisation.horizon_weeks={config.horizon_weeks}"]
    defaults = load_config(base)
    conditions = sample_conditions(config, defaults) if config.uncertain else pd.DataFrame()
    check_designs_leave_conditions(overrides, base, list(conditions.columns), defaults)
    folder = Path(config.output_dir or default_output_dir(config.designs))
    # Time series of the ranked outcomes only (an empty list would mean all 25 metrics).
    metrics = [o.name for o in config.outcomes if o.name in TEAM_OUTCOMES] or ["pw_in_post"]
    new_folder = not folder.exists()
    try:
        write_conditions(folder, conditions)
        outcome = run_sweep(sweep_config(config, overrides, base, folder, metrics),
                            base_dir=folder)
    except ConfigError:
        if new_folder:  # nothing half-written: a bad config leaves no folder behind
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if outcome.n_failed:
        raise RunsFailed(outcome.n_failed, outcome.n_runs, folder / SWEEP_DIR)
    spec = {"designs": {name: dataclasses.asdict(d) for name, d in designs.items()},
            "model_overrides": overrides,
            "outcomes": [dataclasses.asdict(o) for o in config.outcomes],
            "uncertain": [dataclasses.asdict(u) for u in config.uncertain],
            "settings": {"replications": config.replications, "n_teams": config.n_teams,
                         "horizon_weeks": config.horizon_weeks, "root_seed": config.root_seed,
                         "context_samples": config.context_samples, "command": command,
                         "git_revision": git_revision()}}
    write_text(folder / SPEC_FILE, json.dumps(spec, indent=1))
    return write_compare_report(folder, Path(config.report_dir) if config.report_dir else None)


def write_conditions(folder: Path, conditions: pd.DataFrame) -> None:
    """Save the sampled conditions (the engine's CSV design); refuse a folder holding others."""
    if conditions.empty:
        return
    path = folder / CONDITIONS_FILE
    text = conditions.to_csv(index=False)
    if path.is_file() and path.read_text() != text:
        raise ConfigError("output_dir", str(folder),
                          "a new folder or one holding this comparison (its sampled conditions "
                          "differ); choose another output_dir")
    if not path.is_file():
        write_text(path, text)


class RunsFailed(RuntimeError):
    def __init__(self, failed: int, total: int, tables: Path) -> None:
        super().__init__(f"{failed} of {total} runs failed; tracebacks in the 'error' column of "
                         f"{tables / 'runs'} and in {tables / 'manifest.json'}")


# --- command line --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if asks_hydra(args):
        return hydra_answers("compare", args)
    return exit_status(lambda: compare(args))


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
