"""Plots of an experiment: outcome trajectories with 95% CI bands, and a forest plot of
contrasts. One style: one panel per outcome, one colour per scenario, PNG at 150 dpi."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.output import write_atomic  # noqa: E402


def trajectories(weekly: pd.DataFrame, outcomes: list[str], path: Path) -> Path:
    """Mean of each outcome over the weeks per scenario, with its 95% CI band."""
    columns = min(2, len(outcomes))
    rows = -(-len(outcomes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 3.2 * rows), squeeze=False,
                             sharex=True)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        data = weekly[weekly["outcome"] == outcome]
        for scenario, line in data.groupby("scenario", sort=False):
            line = line.sort_values("week")
            ax.plot(line["week"], line["mean"], label=scenario, linewidth=1.4)
            ax.fill_between(line["week"], line["ci_low"], line["ci_high"], alpha=0.2)
        ax.set_title(outcome)
        ax.set_ylabel(f"{outcome} (organisation mean)")
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8, title="scenario (mean, 95% CI)", title_fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def forest(contrast_table: pd.DataFrame, path: Path) -> Path:
    """The difference of each scenario from the reference (outcome units), with 95% CIs (paired
    over shared seeds where the runs share them), one panel per outcome."""
    outcomes = list(dict.fromkeys(contrast_table["outcome"]))
    scenarios = list(dict.fromkeys(contrast_table["scenario"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.6 * len(outcomes),
                                                         1.2 + 0.45 * len(scenarios)),
                             squeeze=False, sharey=True)
    for ax, outcome in zip(axes.flat, outcomes, strict=True):
        data = contrast_table[contrast_table["outcome"] == outcome].set_index("scenario")
        data = data.reindex(scenarios)
        y = range(len(scenarios))
        ax.errorbar(data["difference"], y, fmt="o", color="black", capsize=3,
                    xerr=[data["difference"] - data["difference_ci_low"],
                          data["difference_ci_high"] - data["difference"]])
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
        ax.set_title(outcome, fontsize=9)
        ax.set_xlabel("difference, end of run (95% CI)")
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].set_yticks(range(len(scenarios)), scenarios, fontsize=8)
    axes.flat[0].invert_yaxis()
    reference = contrast_table["reference"].iloc[0]
    method = contrast_table["method"].iloc[0] if "method" in contrast_table else ""
    fig.suptitle(f"end-of-run differences from: {reference}" + (f" ({method})" if method
                                                                 else ""), fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def save(fig: plt.Figure, path: Path) -> Path:
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=150, format=path.suffix[1:]))
    plt.close(fig)
    return path
