"""Figures of a calibration (``sim.calibrate``): weighted marginal posteriors and pairs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis.plots import save  # noqa: E402

if TYPE_CHECKING:
    from sim.calibrate import CalibrationConfig


def marginals(cfg: CalibrationConfig, posterior: pd.DataFrame, path: Path) -> Path:
    """One panel per parameter: the weighted posterior histogram over the prior's range."""
    n = len(cfg.priors)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 2.8), squeeze=False)
    for ax, prior in zip(axes.flat, cfg.priors, strict=True):
        ax.hist(posterior[prior.name], bins=20, range=(prior.low, prior.high),
                weights=posterior["weight"], color="tab:blue", alpha=0.8, density=True)
        ax.axhline(1.0 / (prior.high - prior.low), color="grey", linestyle="--",
                   linewidth=1, label="prior")
        ax.set_title(prior.name, fontsize=9)
        ax.set_xlabel("value")
        ax.legend(fontsize=7)
    axes.flat[0].set_ylabel("posterior density")
    fig.suptitle(f"Calibration {cfg.name}: marginal posteriors (weighted)", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def pairs(cfg: CalibrationConfig, posterior: pd.DataFrame, path: Path) -> Path:
    """Every pair of parameters: the accepted particles, sized by weight."""
    names = [p.name for p in cfg.priors]
    n = len(names)
    fig, axes = plt.subplots(n, n, figsize=(2.6 * n, 2.6 * n), squeeze=False)
    sizes = 400 * posterior["weight"] / posterior["weight"].max()
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(posterior[x], bins=20, weights=posterior["weight"], color="tab:blue")
            else:
                ax.scatter(posterior[x], posterior[y], s=sizes, alpha=0.4)
            if i == n - 1:
                ax.set_xlabel(x, fontsize=7)
            if j == 0:
                ax.set_ylabel(y, fontsize=7)
    fig.suptitle(f"Calibration {cfg.name}: pairs of parameters", fontsize=10)
    fig.tight_layout()
    return save(fig, path)
