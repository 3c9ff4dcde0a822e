"""The team-design comparison report, from the saved tables of a ``python -m sim.compare`` run.

Answers are in people and weeks, per team: PW leavers over the run (per post and in total),
weeks PW posts stood vacant, PW hours a week on peer support and on conventional tasks, service
users with a meaningful recovery gain, boundary-tension events a month. Each outcome has a
*smallest difference that matters* (``OutcomeSpec.smallest_difference``, in its own units): a
difference inside it is "no practical difference", never "better". Every design was run in
every sampled condition with the same seeds; differences from the reference are paired by
condition and seed, averaged over the replications of each condition, and their 95% intervals
take the *condition* as the unit (a t interval over the condition means), so many replications
of few conditions do not buy false certainty.

Reads ``compare.json`` (designs, their engine folders, outcomes, conditions) and each design's
engine tables; never imports the model or the engine. Writes into the report folder::

    report.html          self-contained (figures embedded), with a print stylesheet
    report.md            the same report in Markdown, figures linked from figures/
    figures/*.png        turnover trajectory, other trajectories, differences
    headline.csv         per design: each outcome's mean (95% CI over conditions)
    differences.csv      each design minus the reference (95% CI over conditions), verdict
    robustness.csv       per design and outcome: conditions better / no practical difference /
                         worse by the smallest difference that matters
"""

from __future__ import annotations

import base64
import html
import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import plots
from sim.analysis.stats import Interval, clustered_interval, mean_interval, practical_verdict
from sim.analysis.summaries import t_critical
from sim.analysis.tables import iter_timeseries, load_runs
from sim.output import write_text

#: Written by the command beside the engine's tables; what the report needs to know.
SPEC_FILE = "compare.json"
#: The engine's output folder of a comparison written before designs had folders of their own.
SWEEP_DIR = "sweep"
BETTER = ("higher", "lower")
#: Time series the report draws (the command records only these).
TRAJECTORY_METRICS = ("pw_exits", "pw_in_post", "pw_vacancies", "pw_practice", "user_recovery",
                      "boundary_events")
WEEKS_PER_MONTH = 52 / 12


@dataclass
class OutcomeSpec:
    """An outcome the designs are compared on, in units a planner can act on."""

    name: str = ""  # a DERIVED outcome, a per-run summary or a time-series metric (final week)
    label: str = ""  # plain words for the report; default: the name
    unit: str = ""  # e.g. "PWs", "weeks"
    better: str = "higher"  # one of BETTER
    smallest_difference: float = 0.0  # smallest difference that matters, in the outcome's units
    decimals: int = 1  # rounding in the report


#: Outcomes computed from the run table per team: (what it needs, how).
DERIVED: dict[str, Callable[[pd.DataFrame, dict[str, float]], pd.Series]] = {
    # PWs who left over the run, per team: leavers per post per year x posts x years
    "pw_leavers": lambda r, d: r["pw_turnover_per_year"] * d["posts"] * d["years"],
    "pw_leavers_per_post": lambda r, d: r["pw_turnover_per_year"] * d["years"],
    # post-weeks without a PW: mean open PW posts a week x weeks
    "pw_vacant_weeks": lambda r, d: r["pw_vacancies_mean"] * d["weeks"],
    # practice (0 conventional .. 1 peer) read as the share of a PW's time on peer support
    "pw_peer_support_hours": lambda r, d: r["pw_practice_mean"] * r["pw_in_post_mean"]
    * d["hours"],
    "pw_conventional_hours": lambda r, d: (1 - r["pw_practice_mean"]) * r["pw_in_post_mean"]
    * d["hours"],
    "boundary_events_per_month": lambda r, d: r["boundary_events_mean"] * WEEKS_PER_MONTH,
}


