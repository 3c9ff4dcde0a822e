"""Morris and Sobol' sensitivity indices (SALib) of an experiment's replication-averaged outputs.

Reads a finished (or partly failed) Morris or Sobol' experiment folder: the design from
``experiment.yaml`` (factor names, ranges, Morris levels, Sobol' second order), the points in
SALib's order from ``points.parquet`` and the run table. Each output (a run-table column such
as ``distinctiveness_mean`` or ``pw_turnover_per_year``) is first averaged over a point's
successful replications; SALib's analyser is then applied to the averaged outputs in
``point_id`` order. Writes ``sensitivity/`` in the experiment folder::

    indices.csv, indices.parquet   tidy: outcome, parameter, index, value, conf, ci_low, ci_high
    outputs.csv                    per outcome: spread of the averaged output, replication noise
    <outcome>.png                  horizontal bars with 95% CI error bars, one chart per outcome
    summary.md                     the most influential parameters per outcome

Replication noise is reported so that indices can be read against it: for Morris, the mu_star
a parameter with no effect would get from noise alone (``noise_mu_star``); for Sobol', the
share of the averaged output's variance that is noise (``noise_share``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from SALib.analyze import morris, sobol  # noqa: E402

from sim.analysis.plots import save  # noqa: E402
from sim.analysis.tables import load_points, load_runs  # noqa: E402
from sim.output import write_parquet, write_text  # noqa: E402

METHODS = ("morris", "sobol")
#: The model's main outcomes: distinctive peer practice, the PW/team expectation gap and the
#: status gap over the whole run, PW turnover, and service users' recovery at the end.
MAIN_OUTPUTS = ("distinctiveness_mean", "expectation_gap_mean", "status_gap_mean",
                "pw_turnover_per_year", "user_recovery_final")
#: The index each method ranks parameters by (and draws as bars).
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}
CONF_LEVEL = 0.95
TOP_PARAMETERS = 5


@dataclass(frozen=True)
class Problem:
    """A Morris or Sobol' design as SALib needs it, rebuilt from a saved experiment config."""

    method: str
    names: list[str]
    bounds: list[list[float]]
    samples: int  # Morris trajectories, or Sobol' base sample N
    num_levels: int
    second_order: bool

    def salib(self) -> dict:
        return {"num_vars": len(self.names), "names": self.names, "bounds": self.bounds}

    @property
    def n_points(self) -> int:
        k = len(self.names)
        if self.method == "morris":
            return self.samples * (k + 1)
        return self.samples * (2 * k + 2 if self.second_order else k + 2)


@dataclass(frozen=True)
class SensitivityResult:
    folder: Path  # the sensitivity/ folder written
    indices: pd.DataFrame
    outputs: pd.DataFrame
    summary: str


def read_problem(folder: Path) -> Problem:
    """The design of the experiment saved in ``folder`` (raises ValueError if not Morris/Sobol')."""
    path = Path(folder) / "experiment.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {folder} is not an experiment folder")
    experiment = OmegaConf.load(path).experiment
    kind = experiment.design.kind
    if kind not in METHODS:
        raise ValueError(f"experiment.design.kind={kind!r} in {path}: a sensitivity analysis "
                         f"needs one of {', '.join(METHODS)}")
    if experiment.get("scenarios"):
        raise ValueError(f"experiment.scenarios in {path}: a sensitivity analysis needs one "
                         "design without named scenarios (run one experiment per scenario)")
    return Problem(kind, [f.name for f in experiment.factors],
                   [[float(f.range[0]), float(f.range[1])] for f in experiment.factors],
                   int(experiment.design.samples), int(experiment.design.num_levels),
                   bool(experiment.design.second_order))


def replicate_table(runs: pd.DataFrame, output: str, n_points: int) -> pd.DataFrame:
    """Successful runs' values of one output, one row per point and one column per replicate."""
    table = runs.pivot_table(index="point_id", columns="replicate", values=output,
                             aggfunc="first", dropna=False)
    return table.reindex(range(n_points))


def check_outputs(runs: pd.DataFrame, outputs: list[str], factors: list[str]) -> None:
    missing = [o for o in outputs if o not in runs.columns]
    if missing:
        known = [c for c in runs.columns if runs[c].dtype.kind == "f"
                 and c not in ("run_seconds", *factors)]
        raise ValueError(f"outputs {', '.join(missing)} are not columns of the run table; "
                         f"available: {', '.join(known)}")


