"""Scenario discovery: the regions of parameter space where a goal holds, found with PRIM.

Reads an experiment's saved tables (``points.parquet``, ``runs/``), averages each point's
outcomes over its replications (or keeps every run as a case), marks the cases that meet a goal
stated as conditions on outcome columns (``pw_dilution_mean<=0.15``; all must hold) and runs
the Patient Rule Induction Method (Friedman & Fisher 1999) as implemented in EMA Workbench
(``ema_workbench.analysis.prim.Prim``; Bryant & Lempert 2010 for its use in scenario discovery).

PRIM peels slices off the sampled space, one factor at a time, keeping the slice whose removal
most raises the share of goal cases in what is left. Each step of the *peeling trajectory* is a
box described by
* **coverage**: the share of all goal cases that fall in the box,
* **density**: the share of the box's cases that meet the goal,
* **mass**: the share of all cases in the box.
From each trajectory we choose the box with the highest coverage whose density reaches the
threshold (fewest restricted factors on ties), drop restrictions that are no better than chance
(quasi-p above 0.05) as long as the density stays at the threshold, then look for the next box
among the cases left outside. Never imports the model or the sweep engine.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.plots import save  # also selects the Agg back end
from sim.analysis.tables import ID_COLUMNS, load_points, load_runs
from sim.output import write_text

with warnings.catch_warnings():  # only ema_workbench's notes on optional extras it lacks
    warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
    from ema_workbench.analysis.prim import Prim, PrimBox

#: Run-table columns that are neither factors nor outcomes.
RUN_BOOKKEEPING = (*ID_COLUMNS, "status", "error", "run_seconds", "weeks", "design_point")
#: Name of the factor holding a named-scenario label (PRIM itself drops a column "scenario").
SCENARIO_FACTOR = "scenario_label"
GOAL_PATTERN = re.compile(
    r"^\s*(?P<column>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>>=|<=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
LIMIT_COLUMNS = ["factor", "kind", "lower", "upper", "levels", "range_low", "range_high",
                 "all_levels", "qp_lower", "qp_upper"]
OPERATORS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


class DiscoveryError(ValueError):
    """Bad input to scenario discovery; the message says what and what is allowed."""


@dataclass(frozen=True)
class Condition:
    """One part of a goal: ``column op value``, e.g. ``pw_turnover_per_year<=0.2``."""

    column: str
    op: str
    value: float

    def holds(self, table: pd.DataFrame) -> np.ndarray:
        return OPERATORS[self.op](table[self.column].to_numpy(dtype=float), self.value)

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value:g}"


def parse_condition(text: str) -> Condition:
    """``'<column><op><number>'`` with op one of >=, <=, >, < (no expressions, no eval)."""
    match = GOAL_PATTERN.match(text)
    if not match:
        raise DiscoveryError(f"invalid goal {text!r}: allowed '<outcome column><op><number>' "
                             "with op one of >=, <=, >, <, e.g. 'pw_dilution_mean<=0.15'")
    return Condition(match["column"], match["op"], float(match["value"]))


@dataclass(frozen=True)
class Cases:
    """The cases PRIM sees: factor values ``x``, outcomes, and whether each meets the goal."""

    x: pd.DataFrame
    outcomes: pd.DataFrame
    goal: np.ndarray  # bool per case
    unit: str  # "point (mean of n replications)" or "run"
    n_missing: int  # cases dropped because a goal outcome was missing (NaN)


def load_cases(folder: Path, goal: list[Condition], per_run: bool = False) -> Cases:
    """Factor values and outcomes of every case, and the goal evaluated on them.

    A case is a design point with its outcomes averaged over replications (``per_run=False``)
    or a single run. The goal is evaluated on the averaged outcomes.
    """
    folder = Path(folder)
    if not (folder / "points.parquet").is_file():
        raise DiscoveryError(f"invalid experiment folder {str(folder)!r}: no points.parquet; "
                             "allowed an experiment's sweep.output_dir")
    points = load_points(folder).set_index("point_id")
    runs = load_runs(folder, ok_only=True)
    if runs.empty:
        raise DiscoveryError(f"invalid experiment folder {str(folder)!r}: no successful runs "
                             "in runs/; allowed a folder with at least one run of status ok")
    factors = factor_table(points)
    outcome_columns = [c for c in runs.columns if c not in RUN_BOOKKEEPING
                       and c not in points.columns and pd.api.types.is_numeric_dtype(runs[c])]
    for condition in goal:
        if condition.column not in outcome_columns:
            raise DiscoveryError(f"invalid goal column {condition.column!r}: allowed one of "
                                 + ", ".join(outcome_columns))
    if per_run:
        outcomes = runs.set_index("run_id")[outcome_columns]
        x = factors.loc[runs["point_id"]].set_index(outcomes.index)
        unit = "run"
    else:
        grouped = runs.groupby("point_id")
        outcomes = grouped[outcome_columns].mean()
        x = factors.loc[outcomes.index]
        sizes = grouped.size()
        unit = "design point (outcomes averaged over its replications: " + (
            f"{sizes.min()} runs)" if sizes.min() == sizes.max() else
            f"{sizes.min()}-{sizes.max()} runs)")
    goal_columns = [c.column for c in goal]
    known = outcomes[goal_columns].notna().all(axis=1).to_numpy()
    x, outcomes = x[known].reset_index(drop=True), outcomes[known].reset_index(drop=True)
    if not known.any():
        raise DiscoveryError(f"invalid goal columns {goal_columns}: missing (NaN) in every "
                             "case; allowed outcome columns with values")
    meets = np.logical_and.reduce([c.holds(outcomes) for c in goal])
    if not meets.any():
        raise DiscoveryError(f"invalid goal {' and '.join(map(str, goal))}: no case meets it "
                             f"({describe_columns(outcomes, goal_columns)}); allowed a goal "
                             "that some but not all cases meet")
    if meets.all():
        raise DiscoveryError(f"invalid goal {' and '.join(map(str, goal))}: every case meets "
                             "it, so there is no region to find; allowed a goal that some but "
                             "not all cases meet")
    return Cases(x, outcomes, meets, unit, int((~known).sum()))


def factor_table(points: pd.DataFrame) -> pd.DataFrame:
    """One column per varied factor: numbers stay numeric, anything else becomes a category.

    A scenario label shared by several points (named scenarios, CSV labels) is a factor too;
    a label unique to each point only restates the factor values and is left out.
    """
    factors = points.drop(columns=["scenario"])
    labels = points["scenario"]
    if labels.nunique() < len(labels) and labels.nunique() > 1:
        factors[SCENARIO_FACTOR] = labels
    kept = {}
    for name in factors.columns:
        column = factors[name]
        if column.nunique(dropna=False) < 2:
            continue  # not varied: nothing for PRIM to restrict
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            column = column.astype(str).astype("category")
        elif pd.api.types.is_integer_dtype(column):
            column = column.astype(np.int64)
        else:
            column = column.astype(np.float64)
        kept[name] = column
    if not kept:
        raise DiscoveryError("invalid experiment: no factor takes more than one value; allowed "
                             "an experiment whose factors vary")
    return pd.DataFrame(kept, index=points.index)


def describe_columns(table: pd.DataFrame, columns: list[str]) -> str:
    """'name: median m (quartiles a..b)' for each column, to help choose thresholds."""
    parts = []
    for name in columns:
        q1, median, q3 = table[name].quantile([0.25, 0.5, 0.75])
        parts.append(f"{name}: median {median:.3g} (quartiles {q1:.3g}..{q3:.3g})")
    return "; ".join(parts)


@dataclass(frozen=True)
class FoundBox:
    """One box PRIM found: its peeling trajectory and the entry chosen from it."""

    number: int  # 1, 2, ... in the order found
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim, n, k per step (id)
    chosen: int  # row of the trajectory
    n_peeled: int  # rows from peeling and pasting; later rows drop insignificant restrictions
    limits: pd.DataFrame  # restricted factors of the chosen entry (see box_limits)

    @property
    def stats(self) -> pd.Series:
        return self.trajectory.iloc[self.chosen]


@dataclass(frozen=True)
class PrimSettings:
    threshold: float = 0.8  # density a box must reach
    peel_alpha: float = 0.05  # share of cases peeled off per step
    paste_alpha: float = 0.05  # share of cases pasted back per step
    mass_min: float = 0.05  # smallest box, as a share of all cases
    max_boxes: int = 3  # stop after this many boxes
    box_index: int | None = None  # trajectory entry for the first box (default: rule above)
    max_quasi_p: float = 0.05  # restrictions less significant than this are dropped (1: keep)

    def check(self) -> None:
        for name in ("threshold", "peel_alpha", "paste_alpha", "mass_min"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise DiscoveryError(f"invalid {name}={value!r}: allowed a number in (0, 1)")
        if not 0 < self.max_quasi_p <= 1:
            raise DiscoveryError(f"invalid max_quasi_p={self.max_quasi_p!r}: allowed a number "
                                 "in (0, 1]")
        if self.max_boxes < 1:
            raise DiscoveryError(f"invalid max_boxes={self.max_boxes!r}: allowed an integer "
                                 ">= 1")


def find_boxes(cases: Cases, settings: PrimSettings) -> list[FoundBox]:
    """Run PRIM for up to ``settings.max_boxes`` boxes that reach the density threshold."""
    settings.check()
    logging.getLogger("EMA").setLevel(logging.WARNING)
    integers = [c for c in cases.x.columns if pd.api.types.is_integer_dtype(cases.x[c])]
    # ema-workbench 2.5.3's pasting writes a float limit into an int64 frame, which pandas
    # refuses: integer factors go in as floats, and their limits are rounded inward below.
    x = cases.x.astype({name: np.float64 for name in integers})
    prim = make_prim(x, cases.goal.astype(int), settings)
    found: list[FoundBox] = []
    while len(found) < settings.max_boxes:
        box = next_box(prim, settings.threshold)
        if box is None:
            break
        n_peeled = len(box.peeling_trajectory)
        chosen = settings.box_index if not found else None
        if chosen is None:
            chosen = choose_entry(box.peeling_trajectory, settings.threshold)
        elif not 0 <= chosen < n_peeled:
            raise DiscoveryError(f"invalid box_index={chosen!r}: allowed 0..{n_peeled - 1}"
                                 " (entries on the first box's peeling trajectory)")
        chosen = drop_insignificant(box, chosen, settings)
        box.select(chosen)  # the next box is sought among the cases outside this one
        limits = box_limits(box.box_lims[chosen], prim.box_init, quasi_p_values(box, chosen))
        whole = limits["factor"].isin(integers)
        limits.loc[whole, "lower"] = np.ceil(limits.loc[whole, "lower"])
        limits.loc[whole, "upper"] = np.floor(limits.loc[whole, "upper"])
        found.append(FoundBox(len(found) + 1, box.peeling_trajectory.reset_index(drop=True),
                              chosen, n_peeled, limits))
    return found


# --- ema-workbench 2.5 (Python 3.11) and 3.x (3.12+): the three places their PRIM differs ------

#: ema-workbench 2.5 takes the density threshold and judges boxes itself; 3.x dropped it.
PRIM_TAKES_THRESHOLD = "threshold" in inspect.signature(Prim.__init__).parameters


def make_prim(x: pd.DataFrame, goal: np.ndarray, settings: PrimSettings) -> Prim:
    """A PRIM over the cases ``x`` with ``goal`` (0/1) as the cases of interest."""
    extra = {"threshold": settings.threshold} if PRIM_TAKES_THRESHOLD else {}
    with warnings.catch_warnings():
        # 2.5.3 and 3.0 drop a "scenario" column with pandas' deprecated `inplace=True`
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop",
                                module="ema_workbench")
        return Prim(x, goal, peel_alpha=settings.peel_alpha, paste_alpha=settings.paste_alpha,
                    mass_min=settings.mass_min, **extra)


def next_box(prim: Prim, threshold: float) -> PrimBox | None:
    """The next box whose final density reaches ``threshold``, or None when there is none.

    2.5 returns a one-entry "dump box" of all remaining cases when the peeled box misses the
    threshold; 3.x returns the box whatever its density. Both come out as None here.
    """
    box = prim.find_box()
    if box is None or len(box.peeling_trajectory) < 2 or box.mean < threshold:
        return None
    return box


def quasi_p_values(box: PrimBox, entry: int) -> dict[str, list[float]]:
    """Quasi-p values of a trajectory entry per factor (2.5: ``box.qp``, 3.x: ``p_values``)."""
    return (box.p_values if hasattr(box, "p_values") else box.qp)[entry]


def drop_insignificant(box: PrimBox, entry: int, settings: PrimSettings) -> int:
    """Drop restrictions whose quasi-p exceeds ``settings.max_quasi_p`` while the box still
    reaches the density threshold; return the trajectory entry of the result.

    Peeling picks up restrictions that only fit noise (Bryant & Lempert 2010 prune them by
    quasi-p). Dropping several individually insignificant ones can still cost much density,
    so each drop must keep the box at the threshold: the least significant is tried first.
    EMA Workbench's ``drop_restriction`` appends every tried box to the trajectory.
    """
    while True:
        limits = box_limits(box.box_lims[entry], box.prim.box_init, quasi_p_values(box, entry))
        quasi_p = limits[["qp_lower", "qp_upper"]].max(axis=1)
        candidates = quasi_p[quasi_p > settings.max_quasi_p].sort_values(ascending=False)
        for row in candidates.index:
            box.drop_restriction(limits.loc[row, "factor"], entry)
            wider = len(box.peeling_trajectory) - 1
            if box.peeling_trajectory["density"].iloc[wider] >= settings.threshold:
                entry = wider
                break
        else:
            return entry


def choose_entry(trajectory: pd.DataFrame, threshold: float) -> int:
    """The entry with the highest coverage among those reaching the density threshold."""
    meeting = trajectory[trajectory["density"] >= threshold]
    if meeting.empty:
        return len(trajectory) - 1
    best = meeting.sort_values(["coverage", "res_dim"], ascending=[False, True], kind="stable")
    return int(best.index[0])


def box_limits(limits: pd.DataFrame, initial: pd.DataFrame,
               quasi_p: dict[str, list[float]]) -> pd.DataFrame:
    """One row per restricted factor: box limits, the sampled range and quasi-p values.

    Quasi-p (Bryant & Lempert 2010) is a one-sided binomial test of whether the restriction on
    that side raises density by more than chance; NaN where the side is not restricted.
    """
    rows = []
    for name in limits.columns:
        low, high = limits[name]
        range_low, range_high = initial[name]
        if isinstance(low, set):
            if low == range_low:
                continue
            rows.append({"factor": name, "kind": "categorical", "lower": np.nan,
                         "upper": np.nan, "levels": ", ".join(sorted(map(str, low))),
                         "range_low": np.nan, "range_high": np.nan,
                         "all_levels": ", ".join(sorted(map(str, range_low))),
                         "qp_lower": np.nan, "qp_upper": np.nan})
            continue
        if low <= range_low and high >= range_high:
            continue
        qp_low, qp_high = (np.nan if v < 0 else v for v in quasi_p.get(name, [-1, -1]))
        rows.append({"factor": name, "kind": "numeric", "lower": float(low),
                     "upper": float(high), "levels": "", "range_low": float(range_low),
                     "range_high": float(range_high), "all_levels": "",
                     "qp_lower": qp_low if low > range_low else np.nan,
                     "qp_upper": qp_high if high < range_high else np.nan})
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


def condition_text(limit: pd.Series) -> str:
    """Plain words for one restriction: 'x < 0.12', 'x > 0.3', '0.1 <= x <= 0.5', 'x in {a}'."""
    if limit["kind"] == "categorical":
        return f"{limit['factor']} is one of {{{limit['levels']}}}"
    low_cut = limit["lower"] > limit["range_low"]
    high_cut = limit["upper"] < limit["range_high"]
    low, high = number(limit["lower"]), number(limit["upper"])
    if low_cut and high_cut:
        return f"{low} <= {limit['factor']} <= {high}"
    return f"{limit['factor']} >= {low}" if low_cut else f"{limit['factor']} <= {high}"


def number(value: float) -> str:
    return f"{value:.3g}"


@dataclass(frozen=True)
class Discovery:
    folder: Path
    boxes: list[FoundBox]
    summary: str  # the Markdown summary


def discover(experiment_dir: Path, goal_texts: list[str], settings: PrimSettings | None = None,
             per_run: bool = False, out_dir: Path | None = None) -> Discovery:
    """Find the boxes and write tables, plots and a summary to ``out_dir``.

    Everything is checked and computed before the first file is written.
    """
    settings = settings or PrimSettings()
    settings.check()
    if not goal_texts:
        raise DiscoveryError("invalid goal []: allowed at least one condition, e.g. "
                             "'pw_dilution_mean<=0.15'")
    goal = [parse_condition(text) for text in goal_texts]
    cases = load_cases(Path(experiment_dir), goal, per_run)
    boxes = find_boxes(cases, settings)
    out = Path(out_dir) if out_dir else Path(experiment_dir) / "discovery"
    summary = summary_markdown(cases, goal, boxes, settings, provenance(Path(experiment_dir)))
    write_text(out / "boxes.csv", boxes_table(boxes).to_csv(index=False))
    write_text(out / "box_limits.csv", limits_table(boxes).to_csv(index=False))
    write_text(out / "peeling_trajectory.csv", trajectories_table(boxes).to_csv(index=False))
    if boxes:
        plot_trajectories(boxes, settings.threshold, out / "peeling_trajectory.png")
        plot_limits(boxes, out / "box_limits.png", settings.max_quasi_p)
    write_text(out / "summary.md", summary)
    return Discovery(out, boxes, summary)


def boxes_table(boxes: list[FoundBox]) -> pd.DataFrame:
    """One row per box: trajectory entry, coverage, density, mass, cases and the conditions."""
    rows = [{"box": b.number, "trajectory_entry": b.chosen,
             "coverage": b.stats["coverage"], "density": b.stats["density"],
             "mass": b.stats["mass"], "n_cases": int(b.stats["n"]),
             "n_goal_cases": int(b.stats["k"]), "restricted_factors": len(b.limits),
             "conditions": " and ".join(condition_text(r) for _, r in b.limits.iterrows())}
            for b in boxes]
    return pd.DataFrame(rows, columns=["box", "trajectory_entry", "coverage", "density", "mass",
                                       "n_cases", "n_goal_cases", "restricted_factors",
                                       "conditions"])


def limits_table(boxes: list[FoundBox]) -> pd.DataFrame:
    frames = [b.limits.assign(box=b.number) for b in boxes]
    columns = ["box", *LIMIT_COLUMNS]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def trajectories_table(boxes: list[FoundBox]) -> pd.DataFrame:
    columns = ["box", "entry", "step", "coverage", "density", "mass", "res_dim", "n", "k",
               "chosen"]
    frames = [b.trajectory.assign(box=b.number, entry=range(len(b.trajectory)),
                                  step=["peel/paste" if i < b.n_peeled else "drop restriction"
                                        for i in range(len(b.trajectory))],
                                  chosen=[i == b.chosen for i in range(len(b.trajectory))])
              for b in boxes]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def provenance(folder: Path) -> str:
    """Which experiment the cases come from: folder, and name, runs and git revision if the
    manifest says."""
    text = f"Experiment folder `{folder}`"
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return text + "."
    runs = manifest.get("runs", {})
    return (text + f": experiment `{manifest.get('experiment')}`, {runs.get('ok', '?')} "
            f"successful runs, model git revision `{manifest.get('git_revision')}`.")


def summary_markdown(cases: Cases, goal: list[Condition], boxes: list[FoundBox],
                     settings: PrimSettings, source: str) -> str:
    """The result in plain words, then the tables."""
    goal_text = " and ".join(f"`{c}`" for c in goal)
    n, k = len(cases.goal), int(cases.goal.sum())
    lines = ["# Scenario discovery", "", source, "",
             f"**Goal**: {goal_text}. A case is a {cases.unit}; {k} of {n} cases "
             f"({k / n:.0%}) meet the goal.", ""]
    if cases.n_missing:
        lines += [f"{cases.n_missing} cases were left out because a goal outcome was missing "
                  "(e.g. no PW in post at the end).", ""]
    lines += ["Goal outcomes across all cases: "
              + describe_columns(cases.outcomes, [c.column for c in goal]) + ".", "",
              f"PRIM settings: density threshold {settings.threshold:g}, peel alpha "
              f"{settings.peel_alpha:g}, paste alpha {settings.paste_alpha:g}, minimum mass "
              f"{settings.mass_min:g}; a restriction with quasi-p above "
              f"{settings.max_quasi_p:g} is dropped when the box still reaches the threshold "
              "without it, and flagged 'may be chance' when it does not; factors: "
              f"{', '.join(cases.x.columns)}.", ""]
    if not boxes:
        lines += [f"**No box reaches a density of {settings.threshold:.0%}**: no region of the "
                  "sampled space where the goal holds that reliably was found. Lower the "
                  "threshold, sample more points, or state a goal closer to what the model "
                  "produces.", ""]
        return "\n".join(lines)
    lines += ["## In plain words", ""]
    for b in boxes:
        conditions = " and ".join(f"`{condition_text(r)}`" + chance_note(r, settings.max_quasi_p)
                                  for _, r in b.limits.iterrows())
        where = f"when {conditions}" if conditions else "everywhere"
        lead = "The goal holds" if b.number == 1 else "Among the cases outside the boxes " \
            "above, the goal also holds"
        lines.append(f"{b.number}. {lead} in {b.stats['density']:.0%} of cases {where}; this "
                     f"box holds {b.stats['mass']:.0%} of all cases and covers "
                     f"{b.stats['coverage']:.0%} of all cases meeting the goal "
                     f"({int(b.stats['k'])} of {k}).")
    lines += ["", "## Boxes", "", markdown_table(boxes_table(boxes).round(3)), "",
              "## Restricted factors", "",
              "Quasi-p: one-sided binomial test that the restriction on that side raises "
              "density by more than chance (Bryant & Lempert 2010); values above 0.05 mark a "
              "restriction that may not matter.", "",
              markdown_table(limits_table(boxes).drop(columns=["kind"]).round(3)), "",
              "Coverage: share of all goal cases inside the box. Density: share of the box's "
              "cases meeting the goal. Mass: share of all cases inside the box. Box 2 onwards "
              "were found among the cases outside the earlier boxes. Files: `boxes.csv`, "
              "`box_limits.csv`, `peeling_trajectory.csv`, `peeling_trajectory.png`, "
              "`box_limits.png`.", ""]
    return "\n".join(lines)


def chance_note(limit: pd.Series, max_quasi_p: float) -> str:
    """' (upper limit: quasi-p 0.33, may be chance)' for each side of a restriction no better
    than chance, else ''."""
    notes = [f"{side} limit: quasi-p {limit[f'qp_{side}']:.2g}, may be chance"
             for side in ("lower", "upper") if limit[f"qp_{side}"] > max_quasi_p]
    return f" ({'; '.join(notes)})" if notes else ""


def markdown_table(table: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:g}"
        return str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def plot_trajectories(boxes: list[FoundBox], threshold: float, path: Path) -> Path:
    """Coverage against density along each box's peeling trajectory, coloured by the number
    of restricted factors; boxes tried by dropping a restriction are crosses, the chosen
    entry is starred and the density threshold dashed."""
    fig, axes = plt.subplots(1, len(boxes), figsize=(5.2 * len(boxes) + 1, 4.4), squeeze=False)
    most = int(max(b.trajectory["res_dim"].max() for b in boxes))
    style = {"cmap": plt.get_cmap("viridis", most + 1), "vmin": -0.5, "vmax": most + 0.5,
             "zorder": 2}
    for ax, b in zip(axes.flat, boxes, strict=True):
        t = b.trajectory
        peeled, dropped = t.iloc[:b.n_peeled], t.iloc[b.n_peeled:]
        ax.plot(peeled["coverage"], peeled["density"], color="lightgrey", linewidth=1, zorder=1)
        points = ax.scatter(peeled["coverage"], peeled["density"], c=peeled["res_dim"], s=22,
                            label="peeling and pasting", **style)
        if len(dropped):
            ax.scatter(dropped["coverage"], dropped["density"], c=dropped["res_dim"],
                       marker="x", s=40, label="a restriction dropped", **style)
        ax.scatter(t["coverage"].iloc[b.chosen], t["density"].iloc[b.chosen], marker="*",
                   s=260, facecolor="none", edgecolor="red", linewidth=1.5, zorder=3,
                   label=f"chosen (entry {b.chosen})")
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=1,
                   label=f"density threshold {threshold:g}")
        ax.set_xlabel("coverage (share of all goal cases in the box)")
        ax.set_ylabel("density (share of box cases meeting the goal)")
        ax.set_title(f"box {b.number}: peeling trajectory", fontsize=10)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(min(0.0, t["density"].min() - 0.05), 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    bar = fig.colorbar(points, ax=axes.ravel().tolist(), ticks=range(most + 1))
    bar.set_label("restricted factors")
    return save(fig, path)


def plot_limits(boxes: list[FoundBox], path: Path, max_quasi_p: float = 0.05) -> Path:
    """Each chosen box's limits on its restricted factors within the sampled range (grey);
    a hatched bar has a side whose quasi-p exceeds ``max_quasi_p`` (may be chance)."""
    rows = [max(len(b.limits), 1) for b in boxes]
    fig, axes = plt.subplots(len(boxes), 1, figsize=(8, 1.0 + 0.75 * sum(rows)),
                             gridspec_kw={"height_ratios": rows}, squeeze=False)
    for ax, b in zip(axes.flat, boxes, strict=True):
        labels = []
        for row, (_, limit) in enumerate(b.limits.iterrows()):
            ax.barh(row, 1.0, color="lightgrey", height=0.5)
            if limit["kind"] == "categorical":
                ax.barh(row, 1.0, color="tab:blue", height=0.5, alpha=0.6)
                ax.text(0.5, row, f"{{{limit['levels']}}}", ha="center", va="center",
                        fontsize=8)
                labels.append(f"{limit['factor']}\nof {{{limit['all_levels']}}}")
                continue
            span = limit["range_high"] - limit["range_low"]
            low = (limit["lower"] - limit["range_low"]) / span
            high = (limit["upper"] - limit["range_low"]) / span
            chance = chance_note(limit, max_quasi_p) != ""
            ax.barh(row, high - low, left=low, color="tab:blue", height=0.5,
                    hatch="//" if chance else None, edgecolor="white")
            for side, position in (("lower", low), ("upper", high)):
                if not np.isnan(limit[f"qp_{side}"]) or position not in (0.0, 1.0):
                    ax.text(position, row + 0.45, number(limit[side]), ha="center", va="center",
                            fontsize=8)
            labels.append(f"{limit['factor']}\n[{number(limit['range_low'])}, "
                          f"{number(limit['range_high'])}]")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.3, -0.6)
        ax.set_xlim(-0.03, 1.03)
        ax.set_xticks([0, 1], ["sampled minimum", "sampled maximum"], fontsize=8)
        ax.set_title(f"box {b.number}: coverage {b.stats['coverage']:.0%}, density "
                     f"{b.stats['density']:.0%}, mass {b.stats['mass']:.0%}"
                     " (hatched: may be chance)" * any(
                         chance_note(r, max_quasi_p) for _, r in b.limits.iterrows()),
                     fontsize=10)
    fig.tight_layout()
    return save(fig, path)