@dataclass
class CompareSpec:
    designs: dict[str, dict[str, Any]]  # name -> planner settings, in order (first: reference)
    model_overrides: dict[str, list[str]]
    outcomes: list[OutcomeSpec]
    uncertain: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # name -> engine folder (relative)
    pw_posts: dict[str, int] = field(default_factory=dict)
    pw_hours: dict[str, float] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return next(iter(self.designs))

    @classmethod
    def read(cls, folder: Path) -> CompareSpec:
        raw = json.loads((Path(folder) / SPEC_FILE).read_text())
        return cls(raw["designs"], raw["model_overrides"],
                   [OutcomeSpec(**o) for o in raw["outcomes"]], raw["uncertain"],
                   raw.get("settings", {}), raw.get("folders", {}), raw.get("pw_posts", {}),
                   raw.get("pw_hours", {}))


@dataclass(frozen=True)
class CompareReport:
    folder: Path
    summary: list[str]  # the recommendation and one line per design


def label(outcome: OutcomeSpec) -> str:
    return outcome.label or outcome.name


def shown(design: str) -> str:
    """A design's name in words: ``third_pw_post`` -> ``third PW post`` (tables and figures;
    the CSV files keep the file names)."""
    return re.sub(r"\bpws?\b", lambda m: m.group().upper().replace("S", "s"),
                  design.replace("_", " "))


def sign(outcome: OutcomeSpec) -> float:
    """+1 when higher is better, -1 when lower is: ``sign * value`` is "goodness"."""
    return 1.0 if outcome.better == "higher" else -1.0


