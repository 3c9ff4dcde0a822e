"""The typed configuration schema, and composing it from ``conf/`` with Hydra.

``SimConfig`` is the structured-config schema behind ``conf/config.yaml``: one field per config
group, each the params dataclass of its rule module. Hydra rejects unknown keys and wrong types
while composing; :func:`to_params` then checks ranges and choices (``sim.params.validate``).
The model never sees a ``DictConfig``: it takes a ``SimConfig``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    OmegaConfBaseException,
)

from sim.params import ConfigError, describe_allowed, param, validate
from sim.rules.boundaries import BoundariesParams
from sim.rules.context import ContextParams
from sim.rules.meetings import MeetingsParams
from sim.rules.recruitment import RecruitmentParams
from sim.rules.service_users import ServiceUsersParams
from sim.rules.supervision import SupervisionParams
from sim.rules.wellbeing import WellbeingParams
from sim.rules.working_patterns import WorkingPatternsParams
from sim.schedule import ScheduleParams
from sim.team import OrganisationParams, TeamParams

#: The Hydra configs: the copy an installed wheel ships as ``sim/conf`` (setup.py), else the
#: checkout's ``conf/`` (editable install, tests).
PACKAGE_DIR = Path(__file__).resolve().parent
_SHIPPED_CONF = PACKAGE_DIR / "conf"
CONF_DIR = _SHIPPED_CONF if _SHIPPED_CONF.is_dir() else PACKAGE_DIR.parent / "conf"


@dataclass
class OutputParams:
    record_interval_weeks: int = param(1, lo=1, hi=520, doc="weeks between time-series rows")
    agent_interval_weeks: int = param(52, lo=1, hi=5200,
                                      doc="weeks between per-agent snapshots (and the last week)")
    dashboard: bool = param(True, doc="draw the dashboard PNG")
    print_summary: bool = param(True, doc="print the summary table")


@dataclass
class SimConfig:
    seed: int = param(42, lo=0, hi=2**63 - 1, doc="root seed of the run")
    scenario_name: str = param("default", doc="label of the scenario preset")
    organisation: OrganisationParams = field(default_factory=OrganisationParams)
    team: TeamParams = field(default_factory=TeamParams)
    recruitment: RecruitmentParams = field(default_factory=RecruitmentParams)
    working_patterns: WorkingPatternsParams = field(default_factory=WorkingPatternsParams)
    meetings: MeetingsParams = field(default_factory=MeetingsParams)
    supervision: SupervisionParams = field(default_factory=SupervisionParams)
    boundaries: BoundariesParams = field(default_factory=BoundariesParams)
    wellbeing: WellbeingParams = field(default_factory=WellbeingParams)
    service_users: ServiceUsersParams = field(default_factory=ServiceUsersParams)
    context: ContextParams = field(default_factory=ContextParams)
    output: OutputParams = field(default_factory=OutputParams)
    schedule: ScheduleParams = field(default_factory=ScheduleParams)


ConfigStore.instance().store(name="sim_schema", node=SimConfig)


def to_params(cfg: DictConfig | dict[str, Any]) -> SimConfig:
    """Turn a composed config into a validated ``SimConfig`` (raises ``ConfigError``)."""
    try:
        container = (OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig)
                     else cfg)
    except OmegaConfBaseException as err:
        raise _config_error(err) from None
    _reject_unknown_keys(container, SimConfig, "")
    try:
        params = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimConfig), cfg))
    except OmegaConfBaseException as err:
        raise _config_error(err) from None
    validate(params)
    return params


def _reject_unknown_keys(values: Any, schema: type, prefix: str) -> None:
    """Hydra's ``+key=value`` can add keys the schema does not have; refuse them by name.

    Booleans too: OmegaConf reads ``2`` or ``"yes"`` into a bool field as true; only true and
    false are accepted."""
    if not isinstance(values, dict):
        return
    fields = {f.name: f for f in dataclasses.fields(schema)}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{prefix}{key}", value, "keys of " + (prefix.rstrip(".") or
                              "the top level") + ": " + ", ".join(fields))
        if fields[key].type in (bool, "bool") and not isinstance(value, bool):
            raise ConfigError(f"{prefix}{key}", value, "true or false")
        if dataclasses.is_dataclass(fields[key].default_factory):
            _reject_unknown_keys(value, fields[key].default_factory, f"{prefix}{key}.")


def _config_error(err: Exception) -> ConfigError:
    """One clear message from an OmegaConf error: key, value and what is allowed."""
    key = getattr(err, "full_key", None) or "?"
    if isinstance(err, InterpolationResolutionError):
        return ConfigError(key, "(interpolation)", "a value, or an interpolation that "
                           f"resolves: {str(err).splitlines()[0]}")
    *parents, name = key.split(".")
    parent: Any = SimConfig()
    for part in parents:
        parent = getattr(parent, part, None)
    if isinstance(err, (ConfigKeyError, ConfigAttributeError)):
        known = vars(parent) if dataclasses.is_dataclass(parent) else parent or {}
        return ConfigError(key, "(unknown key)", "keys: " + ", ".join(known))
    field_ = {f.name: f for f in dataclasses.fields(parent)}.get(name) \
        if dataclasses.is_dataclass(parent) else None
    if field_ is not None:
        kind = getattr(field_.type, "__name__", str(field_.type))
        return ConfigError(key, getattr(err, "value", "?"), f"a value of type {kind}"
                           + (f", {describe_allowed(field_.metadata)}"
                              if describe_allowed(field_.metadata) else ""))
    return ConfigError(key, getattr(err, "value", "?"), str(err).splitlines()[0])


def yaml_error(err: yaml.YAMLError | UnicodeDecodeError, path: Path | None = None) -> ConfigError:
    """One message for a YAML file that does not parse (malformed, a key twice, binary): the
    file, the line and the problem."""
    mark = getattr(err, "problem_mark", None)
    name = path or getattr(mark, "name", None) or getattr(err, "name", None) or "a config file"
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = (getattr(err, "problem", None) or getattr(err, "reason", None)
               or str(err).splitlines()[0])
    return ConfigError(str(name), f"{where}{problem}", "a well-formed YAML file, each key once")


def _composition_error(err: HydraException, overrides: list[str]) -> ConfigError:
    """A clear message for a failed composition: bad group option, unknown key, bad type."""
    cause = err.__cause__ or err.__context__  # a bad key or type inside a config file
    if isinstance(cause, OmegaConfBaseException):
        return _config_error(cause)
    text = str(err)
    missing = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        return ConfigError(group.replace("/", "."), option, "one of " + ", ".join(options))
    return ConfigError("overrides", overrides, text.splitlines()[0])


def check_override_values(overrides: list[str]) -> None:
    """``key=value`` overrides of a boolean parameter give true or false, nothing else
    (composing would read ``context.peer_network=2`` as true); a table (per profession or
    sector) is not set to ``{}`` (Hydra merges tables, so that would change nothing)."""
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        node: Any = SimConfig
        field_ = None
        for part in key.split("."):
            fields = ({f.name: f for f in dataclasses.fields(node)}
                      if dataclasses.is_dataclass(node) else {})
            field_ = fields.get(part)
            if field_ is None:
                break
            node = field_.default_factory if dataclasses.is_dataclass(
                field_.default_factory) else None
        if (sep and field_ is not None and field_.type in (bool, "bool")
                and value.strip().lower() not in ("true", "false")):
            raise ConfigError(key, value, "true or false")
        if sep and field_ is not None and str(field_.type).startswith("dict") \
                and value.strip() == "{}":
            raise ConfigError(key, value, "a table with at least one entry ({} would leave "
                              f"the defaults unchanged); set entries one by one: {key}.NAME=...")


def load_config(overrides: list[str] | None = None) -> SimConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides and validate it.

    Used by tests, notebooks and the pre-flight check of ``python -m sim.run``.
    """
    check_override_values(list(overrides or []))
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides or []))
    except yaml.YAMLError as err:
        raise yaml_error(err) from None
    except OmegaConfBaseException as err:
        raise _config_error(err) from None
    except HydraException as err:
        raise _composition_error(err, list(overrides or [])) from None
    return to_params(cfg)
