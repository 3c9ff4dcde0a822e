"""Calibration against published figures: approximate Bayesian computation, run by the engine.

``python -m sim.calibrate +calibration=<name> [key=value ...]`` fits the parameters named in
``conf/calibration/<name>.yaml`` (each with a uniform prior and the reason for its range) to
calibration targets (each a summary statistic with its published value, its uncertainty and a
source) by sequential Monte Carlo ABC (population Monte Carlo, Beaumont et al. 2009, with the
tolerance set each generation by the distances of the accepted particles, as in Del Moral et
al. 2012 and Drovandi & Pettitt 2011):

1. generation 0 draws ``proposals`` parameter sets from the prior; each later generation draws
   them from the previous weighted population, perturbed by a Gaussian kernel with twice the
   population's weighted covariance (Beaumont et al. 2009), redrawing any outside the prior;
2. every proposal is run by the experiment engine in every scenario the targets need, with
   ``replications`` seeds (one sweep per generation: parallel, on Dask if asked, resumable,
   with its manifest), and its summary statistics are computed from the run table;
3. the distance is the root mean square of (simulated - target) / target SD over the targets;
   the ``population`` proposals nearest the targets are accepted and weighted by prior density
   over the kernel mixture density.

Why not a library sampler: pyabc (and ELFI) evaluate particles one at a time in their own
workers, outside the engine, so a run would not be resumable, recorded in a manifest or on the
engine's backends; the SMC arithmetic here is a few lines of numpy and scipy, and the tests
recover known parameters from data the model itself generated (``docs/calibration.md``).

Output in ``calibration.output_dir``: ``generation_<t>/`` (the engine's folders),
``population_<t>.parquet`` (written when a generation is complete: an interrupted calibration
resumes from the last one), ``posterior.parquet``, ``posterior_predictive.csv`` (each target's
simulated median and 90% interval under the posterior vs its value), ``summary.csv``
(posterior median and 90% interval per parameter, and how much the data narrowed the prior),
``marginals.png``, ``pairs.png`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException
from scipy import stats

from sim.analysis.tables import load_runs
from sim.config import CONF_DIR, load_config
from sim.output import write_parquet, write_text, write_text_if_changed
from sim.params import ConfigError
from sim.sweep.engine import load_sweep_config, run_sweep
from sim.sweep.plan import get_path

CALIBRATION_DIR = CONF_DIR / "calibration"
STATISTICS = ("mean", "difference", "smd", "ratio")


@dataclass
class PriorConfig:
    """A uniform prior over [low, high] for one model parameter (dotted path)."""

    name: str = ""
    low: float = 0.0
    high: float = 1.0
    reason: str = ""


@dataclass
class TargetConfig:
    """A published figure the model should reproduce, as a statistic of the run table.

    statistic ``mean``: mean of ``column`` in ``scenario`` (minus ``second_column`` if given);
    ``difference``: scenario - reference; ``smd``: difference in users' recovery over the
    pooled SD of individual users; ``ratio``: scenario / reference - 1.
    """

    name: str = ""
    statistic: str = "mean"
    column: str = ""
    second_column: str = ""
    scenario: str = "baseline"
    reference: str = ""
    value: float = 0.0
    sd: float = 1.0  # the published uncertainty as an SD (e.g. 95% CI width / 3.92)
    source: str = ""


@dataclass
class CalibrationConfig:
    name: str = ""
    description: str = ""
    base: list[str] = field(default_factory=list)  # model overrides applied to every run
    scenarios: dict[str, list[str]] = field(default_factory=dict)
    priors: list[PriorConfig] = field(default_factory=list)
    targets: list[TargetConfig] = field(default_factory=list)
    population: int = 100
    proposals: int = 300
    generations: int = 4
    replications: int = 2
    root_seed: int = 20131188
    output_dir: str = "outputs/calibration"
    backend: str = "processes"
    workers: int = 2


def load_calibration(name: str, overrides: list[str] | None = None) -> CalibrationConfig:
    """``conf/calibration/<name>.yaml`` (or a path), checked against the schema."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else CALIBRATION_DIR / f"{name}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in CALIBRATION_DIR.glob("*.yaml"))
        raise ConfigError("calibration", name, "one of: " + ", ".join(available))
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        schema = OmegaConf.structured(CalibrationConfig)
        merged = OmegaConf.merge(schema, raw)
        for override in overrides or []:
            key, sep, value = override.partition("=")
            if not sep:
                raise ConfigError("override", override, "key=value")
            OmegaConf.update(merged, key, yaml.safe_load(value), merge=True, force_add=False)
        cfg: CalibrationConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except yaml.YAMLError as err:
        raise ConfigError(str(path), "(unreadable YAML)", str(err).splitlines()[0]) from None
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "?"
        raise ConfigError(f"{path.name}: {key}", getattr(err, "value", "?"),
                          str(err).splitlines()[0]) from None
    check(cfg, path.name)
    return cfg


