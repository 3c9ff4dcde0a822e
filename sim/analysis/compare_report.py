"""The team-design comparison report, from the saved tables of a ``python -m sim.compare`` run.

Every design was run in every sampled context (a Latin hypercube over conditions a planner
cannot control) with the same seeds, so designs are compared *paired*: by context sample and
replicate. Reads ``compare.json`` (the designs, outcomes and sampled conditions the command
recorded) and the engine's run and time-series tables under ``sweep/``; never imports the
model or the engine. Writes into the report folder (default ``report/``)::

    report.html          self-contained (figures embedded as data URIs)
    report.md            the same report in Markdown, figures linked from figures/
    figures/*.png        trajectories, paired differences (forest), robustness
    ranking.csv          per design: mean of each outcome (95% CI), its rank, the mean rank
    differences.csv      each design minus the first, paired (95% CI), Hedges' g
    robustness.csv       per design and outcome: times best, times within tolerance, worst case
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import plots
from sim.analysis.summaries import contrast, t_critical, weekly_summary
from sim.analysis.tables import iter_timeseries, load_runs, metric_columns
from sim.output import write_text

#: Written by the command beside the engine's tables; what the report needs to know.
SPEC_FILE = "compare.json"
#: The engine's output folder inside a comparison's folder.
SWEEP_DIR = "sweep"
BETTER = ("higher", "lower")


@dataclass
class OutcomeSpec:
    """An outcome the designs are ranked on (a time-series metric's final-week value, or a
    per-run summary such as ``pw_turnover_per_year``)."""

    name: str = ""
    label: str = ""  # plain words for the report; default: the name
    better: str = "higher"  # one of BETTER
    tolerance: float = 0.0  # "within tolerance of best": at most this far from the best (units)


@dataclass
class CompareSpec:
    designs: dict[str, dict[str, Any]]  # name -> planner settings, in order (the first: reference)
    model_overrides: dict[str, list[str]]  # name -> the model overrides the settings map to
    outcomes: list[OutcomeSpec]
    uncertain: list[dict[str, Any]]  # the sampled conditions: name, paths, change, range
    settings: dict[str, Any] = field(default_factory=dict)  # replications, teams, weeks, command

    @property
    def reference(self) -> str:
        return next(iter(self.designs))

    @classmethod
    def read(cls, folder: Path) -> CompareSpec:
        raw = json.loads((Path(folder) / SPEC_FILE).read_text())
        outcomes = [OutcomeSpec(**o) for o in raw["outcomes"]]
        return cls(raw["designs"], raw["model_overrides"], outcomes, raw["uncertain"],
                   raw.get("settings", {}))


@dataclass(frozen=True)
class CompareReport:
    folder: Path
    summary: list[str]  # the plain-language sentences


def label(outcome: OutcomeSpec) -> str:
    return outcome.label or outcome.name


def sign(outcome: OutcomeSpec) -> float:
    """+1 when higher is better, -1 when lower is: ``sign * value`` is "goodness"."""
    return 1.0 if outcome.better == "higher" else -1.0


def outcome_column(runs: pd.DataFrame, name: str) -> str:
    """A per-run summary column as it is, a time-series metric by its final-week value."""
    return name if name in runs.columns else f"{name}_final"


def outcome_values(runs: pd.DataFrame, outcomes: list[OutcomeSpec]) -> pd.DataFrame:
    """One row per run: design, sample, replicate and one column per outcome name."""
    table = runs[["scenario", "design_point", "replicate"]].rename(
        columns={"scenario": "design", "design_point": "sample"})
    for o in outcomes:
        table[o.name] = runs[outcome_column(runs, o.name)].astype(float).to_numpy()
    return table.reset_index(drop=True)


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return (float("nan"),) * 3
    mean = float(values.mean())
    half = float(t_critical(n) * values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return mean, mean - half, mean + half


def ranking(values: pd.DataFrame, outcomes: list[OutcomeSpec], designs: list[str]
            ) -> pd.DataFrame:
    """Per design: each outcome's mean over all runs and contexts (95% CI) and its rank (1 best),
    and the mean rank; sorted best first."""
    rows = {d: {"design": d} for d in designs}
    for o in outcomes:
        for d in designs:
            mean, low, high = mean_ci(values.loc[values["design"] == d, o.name].to_numpy())
            rows[d].update({o.name: mean, f"{o.name}_ci_low": low, f"{o.name}_ci_high": high})
        goodness = pd.Series({d: sign(o) * rows[d][o.name] for d in designs})
        for d, rank in goodness.rank(ascending=False, method="min").items():
            rows[d][f"{o.name}_rank"] = rank
    table = pd.DataFrame(rows.values())
    table["mean_rank"] = table[[f"{o.name}_rank" for o in outcomes]].mean(axis=1)
    return table.sort_values("mean_rank", kind="stable").reset_index(drop=True)


def paired_differences(values: pd.DataFrame, outcomes: list[OutcomeSpec], reference: str
                       ) -> pd.DataFrame:
    """Each design minus the reference, paired by context sample and replicate (same seed, same
    conditions): mean difference with a paired t 95% CI, the share of pairs in which the design
    did better, and Hedges' g (unpaired, for scale)."""
    keys = ["sample", "replicate"]
    base = values[values["design"] == reference]
    rows = []
    for design, group in values.groupby("design", sort=False):
        if design == reference:
            continue
        pairs = group.merge(base, on=keys, suffixes=("", "_reference"))
        for o in outcomes:
            diff = (pairs[o.name] - pairs[f"{o.name}_reference"]).dropna().to_numpy()
            mean, low, high = mean_ci(diff)
            effect = contrast(pairs[o.name].dropna().to_numpy(),
                              pairs[f"{o.name}_reference"].dropna().to_numpy())
            better = sign(o) * diff > 0
            verdict = ("no clear difference" if not low * high > 0 else
                       "better" if sign(o) * mean > 0 else "worse")
            rows.append({"design": design, "reference": reference, "outcome": o.name,
                         "better_is": o.better, "pairs": len(diff), "difference": mean,
                         "ci_low": low, "ci_high": high,
                         "share_of_pairs_better": float(better.mean()) if len(diff) else np.nan,
                         "hedges_g": effect["hedges_g"], "verdict": verdict})
    return pd.DataFrame(rows)


