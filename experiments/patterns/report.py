"""The pattern report: a table of comparisons and one figure each, as Markdown and HTML."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import markdown
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.patterns import attribution  # noqa: E402
from experiments.patterns.spec import Comparison, PatternSpec  # noqa: E402
from sim.analysis.summaries import t_critical  # noqa: E402
from sim.output import write_atomic, write_text  # noqa: E402


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.3f}"


def _scenarios(c: Comparison) -> str:
    if c.statistic == "odds_ratio":
        return "all runs: drifted vs anchored PWs"
    if c.statistic == "windows":
        return f"{c.scenario}: weeks {c.weeks[0]}-{c.weeks[1]} vs {c.late_weeks[0]}-" \
               f"{c.late_weeks[1]}"
    if c.statistic == "level":
        return f"{c.scenario} vs threshold {c.threshold}"
    if c.statistic == "equivalence":
        return f"{c.scenario}: {c.outcome} vs {c.second_outcome} (margin {c.margin})"
    return f"{c.scenario} vs {c.reference}"


def _measure(c: Comparison) -> str:
    names = {"smd": "SMD of users' recovery (final week)", "odds_ratio": "annual odds ratio "
             "of leaving", "ratio": f"relative difference in {c.outcome}"}
    measure = names.get(c.statistic, f"{c.outcome}, weeks {c.weeks[0]}-{c.weeks[1]}")
    expected = f"{c.direction} than 0" if c.statistic not in ("equivalence", "ratio",
                                                             "odds_ratio") else ""
    if c.statistic == "odds_ratio":
        expected = "greater than 1"
    if c.size:
        expected += f"{', ' if expected else ''}within [{c.size[0]}, {c.size[1]}]"
    if c.statistic == "equivalence":
        expected = f"equivalent within +/-{c.margin} (TOST at 5%: the 90% CI inside)"
    return f"{measure}; expected {expected}"


def _sign_share(share: pd.DataFrame, comparison_id: str) -> str:
    row = share.loc[comparison_id]
    return f"{row['share_direction']:.0%} (estimates {_fmt(row['estimate_min'])} to " \
           f"{_fmt(row['estimate_max'])})"


def table(spec: PatternSpec, results: pd.DataFrame, shares: pd.DataFrame | None,
          classes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The report's table: one row per comparison."""
    rows = []
    by_id = results.set_index("id")
    cls = classes.set_index("id") if classes is not None else None
    share = shares.set_index("id") if shares is not None and len(shares) else None
    for c in spec.comparisons:
        r = by_id.loc[c.id]
        rows.append({
            "id": c.id, "comparison": c.title, "claim": c.claim, "source": c.source,
            "scenarios": _scenarios(c), "measure": _measure(c),
            "estimate": _fmt(r["estimate"]),
            "95% CI": f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]",
            "Hedges g": _fmt(r["hedges_g"]), "n": int(r["n"]),
            "TOST p": _fmt(r["tost_p"]) if c.statistic == "equivalence" else "",
            "result": "pass" if r["passes"] else "FAIL",
            "role": c.role,
            "class": "not run" if cls is None else cls.loc[c.id, "class"],
            "counts as": _counts_as(c, None if cls is None else cls.loc[c.id, "class"]),
            "robustness: share holding": "not run" if share is None else
            f"{share.loc[c.id, 'share_holding']:.0%} of {int(share.loc[c.id, 'samples'])}",
            "robustness: predicted sign": "not run" if share is None else _sign_share(share, c.id),
        })
    return pd.DataFrame(rows)


def _counts_as(c: Comparison, cls: str | None) -> str:
    if cls == "guaranteed":
        return "consistency check"
    if c.role == "calibration":
        return "calibration target"
    return "validation" if cls is not None else "validation (attribution not run)"