def averaged(replicates: pd.DataFrame, output: str) -> np.ndarray:
    """Mean over each point's replications; every point needs at least one value."""
    means = replicates.mean(axis=1, skipna=True)
    empty = means.index[means.isna()].tolist()
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (" ..." if len(empty) > 10 else "")
        raise ValueError(f"output {output!r} has no value at {len(empty)} point(s) ({shown}): "
                         "failed runs, or an outcome undefined there (e.g. no PW in post); "
                         "SALib needs every point of the design")
    return means.to_numpy(dtype=float)


def morris_step_noise(replicates: pd.DataFrame, problem: Problem) -> float:
    """The mu_star a parameter with no effect would get from replication noise alone.

    Each elementary effect is a difference of two averaged outputs a step apart in a
    trajectory, divided by the step (SALib's delta on the unit scale). Replicate r has the same
    seed at both points (common random numbers), so the noise of that difference is estimated
    from the replicate-wise differences; |N(0, se^2)| has mean se * sqrt(2 / pi).
    """
    values = replicates.to_numpy(dtype=float)
    k = len(problem.names)
    steps = values.reshape(problem.samples, k + 1, -1)
    diffs = np.diff(steps, axis=1).reshape(-1, values.shape[1])
    counts = np.sum(~np.isnan(diffs), axis=1)
    if counts.max(initial=0) < 2:
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.nanstd(diffs, axis=1, ddof=1) / np.sqrt(counts)
    delta = problem.num_levels / (2.0 * (problem.num_levels - 1))
    return float(np.sqrt(np.nanmean(se**2)) / delta * np.sqrt(2.0 / np.pi))


def output_noise(replicates: pd.DataFrame, means: np.ndarray, problem: Problem,
                 output: str) -> dict[str, float | str | int]:
    """Spread of the averaged output and how much of it is replication noise."""
    counts = replicates.notna().sum(axis=1)
    level_var = replicates.var(axis=1, ddof=1) / counts  # variance of each point's mean
    total_var = float(np.var(means, ddof=1))
    row: dict[str, float | str | int] = {
        "outcome": output, "n_points": len(means), "replications_min": int(counts.min()),
        "replications_max": int(counts.max()), "mean": float(np.mean(means)),
        "sd": float(np.sqrt(total_var)),
        "noise_sd": float(np.sqrt(level_var.mean())) if counts.min() >= 2 else float("nan"),
        "noise_share": point_noise_var(replicates) / total_var if total_var > 0
        else float("nan")}
    if problem.method == "morris":
        row["noise_mu_star"] = morris_step_noise(replicates, problem)
    return row


def point_noise_var(replicates: pd.DataFrame) -> float:
    """Variance of a point's averaged output from noise that differs between points.

    Replicate r shares its seed across points (common random numbers), so part of the seed
    noise is common to every point and does not blur their differences. A two-way
    decomposition (point + replicate + residual) keeps only the residual, the seed's
    interaction with the parameters; with independent seeds the replicate effect is ~0.
    """
    values = replicates.to_numpy(dtype=float)
    present = ~np.isnan(values)
    n_points, n_replicates = values.shape
    dof = present.sum() - n_points - n_replicates + 1
    if n_replicates < 2 or dof < 1:
        return float("nan")
    residual = (values - np.nanmean(values, axis=1, keepdims=True)
                - np.nanmean(values, axis=0, keepdims=True) + np.nanmean(values))
    return float(np.nansum(residual**2) / dof / present.sum(axis=1).mean())


def check_morris_steps(inputs: np.ndarray, problem: Problem) -> None:
    """Each step of a trajectory changes exactly one factor (integer rounding can undo a step)."""
    steps = np.diff(inputs.reshape(problem.samples, len(problem.names) + 1, -1), axis=1)
    changed = (steps != 0).sum(axis=2)
    if (changed != 1).any():
        trajectory, step = np.argwhere(changed != 1)[0]
        raise ValueError(f"Morris trajectory {trajectory}, step {step} changes "
                         f"{changed[trajectory, step]} factors instead of one: an integer "
                         "parameter's range is too narrow for its levels to differ after "
                         "rounding; widen its range")


def morris_indices(problem: Problem, inputs: np.ndarray, y: np.ndarray, num_resamples: int,
                   seed: int) -> pd.DataFrame:
    result = morris.analyze(problem.salib(), inputs, y, num_resamples=num_resamples,
                            conf_level=CONF_LEVEL, num_levels=problem.num_levels, seed=seed)
    rows = []
    for i, name in enumerate(problem.names):
        rows.append(index_row(name, "mu_star", result["mu_star"][i], result["mu_star_conf"][i]))
        rows.append(index_row(name, "mu", result["mu"][i], np.nan))
        rows.append(index_row(name, "sigma", result["sigma"][i], np.nan))
    return pd.DataFrame(rows)


