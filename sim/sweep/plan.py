"""From an experiment config to the validated parameters of every point, before anything runs.

A factor is either a config group of ``conf/`` (``recruitment``, ``supervision``, ``scenario``;
its levels are option names) or the dotted path of a parameter (``team.caseload``,
``supervision.support.peer``). The base overrides plus each distinct combination of group
levels are composed with Hydra once; parameter values are then set on the composed
``SimConfig`` and checked by ``sim.params.validate``. Any problem raises ``ConfigError`` naming
the key, the value and what is allowed, and nothing has been written yet.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import CONF_DIR, SimConfig, load_config
from sim.metrics import TEAM_OUTCOMES
from sim.output import model_fingerprint
from sim.params import ConfigError, validate
from sim.sweep.design import SCENARIO_COLUMN, design_points
from sim.sweep.runner import OutputSpec, Point, RunSpec, import_model
from sim.sweep.schema import ExperimentConfig
from sim.sweep.seeds import run_seed

SAMPLED_DESIGNS = ("lhs", "sobol", "morris")


@dataclass(frozen=True)
class Plan:
    experiment: ExperimentConfig
    points: list[Point]
    output: OutputSpec
    experiment_hash: str
    model_fingerprint: str  # sim.output.model_fingerprint: the code that makes the runs

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.experiment.replications

    def run_spec(self, run_id: int) -> RunSpec:
        exp = self.experiment
        point_id, replicate = divmod(run_id, exp.replications)
        seed = run_seed(exp.root_seed, run_id, exp.replications, exp.common_random_numbers)
        return RunSpec(run_id, point_id, replicate, seed)

    def points_table(self) -> pd.DataFrame:
        rows = [{"point_id": p.point_id, "scenario": p.scenario, **p.values}
                for p in self.points]
        return pd.DataFrame(rows)


def build_plan(experiment: ExperimentConfig, base_dir: Path) -> Plan:
    """Check the experiment and build every point's parameters (raises ``ConfigError``)."""
    check_experiment(experiment)
    table = design_points(experiment, base_dir)
    factors = [c for c in table.columns if c != SCENARIO_COLUMN]
    for i, name in enumerate(factors):
        check_factor_path(i, name, table[name].tolist())
    for i, factor in enumerate(experiment.factors):
        if factor.range is not None and not is_group(factor.name):
            check_range(i, factor.name, list(factor.range), compose(experiment.base, ()))
    rounded = experiment.design.kind in SAMPLED_DESIGNS
    composed: dict[tuple[str, ...], SimConfig] = {}
    points = []
    for scenario, overrides in (experiment.scenarios or {"": []}).items():
        for row_index, row in enumerate(table.to_dict("records")):
            values = {name: plain(row[name]) for name in factors}
            groups = tuple(f"{name}={value}" for name, value in values.items() if is_group(name))
            key = (*overrides, *groups)
            if key not in composed:
                composed[key] = compose([*experiment.base, *overrides], groups)
            params = composed[key]
            for factor, value in values.items():
                if not is_group(factor):
                    params = set_path(params, factor, value, rounded)
                    values[factor] = get_path(params, factor)
            label = scenario or row.get(SCENARIO_COLUMN) or scenario_label(values,
                                                                       experiment.name)
            if experiment.scenarios:
                values = {"design_point": row_index, **values}
            point_id = len(points)
            check_point(params, point_id, str(label))
            points.append(Point(point_id, str(label), values, params))
    reference = experiment.analysis.reference
    if reference and reference not in {p.scenario for p in points}:
        raise ConfigError("experiment.analysis.reference", reference,
                          "a scenario label: " + ", ".join(dict.fromkeys(p.scenario
                                                                         for p in points)))
    output = OutputSpec(experiment.model, tuple(experiment.metrics or TEAM_OUTCOMES),
                        experiment.record_interval_weeks)
    model_file = inspect.getsourcefile(import_model(experiment.model))
    return Plan(experiment, points, output, experiment_hash(experiment, points),
                model_fingerprint(*([model_file] if model_file else [])))


def check_experiment(experiment: ExperimentConfig) -> None:
    if not experiment.name:
        raise ConfigError("experiment", None, "+experiment=NAME with NAME one of: "
                          + ", ".join(available_experiments()))
    if experiment.replications < 1:
        raise ConfigError("experiment.replications", experiment.replications, "an integer >= 1")
    if experiment.record_interval_weeks < 1:
        raise ConfigError("experiment.record_interval_weeks", experiment.record_interval_weeks,
                          "an integer >= 1")
    if experiment.root_seed < 0:
        raise ConfigError("experiment.root_seed", experiment.root_seed, "an integer >= 0")
    unknown = [m for m in experiment.metrics if m not in TEAM_OUTCOMES]
    if unknown:
        raise ConfigError("experiment.metrics", unknown,
                          "names from sim.metrics.TEAM_OUTCOMES: " + ", ".join(TEAM_OUTCOMES))
    half_width = experiment.analysis.ci_half_width
    if not math.isfinite(half_width) or half_width <= 0:
        raise ConfigError("experiment.analysis.ci_half_width", half_width, "a number > 0")
    recorded = experiment.metrics or list(TEAM_OUTCOMES)
    missing = [m for m in experiment.analysis.outcomes if m not in recorded]
    if missing:
        raise ConfigError("experiment.analysis.outcomes", missing,
                          "recorded metrics: " + ", ".join(recorded))
    try:
        import_model(experiment.model)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError("experiment.model", experiment.model,
                          f"an importable 'module.Class' ({err})") from None