def robustness(values: pd.DataFrame, outcomes: list[OutcomeSpec], designs: list[str]
               ) -> pd.DataFrame:
    """Per design and outcome, over the sampled contexts (replicates averaged): how often the
    design was best (ties count for each), how often within the outcome's tolerance of the best,
    its worst context mean, and its largest shortfall from the best design in any context."""
    per_sample = values.groupby(["design", "sample"])[[o.name for o in outcomes]].mean()
    rows = []
    for o in outcomes:
        goodness = (sign(o) * per_sample[o.name]).unstack("design")[designs].dropna()
        shortfall = goodness.max(axis=1).to_numpy()[:, None] - goodness.to_numpy()
        for j, d in enumerate(designs):
            worst = sign(o) * goodness[d].min() if len(goodness) else np.nan
            rows.append({"design": d, "outcome": o.name, "samples": len(goodness),
                         "times_best": int((shortfall[:, j] <= 1e-12).sum()),
                         "times_within_tolerance": int((shortfall[:, j] <= o.tolerance
                                                        + 1e-12).sum()),
                         "tolerance": o.tolerance, "worst_case": worst,
                         "largest_shortfall": float(shortfall[:, j].max()) if len(goodness)
                         else np.nan})
    return pd.DataFrame(rows)


def plain_summary(spec: CompareSpec, rank: pd.DataFrame, diffs: pd.DataFrame,
                  robust: pd.DataFrame, n_samples: int) -> list[str]:
    """Sentences generated from the tables: the best design on each outcome and how robustly,
    each design against the reference, and the overall ranking."""
    s = spec.settings
    outcome_by = {o.name: o for o in spec.outcomes}
    lines = [f"Each design was run in {n_samples} sampled conditions x "
             f"{s.get('replications', '?')} replications ({s.get('n_teams', '?')} teams over "
             f"{s.get('horizon_weeks', '?')} weeks), every design with the same conditions and "
             "the same seeds."]
    for o in spec.outcomes:
        counts = robust[robust["outcome"] == o.name].set_index("design")
        n = int(counts["samples"].iloc[0])
        most = counts["times_best"].max()
        best = list(counts.index[counts["times_best"] == most])
        near = [f"{d} ({int(r.times_within_tolerance)})" for d, r in counts.iterrows()
                if d not in best and r.times_within_tolerance > 0]
        worst = ", ".join(f"{d} {fmt(r.worst_case)}" for d, r in counts.iterrows())
        lines.append(f"{sentence_case(label(o))} ({o.better} is better): "
                     f"{' and '.join(best)} {'was' if len(best) == 1 else 'were each'} best in "
                     f"{int(most)} of {n} conditions; within {o.tolerance:g} of the best: "
                     f"{', '.join(near) or 'no other design'}. Worst condition: {worst}.")
    for design, group in diffs.groupby("design", sort=False):
        verdicts = []
        for verdict in ("better", "worse", "no clear difference"):
            chosen = group[group["verdict"] == verdict]
            if len(chosen):
                verdicts.append(f"{verdict} on " + "; ".join(
                    f"{label(outcome_by[r.outcome])} {fmt(r.difference, signed=True)} (95% CI "
                    f"{fmt(r.ci_low, signed=True)} to {fmt(r.ci_high, signed=True)})"
                    for r in chosen.itertuples()))
        lines.append(f"{design} against {group['reference'].iloc[0]}, paired over "
                     f"{int(group['pairs'].max())} runs: " + "; ".join(verdicts) + ".")
    top = rank.iloc[0]
    firsts = int(sum(top[f"{o.name}_rank"] == 1 for o in spec.outcomes))
    lines.append(f"Overall, {top['design']} ranked best with a mean rank of "
                 f"{top['mean_rank']:.2g} across {len(spec.outcomes)} outcomes (first on "
                 f"{firsts} of them).")
    return lines