def check(cfg: CalibrationConfig, where: str) -> None:
    defaults = load_config(list(cfg.base))
    for i, prior in enumerate(cfg.priors):
        key = f"{where}: priors[{i}]"
        try:
            get_path(defaults, prior.name)
        except (AttributeError, KeyError):
            raise ConfigError(f"{key}.name", prior.name, "a model parameter (docs/params.md)") \
                from None
        if not prior.low < prior.high:
            raise ConfigError(f"{key}", [prior.low, prior.high], "low < high")
        if not prior.reason:
            raise ConfigError(f"{key}.reason", prior.reason, "why the prior is this range")
    for i, target in enumerate(cfg.targets):
        key = f"{where}: targets[{i}]"
        if target.statistic not in STATISTICS:
            raise ConfigError(f"{key}.statistic", target.statistic, "one of " +
                              ", ".join(STATISTICS))
        if not target.sd > 0:
            raise ConfigError(f"{key}.sd", target.sd, "a number > 0")
        for scenario in (target.scenario, target.reference):
            if scenario and scenario not in cfg.scenarios:
                raise ConfigError(f"{key}.scenario", scenario, "one of " +
                                  ", ".join(cfg.scenarios))
        if not target.source:
            raise ConfigError(f"{key}.source", target.source, "where the figure comes from")
    for key, value, low in (("population", cfg.population, 2), ("generations", cfg.generations,
                                                                   1),
                            ("replications", cfg.replications, 1)):
        if value < low:
            raise ConfigError(f"{where}: {key}", value, f"an integer >= {low}")
    if cfg.proposals < cfg.population:
        raise ConfigError(f"{where}: proposals", cfg.proposals,
                          f"an integer >= population ({cfg.population})")
    if not cfg.priors or not cfg.targets:
        raise ConfigError(where, "priors/targets", "at least one prior and one target")


# --- summary statistics ----------------------------------------------------------------------

def summaries(cfg: CalibrationConfig, runs: pd.DataFrame) -> pd.DataFrame:
    """Per proposal (``design_point``): every target's statistic, replicates averaged (paired
    across scenarios by replicate, which share seeds)."""
    by = runs.set_index(["scenario", "design_point", "replicate"])
    columns = {}
    for target in cfg.targets:
        columns[target.name] = _statistic(target, by)
    return pd.DataFrame(columns)


def _statistic(target: TargetConfig, by: pd.DataFrame) -> pd.Series:
    def arm(scenario: str, column: str) -> pd.Series:
        return by.xs(scenario, level="scenario")[column]

    if target.statistic == "mean":
        values = arm(target.scenario, target.column)
        if target.second_column:
            values = values - arm(target.scenario, target.second_column)
        return values.groupby(level="design_point").mean()
    if target.statistic == "difference":
        diff = arm(target.scenario, target.column) - arm(target.reference, target.column)
        return diff.groupby(level="design_point").mean()
    if target.statistic == "ratio":
        x = arm(target.scenario, target.column).groupby(level="design_point").mean()
        y = arm(target.reference, target.column).groupby(level="design_point").mean()
        return x / y - 1.0
    diff = arm(target.scenario, "user_recovery_final") - arm(target.reference,
                                                             "user_recovery_final")
    sd = np.sqrt(0.5 * arm(target.scenario, "user_recovery_sd") ** 2
                 + 0.5 * arm(target.reference, "user_recovery_sd") ** 2)
    return diff.groupby(level="design_point").mean() / sd.groupby(level="design_point").mean()