def available_experiments() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


def is_group(name: str) -> bool:
    """A config group of ``conf/`` (chosen by option name), not a parameter path."""
    return "." not in name and (CONF_DIR / name).is_dir()


def check_factor_path(i: int, name: str, levels: list[Any]) -> None:
    """The factor names a config group with these options, or an existing parameter."""
    key = f"experiment.factors[{i}]"
    if is_group(name):
        options = sorted(p.stem for p in (CONF_DIR / name).glob("*.yaml"))
        for level in levels:
            if level not in options:
                raise ConfigError(f"{key}.levels", level,
                                  f"options of config group {name!r}: " + ", ".join(options))
        return
    node: Any = SimConfig()
    for depth, part in enumerate(name.split(".")):
        keys = list(node) if isinstance(node, dict) else (
            [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else [])
        if part not in keys:
            where = ".".join(name.split(".")[:depth]) or "the config"
            groups = sorted(p.name for p in CONF_DIR.iterdir()
                            if p.is_dir() and p.name != "experiment")
            raise ConfigError(f"{key}.name", name,
                              f"a config group ({', '.join(groups)}) or a parameter path; "
                              f"keys of {where}: {', '.join(keys)}")
        node = node[part] if isinstance(node, dict) else getattr(node, part)


def check_range(i: int, name: str, bounds: list[float], params: SimConfig) -> None:
    """Both ends of a sampled range are allowed values of the parameter (checked before any
    point is sampled, so the message names the range, not a sampled point)."""
    for bound in bounds:
        try:
            validate(set_path(params, name, bound, rounded=True))
        except ConfigError as err:
            raise ConfigError(f"experiment.factors[{i}].range", bounds,
                              f"a range within the allowed values of {name}: {err.allowed}") \
                from None


def compose(base: list[str], groups: tuple[str, ...]) -> SimConfig:
    try:
        return load_config([*base, *groups])
    except ConfigError as err:
        raise ConfigError(f"experiment.base/{err.key}", err.value, err.allowed) from None


def get_path(params: Any, name: str) -> Any:
    for part in name.split("."):
        params = params[part] if isinstance(params, dict) else getattr(params, part)
    return params


def set_path(params: Any, name: str, value: Any, rounded: bool, parents: str = "") -> Any:
    """A copy of ``params`` with the value at dotted ``name`` replaced (parents copied too)."""
    head, _, rest = name.partition(".")
    current = params[head] if isinstance(params, dict) else getattr(params, head)
    new = (set_path(current, rest, value, rounded, f"{parents}{head}.") if rest
           else coerce(parents + name, current, value, rounded))
    if isinstance(params, dict):
        return {**params, head: new}
    return dataclasses.replace(params, **{head: new})


def coerce(name: str, current: Any, value: Any, rounded: bool) -> Any:
    """``value`` with the type of the parameter it replaces (integers rounded if sampled)."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(name, value, "true or false")
        return value
    if isinstance(current, int):
        if isinstance(value, float) and (rounded or value.is_integer()):
            return int(round(value))
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(name, value, "an integer")
        return value
    if isinstance(current, float):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(name, value, "a number")
        return float(value)
    if isinstance(current, str) and not isinstance(value, str):
        raise ConfigError(name, value, "a string")
    return value


def check_point(params: SimConfig, point_id: int, label: str) -> None:
    try:
        validate(params)
    except ConfigError as err:
        raise ConfigError(err.key, err.value, f"{err.allowed} (point {point_id}: {label})") \
            from None


def plain(value: Any) -> Any:
    """A Python scalar from a numpy or pandas scalar."""
    return value.item() if hasattr(value, "item") else value


def scenario_label(values: dict[str, Any], experiment_name: str) -> str:
    if not values:
        return experiment_name
    return " ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                    for name, value in values.items())


def experiment_hash(experiment: ExperimentConfig, points: list[Point]) -> str:
    """Hash of what determines the results: the experiment (not its analysis) and every point's
    resolved parameters, so a change in conf/ is caught when a sweep is resumed."""
    spec = dataclasses.asdict(experiment)
    for key in ("description", "analysis"):
        spec.pop(key)
    spec["points"] = [dataclasses.asdict(p.params) for p in points]
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
