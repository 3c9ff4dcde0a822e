"""Robustness that can fail: every assumption over its full elicited range, every rule form.

The robustness sample (``patterns.yaml`` ``robustness:``) covers every numeric parameter whose
source is an assumption or a calibration (``sim.params``), sign-setting values included, plus
every rival rule form (each ``*_form`` choice). A parameter takes the range ``ranges:`` gives it,
with its reason, or else the default rule: from ``low_factor`` to ``high_factor`` times its
default (inside its allowed range). Structural values (team size, horizon, output) are listed
under ``exclude:`` with their reason. The ranges are documented in ODD section 8.2
(``docs/ODD.md``), and a test keeps that table in step with this sample.

The points are a Latin hypercube over the ranges (SciPy's ``qmc.LatinHypercube``, seeded) with
every form balanced over the samples (each form's choices repeated and shuffled), written as a
CSV design for the experiment engine.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.config import SimConfig
from sim.output import write_text_if_changed
from sim.params import ConfigError

SOURCES_SAMPLED = ("assumption", "calibrated")


@dataclass(frozen=True)
class Range:
    """One sampled parameter: its range, why, and whether it can set a comparison's sign."""

    name: str
    low: float
    high: float
    reason: str
    default: float
    integer: bool = False
    sets_sign: bool = False


@dataclass(frozen=True)
class Form:
    """One rule family's rival forms, sampled with equal shares."""

    name: str
    choices: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class RobustnessSpec:
    ranges: list[Range]
    forms: list[Form]


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, Any, dict[str, Any]]]:
    """(dotted name, default, metadata) of every leaf parameter; dict tables expanded by key."""
    leaves = []
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(
                f.default_factory):
            leaves += _leaves(f.default_factory, name + ".")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, dict):
            leaves += [(f"{name}.{key}", value, dict(f.metadata)) for key, value in
                       default.items()]
        else:
            leaves.append((name, default, dict(f.metadata)))
    return leaves


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_robustness(raw: dict[str, Any], where: str = "robustness") -> RobustnessSpec:
    """The sample's ranges and forms from the ``robustness:`` section (``ConfigError`` naming
    the entry for an unknown parameter, a range outside the allowed one, or a parameter that
    needs an explicit range)."""
    rule = raw.get("default_rule") or {}
    low_factor, high_factor = float(rule.get("low_factor", 0.5)), float(rule.get("high_factor",
                                                                               2.0))
    rule_reason = str(rule.get("reason", ""))
    explicit: dict[str, dict[str, Any]] = dict(raw.get("ranges") or {})
    excluded: dict[str, str] = dict(raw.get("exclude") or {})
    leaves = {name: (default, meta) for name, default, meta in _leaves(SimConfig)}
    for name in [*explicit, *excluded]:
        if name not in leaves:
            section = "ranges" if name in explicit else "exclude"
            raise ConfigError(f"{where}.{section}.{name}", name,
                              "a parameter of the model (docs/params.md)")
    ranges, forms = [], []
    for name, (default, meta) in leaves.items():
        if name in excluded:
            continue
        if meta.get("choices") and name.endswith("_form"):
            forms.append(Form(name, tuple(meta["choices"]), str(default)))
            continue
        source = str(meta.get("source", "")).lower()
        if not _numeric(default) or (name not in explicit and
                                     not any(s in source for s in SOURCES_SAMPLED)):
            continue
        integer = isinstance(default, int)
        entry = explicit.get(name)
        if entry is not None:
            low, high = (float(v) for v in entry["range"])
            reason, sets_sign = str(entry.get("reason", "")), bool(entry.get("sets_sign"))
        else:
            low, high = sorted((default * low_factor, default * high_factor))
            reason, sets_sign = rule_reason, False
            low = max(low, meta["lo"]) if meta.get("lo") is not None else low
            high = min(high, meta["hi"]) if meta.get("hi") is not None else high
        key = f"{where}.{'ranges' if entry is not None else 'default_rule'}.{name}"
        if integer and entry is None:
            low, high = math.floor(low), math.ceil(high)
        if not low < high:
            raise ConfigError(key, [low, high], f"an explicit range [low, high] with low < high "
                              f"(default {default}: the default rule gives no range)")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and low < lo) or (hi is not None and high > hi):
            raise ConfigError(key, [low, high], f"a range inside the allowed one "
                              f"[{lo}, {hi}]")
        if not reason:
            raise ConfigError(f"{key}.reason", reason, "why the range is what it is")
        ranges.append(Range(name, low, high, reason, float(default), integer, sets_sign))
    return RobustnessSpec(ranges, forms)


def design(robust: RobustnessSpec, samples: int, seed: int) -> pd.DataFrame:
    """``samples`` points: a Latin hypercube over the ranges, every form balanced."""
    rng = np.random.default_rng(seed)
    unit = qmc.LatinHypercube(d=len(robust.ranges), rng=rng).random(samples)
    columns: dict[str, Any] = {}
    for j, r in enumerate(robust.ranges):
        values = r.low + unit[:, j] * (r.high - r.low)
        columns[r.name] = np.rint(values).astype(int) if r.integer else values
    for form in robust.forms:
        repeated = np.resize(np.array(form.choices, dtype=object), samples)
        columns[form.name] = rng.permutation(repeated)
    return pd.DataFrame(columns)


def write_design(robust: RobustnessSpec, samples: int, seed: int, path: Path) -> Path:
    """The design as a CSV file (rewritten only when it changes, so a resume finds it equal)."""
    return write_text_if_changed(path, design(robust, samples, seed).to_csv(
        index=False, float_format="%.6g"))


def ranges_table(robust: RobustnessSpec) -> str:
    """The ODD 8.2 table (Markdown) of every sampled range and form."""
    lines = ["| parameter | default | range | sets a sign | reason |", "|---|---|---|---|---|"]
    lines += [f"| `{r.name}` | {_num(r.default)} | {_num(r.low)} to {_num(r.high)} | "
              f"{'yes' if r.sets_sign else ''} | {r.reason} |" for r in robust.ranges]
    lines += [f"| `{f.name}` | {f.default} | {', '.join(f.choices)} (equal shares) | yes | "
              "every rival form of the rule (ODD 7) |" for f in robust.forms]
    return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:.4g}"


ODD_MARKERS = ("<!-- robustness-ranges -->", "<!-- /robustness-ranges -->")


def odd_with_ranges(odd_text: str, robust: RobustnessSpec) -> str:
    """The ODD's text with the table between ``ODD_MARKERS`` replaced by ``ranges_table``."""
    start, end = ODD_MARKERS
    if start not in odd_text or end not in odd_text:
        raise ValueError(f"docs/ODD.md has no {start} ... {end} block (section 8.2)")
    head, rest = odd_text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{ranges_table(robust)}\n{end}{tail}"