def distances(cfg: CalibrationConfig, simulated: pd.DataFrame) -> np.ndarray:
    """Root mean square of the standardised differences from the targets (NaN: infinite)."""
    z = np.column_stack([(simulated[t.name].to_numpy() - t.value) / t.sd for t in cfg.targets])
    d = np.sqrt(np.mean(z ** 2, axis=1))
    return np.where(np.isnan(d), np.inf, d)


# --- the sequential Monte Carlo ----------------------------------------------------------------

def _bounds(cfg: CalibrationConfig) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p.low for p in cfg.priors]), np.array([p.high for p in cfg.priors]))


def propose(cfg: CalibrationConfig, previous: pd.DataFrame | None,
            rng: np.random.Generator) -> np.ndarray:
    """``proposals`` parameter sets: from the prior, or perturbed draws from ``previous``."""
    low, high = _bounds(cfg)
    if previous is None:
        return rng.uniform(low, high, size=(cfg.proposals, len(low)))
    theta = previous[[p.name for p in cfg.priors]].to_numpy()
    weights = previous["weight"].to_numpy()
    cov = _kernel_cov(theta, weights)
    out = np.empty((cfg.proposals, len(low)))
    filled = 0
    while filled < cfg.proposals:  # redraw those outside the prior's support
        picks = rng.choice(len(theta), size=cfg.proposals, p=weights)
        draws = theta[picks] + rng.multivariate_normal(np.zeros(len(low)), cov,
                                                       size=cfg.proposals)
        inside = draws[np.all((draws >= low) & (draws <= high), axis=1)]
        take = min(len(inside), cfg.proposals - filled)
        out[filled:filled + take] = inside[:take]
        filled += take
    return out