def knockout_figure(c: Comparison, rows: pd.DataFrame, path: Path) -> Path:
    """The comparison's estimate (95% CI) at the defaults and under each knock-out."""
    rows = rows.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(rows) + 1.2), constrained_layout=True)
    y = range(len(rows))
    colours = [{"defaults": "black", "parameter": "tab:orange", "pair": "tab:purple"}.get(
        k, "tab:blue") for k in rows["kind"]]
    est = rows["estimate"].to_numpy(dtype=float)
    err = [est - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - est]
    ax.errorbar(est, list(y), xerr=err, fmt="none", ecolor=colours, elinewidth=1)
    ax.scatter(est, list(y), c=colours, s=14, zorder=3)
    ax.set_yticks(list(y), [f"{k} ({_state(e)})" for k, e in
                            zip(rows["knockout"], rows["established"], strict=True)], fontsize=7)
    ax.axvline(1.0 if c.statistic == "odds_ratio" else 0.0, color="grey", linewidth=1)
    if c.statistic == "equivalence":
        for m in (-c.margin, c.margin):
            ax.axvline(m, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(_measure(c).split(";")[0])
    ax.set_title(f"{c.id}. {c.title}: knock-outs (blue mechanism, orange input, "
                 "purple pair)", fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)
    return path


def _state(established: object) -> str:
    """'holds', 'removed' or 'not measurable' for a knock-out row."""
    if established is None or (isinstance(established, float) and math.isnan(established)):
        return "not measurable"
    return "holds" if bool(established) else "removed"


def figure(c: Comparison, runs: pd.DataFrame, weekly: pd.DataFrame, path: Path) -> Path:
    """Trajectories (mean over runs, 95% CI band) of the compared scenarios, window shaded;
    for the odds ratio, annual leaving of drifted and anchored PWs."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    if c.statistic == "odds_ratio":
        _leaving_bars(ax, runs)
    else:
        outcome = c.outcome if c.statistic != "smd" else "user_recovery"
        outcome = "user_admissions" if c.statistic == "ratio" else outcome
        series = [(s, outcome) for s in c.scenarios]
        if c.statistic == "equivalence":
            series.append((c.scenario, c.second_outcome))
        for scenario, column in series:
            _trajectory(ax, weekly[weekly["scenario"] == scenario], column,
                        f"{scenario}: {column}")
        for weeks in (c.weeks, c.late_weeks):
            if weeks[1] > weeks[0]:
                ax.axvspan(weeks[0], weeks[1], color="grey", alpha=0.12)
        if c.statistic == "level":
            ax.axhline(c.threshold, color="black", linestyle="--", linewidth=1,
                       label=f"threshold {c.threshold}")
        ax.set_xlabel("week")
        ax.set_ylabel(outcome)
        ax.legend(fontsize=8)
    ax.set_title(f"{c.id}. {c.title}")
    ax.grid(alpha=0.3)
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)
    return path


def _trajectory(ax: plt.Axes, weekly: pd.DataFrame, column: str, label: str) -> None:
    grouped = weekly.groupby("week")[column]
    mean, sd, n = grouped.mean(), grouped.std(), grouped.count()
    half = t_critical(n.to_numpy()) * sd.fillna(0).to_numpy() / n.clip(lower=1).to_numpy() ** 0.5
    ax.plot(mean.index, mean, label=label)
    ax.fill_between(mean.index, mean - half, mean + half, alpha=0.2)


def _leaving_bars(ax: plt.Axes, runs: pd.DataFrame) -> None:
    labels, values = [], []
    for band in ("anchored", "drifted"):
        rate = runs[f"pw_exits_{band}"].sum() / max(runs[f"pw_weeks_{band}"].sum(), 1.0)
        labels.append(f"{band} PWs")
        values.append(1 - (1 - rate) ** 52)
    ax.bar(labels, values, color=["tab:blue", "tab:red"])
    ax.set_ylabel("chance of leaving within a year")


def write(out: Path, spec: PatternSpec, results: pd.DataFrame, shares: pd.DataFrame | None,
          runs: pd.DataFrame, weekly: pd.DataFrame, run_note: str,
          knockouts: pd.DataFrame | None = None) -> Path:
    """Write results.csv, robustness.csv, knockouts.csv, classes.csv, figures/, report.md and
    report.html into ``out``."""
    at_defaults = runs[runs["sample"] == -1], weekly[weekly["sample"] == -1]
    write_text(out / "results.csv", results.to_csv(index=False))
    if shares is not None:
        write_text(out / "robustness.csv", shares.to_csv(index=False))
    classes = None
    ko_figures: dict[str, Path] = {}
    if knockouts is not None:
        classes = attribution.classes(spec, knockouts)
        write_text(out / "knockouts.csv", knockouts.to_csv(index=False))
        write_text(out / "classes.csv", classes.to_csv(index=False))
        ko_figures = {c.id: knockout_figure(c, knockouts[knockouts["id"] == c.id],
                                            out / "figures" / f"knockouts_{c.id}.png")
                      for c in spec.comparisons}
    figures = {c.id: figure(c, *at_defaults, out / "figures" / f"comparison_{c.id}.png")
               for c in spec.comparisons}
    summary = table(spec, results, shares, classes)
    headline = _headline(spec, results)
    if classes is not None:
        counts = classes["class"].value_counts()
        headline += " Attribution: " + ", ".join(f"{int(counts.get(k, 0))} {k}"
                                                 for k in attribution.CLASSES) + "."
    sections = {c.id: _knockout_section(knockouts[knockouts["id"] == c.id], classes, c)
                if knockouts is not None else "" for c in spec.comparisons}
    text = intro(spec, shares)
    write_text(out / "report.md", _markdown(summary, figures, headline, run_note, out,
                                            sections, ko_figures, text))
    return write_text(out / "report.html", _html(summary, figures, headline, run_note,
                                                 sections, ko_figures, text))


def _headline(spec: PatternSpec, results: pd.DataFrame) -> str:
    """Passes at the defaults, validation apart from calibration targets (ODD 8.1)."""
    passes = results.set_index("id")["passes"]
    n_pass = int(passes.sum())
    parts = [f"{n_pass} of {len(results)} comparisons pass at the default parameters"]
    for role, label in (("validation", "validation comparisons"),
                        ("calibration", "calibration targets (fitted, ODD 8.1)")):
        ids = [c.id for c in spec.comparisons if c.role == role]
        if ids:
            parts.append(f"{int(passes[ids].sum())} of {len(ids)} {label}")
    return parts[0] + " (" + "; ".join(parts[1:]) + ")."


CLASS_MEANING = {
    "emergent": "two or more rules are each needed and no single input sets its sign",
    "redundant": "no single knock-out removes it but two mechanisms knocked out together do; "
                 "'effect left' shows how much each leaves alone",
    "single-mechanism": "one rule (a step, or terms inside it) produces it; knocking out any "
                        "other leaves it",
    "parameter-set": "one input, set neutral (alone or with one mechanism knocked out), "
                     "removes it: that input sets its sign",
    "guaranteed": "it holds under every knock-out (and every pair tried, where pairs apply): "
                  "true by construction, a consistency check, not validation",
    "not produced": "it does not hold at the defaults",
}


def _knockout_section(rows: pd.DataFrame, classes: pd.DataFrame | None, c: Comparison) -> str:
    """Markdown: the class, what removes the comparison, and the knock-out table."""
    if classes is None:
        return ""
    cls = classes.set_index("id").loc[c.id]
    lines = [f"**Class: {cls['class']}** ({CLASS_MEANING[cls['class']]}). Removed by "
             f"mechanisms: {cls['removed_by_mechanisms'] or 'none'}; by inputs set neutral: "
             f"{cls['removed_by_parameters'] or 'none'}"
             + (f"; by pairs (tried {cls['pairs']}): {cls['removed_by_pairs'] or 'none'}"
                if cls["pairs"] else "") + ".", "",
             "| knock-out | kind | rule | what | estimate | 95% CI | effect left | effect |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['knockout']} | {r['kind']} | "
              f"{r.get('family', '') if r['kind'] == 'mechanism' else ''} | {r['what']} | "
              f"{_fmt(r['estimate'])} | "
              f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {left} | "
              f"{_state(r['established'])} |"
              for r, left in zip(rows.to_dict("records"),
                                 ["" if math.isnan(v) else f"{v:.0%}"
                                  for v in attribution.effect_left(c, rows)], strict=True)]
    return "\n".join(lines)


def _html_section(markdown: str, figure_path: Path) -> str:
    """The knock-out section as HTML: the class line, the table, the figure."""
    esc = html.escape
    first, _, rest = markdown.partition("\n\n")
    rows = [line.strip("|").split(" | ") for line in rest.splitlines() if line.startswith("| ")]
    head, body = rows[0], rows[1:]
    data = base64.b64encode(figure_path.read_bytes()).decode()
    return (f"<p>{esc(first.replace('**', ''))}</p><table><tr>"
            + "".join(f"<th>{esc(h.strip())}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(v.strip())}</td>" for v in r) + "</tr>"
                      for r in body)
            + f"</table><img alt='knock-outs' src='data:image/png;base64,{data}'>")


def insert_section(out: Path, key: str, section: str) -> Path:
    """Put a later stage's Markdown ``section`` into ``report.md`` and ``report.html`` in
    ``out``, replacing that stage's earlier section (marked by ``key``) or appending it."""
    start, end = f"<!-- section:{key} -->", f"<!-- /section:{key} -->"
    for name, body in (("report.md", section),
                       ("report.html", markdown.markdown(section, extensions=["tables"]))):
        path = out / name
        text = path.read_text() if path.exists() else ""
        block = f"{start}\n{body}\n{end}\n"
        if start in text and end in text:
            text = text[:text.index(start)] + block + text[text.index(end) + len(end) + 1:]
        elif name == "report.html" and "</body>" in text:
            text = text.replace("</body>", block + "</body>", 1)
        else:
            text += ("\n" if text else "") + block
        write_text(path, text)
    return out / "report.md"


INTRO = ("Each comparison of the domain brief (section 4) is run as two contrasting scenarios "
         "(or one scenario against a threshold) over replicated runs with common random "
         "numbers. A comparison passes when the 95% CI of its statistic lies on the side the "
         "claim predicts and, where the evidence gives a size, the estimate lies within it; an "
         "equivalence comparison passes when its TOST rejects both one-sided nulls at 5% (the "
         "90% CI inside the margin). Role: a comparison whose pattern was used to set a value "
         "or a rule (ODD 8.1) is a calibration target, not validation. Robustness: the share of "
         "{samples} samples (a Latin hypercube over all {n_ranges} assumption and calibrated "
         "parameters, each over its full range with sign-setting values included, and the "
         "{n_forms} rival rule forms in equal shares; ODD 8.2) in which the estimate has the "
         "predicted sign and size (share holding), and in which it has the predicted sign "
         "alone. A share below 80% is reported as it is. Attribution: each comparison rerun "
         "with one mechanism switched off or one sign-setting input set neutral at a time "
         "(and, where none of those removes it, with pairs of the four that left least of it); "
         "'effect left' is the estimate's distance from its null (0, or an odds ratio of 1) as "
         "a share of the defaults'; a knock-out removes the comparison when its effect is no "
         "longer established: the 95% CI no longer on the predicted side, or the test no longer "
         "passed, or the CI reaching within {negligible:.0%} of the defaults' effect of the null "
         "(a minimum-effect test: a sliver left is not the effect the comparison is about).")


def intro(spec: PatternSpec, shares: pd.DataFrame | None) -> str:
    samples = int(shares["samples"].max()) if shares is not None and len(shares) else 0
    return INTRO.format(samples=samples or "the", n_ranges=len(spec.robustness.ranges),
                        n_forms=len(spec.robustness.forms),
                        negligible=spec.negligible_share)


COLUMNS = ["id", "comparison", "scenarios", "estimate", "95% CI", "TOST p", "Hedges g", "result",
           "role",
           "class", "counts as", "robustness: share holding", "robustness: predicted sign"]


def _markdown(summary: pd.DataFrame, figures: dict[str, Path], headline: str, run_note: str,
              out: Path, sections: dict[str, str], ko_figures: dict[str, Path],
              intro_text: str) -> str:
    cols = COLUMNS
    lines = ["# Pattern-oriented validation", "", headline, "", run_note, "",
             intro_text, "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(row[c]) for c in cols) + " |"
              for row in summary.to_dict("records")]
    for row in summary.to_dict("records"):
        lines += ["", f"## {row['id']}. {row['comparison']}: {row['result']}", "",
                  f"**Claim.** {row['claim']}", "", f"**Source.** {row['source']}", "",
                  f"**Scenarios.** {row['scenarios']}", "", f"**Measure.** {row['measure']}",
                  "", f"**Effect.** {row['estimate']} (95% CI {row['95% CI']}; Hedges' g "
                  f"{row['Hedges g']}; n = {row['n']}). Robustness: holds in "
                  f"{row['robustness: share holding']} samples; predicted sign in "
                  f"{row['robustness: predicted sign']}.", "",
                  f"![{row['comparison']}]({figures[row['id']].relative_to(out)})"]
        if sections[row["id"]]:
            lines += ["", sections[row["id"]], "",
                      f"![knock-outs]({ko_figures[row['id']].relative_to(out)})"]
    return "\n".join(lines) + "\n"


def _html(summary: pd.DataFrame, figures: dict[str, Path], headline: str, run_note: str,
          ko_sections: dict[str, str], ko_figures: dict[str, Path], intro_text: str) -> str:
    """A self-contained page: figures embedded as data URIs."""
    esc = html.escape
    cols = COLUMNS
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(
        f"<td class='{'fail' if row[c] == 'FAIL' else ''}'>{esc(str(row[c]))}</td>"
        for c in cols) + "</tr>" for row in summary.to_dict("records"))
    sections = []
    for row in summary.to_dict("records"):
        data = base64.b64encode(figures[row["id"]].read_bytes()).decode()
        sections.append(
            f"<h2>{esc(row['id'])}. {esc(row['comparison'])}: {esc(row['result'])}</h2>"
            f"<p><b>Claim.</b> {esc(row['claim'])}</p><p><b>Source.</b> {esc(row['source'])}"
            f"</p><p><b>Scenarios.</b> {esc(row['scenarios'])}</p><p><b>Measure.</b> "
            f"{esc(row['measure'])}</p><p><b>Effect.</b> {esc(row['estimate'])} (95% CI "
            f"{esc(row['95% CI'])}; Hedges' g {esc(row['Hedges g'])}; n = {row['n']}). "
            f"Robustness: holds in {esc(row['robustness: share holding'])} samples; "
            f"predicted sign in {esc(row['robustness: predicted sign'])}.</p>"
            f"<img alt='{esc(row['comparison'])}' src='data:image/png;base64,{data}'>"
            + (_html_section(ko_sections[row["id"]], ko_figures[row["id"]])
               if ko_sections[row["id"]] else ""))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
             "font-size:90%}td.fail{background:#fdd}img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Pattern-oriented "
            f"validation</title><style>{style}</style></head><body><h1>Pattern-oriented "
            f"validation</h1><p>{esc(headline)}</p><p>{esc(run_note)}</p><p>"
            f"{esc(intro_text)}</p><table><tr>{head}</tr>"
            f"{body}</table>{''.join(sections)}</body></html>\n")
