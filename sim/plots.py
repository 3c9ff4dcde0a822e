"""The dashboard of a run's main outcomes: one consistent matplotlib style, labelled axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.output import write_atomic  # noqa: E402

#: Panels of the dashboard: title, y label, columns drawn (label -> column).
DASHBOARD = (
    ("Distinctive practice", "practice (0 conventional .. 1 peer)",
     {"PWs": "pw_practice", "non-peer staff": "staff_practice"}),
    ("Expectations and consensus", "0..1",
     {"expectation gap": "expectation_gap", "PW role ambiguity": "pw_role_ambiguity",
      "consensus": "consensus"}),
    ("Hierarchy and integration", "0..1",
     {"status gap": "status_gap", "PW integration (ties)": "pw_integration",
      "PW at meeting": "pw_meeting_attendance"}),
    ("PW identity and support", "0..1",
     {"confidence": "pw_confidence", "feeling supported": "pw_supported",
      "disempowerment": "pw_disempowerment"}),
    ("Strain", "strain (>= 0)", {"PWs": "pw_strain", "non-peer staff": "staff_strain"}),
    ("Valuation of PWs", "0..1",
     {"by staff": "pw_valued_by_staff", "by service users": "pw_valued_by_users"}),
    ("PW posts", "per team", {"in post": "pw_in_post", "vacant": "pw_vacancies"}),
    ("Service users", "mean recovery (0..1)", {"recovery": "user_recovery"}),
    ("Boundary tension", "events per team-week", {"events": "boundary_events"}),
)


def _band(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly mean over teams with a 95% interval of that mean (normal approximation)."""
    grouped = table.groupby("week")[column]
    mean, sd, n = grouped.mean(), grouped.std(), grouped.count()
    half = 1.96 * sd.fillna(0.0) / np.sqrt(np.maximum(n, 1))
    return mean.index.to_numpy(), mean.to_numpy(), half.to_numpy()


def dashboard(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Save a 3x3 grid of the main outcomes over time (mean over teams with 95% CI band)."""
    fig, axes = plt.subplots(3, 3, figsize=(14, 10), sharex=True, constrained_layout=True)
    for ax, (name, ylabel, columns) in zip(axes.flat, DASHBOARD, strict=False):
        for label, column in columns.items():
            weeks, mean, half = _band(table, column)
            ax.plot(weeks, mean, label=label)
            ax.fill_between(weeks, mean - half, mean + half, alpha=0.2)
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    fig.suptitle(f"{title}: mean over teams, 95% CI band")
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)
    return path