def _kernel_cov(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of the population (Beaumont et al. 2009), kept positive."""
    cov = 2.0 * np.atleast_2d(np.cov(theta, rowvar=False, aweights=weights))
    # a population on a line or a point (a parameter the targets pin down exactly) would give
    # a singular kernel: a millionth of the largest variance keeps it a density
    return cov + np.eye(len(cov)) * 1e-6 * max(float(np.max(np.diag(cov))), 1e-18)


def accept(cfg: CalibrationConfig, theta: np.ndarray, dist: np.ndarray,
           simulated: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """The ``population`` nearest proposals with their importance weights."""
    order = np.argsort(dist, kind="stable")[:cfg.population]
    kept = theta[order]
    if previous is None:
        weights = np.ones(len(kept))
    else:
        old = previous[[p.name for p in cfg.priors]].to_numpy()
        kernel = stats.multivariate_normal(np.zeros(kept.shape[1]),
                                           _kernel_cov(old, previous["weight"].to_numpy()))
        mixture = np.array([np.sum(previous["weight"].to_numpy() * kernel.pdf(row - old))
                            for row in kept])
        weights = 1.0 / np.maximum(mixture, 1e-300)  # uniform prior: constant density inside
    population = pd.DataFrame(kept, columns=[p.name for p in cfg.priors])
    population["weight"] = weights / weights.sum()
    population["distance"] = dist[order]
    population["proposal"] = order
    for target in cfg.targets:
        population[f"sim_{target.name}"] = simulated[target.name].to_numpy()[order]
    return population


def run_generation(cfg: CalibrationConfig, generation: int, theta: np.ndarray,
                   out: Path) -> pd.DataFrame:
    """Run every proposal in every scenario through the engine; the summary statistics."""
    folder = out / f"generation_{generation}"
    folder.mkdir(parents=True, exist_ok=True)
    design = pd.DataFrame(theta, columns=[p.name for p in cfg.priors])
    design_path = folder.parent / f"design_{generation}.csv"
    write_text_if_changed(design_path, design.to_csv(index=False, float_format="%.10g"))
    sweep = load_sweep_config([f"sweep.backend={cfg.backend}", f"sweep.workers={cfg.workers}",
                               "sweep.analyse=false", "sweep.progress=none",
                               f"sweep.output_dir={folder}"])
    experiment = {"name": f"{cfg.name}_generation_{generation}",
                  "description": f"calibration {cfg.name}, generation {generation}",
                  "base": list(cfg.base), "scenarios": cfg.scenarios,
                  "replications": cfg.replications,
                  "root_seed": cfg.root_seed + generation,
                  "factors": [], "design": {"kind": "csv", "csv": str(design_path)},
                  # the targets read the run table: keep the time series to the last week
                  "metrics": _metrics(cfg), "record_interval_weeks": 5200}
    with open_dict(sweep):
        sweep.experiment = OmegaConf.merge(sweep.experiment, experiment)
    run_sweep(sweep)
    runs = load_runs(folder, ok_only=True)
    return summaries(cfg, runs).reindex(range(len(theta)))


def _metrics(cfg: CalibrationConfig) -> list[str]:
    """The time-series outcomes whose ``_final`` column a target reads."""
    columns = {c for t in cfg.targets for c in (t.column, t.second_column) if c}
    columns |= {"user_recovery_final"} if any(t.statistic == "smd" for t in cfg.targets) else set()
    return sorted({c.removesuffix("_final") for c in columns if c.endswith("_final")}) or [
        "user_recovery"]


def calibrate(cfg: CalibrationConfig) -> pd.DataFrame:
    """Run (or resume) the calibration; the final weighted population (the posterior)."""
    out = Path(cfg.output_dir)
    seeds = np.random.SeedSequence(cfg.root_seed).spawn(cfg.generations)
    previous: pd.DataFrame | None = None
    for generation in range(cfg.generations):
        path = out / f"population_{generation}.parquet"
        if path.exists():  # finished before an interruption
            previous = pd.read_parquet(path)
            continue
        rng = np.random.default_rng(seeds[generation])
        theta = propose(cfg, previous, rng)
        simulated = run_generation(cfg, generation, theta, out)
        dist = distances(cfg, simulated)
        population = accept(cfg, theta, dist, simulated, previous)
        population.insert(0, "generation", generation)
        write_parquet(path, population)
        previous = population
        print(f"calibration: generation {generation + 1}/{cfg.generations}, tolerance "
              f"{population['distance'].max():.3g}, {len(theta)} proposals", file=sys.stderr)
    assert previous is not None
    write_outputs(cfg, previous, out)
    return previous


# --- outputs ---------------------------------------------------------------------------------

def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) - 0.5 * weights[order]
    return float(np.interp(q, cumulative / weights.sum(), values[order]))


def summary_table(cfg: CalibrationConfig, posterior: pd.DataFrame) -> pd.DataFrame:
    """Posterior median and 90% interval per parameter, and the share of the prior it spans."""
    weights = posterior["weight"].to_numpy()
    rows = []
    for prior in cfg.priors:
        values = posterior[prior.name].to_numpy()
        low, median, high = (weighted_quantile(values, weights, q) for q in (0.05, 0.5, 0.95))
        share = (high - low) / (0.9 * (prior.high - prior.low))
        rows.append({"parameter": prior.name, "prior_low": prior.low,
                     "prior_high": prior.high, "posterior_median": median,
                     "posterior_5%": low, "posterior_95%": high,
                     "interval_share_of_prior": share,
                     "constrained": bool(share < 0.8), "prior_reason": prior.reason})
    return pd.DataFrame(rows)


def predictive_table(cfg: CalibrationConfig, posterior: pd.DataFrame) -> pd.DataFrame:
    """Each target's simulated median and 90% interval over the posterior vs its value."""
    weights = posterior["weight"].to_numpy()
    rows = []
    for t in cfg.targets:
        values = posterior[f"sim_{t.name}"].to_numpy()
        low, median, high = (weighted_quantile(values, weights, q) for q in (0.05, 0.5, 0.95))
        rows.append({"target": t.name, "value": t.value, "sd": t.sd, "simulated_median": median,
                     "simulated_5%": low, "simulated_95%": high,
                     "within_2sd": bool(abs(median - t.value) <= 2 * t.sd), "source": t.source})
    return pd.DataFrame(rows)


def write_outputs(cfg: CalibrationConfig, posterior: pd.DataFrame, out: Path) -> Path:
    from sim.analysis import calibration_plots  # matplotlib only when writing

    write_parquet(out / "posterior.parquet", posterior)
    summary, predictive = summary_table(cfg, posterior), predictive_table(cfg, posterior)
    write_text(out / "summary.csv", summary.to_csv(index=False))
    write_text(out / "posterior_predictive.csv", predictive.to_csv(index=False))
    calibration_plots.marginals(cfg, posterior, out / "marginals.png")
    calibration_plots.pairs(cfg, posterior, out / "pairs.png")
    return write_text(out / "report.md", _report(cfg, summary, predictive))


def _report(cfg: CalibrationConfig, summary: pd.DataFrame, predictive: pd.DataFrame) -> str:
    lines = [f"# Calibration: {cfg.name}", "", cfg.description, "",
             f"ABC-SMC (sim/calibrate.py): {cfg.generations} generations x {cfg.proposals} "
             f"proposals, population {cfg.population}, {cfg.replications} replications in "
             f"each of {len(cfg.scenarios)} scenarios per proposal "
             f"({cfg.generations * cfg.proposals * cfg.replications * len(cfg.scenarios)} "
             "runs).", "", "## Posterior", "",
             "| parameter | prior | posterior median | 90% interval | constrained by the "
             "targets? |", "|---|---|---|---|---|"]
    lines += [f"| `{r['parameter']}` | {r['prior_low']:.4g} to {r['prior_high']:.4g} | "
              f"{r['posterior_median']:.4g} | {r['posterior_5%']:.4g} to "
              f"{r['posterior_95%']:.4g} | {'yes' if r['constrained'] else 'no'} "
              f"({r['interval_share_of_prior']:.0%} of the prior) |"
              for r in summary.to_dict("records")]
    lines += ["", "A parameter is *not constrained* when its 90% posterior interval spans 80% or "
              "more of the prior's: the targets do not identify it.", "",
              "## Posterior predictive check", "",
              "| target | value (SD) | simulated median | 90% interval | within 2 SD | source |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['target']} | {r['value']:.4g} ({r['sd']:.3g}) | "
              f"{r['simulated_median']:.4g} | {r['simulated_5%']:.4g} to "
              f"{r['simulated_95%']:.4g} | {'yes' if r['within_2sd'] else 'NO'} | "
              f"{r['source']} |" for r in predictive.to_dict("records")]
    lines += ["", "![marginals](marginals.png)", "", "![pairs](pairs.png)", ""]
    return "\n".join(lines)


#: Columns of ``posterior.parquet`` that are not parameters (``sim_*`` are simulated targets).
NOT_PARAMETERS = ("generation", "weight", "distance", "proposal")


def posterior_draws(path: Path | str, n: int, seed: int, key: str) -> pd.DataFrame:
    """``n`` parameter sets drawn with replacement, in proportion to their weights, from a
    ``posterior.parquet`` written by this module; one column per parameter path.

    ``key`` names the setting that gave the path, for the message if the file is unusable.
    """
    allowed = "a posterior.parquet written by python -m sim.calibrate"
    try:
        posterior = pd.read_parquet(path)
    except (OSError, ValueError) as err:  # missing, unreadable or not Parquet
        raise ConfigError(key, str(path), f"{allowed} ({type(err).__name__})") from None
    names = [c for c in posterior.columns
             if c not in NOT_PARAMETERS and not str(c).startswith("sim_")]
    weights = posterior["weight"].to_numpy(float) if "weight" in posterior else np.array([])
    if not names or len(weights) == 0 or not np.isfinite(weights).all() or (weights < 0).any() \
            or weights.sum() <= 0:
        raise ConfigError(key, str(path), f"{allowed}: parameter columns and positive weights")
    rows = np.random.default_rng(seed).choice(len(posterior), size=n, p=weights / weights.sum())
    return posterior.iloc[rows][names].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.calibrate", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("overrides", nargs="*",
                        help="+calibration=<name> and key=value overrides of its file")
    args = parser.parse_args(argv)
    names = [o.split("=", 1)[1] for o in args.overrides if o.startswith("+calibration=")]
    rest = [o for o in args.overrides if not o.startswith("+calibration=")]
    try:
        if len(names) != 1:
            raise ConfigError("+calibration", names or None, "one calibration name: " + ", ".join(
                sorted(p.stem for p in CALIBRATION_DIR.glob("*.yaml"))))
        cfg = load_calibration(names[0], rest)
        posterior = calibrate(cfg)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table = summary_table(cfg, posterior)
    print(table[["parameter", "posterior_median", "posterior_5%", "posterior_95%",
                 "constrained"]].to_string(index=False))
    print(f"report: {Path(cfg.output_dir) / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
