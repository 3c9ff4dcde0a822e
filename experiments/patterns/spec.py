"""The pattern experiment's definition (``patterns.yaml``), typed and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from experiments.patterns.robustness import RobustnessSpec, load_robustness
from sim.params import ConfigError

SPEC_PATH = Path(__file__).with_name("patterns.yaml")
STATISTICS = ("difference", "level", "windows", "equivalence", "smd", "ratio", "odds_ratio")
DIRECTIONS = ("greater", "less")
ROLES = ("validation", "calibration")
KINDS = ("mechanism", "parameter")


@dataclass(frozen=True)
class Comparison:
    id: str
    title: str
    claim: str
    source: str
    statistic: str
    scenario: str = ""
    reference: str = ""
    outcome: str = ""
    second_outcome: str = ""
    weeks: tuple[int, int] = (0, 0)
    late_weeks: tuple[int, int] = (0, 0)
    direction: str = "greater"
    threshold: float = 0.0
    margin: float = 0.0
    size: tuple[float, float] | None = None
    role: str = "validation"  # calibration: a value or rule was changed to obtain it (ODD 8)

    @property
    def scenarios(self) -> list[str]:
        """The scenarios this comparison reads (all of them for a pooled statistic)."""
        return [s for s in (self.scenario, self.reference) if s]


@dataclass(frozen=True)
class Size:
    replications: int
    n_teams: int
    robustness_samples: int
    robustness_replications: int
    attribution_replications: int = 0


@dataclass(frozen=True)
class Knockout:
    """One mechanism switched off, or one sign-setting input set to its neutral value."""

    name: str
    kind: str  # mechanism or parameter
    what: str
    overrides: tuple[str, ...]
    family: str = ""  # the rule it switches off (a step and its terms); "" = its own name

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, "family", self.name)


@dataclass(frozen=True)
class PatternSpec:
    scenarios: dict[str, list[str]]
    comparisons: list[Comparison]
    robustness: RobustnessSpec
    sizes: dict[str, Size] = field(default_factory=dict)
    knockouts: list[Knockout] = field(default_factory=list)
    #: A knock-out whose CI reaches within this share of the defaults' effect removes it.
    negligible_share: float = 0.1


def load_spec(path: Path = SPEC_PATH) -> PatternSpec:
    """Read and check ``patterns.yaml`` (raises ``ConfigError`` naming the bad entry)."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    scenarios = {name: list(overrides or []) for name, overrides in raw["scenarios"].items()}
    comparisons = []
    for i, entry in enumerate(raw["comparisons"]):
        entry = dict(entry)
        for key in ("weeks", "late_weeks", "size"):
            if key in entry:
                entry[key] = tuple(entry[key])
        try:
            comparison = Comparison(**entry)
        except TypeError as err:
            raise ConfigError(f"comparisons[{i}]", entry, str(err)) from None
        check(comparison, i, scenarios)
        comparisons.append(comparison)
    return PatternSpec(scenarios, comparisons, load_robustness(raw.get("robustness") or {}),
                       {name: Size(**size) for name, size in raw.get("sizes", {}).items()},
                       _knockouts(raw.get("attribution", {})),
                       _negligible_share(raw.get("attribution", {})))


def _knockouts(raw: dict[str, Any]) -> list[Knockout]:
    """``attribution: {mechanisms: {name: {what, overrides}}, parameters: {...}}``."""
    knockouts = []
    for section, kind in (("mechanisms", "mechanism"), ("parameters", "parameter")):
        for name, entry in (raw.get(section) or {}).items():
            if not entry.get("overrides"):
                raise ConfigError(f"attribution.{section}.{name}.overrides",
                                  entry.get("overrides"), "a non-empty list of overrides")
            knockouts.append(Knockout(name, kind, str(entry.get("what", "")),
                                      tuple(entry["overrides"]), str(entry.get("family", ""))))
    return knockouts


def _negligible_share(raw: dict[str, Any]) -> float:
    share = raw.get("negligible_share", PatternSpec.negligible_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise ConfigError("attribution.negligible_share", share, "a share from 0 up to 1")
    return float(share)


def check(comparison: Comparison, i: int, scenarios: dict[str, list[str]]) -> None:
    key = f"comparisons[{i}]"
    if comparison.statistic not in STATISTICS:
        raise ConfigError(f"{key}.statistic", comparison.statistic, "one of " +
                          ", ".join(STATISTICS))
    if comparison.role not in ROLES:
        raise ConfigError(f"{key}.role", comparison.role, "one of " + ", ".join(ROLES))
    if comparison.direction not in DIRECTIONS:
        raise ConfigError(f"{key}.direction", comparison.direction, "greater or less")
    for name in comparison.scenarios:
        if name not in scenarios:
            raise ConfigError(f"{key}.scenario", name, "one of " + ", ".join(scenarios))