def sobol_indices(problem: Problem, y: np.ndarray, num_resamples: int,
                  seed: int) -> pd.DataFrame:
    with np.errstate(invalid="ignore" if np.ptp(y) == 0 else "warn"):  # constant: 0/0
        result = sobol.analyze(problem.salib(), y, calc_second_order=problem.second_order,
                               num_resamples=num_resamples, conf_level=CONF_LEVEL, seed=seed)
    rows = []
    for i, name in enumerate(problem.names):
        rows.append(index_row(name, "S1", result["S1"][i], result["S1_conf"][i]))
        rows.append(index_row(name, "ST", result["ST"][i], result["ST_conf"][i]))
    if problem.second_order:
        for i, j in zip(*np.triu_indices(len(problem.names), k=1), strict=True):
            rows.append(index_row(f"{problem.names[i]} x {problem.names[j]}", "S2",
                                  result["S2"][i, j], result["S2_conf"][i, j]))
    return pd.DataFrame(rows)


def index_row(parameter: str, index: str, value: float, conf: float) -> dict[str, object]:
    value, conf = float(value), float(conf)
    return {"parameter": parameter, "index": index, "value": value, "conf": conf,
            "ci_low": value - conf, "ci_high": value + conf}


def analyse(folder: Path, outputs: list[str] | None = None, num_resamples: int = 1000,
            seed: int = 0, plots_wanted: bool = True) -> SensitivityResult:
    """Compute, save and summarise the indices of every output (see the module docstring)."""
    folder = Path(folder)
    problem = read_problem(folder)
    outputs = list(outputs or MAIN_OUTPUTS)
    points = load_points(folder).sort_values("point_id")
    if len(points) != problem.n_points:
        raise ValueError(f"{folder / 'points.parquet'} has {len(points)} points; the "
                         f"{problem.method} design of experiment.yaml has {problem.n_points}")
    inputs = points[problem.names].to_numpy(dtype=float)
    if problem.method == "morris":
        check_morris_steps(inputs, problem)
    runs = load_runs(folder, ok_only=True)
    if runs.empty:
        raise ValueError(f"no successful runs in {folder / 'runs'}: run the experiment first")
    check_outputs(runs, outputs, problem.names)
    tables, noise = [], []
    for output in outputs:
        replicates = replicate_table(runs, output, problem.n_points)
        y = averaged(replicates, output)
        table = (morris_indices(problem, inputs, y, num_resamples, seed)
                 if problem.method == "morris" else
                 sobol_indices(problem, y, num_resamples, seed))
        table.insert(0, "outcome", output)
        tables.append(table)
        noise.append(output_noise(replicates, y, problem, output))
    indices = pd.concat(tables, ignore_index=True)
    indices.insert(0, "method", problem.method)
    noise_table = pd.DataFrame(noise)
    out = folder / "sensitivity"
    write_parquet(out / "indices.parquet", indices)
    write_text(out / "indices.csv", indices.to_csv(index=False))
    write_text(out / "outputs.csv", noise_table.to_csv(index=False))
    if plots_wanted:
        for output in outputs:
            bar_chart(indices[indices["outcome"] == output], noise_table.set_index("outcome")
                      .loc[output], problem.method, out / f"{output}.png")
    summary = summary_markdown(indices, noise_table, problem, folder.name)
    write_text(out / "summary.md", summary)
    return SensitivityResult(out, indices, noise_table, summary)


def ranked(indices: pd.DataFrame, outcome: str, method: str) -> pd.DataFrame:
    """One row per parameter of ``outcome``, the method's indices as columns, most influential
    first."""
    data = indices[(indices["outcome"] == outcome) & (indices["index"] != "S2")]
    wide = data.pivot(index="parameter", columns="index", values="value")
    conf = data.pivot(index="parameter", columns="index", values="conf").add_suffix("_conf")
    return wide.join(conf).sort_values(MAIN_INDEX[method], ascending=False)