CAVEATS = (
    "These are results of a simulation model, not of a trial. The model's rules follow the "
    "evidence traced in docs/ODD.md, but many parameter values are assumptions "
    "(marked 'assumption' in docs/params.md): read the direction and the robustness of a "
    "difference, not its exact size.",
    "The conditions were sampled from the ranges listed above, which are themselves "
    "assumptions; a design that does well across them may still do badly outside them.",
    "Confidence intervals cover run-to-run chance and the spread of the sampled conditions; "
    "they do not cover uncertainty in the model's structure. With few replications or "
    "conditions they are wide: 'no clear difference' is not evidence of no difference.",
    "Designs differ only in the settings listed in the design table; everything else is the "
    "model's default team. PW outcomes are averaged over teams with a PW in post.",
    "Time-series outcomes are ranked on their final-week value. PW practice moves in a cycle "
    "with supervision sessions (a pull toward the supervisor's norm, then a drift back toward "
    "the PW's anchor), of a few hundredths under clinical supervision; differences smaller "
    "than that depend on where the last week falls in the cycle.",
)


def setting_text(value: Any) -> str:
    """A design setting in plain words (yes/no, lists joined, null as the usual)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "usual for the supervisor"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def fmt(value: float, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:+.3g}" if signed else f"{value:.3g}"


def forest(diffs: pd.DataFrame, outcomes: list[OutcomeSpec], path: Path) -> Path:
    """Paired differences from the reference in the outcome's own units, with 95% CIs; the
    shaded side of zero is where a design does better."""
    designs = list(dict.fromkeys(diffs["design"]))
    fig, axes = plots.plt.subplots(1, len(outcomes), figsize=(3.4 * len(outcomes),
                                                               1.4 + 0.45 * len(designs)),
                                   squeeze=False, sharey=True)
    for ax, o in zip(axes.flat, outcomes, strict=True):
        data = diffs[diffs["outcome"] == o.name].set_index("design").reindex(designs)
        y = np.arange(len(designs))
        errors = [data["difference"] - data["ci_low"], data["ci_high"] - data["difference"]]
        ax.errorbar(data["difference"], y, xerr=errors, fmt="o", color="black", capsize=3)
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
        low, high = ax.get_xlim()
        ax.axvspan(0, high if o.better == "higher" else low, color="tab:green", alpha=0.08)
        ax.set_xlim(low, high)
        ax.set_title(f"{label(o)}\n({o.better} is better)", fontsize=8)
        ax.set_xlabel("difference from reference (95% CI)", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].set_yticks(range(len(designs)), designs, fontsize=8)
    axes.flat[0].set_ylim(len(designs) - 0.5, -0.5)
    fig.suptitle(f"each design minus {diffs['reference'].iloc[0]}, paired by condition and seed",
                 fontsize=10)
    fig.tight_layout()
    return plots.save(fig, path)


def robustness_figure(robust: pd.DataFrame, outcomes: list[OutcomeSpec], designs: list[str],
                      path: Path) -> Path:
    """Share of sampled conditions in which each design was best (dark) or within tolerance of
    the best (light), one panel per outcome."""
    fig, axes = plots.plt.subplots(1, len(outcomes), figsize=(3.2 * len(outcomes), 3.4),
                                   squeeze=False, sharey=True)
    colours = plots.plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, o in zip(axes.flat, outcomes, strict=True):
        data = robust[robust["outcome"] == o.name].set_index("design").reindex(designs)
        x = np.arange(len(designs))
        share_within = data["times_within_tolerance"] / data["samples"]
        ax.bar(x, share_within, color=[colours[i % len(colours)] for i in x], alpha=0.35,
               label="within tolerance of best")
        ax.bar(x, data["times_best"] / data["samples"], width=0.5,
               color=[colours[i % len(colours)] for i in x], label="best")
        ax.set_xticks(x, designs, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{label(o)}\n(tolerance {o.tolerance:g})", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].set_ylabel("share of sampled conditions")
    axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return plots.save(fig, path)


def write_compare_report(folder: Path, report_dir: Path | None = None) -> CompareReport:
    """Analyse a finished comparison in ``folder`` and write the report (see module docstring)."""
    folder = Path(folder)
    out = Path(report_dir) if report_dir else folder / "report"
    spec = CompareSpec.read(folder)
    designs = list(spec.designs)
    tables = folder / SWEEP_DIR
    runs = load_runs(tables, ok_only=True)
    missing = sorted(set(designs) - set(runs["scenario"]))
    if missing:
        raise ValueError(f"no finished runs for design(s) {', '.join(missing)} in {folder}")
    values = outcome_values(runs, spec.outcomes)
    n_samples = values["sample"].nunique()
    rank = ranking(values, spec.outcomes, designs)
    diffs = paired_differences(values, spec.outcomes, spec.reference)
    robust = robustness(values, spec.outcomes, designs)
    summary = plain_summary(spec, rank, diffs, robust, n_samples)
    for name, table in (("ranking", rank), ("differences", diffs), ("robustness", robust)):
        write_text(out / f"{name}.csv", table.to_csv(index=False))

    recorded = [o for o in spec.outcomes if o.name in metric_columns(tables)]
    figures: dict[str, Path] = {}
    if recorded:
        names = [o.name for o in recorded]
        weekly = weekly_summary(iter_timeseries(tables, ["scenario", "run_id", "week", *names]),
                                names)
        figures["trajectories"] = plots.trajectories(weekly, names,
                                                     out / "figures" / "trajectories.png")
    figures["differences"] = forest(diffs, spec.outcomes, out / "figures" / "differences.png")
    figures["robustness"] = robustness_figure(robust, spec.outcomes, designs,
                                              out / "figures" / "robustness.png")
    sections = report_sections(spec, rank, diffs, robust, summary, figures, n_samples, folder)
    write_text(out / "report.md", render_markdown(sections, out))
    write_text(out / "report.html", render_html(sections))
    return CompareReport(out, summary)


# --- rendering: a report is a list of (heading, blocks); a block is text, a table or a figure --

Block = str | pd.DataFrame | Path


def report_sections(spec: CompareSpec, rank: pd.DataFrame, diffs: pd.DataFrame,
                    robust: pd.DataFrame, summary: list[str], figures: dict[str, Path],
                    n_samples: int, folder: Path) -> list[tuple[str, list[Block]]]:
    ref = spec.reference
    outcome_by = {o.name: o for o in spec.outcomes}
    design_table = pd.DataFrame(spec.designs).map(setting_text).rename_axis(
        "setting").reset_index()
    override_table = pd.DataFrame({"design": list(spec.model_overrides), "model overrides": [
        " ".join(o) for o in spec.model_overrides.values()]})
    ranking_table = pd.DataFrame({"rank": range(1, len(rank) + 1), "design": rank["design"]})
    for o in spec.outcomes:
        ranking_table[f"{label(o)} ({o.better} better)"] = [
            f"{fmt(r[o.name])} [{fmt(r[f'{o.name}_ci_low'])}, {fmt(r[f'{o.name}_ci_high'])}] "
            f"#{int(r[f'{o.name}_rank'])}" for _, r in rank.iterrows()]
    ranking_table["mean rank"] = rank["mean_rank"].map(lambda v: f"{v:.2f}")
    diff_table = pd.DataFrame({
        "design": diffs["design"], "outcome": diffs["outcome"].map(lambda n: label(outcome_by[n])),
        "difference (95% CI)": [f"{fmt(r['difference'], True)} [{fmt(r['ci_low'], True)}, "
                                f"{fmt(r['ci_high'], True)}]" for _, r in diffs.iterrows()],
        "pairs better": diffs["share_of_pairs_better"].map(lambda v: f"{v:.0%}"),
        "Hedges' g": diffs["hedges_g"].map(fmt), "verdict": diffs["verdict"]})
    robust_table = pd.DataFrame({
        "design": robust["design"], "outcome": robust["outcome"].map(
            lambda n: label(outcome_by[n])),
        "best in": [f"{r.times_best} of {r.samples}" for r in robust.itertuples()],
        "within tolerance": [f"{r.times_within_tolerance} of {r.samples} (+/-{r.tolerance:g})"
                             for r in robust.itertuples()],
        "worst case": robust["worst_case"].map(fmt),
        "largest shortfall": robust["largest_shortfall"].map(fmt)})
    conditions = pd.DataFrame([{"condition": u["name"], "parameters": ", ".join(u["paths"]),
                                "change": u["change"],
                                "range": f"{u['range'][0]:g} to {u['range'][1]:g}",
                                "why uncertain": u.get("description", "")}
                               for u in spec.uncertain])
    s = spec.settings
    trajectories: list[Block] = (
        ["Mean over runs and sampled conditions, with 95% CI bands.", figures["trajectories"]]
        if "trajectories" in figures else ["No outcome here is recorded week by week."])
    return [
        ("Summary", [" ".join(summary[:1]), *[f"- {line}" for line in summary[1:]]]),
        ("Designs compared", [f"The first design, {ref}, is the reference.", design_table,
                              "What each design sets in the model (Hydra overrides):",
                              override_table]),
        ("Outcome trajectories", trajectories),
        (f"Each design against {ref}", [
            "Differences are paired: each design's run is compared with the reference's run "
            "in the same sampled condition with the same seed. The shaded side of zero is "
            "better.", figures["differences"], diff_table]),
        ("Ranking", ["Mean of each outcome over all runs [95% CI] and its rank (#1 best); "
                     "final-week values, turnover over the whole run.", ranking_table]),
        ("Robustness across conditions", [
            f"For each of the {n_samples} sampled conditions (replications averaged): which "
            "design was best, whether each was within the outcome's tolerance of the best, "
            "its worst condition, and its largest shortfall from the best design.",
            figures["robustness"], robust_table]),
        ("Conditions sampled", [
            f"A Latin hypercube of {n_samples} conditions over these ranges (add: shifted from "
            "the model's default; multiply: scaled; set: the value itself).", conditions]),
        ("Caveats", [f"- {c}" for c in CAVEATS]),
        ("Reproduce", [f"`{s.get('command', 'python -m sim.compare')}` (results in "
                       f"`{folder}`; git revision {s.get('git_revision', 'unknown')})."]),
    ]


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
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")
    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.to_numpy()]
    return [header, rule, *body]


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}"
         "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}"
         "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
         "th{background:#f2f2f2}img{max-width:100%}")


def render_html(sections: list[tuple[str, list[Block]]]) -> str:
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             "<title>Team-design comparison</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Team-design comparison</h1>"]
    for heading, blocks in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        items = [b for b in blocks if isinstance(b, str) and b.startswith("- ")]
        for block in blocks:
            if isinstance(block, pd.DataFrame):
                parts.append(block.to_html(index=False, border=0, escape=True))
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