def rounded(value: float, decimals: int, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if round(value, decimals) == 0:
        value = 0.0  # no "-0.0"
    return f"{value:+.{decimals}f}" if signed and value else f"{value:.{decimals}f}"


# --- reading -------------------------------------------------------------------------------

def design_folders(folder: Path, spec: CompareSpec) -> dict[str, Path]:
    if spec.folders:
        return {d: folder / f for d, f in spec.folders.items()}
    return {d: folder / SWEEP_DIR for d in spec.designs}


def load_design_runs(folder: Path, spec: CompareSpec) -> pd.DataFrame:
    frames = []
    for design, path in design_folders(folder, spec).items():
        runs = load_runs(path, ok_only=True)
        if spec.folders:
            runs = runs.assign(scenario=design)
        frames.append(runs[runs["scenario"] == design])
        if not len(frames[-1]):
            raise ValueError(f"no finished runs for design {design} in {path}")
    return pd.concat(frames, ignore_index=True)


def outcome_values(runs: pd.DataFrame, spec: CompareSpec) -> pd.DataFrame:
    """One row per run: design, condition, replicate and one column per outcome (per team)."""
    weeks = float(spec.settings.get("horizon_weeks", 156))
    table = runs[["scenario", "design_point", "replicate"]].rename(
        columns={"scenario": "design", "design_point": "condition"}).reset_index(drop=True)
    for o in spec.outcomes:
        columns = []
        for design, group in runs.groupby("scenario", sort=False):
            facts = {"posts": float(spec.pw_posts.get(design, np.nan)),
                     "hours": float(spec.pw_hours.get(design, np.nan)),
                     "weeks": weeks, "years": weeks / 52}
            if o.name in DERIVED:
                values = DERIVED[o.name](group, facts)
            else:
                values = group[o.name if o.name in group.columns else f"{o.name}_final"]
            columns.append(values.astype(float))
        table[o.name] = pd.concat(columns).reindex(runs.index).to_numpy()
    return table


# --- statistics: the condition is the unit ------------------------------------------------

def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval (``sim.analysis.stats.mean_interval``) of finite values."""
    interval = mean_interval(values[np.isfinite(values)])
    return interval.estimate, interval.low, interval.high


def condition_means(values: pd.DataFrame, outcomes: list[OutcomeSpec]) -> pd.DataFrame:
    """Replications averaged within each design and condition."""
    return values.groupby(["design", "condition"], sort=False)[
        [o.name for o in outcomes]].mean().reset_index()


def headline(values: pd.DataFrame, outcomes: list[OutcomeSpec], designs: list[str]
             ) -> pd.DataFrame:
    """Per design: each outcome's mean and 95% CI over the condition means."""
    per = condition_means(values, outcomes)
    rows = []
    for d in designs:
        row: dict[str, Any] = {"design": d}
        for o in outcomes:
            mean, low, high = mean_ci(per.loc[per["design"] == d, o.name].to_numpy())
            row.update({o.name: mean, f"{o.name}_ci_low": low, f"{o.name}_ci_high": high})
        rows.append(row)
    return pd.DataFrame(rows)


#: Each one-sided test of a verdict at 2.5%, so a light can be read off the 95% interval the
#: report shows: green or red when the whole interval lies beyond the smallest difference that
#: matters, grey when it lies wholly inside it.
VERDICT_ALPHA = (1 - 0.95) / 2


def verdict(outcome: OutcomeSpec, interval: Interval) -> str:
    """The shared practical verdict (``sim.analysis.stats.practical_verdict``): 'better' /
    'worse' when a minimum-effect test shows the difference exceeds the smallest difference
    that matters, 'no practical difference' when two one-sided tests show it lies inside it,
    otherwise 'unclear'. A difference inside the threshold is never 'better', and a small
    average with a wide interval is 'unclear', not evidence of no difference."""
    if not np.isfinite(interval.estimate):
        return "unclear"
    return practical_verdict(interval, outcome.smallest_difference,
                             higher_is_better=outcome.better == "higher", alpha=VERDICT_ALPHA)


LIGHTS = {"better": "green", "worse": "red", "unclear": "amber",
          "no practical difference": "grey"}


def paired_differences(values: pd.DataFrame, outcomes: list[OutcomeSpec], reference: str
                       ) -> pd.DataFrame:
    """Each design minus the reference, paired by condition and seed, averaged within each
    condition; mean and 95% CI over conditions; verdict against the smallest difference."""
    keys = ["condition", "replicate"]
    base = values[values["design"] == reference]
    rows = []
    for design, group in values.groupby("design", sort=False):
        if design == reference:
            continue
        pairs = group.merge(base, on=keys, suffixes=("", "_reference"))
        for o in outcomes:
            pairs["diff"] = pairs[o.name] - pairs[f"{o.name}_reference"]
            interval = clustered_interval(pairs["diff"], pairs["condition"])
            v = verdict(o, interval)
            rows.append({"design": design, "reference": reference, "outcome": o.name,
                         "better_is": o.better, "smallest_difference": o.smallest_difference,
                         "conditions": interval.n,
                         "runs_paired": int(pairs["diff"].notna().sum()),
                         "difference": interval.estimate, "ci_low": interval.low,
                         "ci_high": interval.high, "verdict": v, "light": LIGHTS[v],
                         "method": interval.method})
    return pd.DataFrame(rows)


def robustness(values: pd.DataFrame, outcomes: list[OutcomeSpec], reference: str
               ) -> pd.DataFrame:
    """Per design and outcome: in how many conditions it was better than the reference by more
    than the smallest difference that matters, within it, or worse by more."""
    per = condition_means(values, outcomes)
    base = per[per["design"] == reference].set_index("condition")
    rows = []
    for design, group in per.groupby("design", sort=False):
        if design == reference:
            continue
        group = group.set_index("condition")
        for o in outcomes:
            good = (sign(o) * (group[o.name] - base[o.name])).dropna()
            m = o.smallest_difference
            rows.append({"design": design, "outcome": o.name, "conditions": len(good),
                         "better": int((good >= m).sum() if m else (good > 0).sum()),
                         "no_practical_difference": int((good.abs() < m).sum()),
                         "worse": int((good <= -m).sum() if m else (good < 0).sum())})
    return pd.DataFrame(rows)


# --- words ---------------------------------------------------------------------------------

def with_unit(o: OutcomeSpec, value: float, signed: bool = False) -> str:
    return f"{rounded(value, o.decimals, signed)} {o.unit}".strip()


def recommendation(spec: CompareSpec, diffs: pd.DataFrame) -> str:
    """One paragraph: which design to choose on these outcomes, and why, in plain words."""
    ref = shown(spec.reference)
    outcome_by = {o.name: o for o in spec.outcomes}
    scores = {}
    for design, group in diffs.groupby("design", sort=False):
        scores[design] = (int((group["verdict"] == "better").sum()),
                          -int((group["verdict"] == "worse").sum()))
    best = max(scores, key=lambda d: (scores[d][1] == 0, scores[d][0], scores[d][1]))
    group = diffs[diffs["design"] == best]
    best = shown(best)

    def outcomes_with(v: str) -> list[str]:
        rows = group[group["verdict"] == v]
        return [f"{label(o)} ({with_unit(o, r.difference, True)})"
                for r in rows.itertuples() for o in [outcome_by[r.outcome]]]
    better, worse = outcomes_with("better"), outcomes_with("worse")
    same = [label(outcome_by[n]) for n in group.loc[
        group["verdict"] == "no practical difference", "outcome"]]
    unclear = [label(outcome_by[n]) for n in group.loc[group["verdict"] == "unclear", "outcome"]]
    if not better:
        n_unclear = int((diffs["verdict"] == "unclear").sum())
        if n_unclear:  # an amber light may hide a gain: not a reason to keep the team as is
            text = (f"No design is clearly better than {ref} on these outcomes, but "
                    f"{n_unclear} of the {len(diffs)} traffic lights are amber: the runs are "
                    "too few to tell whether those differences matter. Run a larger "
                    "comparison (more sampled conditions) before deciding.")
        else:
            text = (f"No design makes a practical difference for the better over {ref} on "
                    f"these outcomes: keep {ref}, or choose on cost and on what the model "
                    "leaves out.")
        if worse:
            text += f" {best} is worse on {', '.join(worse)}."
        return text
    text = (f"Recommended on these outcomes: {best}. Against {ref}, it is better on "
            f"{'; '.join(better)}")
    text += f", and worse on {'; '.join(worse)}." if worse else ", and worse on none."
    if same:
        text += f" No practical difference on {', '.join(same)}."
    if unclear:
        text += (f" Unclear on {', '.join(unclear)}: the runs cannot tell whether the "
                 "difference matters (more sampled conditions narrow the interval).")
    return text + (" Differences are per team, averaged over the sampled conditions; "
                   "'no practical difference' means the whole 95% interval is smaller than "
                   "the smallest difference that matters (stated for each outcome below).")


def design_lines(spec: CompareSpec, head: pd.DataFrame) -> list[str]:
    lines = []
    for _, row in head.iterrows():
        parts = [f"{label(o)}: {with_unit(o, row[o.name])}" for o in spec.outcomes]
        lines.append(f"{shown(row['design'])}: " + "; ".join(parts) + ".")
    return lines


CAVEATS = (
    "These are results of a simulation model, not of a trial. The model's rules follow the "
    "evidence traced in docs/ODD.md, but many parameter values are assumptions "
    "(docs/params.md): read the direction and the robustness of a difference, not its exact "
    "size.",
    "Numbers are per team (the run simulates several copies of the team). PW hours on peer "
    "support read the model's practice score (0 conventional .. 1 distinctive peer practice) "
    "as the share of a PW's contracted time spent on peer support; this is an assumption.",
    "A service user's recovery gain counts as meaningful when it is at least half the spread "
    "of recovery at the start (Norman et al. 2003: half a standard deviation).",
    "Intervals take the sampled condition as the unit: they cover the spread of the "
    "conditions and chance, not the model's structure. With few conditions they are wide: "
    "'unclear' is not evidence of no difference.",
    "The sampled conditions' ranges are themselves assumptions; a design that does well "
    "across them may still do badly outside them.",
)


# --- figures -------------------------------------------------------------------------------

FONT = 11


def trajectories(folder: Path, spec: CompareSpec, out: Path) -> dict[str, Path]:
    """Turnover trajectory (PWs who left so far, per team) and the PW, user and boundary
    trajectories, mean over conditions with a 95% band (conditions as the unit)."""
    frames = []
    for design, path in design_folders(folder, spec).items():
        runs = load_runs(path, ok_only=True)
        if not spec.folders:
            runs = runs[runs["scenario"] == design]
        point = runs.set_index("run_id")["design_point"]
        for part in iter_timeseries(path, ["run_id", "week", *TRAJECTORY_METRICS]):
            part = part[part["run_id"].isin(point.index)]
            weekly = part.groupby(["run_id", "week"], as_index=False)[
                list(TRAJECTORY_METRICS)].mean()
            weekly["design"], weekly["condition"] = design, point.loc[weekly["run_id"]].to_numpy()
            frames.append(weekly)
    if not frames:
        return {}
    ts = pd.concat(frames, ignore_index=True).sort_values(["design", "run_id", "week"])
    ts["pw_leavers_so_far"] = ts.groupby(["design", "run_id"])["pw_exits"].cumsum()
    ts["boundary_events_per_month"] = ts.groupby(["design", "run_id"])[
        "boundary_events"].transform(lambda s: s.rolling(4, min_periods=1).mean()) \
        * WEEKS_PER_MONTH
    ts["pw_peer_share"] = 100 * ts["pw_practice"]
    panels = {
        "turnover": [("pw_leavers_so_far", "PWs who have left so far, per team (people)",
                      "PWs who have left (people)")],
        "trajectories": [
            ("pw_in_post", "PWs in post, per team (people)", "PWs in post (people)"),
            ("pw_peer_share", "Share of PW hours spent on peer support (per cent)",
             "per cent of PW hours"),
            ("boundary_events_per_month", "Boundary-tension events, per team (a month)",
             "events a month (4-week average)"),
            ("user_recovery", "Service users' mean recovery (0 to 1 scale)",
             "recovery (0 = none, 1 = full)")]}
    upper = {"pw_in_post": max(spec.pw_posts.values(), default=2) + 0.5, "pw_peer_share": 100,
             "user_recovery": 1.0}
    designs = list(spec.designs)
    n_conditions = ts["condition"].nunique()
    figures = {}
    for key, items in panels.items():
        n = len(items)
        cols = 2 if n > 1 else 1
        fig, axes = plots.plt.subplots(-(-n // cols), cols, figsize=(11 if n > 1 else 9,
                                                                     4.2 * -(-n // cols) + 0.4),
                                       squeeze=False)
        for ax, (column, title, ylabel) in zip(axes.flat, items, strict=True):
            per = ts.groupby(["design", "condition", "week"])[column].mean().reset_index()
            top = upper.get(column, 0.0)
            for i, d in enumerate(designs):
                g = per[per["design"] == d].groupby("week")[column]
                mean, sd, n_c = g.mean(), g.std(ddof=1).fillna(0), g.count()
                half = t_critical(n_c.to_numpy()) * sd / np.sqrt(n_c)
                ax.plot(mean.index, mean, color=f"C{i}", lw=2, label=shown(d))
                ax.fill_between(mean.index, mean - half, mean + half, color=f"C{i}", alpha=0.15,
                                lw=0)
                top = max(top, float(np.nanmax(mean + half)) * 1.05)
            ax.set_ylim(0, min(top, 100) if column == "pw_peer_share" else top or 1)
            # from zero: a small gap is not magnified
            ax.set_title(title, fontsize=FONT + 1)
            ax.set_xlabel("weeks since the PW posts began", fontsize=FONT)
            ax.set_ylabel(ylabel, fontsize=FONT)
            ax.tick_params(labelsize=FONT - 1)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=FONT - 1, loc="upper left")
        fig.suptitle(f"Lines: mean over {n_conditions} sampled conditions; bands: 95% interval "
                     "over conditions", fontsize=FONT - 1, color="0.3")
        fig.tight_layout()
        figures[key] = plots.save(fig, out / "figures" / f"{key}.png")
    return figures


def forest(diffs: pd.DataFrame, outcomes: list[OutcomeSpec], path: Path) -> Path:
    """Differences from the reference in the outcome's own units, 95% CI over conditions; the
    grey band is 'no practical difference', the green side is better. Two columns and wrapped
    labels, so the text stays legible on a laptop and on A4."""
    designs = list(dict.fromkeys(diffs["design"]))
    names = [textwrap.fill(shown(d), 18) for d in designs]
    cols = min(2, len(outcomes))
    rows = -(-len(outcomes) // cols)
    fig, axes = plots.plt.subplots(rows, cols, figsize=(5.2 * cols, (1.5 + 0.55 * len(designs))
                                                        * rows + 0.8), squeeze=False)
    for ax, o in zip(axes.flat, outcomes, strict=False):
        data = diffs[diffs["outcome"] == o.name].set_index("design").reindex(designs)
        y = np.arange(len(designs))
        errors = np.nan_to_num([data["difference"] - data["ci_low"],
                                data["ci_high"] - data["difference"]])
        m = o.smallest_difference
        span = np.nanmax(np.abs([*data["ci_low"], *data["ci_high"], *data["difference"], m * 2,
                                 1e-9]))
        ax.set_xlim(-1.15 * span, 1.15 * span)  # symmetric: neither side looks bigger
        ax.axvspan(-m, m, color="0.85", label="no practical difference")
        good = (0, 1.15 * span) if o.better == "higher" else (-1.15 * span, 0)
        ax.axvspan(*good, color="tab:green", alpha=0.07)
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
        ax.errorbar(data["difference"], y, xerr=errors, fmt="o", color="black", capsize=4)
        ax.set_yticks(y, names, fontsize=FONT - 1)
        ax.set_ylim(len(designs) - 0.5, -0.5)
        ax.set_title(f"{textwrap.fill(label(o), 40)}\n({o.better} is better)", fontsize=FONT)
        ax.set_xlabel(f"difference ({o.unit})" if o.unit else "difference", fontsize=FONT - 1)
        ax.tick_params(labelsize=FONT - 1)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle(textwrap.fill(
        f"Each design minus {shown(diffs['reference'].iloc[0])}, per team: 95% interval over "
        "sampled conditions; grey band: no practical difference; green side: better", 90),
        fontsize=FONT)
    fig.tight_layout()
    return plots.save(fig, path)


# --- the report ----------------------------------------------------------------------------

def write_compare_report(folder: Path, report_dir: Path | None = None) -> CompareReport:
    """Analyse a finished comparison in ``folder`` and write the report (module docstring)."""
    folder = Path(folder)
    out = Path(report_dir) if report_dir else folder / "report"
    spec = CompareSpec.read(folder)
    designs = list(spec.designs)
    runs = load_design_runs(folder, spec)
    values = outcome_values(runs, spec)
    head = headline(values, spec.outcomes, designs)
    diffs = paired_differences(values, spec.outcomes, spec.reference)
    robust = robustness(values, spec.outcomes, spec.reference)
    advice = recommendation(spec, diffs)
    summary = [advice, *design_lines(spec, head)]
    for name, table in (("headline", head), ("differences", diffs), ("robustness", robust)):
        write_text(out / f"{name}.csv", table.to_csv(index=False))
    figures = trajectories(folder, spec, out)
    figures["differences"] = forest(diffs, spec.outcomes, out / "figures" / "differences.png")
    sections = report_sections(spec, head, diffs, robust, advice, figures, values, folder)
    write_text(out / "report.md", render_markdown(sections, out))
    write_text(out / "report.html", render_html(sections))
    return CompareReport(out, summary)


Block = str | pd.DataFrame | Path


def cell(o: OutcomeSpec, mean: float, low: float, high: float, signed: bool = False) -> str:
    interval = (f" ({rounded(low, o.decimals, signed)} to {rounded(high, o.decimals, signed)})"
                if np.isfinite(low) else "")
    return with_unit(o, mean, signed) + interval


def traffic_lights(spec: CompareSpec, diffs: pd.DataFrame) -> pd.DataFrame:
    """The traffic-light table in words: design, outcome, light, verdict, the difference with
    its 95% interval and the smallest difference that matters (the report and the app)."""
    outcome_by = {o.name: o for o in spec.outcomes}
    return pd.DataFrame({"design": diffs["design"].map(shown),
                         "outcome": diffs["outcome"].map(lambda n: label(outcome_by[n])),
                         "light": diffs["light"], "verdict": diffs["verdict"],
                         "difference (95% interval)": [
                             cell(outcome_by[r.outcome], r.difference, r.ci_low, r.ci_high,
                                  True) for r in diffs.itertuples()],
                         "smallest difference that matters": [
                             with_unit(outcome_by[n], outcome_by[n].smallest_difference)
                             for n in diffs["outcome"]]})


def report_sections(spec: CompareSpec, head: pd.DataFrame, diffs: pd.DataFrame,
                    robust: pd.DataFrame, advice: str, figures: dict[str, Path],
                    values: pd.DataFrame, folder: Path) -> list[tuple[str, list[Block]]]:
    ref = shown(spec.reference)
    s = spec.settings
    outcome_by = {o.name: o for o in spec.outcomes}
    n_conditions = values["condition"].nunique()
    years = s.get("horizon_weeks", 156) / 52
    lights = traffic_lights(spec, diffs)
    head_table = pd.DataFrame({"design": head["design"].map(shown)})
    for o in spec.outcomes:
        head_table[f"{label(o)} ({o.unit})" if o.unit else label(o)] = [
            cell(o, r[o.name], r[f"{o.name}_ci_low"], r[f"{o.name}_ci_high"])
            for _, r in head.iterrows()]
    robust_table = pd.DataFrame({
        "design": robust["design"].map(shown),
        "outcome": robust["outcome"].map(lambda n: label(outcome_by[n])),
        "better (conditions)": [f"{r.better} of {r.conditions}" for r in robust.itertuples()],
        "no practical difference": [f"{r.no_practical_difference} of {r.conditions}"
                                    for r in robust.itertuples()],
        "worse": [f"{r.worse} of {r.conditions}" for r in robust.itertuples()]})
    design_table = pd.DataFrame(spec.designs).rename(columns=shown).map(setting_text).rename_axis(
        "setting").reset_index()
    conditions = pd.DataFrame([{"condition": u["name"], "why uncertain": u.get("description", ""),
                                "range": f"{u['change']} {u['range'][0]:g} to "
                                         f"{u['range'][1]:g}"} for u in spec.uncertain])
    fixed = s.get("not_sampled") or []
    team = s.get("team")
    whose = f"Your team ({Path(team).name})" if team else "The reference design"
    intro = (f"{whose}, {ref}, "
             f"against {len(spec.designs) - 1} design(s) over {years:g} years: each design ran "
             f"in {n_conditions} sampled conditions x {s.get('replications', '?')} "
             f"replications, every design with the same conditions and seeds. Numbers are per "
             f"team, rounded." + (
                 f" Each condition also drew the model's calibrated parameters from what the "
                 f"published figures allow ({s['parameter_draws']}), so the intervals include "
                 f"what is not known about the world as well as chance."
                 if s.get("parameter_draws") else ""))
    sections: list[tuple[str, list[Block]]] = [
        ("Recommendation", [intro, advice]),
        ("Traffic lights", [
            "Green: better by more than the smallest difference that matters (the whole 95% "
            "interval lies beyond it). Red: worse in the same sense. Grey: no practical "
            "difference (the whole 95% interval is smaller than the smallest difference that "
            "matters). Amber: unclear (the interval reaches both a difference that matters "
            "and one that does not, or both directions). In statistical terms: a "
            "minimum-effect test and two one-sided tests (TOST), each one-sided at 2.5%.",
            lights]),
        ("Headline per design", [
            f"Per team over {years:g} years; mean over the sampled conditions (95% interval "
            "over conditions). PW leavers per post = leavers divided by PW posts.",
            head_table]),
        ("PW turnover over time", [
            "PWs who have left since the posts began, per team: every leaver counts, "
            "including a PW who had replaced an earlier leaver. A steeper line means more "
            "leavers.", figures["turnover"]] if "turnover" in figures else []),
        ("Evidence: each design against " + ref, [
            "Each design's run is paired with the reference's run in the same condition with "
            "the same seed; differences are averaged within each condition and the interval "
            "is over conditions (the condition is the unit).", figures["differences"]]),
        ("Evidence: how the outcomes move", [figures["trajectories"]]
         if "trajectories" in figures else []),
        ("Evidence: across conditions", [
            "In how many sampled conditions (replications averaged) each design was better or "
            "worse than the reference by at least the smallest difference that matters.",
            robust_table]),
        ("Designs compared", [design_table]),
        ("Conditions sampled", [
            "What you cannot control, sampled together (Latin hypercube); add: shifted from "
            "the model's default, multiply: scaled, set: the value itself."
            + (f" Fixed by your team file, so not sampled: {', '.join(fixed)}." if fixed
               else ""), conditions]),
        ("Caveats", [f"- {c}" for c in CAVEATS]),
        ("Reproduce", [f"`{s.get('command', 'python -m sim.compare')}` (results in "
                       f"`{folder}`; git revision {s.get('git_revision', 'unknown')})."]),
    ]
    return sections


def setting_text(value: Any) -> str:
    """A design setting in plain words (yes/no, lists joined, null as the usual)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "usual"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render_markdown(sections: list[tuple[str, list[Block]]], out: Path) -> str:
    lines = ["# Team-design comparison", ""]
    for heading, blocks in sections:
        lines += [f"## {heading}", ""]
        for block in blocks:
            if isinstance(block, pd.DataFrame):
                lines += markdown_table(block)
            elif isinstance(block, Path):
                lines.append(f"![{block.stem}]({block.relative_to(out).as_posix()})")
            else:
                lines.append(block)
            if not (isinstance(block, str) and block.startswith("- ")):
                lines.append("")
        if lines[-1]:
            lines.append("")
    return "\n".join(lines)


def markdown_table(table: pd.DataFrame) -> list[str]:
    def text(value: Any) -> str:
        return str(value).replace("|", "\\|")
    header = "| " + " | ".join(text(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(text(v) for v in row) + " |" for row in table.to_numpy()]
    return [header, rule, *body]


STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;
 font-size:16px;color:#111}
table{border-collapse:collapse;font-size:0.95em;margin:0.5em 0}
td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}
img{max-width:100%;height:auto}
.light{display:inline-block;width:1em;height:1em;border-radius:50%;border:1px solid #555;
 vertical-align:middle;margin-right:0.4em}
.green{background:#2e9e44}.red{background:#d7301f}.amber{background:#f0a30a}
.grey{background:#bdbdbd}
@media print{
 body{max-width:none;margin:0;font-size:11pt}
 h2{page-break-after:avoid;break-after:avoid}
 img,table{page-break-inside:avoid;break-inside:avoid}
 img{max-height:24cm}
 table{font-size:9pt}
 .light{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 @page{size:A4;margin:1.5cm}
}
"""


def html_table(table: pd.DataFrame) -> str:
    """A table; a ``light`` column is drawn as a coloured dot with its colour's name."""
    shown = table.copy()
    escaped = shown.map(lambda v: html.escape(str(v)))
    if "light" in shown.columns:
        escaped["light"] = [f"<span style='white-space:nowrap'><span class='light {c}'></span>"
                            f"{c}</span>" for c in shown["light"]]
    return escaped.to_html(index=False, border=0, escape=False)


def render_html(sections: list[tuple[str, list[Block]]]) -> str:
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<title>Team-design comparison</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Team-design comparison</h1>"]
    for heading, blocks in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        items = [b for b in blocks if isinstance(b, str) and b.startswith("- ")]
        for block in blocks:
            if isinstance(block, pd.DataFrame):
                parts.append(html_table(block))
            elif isinstance(block, Path):
                data = base64.b64encode(block.read_bytes()).decode()
                parts.append(f"<p><img alt='{block.stem}' src='data:image/png;base64,{data}'>"
                             "</p>")
            elif block in items:
                continue
            else:
                parts.append(f"<p>{inline(block)}</p>")
        if items:
            parts.append("<ul>" + "".join(f"<li>{inline(b[2:])}</li>" for b in items) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def inline(text: str) -> str:
    """Escaped text with Markdown `code` spans as <code>."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
