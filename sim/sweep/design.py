"""The points of an experiment: one row per point, one column per factor.

Designs: ``factorial`` (every combination of the factors' levels), ``lhs`` (Latin hypercube),
``sobol`` (Saltelli/Sobol' sample) and ``morris`` (elementary-effects trajectories) via SALib
over the factors' ranges, and ``csv`` (explicit points, one column per factor). Sampled points
keep SALib's order, so SALib's analysers can be applied to the results in ``point_id`` order.
Design problems raise :class:`~sim.params.ConfigError` naming the key, value and what is allowed.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.sample import latin, morris, sobol

from sim.params import ConfigError
from sim.sweep.schema import DESIGNS, DesignConfig, ExperimentConfig, FactorConfig

#: Column of a CSV design that labels its points instead of the factor values.
SCENARIO_COLUMN = "scenario"


def design_points(experiment: ExperimentConfig, base_dir: Path) -> pd.DataFrame:
    """The design's points (raw factor values; integer parameters are rounded later)."""
    design = experiment.design
    for i, factor in enumerate(experiment.factors):
        check_factor(i, factor)
    if design.kind not in DESIGNS:
        raise ConfigError("experiment.design.kind", design.kind, "one of " + ", ".join(DESIGNS))
    if design.kind == "csv":
        return csv_points(design, experiment.factors, base_dir)
    if not experiment.factors:
        return pd.DataFrame(index=pd.RangeIndex(1))  # one point: the base config
    if design.kind == "factorial":
        return factorial_points(experiment.factors)
    return sampled_points(design, experiment.factors, experiment.root_seed)


def check_factor(i: int, factor: FactorConfig) -> None:
    """A factor has a name and either a non-empty list of levels or a range low < high."""
    key = f"experiment.factors[{i}]"
    if not factor.name:
        raise ConfigError(f"{key}.name", factor.name, "a config group or parameter path")
    if factor.levels is None and factor.range is None:
        raise ConfigError(key, factor.name, "levels: [...] or range: [low, high]")
    if factor.levels is not None and len(factor.levels) == 0:
        raise ConfigError(f"{key}.levels", [], f"at least one level for {factor.name!r}")
    if factor.range is not None and (len(factor.range) != 2 or factor.range[0] >= factor.range[1]):
        raise ConfigError(f"{key}.range", list(factor.range),
                          f"[low, high] with low < high for {factor.name!r}")


def factorial_points(factors: list[FactorConfig]) -> pd.DataFrame:
    for i, factor in enumerate(factors):
        if factor.levels is None:
            raise ConfigError(f"experiment.factors[{i}].levels", None,
                              f"a list of levels for {factor.name!r} (a factorial design "
                              "takes levels, not a range)")
    combos = itertools.product(*(factor.levels for factor in factors))
    return pd.DataFrame(list(combos), columns=[factor.name for factor in factors])


def sampled_points(design: DesignConfig, factors: list[FactorConfig], seed: int) -> pd.DataFrame:
    """LHS, Sobol or Morris samples over the factors' ranges (SALib)."""
    for i, factor in enumerate(factors):
        if factor.range is None or factor.levels is not None:
            raise ConfigError(f"experiment.factors[{i}]", factor.name,
                              f"a range [low, high] and no levels in a {design.kind} design")
    check_sample_size(design)
    problem = {"num_vars": len(factors), "names": [f.name for f in factors],
               "bounds": [list(f.range) for f in factors]}
    if design.kind == "lhs":
        values = latin.sample(problem, design.samples, seed=seed)
    elif design.kind == "sobol":
        values = sobol.sample(problem, design.samples, calc_second_order=design.second_order,
                              seed=seed)
    else:
        values = morris.sample(problem, design.samples, num_levels=design.num_levels, seed=seed)
    return pd.DataFrame(np.asarray(values), columns=problem["names"])


def check_sample_size(design: DesignConfig) -> None:
    if design.samples < 1:
        raise ConfigError("experiment.design.samples", design.samples, "an integer >= 1")
    if design.kind == "sobol" and design.samples & (design.samples - 1):
        raise ConfigError("experiment.design.samples", design.samples,
                          "a power of 2 for a sobol design (e.g. 64, 128, 256)")
    if design.kind == "morris" and (design.num_levels < 2 or design.num_levels % 2):
        raise ConfigError("experiment.design.num_levels", design.num_levels,
                          "an even integer >= 2 for a morris design")


def check_rows(path: Path, name: str) -> None:
    """Every line of the CSV has as many cells as its header (pandas would otherwise take
    extra cells for an index, or fill missing ones with NaN)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            for line, row in enumerate(rows, start=2):
                if row and len(row) != len(header):
                    raise ConfigError("experiment.design.csv", name,
                                      f"{len(header)} cells on every line, like the header; "
                                      f"line {line} of {path} has {len(row)}")
    except (UnicodeDecodeError, csv.Error) as err:
        raise ConfigError("experiment.design.csv", name,
                          f"a UTF-8 CSV file of points ({path}: {err})") from None


def csv_points(design: DesignConfig, factors: list[FactorConfig], base_dir: Path) -> pd.DataFrame:
    """Points from a CSV file: one column per factor, an optional ``scenario`` label column."""
    if not design.csv:
        raise ConfigError("experiment.design.csv", design.csv, "the path of a CSV file of points")
    path = Path(design.csv)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise ConfigError("experiment.design.csv", design.csv, f"an existing file ({path})")
    check_rows(path, design.csv)
    try:
        points = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        # EmptyDataError and ParserError (a row with more cells than the header) are ValueErrors
        raise ConfigError("experiment.design.csv", design.csv,
                          f"a CSV file of points with a header of factor names ({path}: "
                          f"{str(err).strip().splitlines()[-1]})") from None
    columns = [c for c in points.columns if c != SCENARIO_COLUMN]
    if points.empty or not columns:
        raise ConfigError("experiment.design.csv", design.csv,
                          "a CSV with a header of factor names and at least one row")
    missing = points[columns].isna()
    if missing.any().any():
        row, column = missing.stack().loc[lambda cells: cells].index[0]
        raise ConfigError("experiment.design.csv", design.csv,
                          f"a value in every cell; line {row + 2} of {path}, column "
                          f"{column!r} is empty")
    named = [f.name for f in factors]
    if named and sorted(named) != sorted(columns):
        raise ConfigError("experiment.factors", named,
                          f"empty, or the CSV's columns: {', '.join(columns)}")
    return points