def bar_chart(indices: pd.DataFrame, noise: pd.Series, method: str, path: Path) -> Path:
    """Horizontal bars with 95% CI error bars: mu_star (Morris) or S1 and ST (Sobol')."""
    outcome = indices["outcome"].iloc[0]
    table = ranked(indices, outcome, method)
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(7.0, 1.4 + 0.32 * len(table)))
    if method == "morris":
        ax.barh(y, table["mu_star"], xerr=table["mu_star_conf"], color="#4c72b0", capsize=2,
                label="mu* (95% CI)")
        ax.plot(table["sigma"], y, "kx", label="sigma (interactions, non-linearity)")
        if np.isfinite(noise.get("noise_mu_star", np.nan)):
            ax.axvline(noise["noise_mu_star"], color="grey", linestyle="--", linewidth=1,
                       label="mu* from replication noise alone")
        ax.set_xlabel(f"change in {outcome}\nwhen a parameter moves across its range")
    else:
        height = 0.4
        ax.barh(y - height / 2, table["S1"], height, xerr=table["S1_conf"], capsize=2,
                color="#4c72b0", label="first order S1 (95% CI)")
        ax.barh(y + height / 2, table["ST"], height, xerr=table["ST_conf"], capsize=2,
                color="#dd8452", label="total ST (95% CI)")
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel(f"share of the variance of {outcome}\n(over the parameters' ranges)")
    ax.set_yticks(y, table.index, fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{'Morris' if method == 'morris' else 'Sobol'} indices: {outcome}",
                 fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def summary_markdown(indices: pd.DataFrame, noise: pd.DataFrame, problem: Problem,
                     name: str) -> str:
    """The most influential parameters of each outcome, read against replication noise."""
    lines = [f"# Sensitivity analysis: {name}", "",
             f"{'Morris screening' if problem.method == 'morris' else 'Sobol analysis'} of "
             f"{len(problem.names)} parameters over {problem.n_points} design points; each "
             "output is the mean over a point's replications. Intervals are bootstrap 95% "
             "CIs (SALib). Indices: `indices.csv`; charts: `<outcome>.png`; noise: "
             "`outputs.csv`.", ""]
    for _, row in noise.iterrows():
        outcome = row["outcome"]
        table = ranked(indices, outcome, problem.method)
        lines += [f"## {outcome}", "", outcome_note(row, problem.method), ""]
        if problem.method == "morris":
            floor = row["noise_mu_star"]
            if np.isfinite(floor):
                n_above = int((table["mu_star"] - table["mu_star_conf"] > floor).sum())
                lines += [f"{n_above} of {len(table)} parameters are above the noise floor "
                          "(lower end of the mu* CI above it).", ""]
            table = table.head(TOP_PARAMETERS)
            lines += ["| parameter | mu* (95% CI) | mu | sigma | above noise |",
                      "|---|---|---|---|---|"]
            lines += [f"| `{p}` | {r.mu_star:.3g} +/- {r.mu_star_conf:.2g} | {r.mu:.3g} | "
                      f"{r.sigma:.3g} | {above(r.mu_star - r.mu_star_conf, floor)} |"
                      for p, r in table.iterrows()]
        else:
            table = table.head(TOP_PARAMETERS)
            lines += ["| parameter | S1 (95% CI) | ST (95% CI) |", "|---|---|---|"]
            lines += [f"| `{p}` | {r.S1:.3f} +/- {r.S1_conf:.3f} | {r.ST:.3f} +/- "
                      f"{r.ST_conf:.3f} |" for p, r in table.iterrows()]
        lines.append("")
    return "\n".join(lines)


def outcome_note(row: pd.Series, method: str) -> str:
    if not row["sd"] > 0:
        return (f"The averaged output is {row['mean']:.3g} at every point: no parameter changes "
                "it over these ranges, so every index is 0.")
    note = f"Mean {row['mean']:.3g}, SD across points {row['sd']:.3g}."
    if not np.isfinite(row["noise_sd"]):
        return note + " Replication noise cannot be estimated from one replication per point."
    low, high = row["replications_min"], row["replications_max"]
    note += (f" Replication noise of a point's mean (SD) {row['noise_sd']:.2g} "
             f"({low if low == high else f'{low}-{high}'} replications); noise that differs "
             f"between points (after common random numbers) is {row['noise_share']:.0%} of "
             "the variance across points.")
    if method == "morris":
        return note + (f" A parameter that changes the draws but has no effect would show mu* "
                       f"of about {row['noise_mu_star']:.2g} from noise alone.")
    return note + (" Noise looks like an unexplained interaction, so each ST may be inflated "
                   "by up to about that share.")


def above(lower: float, floor: float) -> str:
    if not np.isfinite(floor):
        return "n/a (1 replication)"
    return "yes" if lower > floor else "no"
